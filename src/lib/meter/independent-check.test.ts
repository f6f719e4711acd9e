// Independent check: our master reads every profile's types and word orders from modbus-serial's
// ServerSerial (an RTU slave written by others) over a real pseudo-terminal pair made by socat.
// The server's registers are filled with Node's Buffer encoders, not with our registers.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusRtuMaster } from './modbus/master';
import { ModbusExceptionError } from './modbus/errors';
import { ModbusMeter } from './modbus-meter';
import { METER_PROFILES, type MeterProfile, type QuantityRegister } from './profiles';
import type { ByteTransport } from './transport';
import { openNodeSerialTransport } from './transports/node-serial.node';

const require = createRequire(import.meta.url);
const { ServerSerial } = require('modbus-serial') as {
	ServerSerial: new (
		vector: object,
		options: object
	) => { close(cb: () => void): void; on(e: string, l: (...a: unknown[]) => void): void };
};

const hasSocat = spawnSync('socat', ['-V']).status === 0;
const UNIT = 17;
const TRUTH = { voltageV: 231.4, currentA: 12.345, powerW: 8765.4, energyWh: 1_234_500 };

/** Raw register words for `value` (in V/A/W/Wh) as the meter would store it, encoded with Buffer. */
function wordsFor(value: number, reg: QuantityRegister, profile: MeterProfile): number[] {
	const raw = value / reg.scale;
	const b = Buffer.alloc(8);
	let bytes: number;
	switch (reg.type) {
		case 'float32':
			b.writeFloatBE(raw);
			bytes = 4;
			break;
		case 'int32':
			b.writeInt32BE(Math.round(raw));
			bytes = 4;
			break;
		case 'uint32':
			b.writeUInt32BE(Math.round(raw));
			bytes = 4;
			break;
		case 'uint64':
			b.writeBigUInt64BE(BigInt(Math.round(raw)));
			bytes = 8;
			break;
		case 'int64':
			b.writeBigInt64BE(BigInt(Math.round(raw)));
			bytes = 8;
			break;
		default:
			b.writeUInt16BE(Math.round(raw));
			bytes = 2;
	}
	const words: number[] = [];
	for (let i = 0; i < bytes; i += 2) words.push(b.readUInt16BE(i));
	return (reg.wordOrder ?? profile.wordOrder) === 'low-first' ? words.reverse() : words;
}

describe.skipIf(!hasSocat)(
	'independent Modbus RTU server (modbus-serial ServerSerial over socat ptys)',
	() => {
		let socat: ChildProcess;
		let server: { close(cb: () => void): void };
		let transport: ByteTransport;
		let master: ModbusRtuMaster;
		const input = new Map<number, number>();
		const holding = new Map<number, number>();
		const dir = mkdtempSync(join(tmpdir(), 'lightcharge-rtu-'));
		const meterSide = join(dir, 'server');
		const kioskSide = join(dir, 'kiosk');

		beforeAll(async () => {
			socat = spawn(
				'socat',
				[`pty,raw,echo=0,link=${meterSide}`, `pty,raw,echo=0,link=${kioskSide}`],
				{ stdio: 'ignore' }
			);
			for (let i = 0; i < 100 && !(existsSync(meterSide) && existsSync(kioskSide)); i++)
				await new Promise((r) => setTimeout(r, 20));
			const vector = {
				getInputRegister: (addr: number) => {
					// What a real meter does for a register it does not have: exception 2.
					if (addr >= 0x7000) throw { modbusErrorCode: 2 };
					return input.get(addr) ?? 0;
				},
				getHoldingRegister: (addr: number) => holding.get(addr) ?? 0,
				setRegister: (addr: number, value: number) => void holding.set(addr, value)
			};
			server = new ServerSerial(vector, { path: meterSide, baudRate: 9600, unitID: UNIT });
			await new Promise((r) => setTimeout(r, 200));
			transport = await openNodeSerialTransport({ path: kioskSide, baudRate: 9600 });
			master = new ModbusRtuMaster(transport, { timeoutMs: 500, retries: 1 });
		});

		afterAll(async () => {
			await transport?.close();
			await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
			socat?.kill();
		});

		for (const profile of METER_PROFILES) {
			it(`reads ${profile.vendor} ${profile.model} (${profile.registers.energy.type}, ${profile.wordOrder})`, async () => {
				input.clear();
				holding.clear();
				const store = (reg: QuantityRegister, value: number) => {
					const target = (reg.functionCode ?? profile.functionCode) === 4 ? input : holding;
					wordsFor(value, reg, profile).forEach((w, i) => target.set(reg.address + i, w));
				};
				store(profile.registers.voltage, TRUTH.voltageV);
				store(profile.registers.current, TRUTH.currentA);
				store(profile.registers.power, TRUTH.powerW);
				store(profile.registers.energy, TRUTH.energyWh);
				if (profile.serial?.type === 'uint32') {
					const b = Buffer.alloc(4);
					b.writeUInt32BE(20240917);
					holding
						.set(profile.serial.address, b.readUInt16BE(0))
						.set(profile.serial.address + 1, b.readUInt16BE(2));
				} else if (profile.serial?.type === 'ascii') {
					const text = Buffer.from('EM3X0A1B2C3D4E', 'latin1');
					for (let i = 0; i < (profile.serial.registers ?? 8); i++)
						holding.set(profile.serial.address + i, text.readUInt16BE(2 * i));
				}
				const meter = await ModbusMeter.open(master, {
					profile,
					unitId: UNIT,
					serial: 'configured-serial'
				});
				const s = await meter.read();
				expect(s.voltageV).toBeCloseTo(TRUTH.voltageV, 1);
				expect(s.currentA).toBeCloseTo(
					TRUTH.currentA,
					profile.registers.current.scale >= 0.01 ? 1 : 3
				);
				expect(s.powerW).toBeCloseTo(
					TRUTH.powerW,
					profile.registers.power.scale >= 1 && profile.registers.power.type !== 'float32' ? -1 : 0
				);
				expect(Math.abs(s.energyWh - TRUTH.energyWh)).toBeLessThanOrEqual(
					Math.max(1, profile.registers.energy.scale / 2)
				);
				expect(meter.identity.serial).toBe(
					profile.serial
						? profile.serial.type === 'uint32'
							? '20240917'
							: 'EM3X0A1B2C3D4E'
						: 'configured-serial'
				);
			});
		}

		it('writes registers (FC 06 and 16) the server stores', async () => {
			holding.clear();
			await master.writeSingleRegister(UNIT, 0x0005, 1);
			await master.writeMultipleRegisters(UNIT, 0x0010, [0x1234, 0xabcd]);
			expect(holding.get(0x0005)).toBe(1);
			expect([holding.get(0x0010), holding.get(0x0011)]).toEqual([0x1234, 0xabcd]);
		});

		it('decodes the server’s exception answer (illegal data address)', async () => {
			const err = await master.readInputRegisters(UNIT, 0x7000, 2).catch((e) => e);
			expect(err).toBeInstanceOf(ModbusExceptionError);
			expect((err as ModbusExceptionError).exceptionCode).toBe(2);
			// and the line is clean for the next question
			input.set(0, 42);
			expect([...(await master.readInputRegisters(UNIT, 0, 1))]).toEqual([42]);
		});
	}
);
