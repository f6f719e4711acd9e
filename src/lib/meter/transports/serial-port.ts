// The part of the Web Serial API (W3C) that the meter's transports use, typed here so the code
// compiles without the W3C type packages; the WebUSB polyfill's ports have the same shape.
export interface SerialOpenOptions {
	baudRate: number;
	dataBits?: 7 | 8;
	stopBits?: 1 | 2;
	parity?: 'none' | 'even' | 'odd';
	bufferSize?: number;
	flowControl?: 'none' | 'hardware';
}

/** The part of the Web Serial API's SerialPort that a transport needs. */
export interface WebSerialPortLike {
	open(options: SerialOpenOptions): Promise<void>;
	close(): Promise<void>;
	readonly readable: ReadableStream<Uint8Array> | null;
	readonly writable: WritableStream<Uint8Array> | null;
	getInfo?(): { usbVendorId?: number; usbProductId?: number };
}

export interface WebSerialLike {
	requestPort(options?: {
		filters?: { usbVendorId?: number; usbProductId?: number }[];
	}): Promise<WebSerialPortLike>;
	getPorts(): Promise<WebSerialPortLike[]>;
}
