import { describe, expect, it } from 'vitest';
import { ModbusRtuMaster } from './modbus/master';
import { energyResolutionWh, ModbusMeter, probeMeter } from './modbus-meter';
import { customProfile, findProfile, METER_PROFILES, parseMeterProfile } from './profiles';
import { decodeRegisters, encodeRegisters } from './registers';
import { startSimulatedModbusMeter } from './simulated-slave';
import { SimulatedMeter } from './simulated';
import { createTransportPair } from './transport';

describe('register encodings', () => {
	it('decode known bit patterns in both word orders', () => {
		expect(decodeRegisters([0x4366, 0x0000], 'float32', 'high-first')).toBe(230);
		expect(decodeRegisters([0x0000, 0x4366], 'float32', 'low-first')).toBe(230);
		expect(decodeRegisters([0x0001, 0x0002], 'int32', 'high-first')).toBe(0x10002);
		expect(decodeRegisters([0x0002, 0x0001], 'int32', 'low-first')).toBe(0x10002);
		expect(decodeRegisters([0xffff, 0xfffe], 'int32', 'high-first')).toBe(-2);
		expect(decodeRegisters([0xffff, 0xfffe], 'uint32', 'high-first')).toBe(0xfffffffe);
		expect(decodeRegisters([0, 0, 0x0001, 0x86a0], 'uint64', 'high-first')).toBe(100_000);
		expect(decodeRegisters([0x86a0, 0x0001, 0, 0], 'int64', 'low-first')).toBe(100_000);
	});
	it('encode is the inverse and refuses what does not fit', () => {
		for (const type of ['int32', 'uint32', 'int64', 'uint64', 'float32'] as const)
			for (const order of ['high-first', 'low-first'] as const)
				expect(decodeRegisters(encodeRegisters(123456, type, order), type, order)).toBe(123456);
		expect(() => encodeRegisters(-1, 'uint32', 'high-first')).toThrow(/does not fit/);
		expect(() => encodeRegisters(NaN, 'float32', 'high-first')).toThrow(
			new RangeError('Cannot encode NaN as float32.')
		);
	});
});

async function meterBehind(profileId: string, serial?: string) {
	const profile = findProfile(profileId);
	let t = 1_700_000_000_000;
	const car = new SimulatedMeter({
		maxPowerW: 11_000,
		wantedWh: 50_000,
		startWh: 4_321_000,
		rampSeconds: 0,
		now: () => t,
		identity: { vendor: 'x', model: 'y', serial: '12345678' }
	});
	const [a, b] = createTransportPair();
	const { slave, bank } = startSimulatedModbusMeter(b, { profile, source: car, unitId: 3 });
	const master = new ModbusRtuMaster(a, { timeoutMs: 100 });
	const advance = (ms: number) => (t += ms);
	return { profile, car, slave, bank, master, advance, serial };
}

describe('ModbusMeter reads every profile from the simulated slave', () => {
	for (const profile of METER_PROFILES) {
		it(`${profile.vendor} ${profile.model}`, async () => {
			const s = await meterBehind(profile.id);
			const meter = await ModbusMeter.open(s.master, {
				profile,
				unitId: 3,
				serial: 'PRINTED-ON-METER'
			});
			expect(meter.identity.serial).toBe(profile.serial ? '12345678' : 'PRINTED-ON-METER');
			s.car.setAllowed(true);
			s.advance(3_600_000 / 10); // six minutes at 11 kW: 1100 Wh
			const expected = await s.car.read();
			const got = await meter.read();
			const step = energyResolutionWh(profile);
			expect(Math.abs(got.energyWh - expected.energyWh)).toBeLessThanOrEqual(step);
			expect(got.powerW).toBeCloseTo(expected.powerW, 0);
			expect(got.voltageV).toBeCloseTo(expected.voltageV, 1);
			expect(got.currentA).toBeCloseTo(expected.currentA, 1);
		});
	}
});

describe('probing', () => {
	for (const profile of METER_PROFILES) {
		it(`identifies ${profile.id}`, async () => {
			const s = await meterBehind(profile.id);
			const found = await probeMeter(s.master, 3);
			expect(found[0]?.profile.id).toBe(profile.id);
		});
	}
	it('says nobody is there when the line is silent', async () => {
		const s = await meterBehind('abb-b23');
		s.slave.faults.silent = true;
		await expect(
			probeMeter(new ModbusRtuMaster(s.master.transport, { timeoutMs: 20, retries: 0 }), 3)
		).rejects.toThrow(/did not answer/);
	});
});

describe('custom and JSON profiles', () => {
	it('a custom profile reads like a listed one', async () => {
		const profile = customProfile({
			functionCode: 3,
			type: 'int32',
			wordOrder: 'low-first',
			voltage: { address: 100, scale: 0.1 },
			current: { address: 102, scale: 0.001 },
			power: { address: 104, scale: 1 },
			energy: { address: 106, scale: 1 },
			name: 'Acme 3000'
		});
		const car = new SimulatedMeter({
			maxPowerW: 7_000,
			wantedWh: 10_000,
			startWh: 500,
			rampSeconds: 0
		});
		const [a, b] = createTransportPair();
		startSimulatedModbusMeter(b, { profile, source: car });
		const meter = await ModbusMeter.open(new ModbusRtuMaster(a), { profile, serial: 'ACME-1' });
		expect((await meter.read()).energyWh).toBe(500);
		expect(meter.identity).toEqual({ vendor: 'Custom', model: 'Acme 3000', serial: 'ACME-1' });
	});
	it('a profile without a readable serial needs one configured', async () => {
		const s = await meterBehind('finder-7e');
		await expect(ModbusMeter.open(s.master, { profile: s.profile, unitId: 3 })).rejects.toThrow(
			/enter the serial/
		);
	});
	it('JSON profiles are checked and every problem named', () => {
		expect(parseMeterProfile(JSON.parse(JSON.stringify(findProfile('abb-b23')))).id).toBe(
			'abb-b23'
		);
		expect(() =>
			parseMeterProfile({
				id: 'x',
				vendor: 'v',
				model: 'm',
				phases: 2,
				functionCode: 5,
				wordOrder: 'middle',
				registers: { voltage: { address: -1, type: 'float', scale: 0 } }
			})
		).toThrow(
			/functionCode.*wordOrder.*phases.*voltage.address.*voltage.type.*voltage.scale.*current" is missing/
		);
	});
});
