import { describe, expect, it } from 'vitest';
import {
	createTransportPair,
	findProfile,
	type Meter,
	ModbusMeter,
	ModbusRtuMaster,
	ModbusRtuSlave,
	type RegisterHandler,
	SimulatedMeter,
	startSimulatedModbusMeter
} from '../meter';
import { topicMatches, type MessageBus, type MessageHandler } from '../mqtt';
import { confirmSuspended } from './confirm';
import { EvccCharger } from './evcc';
import { ManualCharger } from './manual';
import { SMARTEVSE_REGISTERS, SmartEvseCharger } from './smartevse';

/** A SmartEVSE as its README describes it, switching the simulated car through the access bit. */
function smartEvseEmulator(
	car: SimulatedMeter,
	opts: { obeys: boolean }
): RegisterHandler & { regs: Uint16Array } {
	const regs = new Uint16Array(0x20);
	regs[SMARTEVSE_REGISTERS.state] = 1; // B: car connected
	regs[SMARTEVSE_REGISTERS.maxCurrent] = 16;
	regs[SMARTEVSE_REGISTERS.chargingCurrent] = 160;
	return {
		regs,
		read: (_fc, address, count) =>
			address + count > regs.length ? 2 : regs.slice(address, address + count),
		write(address, values) {
			if (address === SMARTEVSE_REGISTERS.access) {
				if (values[0]! > 1) return 3;
				regs[address] = values[0]!;
				if (opts.obeys) {
					car.setAllowed(values[0] === 1);
					regs[SMARTEVSE_REGISTERS.state] = values[0] === 1 ? 2 : 1;
				}
				return;
			}
			if (address === SMARTEVSE_REGISTERS.chargingCurrent) {
				regs[address] = values[0]!;
				return;
			}
			return 2;
		}
	};
}

/** One RS-485 bus: the kiosk's master, an SDM630 at address 10 and a SmartEVSE at address 1. */
async function bus(obeys = true) {
	let t = 1_700_000_000_000;
	const car = new SimulatedMeter({
		maxPowerW: 11_000,
		wantedWh: 40_000,
		rampSeconds: 0,
		now: () => t,
		identity: { vendor: 'v', model: 'm', serial: '4242' }
	});
	const [kioskSide, deviceSide] = createTransportPair();
	const profile = findProfile('eastron-sdm630');
	startSimulatedModbusMeter(deviceSide, { profile, source: car, unitId: 10 });
	const evse = smartEvseEmulator(car, { obeys });
	new ModbusRtuSlave(deviceSide, evse, { unitId: 1 });
	const master = new ModbusRtuMaster(kioskSide, { timeoutMs: 100 });
	const meter = await ModbusMeter.open(master, { profile, unitId: 10 });
	return { car, evse, master, meter, tick: (ms: number) => (t += ms) };
}

describe('SmartEVSE over Modbus RTU (same bus as the meter)', () => {
	it('allow and suspend switch the access bit, and the meter confirms power fell to zero', async () => {
		const { evse, master, meter, tick } = await bus();
		const charger = new SmartEvseCharger(master, { unitId: 1 });
		await charger.allow();
		expect(evse.regs[SMARTEVSE_REGISTERS.access]).toBe(1);
		tick(10_000);
		expect((await meter.read()).powerW).toBeGreaterThan(10_000);
		expect((await charger.poll()).evState).toBe('C');
		await charger.suspend();
		expect(charger.state()).toBe('suspended');
		const r = await confirmSuspended(meter, 2000, { pollMs: 10 });
		expect(r).toMatchObject({ ok: true, powerW: 0 });
	});

	it('sets the current limit in 0.1 A and refuses impossible limits', async () => {
		const { evse, master } = await bus();
		const charger = new SmartEvseCharger(master);
		await charger.setCurrentLimit(13.5);
		expect(evse.regs[SMARTEVSE_REGISTERS.chargingCurrent]).toBe(135);
		await expect(charger.setCurrentLimit(3)).rejects.toThrow(/0 or 6-80 A/);
	});

	it('reports error bits as a fault', async () => {
		const { evse, master } = await bus();
		const charger = new SmartEvseCharger(master);
		evse.regs[SMARTEVSE_REGISTERS.error] = 16 | 4;
		expect((await charger.poll()).errors).toEqual([
			'temperature too high',
			'residual current detected (RCD tripped)'
		]);
		expect(charger.state()).toBe('fault');
		evse.regs[SMARTEVSE_REGISTERS.error] = 0;
		await charger.poll();
		expect(charger.state()).toBe('suspended');
	});

	it('a charger that ignores the suspend raises an alarm', async () => {
		const { car, master, meter, tick } = await bus(false);
		car.setAllowed(true);
		tick(5000);
		await new SmartEvseCharger(master).suspend();
		const r = await confirmSuspended(meter, 300, { pollMs: 50 });
		expect(r.ok).toBe(false);
		if (!r.ok) expect(r.alarm.message).toMatch(/still draws 11000 W.*did not obey/);
	});
});

describe('confirmSuspended', () => {
	it('an unreadable meter is an alarm too, naming the error', async () => {
		const broken: Meter = {
			identity: { vendor: 'v', model: 'm', serial: 's' },
			read: () => Promise.reject(new Error('Meter 1 did not answer'))
		};
		let clock = 0;
		const r = await confirmSuspended(broken, 1000, {
			now: () => clock,
			sleep: async (ms) => void (clock += ms)
		});
		expect(r).toMatchObject({
			ok: false,
			alarm: { lastPowerW: null, lastError: 'Meter 1 did not answer' }
		});
	});
});

/** The MessageBus contract in memory, retained messages included (as the broker keeps them). */
class MemoryBus implements MessageBus {
	state = 'connected' as const;
	readonly published: { topic: string; payload: string }[] = [];
	private readonly subs = new Set<{ filter: string; handler: MessageHandler }>();
	private readonly retained = new Map<string, string>();
	async publish(topic: string, payload: string, opts: { retain?: boolean } = {}) {
		this.published.push({ topic, payload });
		if (opts.retain) this.retained.set(topic, payload);
		for (const s of [...this.subs])
			if (topicMatches(s.filter, topic))
				setTimeout(() => s.handler(topic, new TextEncoder().encode(payload)), 0);
	}
	async subscribe(filter: string, handler: MessageHandler) {
		const sub = { filter, handler };
		this.subs.add(sub);
		for (const [t, p] of this.retained)
			if (topicMatches(filter, t)) handler(t, new TextEncoder().encode(p));
		return () => void this.subs.delete(sub);
	}
	onState() {
		return () => {};
	}
	async close() {}
}

/** evcc's side of its MQTT API, as documented: mode/set changes mode, which enables or disables the charger. */
async function evccEmulator(b: MemoryBus, car: SimulatedMeter) {
	await b.publish('evcc/loadpoints/1/mode', 'pv', { retain: true });
	await b.publish('evcc/loadpoints/1/enabled', 'false', { retain: true });
	await b.subscribe('evcc/loadpoints/1/+/set', async (topic, payload) => {
		const value = new TextDecoder().decode(payload);
		if (topic.endsWith('/mode/set')) {
			if (!['off', 'now', 'minpv', 'pv'].includes(value)) return;
			car.setAllowed(value === 'now');
			await b.publish('evcc/loadpoints/1/mode', value, { retain: true });
			await b.publish('evcc/loadpoints/1/enabled', String(value === 'now'), { retain: true });
		}
		if (topic.endsWith('/maxCurrent/set'))
			await b.publish('evcc/loadpoints/1/maxCurrent', value, { retain: true });
	});
}

describe('evcc over MQTT', () => {
	it('allow/suspend set the loadpoint mode; evcc confirms with enabled', async () => {
		const b = new MemoryBus();
		const car = new SimulatedMeter({ maxPowerW: 7_000, wantedWh: 10_000, rampSeconds: 0 });
		await evccEmulator(b, car);
		const charger = new EvccCharger(b, { loadpoint: 1 });
		await charger.start();
		expect(charger.reported).toMatchObject({ mode: 'pv', enabled: false });
		await charger.allow();
		expect(await charger.waitForEnabled(true, 1000)).toBe(true);
		expect(car.isAllowed).toBe(true);
		await charger.suspend();
		expect(await charger.waitForEnabled(false, 1000)).toBe(true);
		expect(charger.reported.mode).toBe('off');
		await charger.setCurrentLimit(10);
		expect(b.published.map((p) => `${p.topic}=${p.payload}`)).toEqual(
			expect.arrayContaining([
				'evcc/loadpoints/1/mode/set=now',
				'evcc/loadpoints/1/mode/set=off',
				'evcc/loadpoints/1/maxCurrent/set=10'
			])
		);
	});

	it('waitForEnabled gives up when evcc does not confirm', async () => {
		const charger = new EvccCharger(new MemoryBus(), { topic: 'garage', loadpoint: 2 });
		await charger.start();
		await charger.allow();
		expect(await charger.waitForEnabled(true, 50)).toBe(false);
		expect(() => new EvccCharger(new MemoryBus(), { loadpoint: 0 })).toThrow(/start at 1/);
	});
});

describe('manual charger', () => {
	it('tells the driver what to do', async () => {
		const c = new ManualCharger();
		const said: string[] = [];
		c.onInstruction((i) => said.push(`${i.action}: ${i.message}`));
		await c.allow();
		await c.suspend('the next 100 Wh are not paid yet');
		await c.stop();
		expect(said).toEqual([
			'plug-in: You can charge now: plug in your car and start charging.',
			'unplug: Please stop charging and unplug your car now: the next 100 Wh are not paid yet',
			'unplug: Charging has ended. Please unplug your car.'
		]);
		expect(c.state()).toBe('stopped');
	});
});
