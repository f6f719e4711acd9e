// Modbus RTU slave (server) over a ByteTransport: frames requests by function code and the
// inter-frame silence, stays silent on a bad CRC (as the spec requires of a slave), and answers
// FC 03/04/06/16 through a register handler. Used by the simulated meter and SmartEVSE emulator
// so demos and tests exercise the real master over real bytes. Faults can be switched on to
// rehearse what a broken meter looks like.
import type { ByteTransport } from '../transport';
import { crcValid, withCrc } from './crc';
import {
	FC_READ_HOLDING,
	FC_READ_INPUT,
	FC_WRITE_MULTIPLE,
	FC_WRITE_SINGLE,
	interFrameSilenceMs
} from './master';

/** A Modbus exception code (1 illegal function, 2 illegal address, 3 illegal value, 4 device failure). */
export type ExceptionCode = number;

export interface RegisterHandler {
	/** The registers asked for, or the exception code to answer with. */
	read(
		functionCode: 3 | 4,
		address: number,
		count: number
	): Promise<Uint16Array | ExceptionCode> | Uint16Array | ExceptionCode;
	/** Stores registers; returns an exception code to refuse. Absent: writes are refused (illegal function). */
	write?(
		address: number,
		values: Uint16Array
	): Promise<ExceptionCode | void> | ExceptionCode | void;
}

export interface SlaveFaults {
	/** Never answer (a dead meter, a broken wire). */
	silent?: boolean;
	/** Answer with a damaged CRC (a noisy line). */
	corruptCrc?: boolean;
	/** Answer every request with this exception code. */
	exceptionCode?: ExceptionCode;
}

export interface SlaveOptions {
	unitId: number;
	/** Think time before answering, ms (real meters take 5-50 ms). Default 0. */
	responseDelayMs?: number;
}

export class ModbusRtuSlave {
	faults: SlaveFaults = {};
	requestsSeen = 0;
	private buf = new Uint8Array(0);
	private silenceTimer: ReturnType<typeof setTimeout> | undefined;
	private busy: Promise<void> = Promise.resolve();
	private readonly off: () => void;

	constructor(
		private readonly transport: ByteTransport,
		private readonly handler: RegisterHandler,
		private readonly opts: SlaveOptions
	) {
		this.off = transport.onData((bytes) => this.receive(bytes));
	}

	get unitId(): number {
		return this.opts.unitId;
	}

	detach(): void {
		this.off();
		clearTimeout(this.silenceTimer);
	}

	private receive(bytes: Uint8Array) {
		const next = new Uint8Array(this.buf.length + bytes.length);
		next.set(this.buf);
		next.set(bytes, this.buf.length);
		this.buf = next;
		clearTimeout(this.silenceTimer);
		this.drain();
		// Whatever is still incomplete after a silence was a broken frame: forget it.
		if (this.buf.length > 0)
			this.silenceTimer = setTimeout(
				() => (this.buf = new Uint8Array(0)),
				Math.ceil(interFrameSilenceMs(this.transport.baudRate)) + 1
			);
	}

	private drain() {
		for (;;) {
			if (this.buf.length < 2) return;
			const fc = this.buf[1]!;
			let need: number;
			if (fc === FC_READ_HOLDING || fc === FC_READ_INPUT || fc === FC_WRITE_SINGLE) need = 8;
			else if (fc === FC_WRITE_MULTIPLE) {
				if (this.buf.length < 7) return;
				need = 9 + this.buf[6]!;
			} else {
				// Unknown function: its length is unknown, so it ends at the next silence. Answer
				// "illegal function" only if the whole buffer is one valid frame.
				if (crcValid(this.buf)) {
					const frame = this.buf;
					this.buf = new Uint8Array(0);
					this.enqueue(frame);
				}
				return;
			}
			if (this.buf.length < need) return;
			const frame = this.buf.slice(0, need);
			this.buf = this.buf.slice(need);
			if (crcValid(frame)) this.enqueue(frame);
		}
	}

	private enqueue(frame: Uint8Array) {
		this.busy = this.busy.then(() => this.handle(frame)).catch(() => undefined);
	}

	private async handle(frame: Uint8Array): Promise<void> {
		const unit = frame[0]!;
		if (unit !== this.opts.unitId && unit !== 0) return; // another device's question
		this.requestsSeen++;
		const fc = frame[1]!;
		const pdu = await this.answer(fc, frame);
		if (unit === 0 || this.faults.silent) return; // broadcasts are never answered
		if (this.opts.responseDelayMs)
			await new Promise((r) => setTimeout(r, this.opts.responseDelayMs));
		const out = withCrc(new Uint8Array([this.opts.unitId, ...pdu]));
		if (this.faults.corruptCrc) out[out.length - 1] = out[out.length - 1]! ^ 0x5a;
		await this.transport.write(out).catch(() => undefined);
	}

	private async answer(fc: number, frame: Uint8Array): Promise<number[]> {
		const exception = (code: number) => [fc | 0x80, code];
		if (this.faults.exceptionCode) return exception(this.faults.exceptionCode);
		const address = (frame[2]! << 8) | frame[3]!;
		try {
			if (fc === FC_READ_HOLDING || fc === FC_READ_INPUT) {
				const count = (frame[4]! << 8) | frame[5]!;
				if (count < 1 || count > 125) return exception(3);
				const regs = await this.handler.read(fc, address, count);
				if (typeof regs === 'number') return exception(regs);
				const out = [fc, 2 * count];
				for (let i = 0; i < count; i++) out.push((regs[i] ?? 0) >> 8, (regs[i] ?? 0) & 0xff);
				return out;
			}
			if (fc === FC_WRITE_SINGLE || fc === FC_WRITE_MULTIPLE) {
				if (!this.handler.write) return exception(1);
				let values: Uint16Array;
				if (fc === FC_WRITE_SINGLE) values = Uint16Array.of((frame[4]! << 8) | frame[5]!);
				else {
					const count = (frame[4]! << 8) | frame[5]!;
					if (count < 1 || count > 123 || frame[6] !== 2 * count) return exception(3);
					values = new Uint16Array(count);
					for (let i = 0; i < count; i++) values[i] = (frame[7 + 2 * i]! << 8) | frame[8 + 2 * i]!;
				}
				const refused = await this.handler.write(address, values);
				if (typeof refused === 'number') return exception(refused);
				// Both writes answer with their first five PDU bytes echoed (FC 06: address+value; FC 16: address+count).
				return [...frame.subarray(1, 6)];
			}
			return exception(1);
		} catch {
			return exception(4);
		}
	}
}
