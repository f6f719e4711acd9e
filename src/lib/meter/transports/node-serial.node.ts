// Node serialport as a ByteTransport, for the headless station, the independent check and tests
// (with serialport's SerialPortMock). Node only.
import { SerialPort } from 'serialport';
import { TransportEvents, type ByteTransport } from '../transport';

/** What we use of a serialport stream (SerialPort, SerialPortMock). */
export interface NodeSerialStream {
	readonly isOpen: boolean;
	readonly baudRate: number;
	open(cb?: (err: Error | null) => void): void;
	write(data: Uint8Array, cb?: (err: Error | null | undefined) => void): boolean;
	drain(cb?: (err: Error | null) => void): void;
	close(cb?: (err: Error | null) => void): void;
	on(event: 'data', listener: (chunk: Buffer) => void): this;
	on(event: 'close' | 'error', listener: (err?: Error) => void): this;
}

export interface NodeSerialOptions {
	path: string;
	baudRate?: number;
	dataBits?: 7 | 8;
	stopBits?: 1 | 2;
	parity?: 'none' | 'even' | 'odd';
}

class NodeSerialTransport implements ByteTransport {
	private readonly events = new TransportEvents();
	constructor(private readonly port: NodeSerialStream) {
		port.on('data', (chunk: Buffer) =>
			this.events.emitData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))
		);
		port.on('close', (err?: Error) => this.events.emitClose(err ?? undefined));
		port.on('error', (err?: Error) => this.events.emitClose(err));
	}
	get baudRate(): number {
		return this.port.baudRate;
	}
	write(bytes: Uint8Array): Promise<void> {
		return new Promise((resolve, reject) => {
			if (this.events.isClosed) return reject(new Error('The serial port is closed.'));
			this.port.write(bytes, (err) => {
				if (err) return reject(err);
				// drain: the bytes have left our buffers, so the answer timeout starts after them
				this.port.drain((e) => (e ? reject(e) : resolve()));
			});
		});
	}
	onData(listener: (bytes: Uint8Array) => void) {
		return this.events.onData(listener);
	}
	onClose(listener: (error?: Error) => void) {
		return this.events.onClose(listener);
	}
	close(): Promise<void> {
		return new Promise((resolve) => {
			if (!this.port.isOpen) {
				this.events.emitClose();
				return resolve();
			}
			this.port.close(() => {
				this.events.emitClose();
				resolve();
			});
		});
	}
}

/** Wraps an already constructed serialport stream (opened here if it is not yet). */
export async function nodeSerialTransport(port: NodeSerialStream): Promise<ByteTransport> {
	if (!port.isOpen) await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
	return new NodeSerialTransport(port);
}

/** Opens a serial device (e.g. /dev/ttyUSB0) at 9600 8N1 unless told otherwise. */
export async function openNodeSerialTransport(opts: NodeSerialOptions): Promise<ByteTransport> {
	const port = new SerialPort({
		path: opts.path,
		baudRate: opts.baudRate ?? 9600,
		dataBits: opts.dataBits ?? 8,
		stopBits: opts.stopBits ?? 1,
		parity: opts.parity ?? 'none',
		autoOpen: false
	});
	try {
		return await nodeSerialTransport(port as unknown as NodeSerialStream);
	} catch (e) {
		throw new Error(
			`Could not open serial port ${opts.path}: ${e instanceof Error ? e.message : String(e)} (does the device exist, and may this user open it — group dialout?)`
		);
	}
}
