// A stand-in for a WebUSB USBDevice that is a USB CDC-ACM serial adapter (the kind Android kiosks
// reach through web-serial-polyfill), with its bulk endpoints wired to a ByteTransport. Typed by
// the part of the WebUSB API the polyfill uses; the polyfill itself runs unchanged on top of it.
import type { ByteTransport } from '../../src/lib/meter';

interface UsbControlSetup {
	requestType: 'standard' | 'class' | 'vendor';
	recipient: 'device' | 'interface' | 'endpoint' | 'other';
	request: number;
	value: number;
	index: number;
}

interface UsbTransferResult {
	status: 'ok' | 'stall' | 'babble';
	data?: DataView;
	bytesWritten?: number;
}

const endpoint = (endpointNumber: number, direction: 'in' | 'out') => ({
	endpointNumber,
	direction,
	type: 'bulk' as const,
	packetSize: 64
});

export class FakeUsbCdcDevice {
	readonly vendorId = 0x2e8a;
	readonly productId = 0x000a;
	readonly productName = 'USB-RS485 (CDC-ACM)';
	opened = false;
	configuration: { configurationValue: number } | null = null;
	readonly configurations = [
		{
			configurationValue: 1,
			interfaces: [
				{ interfaceNumber: 0, alternates: [{ interfaceClass: 2, endpoints: [] }] },
				{
					interfaceNumber: 1,
					alternates: [{ interfaceClass: 10, endpoints: [endpoint(1, 'in'), endpoint(2, 'out')] }]
				}
			]
		}
	];
	/** SET_LINE_CODING as the host last sent it. */
	lineCoding: { baudRate: number; stopBits: number; parity: number; dataBits: number } | null =
		null;
	readonly claimed = new Set<number>();
	private rx: Uint8Array[] = [];
	private waiting: {
		resolve: (r: UsbTransferResult) => void;
		reject: (e: unknown) => void;
		length: number;
	}[] = [];
	private off: (() => void) | null = null;

	constructor(private readonly line: ByteTransport) {}

	async open(): Promise<void> {
		this.opened = true;
		this.off = this.line.onData((bytes) => {
			this.rx.push(new Uint8Array(bytes));
			this.flush();
		});
	}
	async close(): Promise<void> {
		this.opened = false;
		this.off?.();
		this.claimed.clear();
		for (const w of this.waiting.splice(0))
			w.reject(new DOMException('The device was closed.', 'AbortError'));
	}
	async forget(): Promise<void> {}
	async selectConfiguration(value: number): Promise<void> {
		this.configuration = { configurationValue: value };
	}
	async claimInterface(n: number): Promise<void> {
		if (!this.opened)
			throw new DOMException('The device must be opened first.', 'InvalidStateError');
		this.claimed.add(n);
	}
	async controlTransferOut(
		setup: UsbControlSetup,
		data?: BufferSource
	): Promise<UsbTransferResult> {
		if (setup.requestType === 'class' && setup.request === 0x20 && data) {
			const v = new DataView(data instanceof ArrayBuffer ? data : (data as ArrayBufferView).buffer);
			this.lineCoding = {
				baudRate: v.getUint32(0, true),
				stopBits: v.getUint8(4),
				parity: v.getUint8(5),
				dataBits: v.getUint8(6)
			};
		}
		return { status: 'ok', bytesWritten: data ? (data as ArrayBuffer).byteLength : 0 };
	}
	async transferOut(endpointNumber: number, data: BufferSource): Promise<UsbTransferResult> {
		if (!this.opened || !this.claimed.has(1) || endpointNumber !== 2) return { status: 'stall' };
		const bytes =
			data instanceof ArrayBuffer
				? new Uint8Array(data)
				: new Uint8Array(
						(data as ArrayBufferView).buffer,
						(data as ArrayBufferView).byteOffset,
						(data as ArrayBufferView).byteLength
					);
		await this.line.write(new Uint8Array(bytes));
		return { status: 'ok', bytesWritten: bytes.length };
	}
	transferIn(endpointNumber: number, length: number): Promise<UsbTransferResult> {
		if (!this.opened || endpointNumber !== 1) return Promise.resolve({ status: 'stall' });
		return new Promise((resolve, reject) => {
			this.waiting.push({ resolve, reject, length });
			this.flush();
		});
	}
	private flush() {
		while (this.waiting.length && this.rx.length) {
			const w = this.waiting.shift()!;
			const chunk = this.rx.shift()!;
			const take = chunk.subarray(0, w.length);
			if (chunk.length > w.length) this.rx.unshift(chunk.subarray(w.length));
			w.resolve({ status: 'ok', data: new DataView(take.slice().buffer) });
		}
	}
}

/** navigator.usb with one adapter plugged in, which the user picks at once. */
export function fakeNavigatorUsb(device: FakeUsbCdcDevice) {
	let granted = false;
	return {
		requestDevice: async (opts: { filters: { classCode?: number }[] }) => {
			if (!opts.filters.some((f) => f.classCode === undefined || f.classCode === 2))
				throw new DOMException('No device selected.', 'NotFoundError');
			granted = true;
			return device;
		},
		getDevices: async () => (granted ? [device] : [])
	};
}
