// Modbus RTU master (client): one request at a time on a shared RS-485 line, with the inter-frame
// silence the spec asks for (3.5 character times; fixed 1.75 ms above 19200 bit/s), per-attempt
// timeouts and retries on silence or corruption. Exception answers are final: the device did
// answer, so repeating the question cannot change it. The inter-character limit (1.5 characters)
// is not enforced: USB-RS485 adapters deliver bytes in USB packets with gaps of their own, so a
// frame is delimited by its length (known from the function code) and checked by its CRC.
import type { ByteTransport } from '../transport';
import { crcValid, withCrc } from './crc';
import { ModbusCrcError, ModbusError, ModbusExceptionError, ModbusTimeoutError } from './errors';

export const FC_READ_HOLDING = 3;
export const FC_READ_INPUT = 4;
export const FC_WRITE_SINGLE = 6;
export const FC_WRITE_MULTIPLE = 16;

/** Bits per character on the wire as the Modbus spec counts them (start + 8 data + parity/stop). */
const BITS_PER_CHAR = 11;

/** The silence that separates frames, ms, at a given baud rate. */
export function interFrameSilenceMs(baudRate: number): number {
	return baudRate > 19200 ? 1.75 : (3.5 * BITS_PER_CHAR * 1000) / baudRate;
}

/** Time to put `bytes` characters on the wire, ms. */
export function transmitTimeMs(bytes: number, baudRate: number): number {
	return (bytes * BITS_PER_CHAR * 1000) / baudRate;
}

export interface MasterOptions {
	/** Per attempt, counted from the end of our transmission. Default 500 ms. */
	timeoutMs?: number;
	/** Further attempts after a timeout or a corrupted answer. Default 2. */
	retries?: number;
	now?: () => number;
}

export interface MasterStats {
	requests: number;
	timeouts: number;
	crcErrors: number;
	exceptions: number;
	retries: number;
}

type Outcome = { ok: true; pdu: Uint8Array } | { ok: false; reason: 'timeout' | 'corrupt' };

export class ModbusRtuMaster {
	readonly stats: MasterStats = {
		requests: 0,
		timeouts: 0,
		crcErrors: 0,
		exceptions: 0,
		retries: 0
	};
	private readonly timeoutMs: number;
	private readonly retries: number;
	private readonly now: () => number;
	private queue: Promise<unknown> = Promise.resolve();
	private lastActivity = 0;
	/** After a timeout, the device may still answer the abandoned attempt: no new question before this. */
	private drainUntil = 0;
	private rx: Uint8Array[] = [];
	private rxListener: (() => void) | null = null;
	private closedError: Error | null = null;
	private readonly offData: () => void;
	private readonly offClose: () => void;

	constructor(
		readonly transport: ByteTransport,
		opts: MasterOptions = {}
	) {
		this.timeoutMs = opts.timeoutMs ?? 500;
		this.retries = opts.retries ?? 2;
		this.now = opts.now ?? (() => performance.now());
		this.offData = transport.onData((bytes) => {
			this.lastActivity = this.now();
			this.rx.push(bytes);
			this.rxListener?.();
		});
		this.offClose = transport.onClose((e) => {
			this.closedError = e ?? new Error('port closed');
			this.rxListener?.();
		});
	}

	readHoldingRegisters(unitId: number, address: number, count: number): Promise<Uint16Array> {
		return this.read(unitId, FC_READ_HOLDING, address, count);
	}

	readInputRegisters(unitId: number, address: number, count: number): Promise<Uint16Array> {
		return this.read(unitId, FC_READ_INPUT, address, count);
	}

	/** FC 03 or 04 by number, for data-driven callers (meter profiles). */
	async read(
		unitId: number,
		functionCode: number,
		address: number,
		count: number
	): Promise<Uint16Array> {
		if (functionCode !== FC_READ_HOLDING && functionCode !== FC_READ_INPUT)
			throw new RangeError(`Function code ${functionCode} is not a register read (use 3 or 4).`);
		checkUnit(unitId, false);
		checkAddress(address);
		if (!Number.isInteger(count) || count < 1 || count > 125 || address + count > 0x10000)
			throw new RangeError(
				`A register read takes 1 to 125 registers inside 0..65535 (asked ${count} at ${address}).`
			);
		const pdu = new Uint8Array([
			functionCode,
			address >> 8,
			address & 0xff,
			count >> 8,
			count & 0xff
		]);
		const answer = await this.exchange(unitId, pdu, (r) => r[0] === 2 * count);
		const out = new Uint16Array(count);
		for (let i = 0; i < count; i++) out[i] = (answer[1 + 2 * i]! << 8) | answer[2 + 2 * i]!;
		return out;
	}

	/** FC 06. Unit 0 broadcasts (no answer is awaited). */
	async writeSingleRegister(unitId: number, address: number, value: number): Promise<void> {
		checkUnit(unitId, true);
		checkAddress(address);
		checkWord(value);
		const pdu = new Uint8Array([
			FC_WRITE_SINGLE,
			address >> 8,
			address & 0xff,
			value >> 8,
			value & 0xff
		]);
		await this.exchange(unitId, pdu, (r) => sameBytes(r, pdu.subarray(1)));
	}

	/** FC 16. Unit 0 broadcasts (no answer is awaited). */
	async writeMultipleRegisters(
		unitId: number,
		address: number,
		values: ArrayLike<number>
	): Promise<void> {
		checkUnit(unitId, true);
		checkAddress(address);
		const n = values.length;
		if (n < 1 || n > 123 || address + n > 0x10000)
			throw new RangeError(`A multiple write takes 1 to 123 registers (got ${n}).`);
		const pdu = new Uint8Array(6 + 2 * n);
		pdu.set([FC_WRITE_MULTIPLE, address >> 8, address & 0xff, n >> 8, n & 0xff, 2 * n]);
		for (let i = 0; i < n; i++) {
			const v = values[i]!;
			checkWord(v);
			pdu[6 + 2 * i] = v >> 8;
			pdu[7 + 2 * i] = v & 0xff;
		}
		await this.exchange(unitId, pdu, (r) => sameBytes(r, pdu.subarray(1, 5)));
	}

	/** Stops listening to the transport (does not close it: it may be shared). */
	detach(): void {
		this.offData();
		this.offClose();
	}

	/**
	 * Sends one request PDU and returns the answer's data (the PDU after the function code).
	 * `accept` checks the answer's content matches the question (byte count, echoed address).
	 */
	private exchange(
		unitId: number,
		pdu: Uint8Array,
		accept: (data: Uint8Array) => boolean
	): Promise<Uint8Array> {
		const run = this.queue.then(() => this.exchangeNow(unitId, pdu, accept));
		this.queue = run.catch(() => undefined);
		return run;
	}

	private async exchangeNow(
		unitId: number,
		pdu: Uint8Array,
		accept: (data: Uint8Array) => boolean
	): Promise<Uint8Array> {
		const fc = pdu[0]!;
		const frame = withCrc(new Uint8Array([unitId, ...pdu]));
		const baud = this.transport.baudRate;
		this.stats.requests++;
		let corrupt = 0;
		let timedOut = false;
		// A slow device answers every attempt it heard, late: keep those answers out of the next exchange.
		const settle = () => {
			if (timedOut) this.drainUntil = this.now() + this.timeoutMs;
		};
		for (let attempt = 0; attempt <= this.retries; attempt++) {
			if (this.closedError)
				throw new ModbusError(
					'closed',
					`The serial port is closed: ${this.closedError.message}`,
					unitId,
					fc
				);
			if (attempt > 0) this.stats.retries++;
			await this.waitForSilence(interFrameSilenceMs(baud));
			if (this.drainUntil > this.now())
				await new Promise((r) => setTimeout(r, Math.ceil(this.drainUntil - this.now())));
			this.rx = []; // whatever arrived before our question (a late answer, noise) is not its answer
			const sentAt = this.now();
			await this.transport.write(frame);
			this.lastActivity = this.now();
			if (unitId === 0) return new Uint8Array(0); // broadcast: nobody answers
			// Our own frame takes this long to leave the adapter; the timeout starts after it.
			const deadline = sentAt + transmitTimeMs(frame.length, baud) + this.timeoutMs;
			const outcome = await this.collect(unitId, fc, deadline);
			if (outcome.ok) {
				const data = outcome.pdu;
				if (data[0] === (fc | 0x80)) {
					settle();
					this.stats.exceptions++;
					throw new ModbusExceptionError(unitId, fc, data[1] ?? 0);
				}
				if (accept(data.subarray(1))) {
					settle();
					return data.subarray(1);
				}
				corrupt++;
				this.stats.crcErrors++;
				continue;
			}
			if (outcome.reason === 'timeout') {
				this.stats.timeouts++;
				timedOut = true;
			} else {
				corrupt++;
				this.stats.crcErrors++;
			}
		}
		const attempts = this.retries + 1;
		settle();
		if (this.closedError)
			throw new ModbusError(
				'closed',
				`The serial port is closed: ${this.closedError.message}`,
				unitId,
				fc
			);
		// Mostly corrupted answers means a noisy line; otherwise the device stayed silent.
		if (corrupt > attempts / 2) throw new ModbusCrcError(unitId, fc, attempts);
		throw new ModbusTimeoutError(unitId, fc, this.timeoutMs, attempts);
	}

	/** Gathers bytes until a whole answer frame is in, the deadline passes, or the port dies. */
	private collect(unitId: number, fc: number, deadline: number): Promise<Outcome> {
		return new Promise((resolve) => {
			let timer: ReturnType<typeof setTimeout> | undefined;
			const finish = (o: Outcome) => {
				clearTimeout(timer);
				this.rxListener = null;
				resolve(o);
			};
			const check = () => {
				if (this.closedError) return finish({ ok: false, reason: 'timeout' });
				let buf = concat(this.rx);
				// RS-485 adapters often emit a stray byte when the line turns around: skip bytes
				// that cannot start the answer (our unit address followed by our function code).
				let start = 0;
				while (
					start + 1 < buf.length &&
					!(buf[start] === unitId && (buf[start + 1] === fc || buf[start + 1] === (fc | 0x80)))
				)
					start++;
				if (start > 3) return finishAfterSilence(); // more than a stray byte or two: noise
				if (start > 0) buf = buf.subarray(start);
				if (buf.length < 2) return;
				const need = expectedLength(fc, buf);
				if (need === null) return finishAfterSilence();
				if (buf.length < need) return;
				const frame = buf.subarray(0, need);
				if (!crcValid(frame)) return finishAfterSilence();
				finish({ ok: true, pdu: frame.slice(1, need - 2) });
			};
			// A frame we cannot parse: let its tail pass before the next attempt, or it becomes noise there.
			let corruptSeen = false;
			const finishAfterSilence = () => {
				if (corruptSeen) return;
				corruptSeen = true;
				clearTimeout(timer);
				const settle = () => {
					const quietFor = this.now() - this.lastActivity;
					const gap = interFrameSilenceMs(this.transport.baudRate);
					if (quietFor >= gap) finish({ ok: false, reason: 'corrupt' });
					else timer = setTimeout(settle, Math.ceil(gap - quietFor));
				};
				this.rxListener = null;
				settle();
			};
			this.rxListener = check;
			timer = setTimeout(
				() => finish({ ok: false, reason: 'timeout' }),
				Math.max(0, deadline - this.now())
			);
			check();
		});
	}

	private async waitForSilence(gapMs: number): Promise<void> {
		for (;;) {
			const quietFor = this.now() - this.lastActivity;
			if (quietFor >= gapMs) return;
			await new Promise((r) => setTimeout(r, Math.ceil(gapMs - quietFor)));
		}
	}
}

/** Length of the answer frame for function `fc`, from what has arrived so far (null: not an answer to fc). */
function expectedLength(fc: number, buf: Uint8Array): number | null {
	const got = buf[1]!;
	if (got === (fc | 0x80)) return 5;
	if (got !== fc) return null;
	if (fc === FC_READ_HOLDING || fc === FC_READ_INPUT)
		return buf.length >= 3 ? 5 + buf[2]! : Number.POSITIVE_INFINITY;
	if (fc === FC_WRITE_SINGLE || fc === FC_WRITE_MULTIPLE) return 8;
	return null;
}

function concat(chunks: Uint8Array[]): Uint8Array {
	if (chunks.length === 1) return chunks[0]!;
	const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
	let o = 0;
	for (const c of chunks) {
		out.set(c, o);
		o += c.length;
	}
	return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

function checkUnit(unitId: number, broadcastOk: boolean) {
	if (!Number.isInteger(unitId) || unitId < (broadcastOk ? 0 : 1) || unitId > 247)
		throw new RangeError(
			`Modbus unit address must be ${broadcastOk ? 0 : 1}..247 (got ${unitId}).`
		);
}
function checkAddress(address: number) {
	if (!Number.isInteger(address) || address < 0 || address > 0xffff)
		throw new RangeError(`Register address must be 0..65535 (got ${address}).`);
}
function checkWord(v: number) {
	if (!Number.isInteger(v) || v < 0 || v > 0xffff)
		throw new RangeError(`A register holds 0..65535 (got ${v}).`);
}
