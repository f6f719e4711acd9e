// The byte pipe a Modbus RTU master or slave talks through. Push-based on receive, so the same
// interface fits Web Serial (a reader loop), the WebUSB polyfill (same API) and Node serialport
// ('data' events); framing and timing live in the Modbus layer, never in a transport.
import { Emitter } from '../core';

export interface ByteTransport {
	/** Line speed in bit/s: the Modbus layer derives its inter-frame silence from it. */
	readonly baudRate: number;
	write(bytes: Uint8Array): Promise<void>;
	/** Registers a receiver for incoming bytes (in arrival order); the returned function removes it. */
	onData(listener: (bytes: Uint8Array) => void): () => void;
	/** Told once when the line dies (cable pulled, port closed); the error says why. */
	onClose(listener: (error?: Error) => void): () => void;
	close(): Promise<void>;
}

/** Helper for transports: fan-out of data and close events to listeners. */
export class TransportEvents {
	private readonly data = new Emitter<[bytes: Uint8Array]>();
	private readonly closed = new Emitter<[error?: Error]>();
	isClosed = false;

	onData(listener: (bytes: Uint8Array) => void): () => void {
		return this.data.on(listener);
	}
	onClose(listener: (error?: Error) => void): () => void {
		return this.closed.on(listener);
	}
	emitData(bytes: Uint8Array): void {
		this.data.emit(bytes);
	}
	emitClose(error?: Error): void {
		if (this.isClosed) return;
		this.isClosed = true;
		this.closed.emit(error);
	}
}

/** What a link between two in-memory transports does to bytes in flight (tests inject faults). */
export type LineFilter = (bytes: Uint8Array) => Uint8Array | null;

export interface MemoryPairOptions {
	baudRate?: number;
	/** Applied to bytes written by side `a` before side `b` receives them; null drops them. */
	aToB?: LineFilter;
	bToA?: LineFilter;
}

class MemoryTransport implements ByteTransport {
	readonly events = new TransportEvents();
	peer: MemoryTransport | null = null;
	filter: LineFilter | undefined;
	constructor(readonly baudRate: number) {}

	async write(bytes: Uint8Array): Promise<void> {
		if (this.events.isClosed) throw new Error('The serial line is closed.');
		const peer = this.peer;
		const copy = new Uint8Array(bytes);
		const out = this.filter ? this.filter(copy) : copy;
		if (!peer || !out || out.length === 0) return;
		// Deliver on a later task, as a real line would, so a writer never re-enters its reader.
		setTimeout(() => {
			if (!peer.events.isClosed) peer.events.emitData(out);
		}, 0);
	}
	onData(listener: (bytes: Uint8Array) => void) {
		return this.events.onData(listener);
	}
	onClose(listener: (error?: Error) => void) {
		return this.events.onClose(listener);
	}
	async close(): Promise<void> {
		this.events.emitClose();
	}
}

/** Two transports wired back to back: what one writes, the other receives (a null-modem cable). */
export function createTransportPair(opts: MemoryPairOptions = {}): [ByteTransport, ByteTransport] {
	const baud = opts.baudRate ?? 9600;
	const a = new MemoryTransport(baud);
	const b = new MemoryTransport(baud);
	a.peer = b;
	b.peer = a;
	a.filter = opts.aToB;
	b.filter = opts.bToA;
	return [a, b];
}
