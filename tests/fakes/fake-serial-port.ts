// A stand-in for the Web Serial API's SerialPort (and navigator.serial) whose streams are wired to
// a ByteTransport: the far end of an in-memory line with a simulated Modbus device on it. Used by
// the Web Serial transport's unit tests (Node has the same web streams) and, bundled, by the
// Playwright init script that replaces navigator.serial. Behaves like Chromium where it matters:
// open() needs a baud rate and fails on an open port; readable/writable are null while closed.
import type {
	ByteTransport,
	SerialOpenOptions,
	WebSerialLike,
	WebSerialPortLike
} from '../../src/lib/meter';

export class FakeSerialPort implements WebSerialPortLike {
	readable: ReadableStream<Uint8Array> | null = null;
	writable: WritableStream<Uint8Array> | null = null;
	openedWith: SerialOpenOptions | null = null;
	private off: (() => void) | null = null;
	private controller: ReadableStreamDefaultController<Uint8Array> | null = null;

	constructor(
		private readonly line: ByteTransport,
		private readonly info = { usbVendorId: 0x1a86, usbProductId: 0x7523 }
	) {}

	getInfo() {
		return this.info;
	}

	async open(options: SerialOpenOptions): Promise<void> {
		if (this.openedWith) throw new DOMException('The port is already open.', 'InvalidStateError');
		if (!options || !(options.baudRate > 0))
			throw new TypeError(
				"Failed to execute 'open' on 'SerialPort': required member baudRate is undefined."
			);
		this.openedWith = options;
		this.readable = new ReadableStream<Uint8Array>({
			start: (controller) => {
				this.controller = controller;
				this.off = this.line.onData((bytes) => controller.enqueue(new Uint8Array(bytes)));
			},
			cancel: () => {
				this.off?.();
				this.off = null;
			}
		});
		// At the wrong baud rate the device hears noise: it drops the frame (bad CRC) and stays silent.
		const garbled = options.baudRate !== this.line.baudRate;
		this.writable = new WritableStream<Uint8Array>({
			write: (chunk) => this.line.write(new Uint8Array(chunk).map((b) => (garbled ? b ^ 0x55 : b)))
		});
	}

	/** The USB adapter is pulled: the read stream fails with Chromium's NetworkError and the port is gone. */
	unplug(): void {
		this.off?.();
		this.off = null;
		this.readable = null;
		this.writable = null;
		this.controller?.error(new DOMException('The device has been lost.', 'NetworkError'));
	}

	async close(): Promise<void> {
		if (!this.openedWith)
			throw new DOMException('The port is already closed.', 'InvalidStateError');
		this.off?.();
		this.off = null;
		this.readable = null;
		this.writable = null;
		this.openedWith = null;
	}
}

/** navigator.serial with one port that the user "picks" at once. */
export class FakeSerial implements WebSerialLike {
	granted = false;
	constructor(readonly port: FakeSerialPort) {}
	async requestPort(): Promise<WebSerialPortLike> {
		this.granted = true;
		return this.port;
	}
	async getPorts(): Promise<WebSerialPortLike[]> {
		return this.granted ? [this.port] : [];
	}
}
