import { describe, expect, it } from 'vitest';
import { MeterGuard, type PollOutcome } from './guard';
import { ModbusRtuMaster } from './modbus/master';
import { ModbusMeter, pollMeter } from './modbus-meter';
import { findProfile } from './profiles';
import { startSimulatedModbusMeter } from './simulated-slave';
import { SimulatedMeter } from './simulated';
import { createTransportPair } from './transport';
import type { MeterSample } from './types';

const T0 = 1_700_000_000_000;
const sample = (energyWh: number, atS: number, powerW = 7000): MeterSample => ({
	energyWh,
	powerW,
	voltageV: 230,
	currentA: 10,
	at: T0 + atS * 1000
});
const ok = (s: MeterSample, serial = 'A1'): PollOutcome => ({ ok: true, sample: s, serial });

describe('MeterGuard', () => {
	it('accepts a steady session and reports the energy delta', () => {
		const g = new MeterGuard({ expectedSerial: 'A1', maxPowerW: 11_000 });
		expect(g.check(ok(sample(1000, 0)))).toMatchObject({ ok: true, deltaWh: 0 });
		expect(g.check(ok(sample(1003, 1)))).toMatchObject({ ok: true, deltaWh: 3 });
		expect(g.accepted?.energyWh).toBe(1003);
	});

	it('energy going backwards is a fault and is never accepted', () => {
		const g = new MeterGuard({ expectedSerial: 'A1', maxPowerW: 11_000 });
		g.check(ok(sample(1000, 0)));
		const v = g.check(ok(sample(990, 1)));
		expect(v).toMatchObject({ ok: false, fault: { kind: 'energy-backwards' } });
		if (!v.ok) expect(v.fault.message).toMatch(/went backwards \(1000 Wh → 990 Wh\)/);
		expect(g.accepted?.energyWh).toBe(1000);
	});

	it('energy faster than the maximum power allows is a fault', () => {
		const g = new MeterGuard({ expectedSerial: 'A1', maxPowerW: 11_000, energyResolutionWh: 1 });
		g.check(ok(sample(1000, 0)));
		// 11 kW for 10 s is 30.6 Wh (+2 Wh register slack): 32 passes, 40 does not.
		expect(g.check(ok(sample(1032, 10))).ok).toBe(true);
		const v = g.check(ok(sample(1072, 20)));
		expect(v).toMatchObject({ ok: false, fault: { kind: 'energy-jump' } });
		expect(g.accepted?.energyWh).toBe(1032);
	});

	it('a coarse register (0.1 kWh steps) may step by its resolution', () => {
		const g = new MeterGuard({ expectedSerial: 'A1', maxPowerW: 3_700, energyResolutionWh: 100 });
		g.check(ok(sample(10_000, 0)));
		expect(g.check(ok(sample(10_100, 1))).ok).toBe(true);
		expect(g.check(ok(sample(10_400, 2))).ok).toBe(false);
	});

	it('a different meter serial mid-session is a fault', () => {
		const g = new MeterGuard({ expectedSerial: 'A1', maxPowerW: 11_000 });
		g.check(ok(sample(1000, 0)));
		const v = g.check(ok(sample(1001, 1), 'B2'));
		expect(v).toMatchObject({ ok: false, fault: { kind: 'meter-swapped' } });
		if (!v.ok) expect(v.fault.message).toMatch(/serial B2.*A1/);
	});

	it('values that are not numbers are a fault', () => {
		const g = new MeterGuard({ expectedSerial: 'A1', maxPowerW: 11_000 });
		expect(g.check(ok({ ...sample(1000, 0), powerW: NaN }))).toMatchObject({
			ok: false,
			fault: { kind: 'bad-value' }
		});
	});

	it('resumes from the last accepted sample of a reloaded session', () => {
		const g = new MeterGuard({ expectedSerial: 'A1', maxPowerW: 11_000, last: sample(5000, 0) });
		expect(g.check(ok(sample(4000, 1))).ok).toBe(false);
	});
});

describe('MeterGuard classifies real Modbus failures', () => {
	async function rig() {
		const car = new SimulatedMeter({
			maxPowerW: 11_000,
			wantedWh: 10_000,
			identity: { vendor: 'v', model: 'm', serial: '777' }
		});
		const [a, b] = createTransportPair();
		const profile = findProfile('eastron-sdm630');
		const { slave } = startSimulatedModbusMeter(b, { profile, source: car });
		const meter = await ModbusMeter.open(new ModbusRtuMaster(a, { timeoutMs: 150, retries: 1 }), {
			profile
		});
		const guard = new MeterGuard({ expectedSerial: meter.identity.serial, maxPowerW: 11_000 });
		const poll = () => pollMeter(meter);
		return { slave, guard, poll };
	}

	it('no answer, CRC errors and exception codes each become an operator fault', async () => {
		const { slave, guard, poll } = await rig();
		expect(guard.check(await poll()).ok).toBe(true);
		slave.faults = { silent: true };
		expect(guard.check(await poll())).toMatchObject({
			ok: false,
			fault: { kind: 'no-answer', message: expect.stringMatching(/does not answer.*suspended/) }
		});
		slave.faults = { corruptCrc: true };
		expect(guard.check(await poll())).toMatchObject({
			ok: false,
			fault: { kind: 'crc', message: expect.stringMatching(/corrupted/) }
		});
		slave.faults = { exceptionCode: 4 };
		expect(guard.check(await poll())).toMatchObject({
			ok: false,
			fault: {
				kind: 'exception',
				exceptionCode: 4,
				message: expect.stringMatching(/server device failure/)
			}
		});
		slave.faults = {};
		expect(guard.check(await poll()).ok).toBe(true);
	});
});

describe('a meter swapped mid-session, seen through the real master', () => {
	it('is caught by its serial', async () => {
		const car = new SimulatedMeter({
			maxPowerW: 11_000,
			wantedWh: 10_000,
			identity: { vendor: 'v', model: 'm', serial: '1001' }
		});
		const [a, b] = createTransportPair();
		const profile = findProfile('abb-b23');
		const { bank } = startSimulatedModbusMeter(b, { profile, source: car });
		const meter = await ModbusMeter.open(new ModbusRtuMaster(a), { profile });
		const guard = new MeterGuard({
			expectedSerial: meter.identity.serial,
			maxPowerW: 11_000,
			energyResolutionWh: 10
		});
		expect(guard.check(await pollMeter(meter)).ok).toBe(true);
		bank.serial = '2002';
		expect(guard.check(await pollMeter(meter))).toMatchObject({
			ok: false,
			fault: { kind: 'meter-swapped' }
		});
	});
});
