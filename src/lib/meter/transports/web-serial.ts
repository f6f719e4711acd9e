// Web Serial (Chrome/Edge desktop, `navigator.serial`) and the WebUSB polyfill's ports (Android)
// as a ByteTransport. Both expose the same SerialPort API, typed here by the part we use so the
// code compiles without the W3C type packages.
import { TransportEvents, type ByteTransport } from '../transport';
import type { SerialOpenOptions, WebSerialLike, WebSerialPortLike } from './serial-port';

/** Modbus meters ship at 9600 8N1 almost universally. */
export const DEFAULT_SERIAL_OPTIONS: SerialOpenOptions = {
	baudRate: 9600,
	dataBits: 8,
	stopBits: 1,
	parity: 'none'
};

/** `navigator.serial` where the browser has it (desktop Chromium), else null. */
export function webSerial(): WebSerialLike | null {
	const nav = (globalThis as { navigator?: { serial?: WebSerialLike } }).navigator;
	return nav?.serial ?? null;
}

class WebSerialTransport implements ByteTransport {
	private readonly events = new TransportEvents();
	private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
	private closing = false;
	private writeChain: Promise<void> = Promise.resolve();

	constructor(
		private readonly port: WebSerialPortLike,
		readonly baudRate: number
	) {
		void this.pump();
	}

	/** Reads until the port goes away. Framing/parity/break errors end one stream; Web Serial then offers a new one. */
	private async pump(): Promise<void> {
		let failure: Error | undefined;
		while (!this.closing && this.port.readable) {
			this.reader = this.port.readable.getReader();
			try {
				for (;;) {
					const { value, done } = await this.reader.read();
					if (done) break;
					if (value && value.length) this.events.emitData(value);
				}
			} catch (e) {
				failure = e instanceof Error ? e : new Error(String(e));
				// A non-fatal line error leaves `readable` non-null: keep reading.
			} finally {
				this.reader.releaseLock();
				this.reader = null;
			}
		}
		if (!this.closing)
			this.events.emitClose(failure ?? new Error('The serial device was disconnected.'));
	}

	write(bytes: Uint8Array): Promise<void> {
		const run = this.writeChain.then(async () => {
			const writable = this.port.writable;
			if (!writable || this.events.isClosed) throw new Error('The serial port is closed.');
			const writer = writable.getWriter();
			try {
				await writer.write(bytes);
			} finally {
				writer.releaseLock();
			}
		});
		this.writeChain = run.catch(() => undefined);
		return run;
	}

	onData(listener: (bytes: Uint8Array) => void) {
		return this.events.onData(listener);
	}
	onClose(listener: (error?: Error) => void) {
		return this.events.onClose(listener);
	}

	async close(): Promise<void> {
		if (this.closing) return;
		this.closing = true;
		await this.reader?.cancel().catch(() => undefined);
		await this.writeChain;
		await this.port.close().catch(() => undefined);
		this.events.emitClose();
	}
}

/** Opens `port` (9600 8N1 unless told otherwise) and wraps it as a ByteTransport. */
export async function openWebSerialTransport(
	port: WebSerialPortLike,
	options: Partial<SerialOpenOptions> = {}
): Promise<ByteTransport> {
	const opts = { ...DEFAULT_SERIAL_OPTIONS, ...options };
	try {
		await port.open(opts);
	} catch (e) {
		const why = e instanceof Error ? e.message : String(e);
		throw new Error(
			`Could not open the serial port at ${opts.baudRate} baud: ${why}. Is another program or browser tab using it?`
		);
	}
	return new WebSerialTransport(port, opts.baudRate);
}

/**
 * Asks the user to pick a serial port: Web Serial where the browser has it, else (Android) the
 * WebUSB polyfill for USB-serial adapters of the CDC-ACM class. Must run from a user gesture.
 */
export async function requestSerialPort(): Promise<WebSerialPortLike> {
	const native = webSerial();
	if (native) return native.requestPort();
	const { requestUsbSerialPort } = await import('./webusb-serial');
	return requestUsbSerialPort();
}
