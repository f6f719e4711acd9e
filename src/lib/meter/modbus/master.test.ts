import { describe, expect, it } from 'vitest';
import { createTransportPair } from '../transport';
import { crc16Modbus, crcValid, withCrc } from './crc';
import { ModbusCrcError, ModbusExceptionError, ModbusTimeoutError } from './errors';
import { interFrameSilenceMs, ModbusRtuMaster } from './master';
import { ModbusRtuSlave, type RegisterHandler } from './slave';

/** 100 holding registers (value = 1000 + address) and input registers (value = address). */
function bank(): RegisterHandler & { holding: Uint16Array } {
	const holding = new Uint16Array(100).map((_, i) => 1000 + i);
	return {
		holding,
		read(fc, address, count) {
			if (address + count > 100) return 2;
			return fc === 3
				? holding.slice(address, address + count)
				: Uint16Array.from({ length: count }, (_, i) => address + i);
		},
		write(address, values) {
			if (address + values.length > 100) return 2;
			holding.set(values, address);
		}
	};
}

function setup(
	opts: {
		aToB?: (b: Uint8Array) => Uint8Array | null;
		bToA?: (b: Uint8Array) => Uint8Array | null;
		timeoutMs?: number;
		baudRate?: number;
	} = {}
) {
	const [a, b] = createTransportPair(opts);
	const regs = bank();
	const slave = new ModbusRtuSlave(b, regs, { unitId: 7 });
	const master = new ModbusRtuMaster(a, { timeoutMs: opts.timeoutMs ?? 100, retries: 2 });
	return { master, slave, regs, a, b };
}

describe('CRC-16/MODBUS', () => {
	it('matches the specification example (01 03 00 00 00 0A → C5 CD)', () => {
		const frame = withCrc(new Uint8Array([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]));
		expect([...frame.slice(6)]).toEqual([0xc5, 0xcd]);
		expect(crcValid(frame)).toBe(true);
		frame[3] = frame[3]! ^ 1;
		expect(crcValid(frame)).toBe(false);
		expect(crc16Modbus(new TextEncoder().encode('123456789'))).toBe(0x4b37); // the catalogue check value
	});
});

describe('ModbusRtuMaster over a loopback pair', () => {
	it('reads holding (03) and input (04) registers', async () => {
		const { master } = setup();
		expect([...(await master.readHoldingRegisters(7, 10, 3))]).toEqual([1010, 1011, 1012]);
		expect([...(await master.readInputRegisters(7, 40, 2))]).toEqual([40, 41]);
	});

	it('writes single (06) and multiple (16) registers', async () => {
		const { master, regs } = setup();
		await master.writeSingleRegister(7, 5, 0xbeef);
		await master.writeMultipleRegisters(7, 20, [1, 2, 65535]);
		expect(regs.holding[5]).toBe(0xbeef);
		expect([...regs.holding.slice(20, 23)]).toEqual([1, 2, 65535]);
	});

	it('decodes exception answers into words and does not retry them', async () => {
		const { master, slave } = setup();
		const err = await master.readHoldingRegisters(7, 99, 5).catch((e) => e);
		expect(err).toBeInstanceOf(ModbusExceptionError);
		expect(err.exceptionCode).toBe(2);
		expect(err.message).toMatch(/illegal data address/);
		expect(slave.requestsSeen).toBe(1);
		expect(master.stats.exceptions).toBe(1);
	});

	it('times out after its retries when the device stays silent', async () => {
		const { master, slave } = setup({ timeoutMs: 30 });
		slave.faults.silent = true;
		const err = await master.readInputRegisters(7, 0, 1).catch((e) => e);
		expect(err).toBeInstanceOf(ModbusTimeoutError);
		expect(err.message).toMatch(/did not answer.*3 attempt/);
		expect(slave.requestsSeen).toBe(3);
		expect(master.stats.timeouts).toBe(3);
	});

	it('a wrong unit address is silence, not an answer', async () => {
		const { master, slave } = setup({ timeoutMs: 20 });
		await expect(master.readInputRegisters(8, 0, 1)).rejects.toBeInstanceOf(ModbusTimeoutError);
		expect(slave.requestsSeen).toBe(0);
	});

	it('reports corrupted answers as a CRC fault', async () => {
		const { master, slave } = setup();
		slave.faults.corruptCrc = true;
		const err = await master.readInputRegisters(7, 0, 2).catch((e) => e);
		expect(err).toBeInstanceOf(ModbusCrcError);
		expect(master.stats.crcErrors).toBe(3);
	});

	it('recovers from one corrupted answer by retrying', async () => {
		let damaged = 0;
		const { master } = setup({
			bToA: (bytes) => {
				if (damaged++ === 0) bytes[3] = bytes[3]! ^ 0xff;
				return bytes;
			}
		});
		expect([...(await master.readInputRegisters(7, 3, 1))]).toEqual([3]);
		expect(master.stats.retries).toBe(1);
	});

	it('a request corrupted on the way is ignored by the slave and retried', async () => {
		let n = 0;
		const { master, slave } = setup({
			aToB: (bytes) => (n++ === 0 ? bytes.map((x, i) => (i === 2 ? x ^ 1 : x)) : bytes)
		});
		expect([...(await master.readInputRegisters(7, 1, 1))]).toEqual([1]);
		expect(slave.requestsSeen).toBe(1);
	});

	it('skips a stray byte the adapter emits when the line turns around', async () => {
		const { master } = setup({ bToA: (bytes) => Uint8Array.of(0x00, ...bytes) });
		expect([...(await master.readInputRegisters(7, 12, 2))]).toEqual([12, 13]);
		expect(master.stats.retries).toBe(0);
	});

	it('answers that arrive in pieces are reassembled', async () => {
		const [a, b] = createTransportPair();
		const master = new ModbusRtuMaster(a, { timeoutMs: 200 });
		b.onData(async (req) => {
			const answer = withCrc(new Uint8Array([req[0]!, 4, 4, 0x12, 0x34, 0x56, 0x78]));
			for (const byte of answer) {
				await b.write(Uint8Array.of(byte));
			}
		});
		expect([...(await master.readInputRegisters(1, 0, 2))]).toEqual([0x1234, 0x5678]);
	});

	it('a late answer to an abandoned attempt never becomes the answer to the next question', async () => {
		const [a, b] = createTransportPair();
		let calls = 0;
		// A device that is slow right now: 150 ms for the first question, 60 ms for each after.
		new ModbusRtuSlave(
			b,
			{
				read: async (_fc, address, count) => {
					await new Promise((r) => setTimeout(r, calls++ === 0 ? 150 : 60));
					return Uint16Array.from({ length: count }, (_, i) => address + i);
				}
			},
			{ unitId: 1 }
		);
		const master = new ModbusRtuMaster(a, { timeoutMs: 100, retries: 2 });
		expect([...(await master.readInputRegisters(1, 0, 1))]).toEqual([0]);
		expect(master.stats.timeouts).toBe(1);
		// The device still answers the retried question (address 0) while we ask for address 5.
		expect([...(await master.readInputRegisters(1, 5, 1))]).toEqual([5]);
		expect([...(await master.readInputRegisters(1, 9, 1))]).toEqual([9]);
	});

	it('keeps the 3.5-character silence between frames', async () => {
		const starts: number[] = [];
		const { master } = setup({ baudRate: 9600, aToB: (b) => (starts.push(performance.now()), b) });
		for (let i = 0; i < 4; i++) await master.readInputRegisters(7, i, 1);
		const gap = interFrameSilenceMs(9600);
		expect(gap).toBeCloseTo(4.01, 2);
		for (let i = 1; i < starts.length; i++)
			expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(gap);
		expect(interFrameSilenceMs(115200)).toBe(1.75);
	});

	it('serialises concurrent requests on the one line', async () => {
		const { master } = setup();
		const results = await Promise.all(
			[0, 1, 2, 3, 4].map((i) => master.readHoldingRegisters(7, i * 10, 1))
		);
		expect(results.map((r) => r[0])).toEqual([1000, 1010, 1020, 1030, 1040]);
	});

	it('refuses impossible requests before touching the line', async () => {
		const { master } = setup();
		await expect(master.readHoldingRegisters(0, 0, 1)).rejects.toThrow(/unit address/);
		await expect(master.readHoldingRegisters(1, 0, 126)).rejects.toThrow(/1 to 125/);
		await expect(master.writeSingleRegister(1, 0, 70000)).rejects.toThrow(/0..65535/);
		expect(master.stats.requests).toBe(0);
	});

	it('fails fast once the port is closed', async () => {
		const { master, a } = setup();
		await a.close();
		await expect(master.readInputRegisters(7, 0, 1)).rejects.toThrow(/closed/);
	});
});
