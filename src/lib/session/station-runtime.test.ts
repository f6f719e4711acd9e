import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../../devnet/broker';
import { type Charger, SimulatedCharger } from '../charger';
import { buildHubTopology, Simnet, SimnetNode } from '../lightning/simnet';
import type { LightningNode } from '../lightning';
import { type Meter, type MeterSample, SimulatedMeter } from '../meter';
import { connectBus, type MessageBus } from '../mqtt';
import {
	ethereumAddressOf,
	type InvoiceMessage,
	ocmfPublicKeyHex,
	parseMessage,
	parseOcmf,
	type ReadingMessage,
	ReadingVerifier,
	type SessionEvent,
	TOPIC_ROOT
} from '../protocol';
import { MemoryKioskStore } from '../storage';
import type { StationLedger } from './ports';
import { loadStationSnapshot, StationRuntime, type StationSnapshot } from './station-runtime';
import { freePort } from '../../../devnet/ports';
import { DriverChannel } from './driver-channel';
import { offeredLink } from './wallet.testing';
import { testTariff } from './factories.testing';

const KEY = '1'.repeat(63) + '7';
const tariff = testTariff({ startFeeMsat: '0' });
const identity = {
	stationId: 'st-1',
	name: 'Test',
	signingKeyHex: KEY,
	signingKey: ocmfPublicKeyHex(KEY),
	signerAddress: ethereumAddressOf(ocmfPublicKeyHex(KEY)),
	maxPowerW: 11_000
};

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});
const until = async (cond: () => boolean | Promise<boolean>, ms = 5000) => {
	const end = Date.now() + ms;
	while (!(await cond())) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${cond.toString()}`);
		await new Promise((r) => setTimeout(r, 10));
	}
};

/** A real aedes broker, a driver-side subscriber, the simnet with a vehicle and the station. */
async function world() {
	const b = await startBroker({
		kind: 'aedes',
		tcpPort: await freePort(),
		wsPort: await freePort(),
		dir: path.join(os.tmpdir(), 'lc-rt')
	});
	cleanups.push(() => b.stop());
	const connect = async (id: string) => {
		const bus = await connectBus(b.wsUrl, {
			protocolVersion: 4,
			clientId: id,
			reconnectPeriodMs: 200
		});
		cleanups.push(() => bus.close());
		return bus;
	};
	const driver = await connect('driver');
	const got = {
		readings: [] as ReadingMessage[],
		invoices: [] as InvoiceMessage[],
		events: [] as SessionEvent[]
	};
	await driver.subscribe(`${TOPIC_ROOT}/stations/st-1/sessions/+/+`, (topic, payload) => {
		const m = parseMessage(topic, payload);
		if (!m.ok) return;
		if (m.kind === 'readings') got.readings.push(m.message);
		if (m.kind === 'invoices') got.invoices.push(m.message);
		if (m.kind === 'events') got.events.push(m.message);
	});
	const simnet = new Simnet();
	buildHubTopology(simnet, ['vehicle-1', 'st-1']);
	let clock = 1_800_000_000_000;
	// Time moves a millisecond with every look at the clock, as it does for a real meter.
	return {
		connect,
		driver,
		got,
		simnet,
		clock: { now: () => clock++, advance: (ms: number) => (clock += ms) }
	};
}
type World = Awaited<ReturnType<typeof world>>;

function station(
	w: World,
	store: MemoryKioskStore,
	bus: MessageBus,
	o: {
		meter?: Meter;
		charger?: Charger;
		lightning?: LightningNode;
		ledger?: StationLedger;
		startWh?: number;
	} = {}
) {
	const meter = new SimulatedMeter({
		maxPowerW: 11_000,
		wantedWh: 40_000,
		rampSeconds: 0,
		now: w.clock.now,
		startWh: o.startWh
	});
	const rt = new StationRuntime({
		identity,
		tariff,
		meter: o.meter ?? meter,
		charger: o.charger ?? new SimulatedCharger(meter),
		lightning: o.lightning ?? new SimnetNode(w.simnet, 'st-1'),
		bus,
		store,
		ledger: o.ledger,
		pollMs: 0,
		anchorIntervalMs: 0,
		chargerObeyMs: 3000,
		now: w.clock.now,
		newSessionId: () => `sess-${Math.random().toString(16).slice(2, 8)}`
	});
	cleanups.push(() => rt.stop());
	return { rt, meter };
}
/** The driver joins with the secret from the station's QR code; `channel` then signs its later messages. */
const channels = new Map<string, DriverChannel>();
async function join(w: World, rt: StationRuntime) {
	const link = offeredLink(rt);
	const channel = new DriverChannel(link);
	channels.set(link.sessionId, channel);
	await w.driver.publish(channel.topic, channel.join(100_000_000n, 'd1', 1));
	await until(() => rt.view().session.phase === 'charging');
	return link.sessionId;
}
async function polls(w: World, rt: StationRuntime, n: number) {
	for (let i = 0; i < n; i++) {
		w.clock.advance(1000);
		await rt.pollOnce();
	}
}
const payer = (w: World) => new SimnetNode(w.simnet, 'vehicle-1');

describe('StationRuntime', () => {
	it('runs a session: signed readings, invoices paid over the simnet, stop, settled and closed', async () => {
		const w = await world();
		const store = new MemoryKioskStore();
		const { rt } = station(w, store, await w.connect('kiosk'));
		await rt.start();
		const sessionId = await join(w, rt);
		await polls(w, rt, 40); // ~3 Wh/s at 11 kW
		await until(() => w.got.invoices.length >= 1);
		await payer(w).pay({
			paymentRequest: w.got.invoices[0]!.bolt11,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 10
		});
		await until(() => rt.view().session.increments[0]?.paid === true);
		rt.requestStop('driver');
		await until(() => w.got.invoices.length === 2);
		await payer(w).pay({
			paymentRequest: w.got.invoices[1]!.bolt11,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 10
		});
		await until(() => rt.view().session.phase === 'settled' && rt.view().session.closed);
		await rt.settle();
		const verifier = new ReadingVerifier({
			stationId: 'st-1',
			sessionId,
			publicKey: identity.signingKey
		});
		await until(() => w.got.readings.length === rt.view().readings.length);
		for (const r of w.got.readings)
			expect(verifier.accept(r), JSON.stringify(verifier.accept(r))).toMatchObject({ ok: true });
		expect(verifier.ended).toBe(true);
		expect(verifier.gaps()).toEqual([]);
		expect(await store.queue('outbox').list()).toEqual([]);
	});

	it('resumes after a reload mid-session: same session, no energy counted twice, no second invoice', async () => {
		const w = await world();
		const store = new MemoryKioskStore();
		const first = station(w, store, await w.connect('kiosk-a'));
		await first.rt.start();
		const sessionId = await join(w, first.rt);
		await polls(w, first.rt, 40);
		await until(() => w.got.invoices.length === 1);
		const before = first.rt.view();
		await first.rt.stop(); // the page goes away

		// The reloaded page: the meter's register went on counting while the page was away.
		const last = (await loadStationSnapshot(store, 'st-1'))!.session.last!;
		const second = station(w, store, await w.connect('kiosk-b'), { startWh: last.energyWh });
		await second.rt.start();
		const v = second.rt.view();
		expect(v.resumed).toBe(true);
		expect(v.session.sessionId).toBe(sessionId);
		expect(v.session.phase).toBe('charging');
		expect(v.readings.map((r) => r.seq)).toEqual(before.readings.map((r) => r.seq));
		expect(v.session.increments).toHaveLength(1);
		await polls(w, second.rt, 5);
		// The invoice the first page created is the one still being watched: paying it counts.
		await payer(w).pay({
			paymentRequest: w.got.invoices[0]!.bolt11,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 10
		});
		await until(() => second.rt.view().session.increments[0]?.paid === true);
		await polls(w, second.rt, 40);
		await until(() => w.got.invoices.length === 2);
		await second.rt.settle();
		const verifier = new ReadingVerifier({
			stationId: 'st-1',
			sessionId,
			publicKey: identity.signingKey
		});
		for (const r of w.got.readings) expect(verifier.accept(r).ok).toBe(true);
		expect(verifier.gaps()).toEqual([]);
		const seqs = verifier.readings.map((r) => r.seq);
		expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
		// The second increment starts exactly where the first ended: nothing billed twice, nothing skipped.
		expect(w.got.invoices[1]!.record.fromReading).toBe(w.got.invoices[0]!.record.toReading);
		expect(w.got.invoices.map((i) => i.seq)).toEqual([1, 2]);
	});

	it('an invoice whose creation was cut short by a reload is created once, for the same record', async () => {
		const w = await world();
		const store = new MemoryKioskStore();
		const real = new SimnetNode(w.simnet, 'st-1');
		let created = 0;
		// The page dies while the Lightning call is out: the call never answers.
		const hanging: LightningNode = Object.assign(Object.create(real) as LightningNode, {
			createInvoice: () => new Promise<never>(() => {}),
			getInfo: () => real.getInfo()
		});
		const counting: LightningNode = Object.assign(Object.create(real) as LightningNode, {
			createInvoice: (req: Parameters<LightningNode['createInvoice']>[0]) => (
				created++,
				real.createInvoice(req)
			),
			getInfo: () => real.getInfo(),
			lookupInvoice: (h: string) => real.lookupInvoice(h),
			watchInvoice: real.watchInvoice.bind(real)
		});
		const first = station(w, store, await w.connect('kiosk-a'), { lightning: hanging });
		await first.rt.start();
		await join(w, first.rt);
		await polls(w, first.rt, 40);
		await until(async () => (await loadStationSnapshot(store, 'st-1'))?.pendingRecord != null);
		const snap = (await loadStationSnapshot(store, 'st-1')) as StationSnapshot;
		void first.rt.stop();
		const second = station(w, store, await w.connect('kiosk-b'), {
			lightning: counting,
			startWh: snap.session.last!.energyWh
		});
		await second.rt.start();
		await until(() => w.got.invoices.length === 1);
		await polls(w, second.rt, 3);
		await second.rt.settle();
		expect(created).toBe(1);
		expect(w.got.invoices[0]!.record).toEqual(snap.pendingRecord);
	});

	it('an invoice decided just before a reload, whose creation had not begun, is still created (billing and the stop go on)', async () => {
		const w = await world();
		const store = new MemoryKioskStore();
		const meter = new SimulatedMeter({
			maxPowerW: 11_000,
			wantedWh: 40_000,
			rampSeconds: 0,
			now: w.clock.now
		});
		const car = new SimulatedCharger(meter);
		// A slow charger holds the effect queue: the reducer decides the invoice (snapshot: invoicing),
		// but the page goes away before the Lightning call starts, so no pending record is stored.
		const slow: Charger = Object.assign(Object.create(car) as Charger, {
			allow: async () => (await car.allow(), new Promise<never>(() => {}))
		});
		const first = station(w, store, await w.connect('kiosk-a'), { meter, charger: slow });
		await first.rt.start();
		const sessionId = await join(w, first.rt);
		await polls(w, first.rt, 40);
		await until(async () => (await loadStationSnapshot(store, 'st-1'))?.session.invoicing === true);
		await first.rt.stop();
		const snap = (await loadStationSnapshot(store, 'st-1')) as StationSnapshot;
		expect(snap.pendingRecord).toBeNull();
		expect(w.got.invoices).toEqual([]);

		const second = station(w, store, await w.connect('kiosk-b'), {
			startWh: snap.session.last!.energyWh
		});
		await second.rt.start();
		await until(() => w.got.invoices.length === 1);
		// Exactly the record the first page decided: from the first reading to where billing had reached.
		expect(w.got.invoices[0]!.record).toMatchObject({
			seq: 1,
			fromReading: snap.session.pendingFrom!.seq,
			toReading: snap.session.billedTo!.seq
		});
		await payer(w).pay({
			paymentRequest: w.got.invoices[0]!.bolt11,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 10
		});
		await until(() => second.rt.view().session.increments[0]?.paid === true);
		await polls(w, second.rt, 5);
		second.rt.requestStop('driver');
		// The rest after the end reading is invoiced, and once paid the session settles.
		await until(() => w.got.invoices.length === 2);
		expect(w.got.invoices[1]!.record.fromReading).toBe(w.got.invoices[0]!.record.toReading);
		await payer(w).pay({
			paymentRequest: w.got.invoices[1]!.bolt11,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 10
		});
		await until(() => second.rt.view().session.phase === 'settled');
		const v = second.rt.view();
		expect(v.session.sessionId).toBe(sessionId);
		expect(v.session.increments.reduce((sum, i) => sum + i.record.energyWh, 0)).toBe(
			v.session.last!.energyWh - v.session.first!.energyWh
		);
	});

	it('suspends on a meter fault (energy backwards, or no answer) and never signs the bad value', async () => {
		const w = await world();
		const inner = new SimulatedMeter({
			maxPowerW: 11_000,
			wantedWh: 40_000,
			rampSeconds: 0,
			now: w.clock.now
		});
		let mode: 'ok' | 'backwards' | 'silent' = 'ok';
		const faulty: Meter = {
			identity: inner.identity,
			read: async (): Promise<MeterSample> => {
				const s = await inner.read();
				if (mode === 'silent') throw new Error('no answer from address 1');
				return mode === 'backwards' ? { ...s, energyWh: s.energyWh - 500 } : s;
			}
		};
		const { rt } = station(w, new MemoryKioskStore(), await w.connect('kiosk'), {
			meter: faulty,
			charger: new SimulatedCharger(inner)
		});
		await rt.start();
		await join(w, rt);
		await polls(w, rt, 5);
		const signed = rt.view().readings.length;
		mode = 'backwards';
		await polls(w, rt, 3);
		const v = rt.view();
		expect(v.session.phase).toBe('suspended');
		expect(v.session.suspendReason).toMatch(/^meter: The meter's energy went backwards/);
		expect(v.alarm).toMatch(/energy went backwards.*not billed/);
		expect(v.alarmCause).toBe('meter_fault');
		expect(v.readings).toHaveLength(signed);
		expect(inner.isAllowed).toBe(false);
		expect(rt.statusMessage().state).toBe('faulted');
		await until(() =>
			w.got.events.some(
				(e) => e.event === 'suspended' && /energy went backwards/.test(e.reason ?? '')
			)
		);

		// The operator fixes the meter and clears the fault; then the meter stops answering.
		mode = 'ok';
		rt.clearAlarm();
		await until(() => rt.view().session.phase === 'charging');
		await polls(w, rt, 2);
		mode = 'silent';
		await polls(w, rt, 1);
		expect(rt.view().session.suspendReason).toMatch(
			/Reading the meter failed: no answer from address 1/
		);
		// Stop with the meter silent: the session ends at the last verified reading.
		rt.requestStop('operator');
		await until(() => rt.view().session.finalMissing);
		await until(() => w.got.events.some((e) => e.event === 'stopped'));
		// What was verified is billed; paying it settles the session.
		await until(
			() =>
				rt.view().session.phase === 'settled' ||
				(!rt.view().session.invoicing &&
					rt
						.view()
						.session.increments.every((i) => i.paid || w.got.invoices.some((m) => m.seq === i.seq)))
		);
		for (const i of rt.view().session.increments.filter((x) => !x.paid))
			await payer(w).pay({ paymentRequest: i.bolt11, feeLimitMsat: 10_000n, timeoutSeconds: 10 });
		await until(() => rt.view().session.phase === 'settled');
		const billedWh = rt.view().session.increments.reduce((sum, i) => sum + i.record.energyWh, 0);
		expect(billedWh).toBe(rt.view().session.last!.energyWh - rt.view().session.first!.energyWh);
	});

	it('pauses the charger when the meter has not been read for 5 s (a read that hangs), and charges on once it answers', async () => {
		const w = await world();
		const inner = new SimulatedMeter({
			maxPowerW: 11_000,
			wantedWh: 40_000,
			rampSeconds: 0,
			now: w.clock.now
		});
		let hang: Promise<void> | null = null;
		let release = () => {};
		const meter: Meter = {
			identity: inner.identity,
			read: async () => {
				if (hang) await hang;
				return inner.read();
			}
		};
		const { rt } = station(w, new MemoryKioskStore(), await w.connect('kiosk'), {
			meter,
			charger: new SimulatedCharger(inner)
		});
		await rt.start();
		await join(w, rt);
		await polls(w, rt, 3);
		const signed = rt.view().readings.length;
		// The meter stops answering mid-read; the poll timer keeps ticking every second.
		hang = new Promise<void>((r) => (release = r));
		const stuck = rt.pollOnce();
		const energyAtHang = (await inner.read()).energyWh;
		for (let i = 0; i < 18; i++) {
			w.clock.advance(1000);
			void rt.pollOnce();
			await new Promise((r) => setTimeout(r, 5)); // the kiosk carries out effects between ticks
		}
		const v = rt.view();
		expect(v.session.phase).toBe('suspended');
		expect(v.session.suspendReason).toMatch(
			/^meter-gap: the meter was not read for 5\.\d s \(at most 5\.0 s allowed\)/
		);
		expect(inner.isAllowed).toBe(false);
		// 18 s went by without a reading, but the charger ran for at most the 5 s allowed (and one tick): 11 kW × 6 s ≈ 18 Wh.
		const energyNow = (await inner.read()).energyWh;
		expect(energyNow - energyAtHang).toBeLessThanOrEqual(Math.ceil((11_000 * 6) / 3600));
		expect(energyNow - energyAtHang).toBeGreaterThan(0);
		await until(() =>
			w.got.events.some((e) => e.event === 'suspended' && /meter was not read/.test(e.reason ?? ''))
		);
		// The meter answers: that reading is signed (it counts the gap's energy) and charging goes on.
		hang = null;
		release();
		await stuck;
		await until(() => rt.view().session.phase === 'charging');
		expect(rt.view().readings.length).toBe(signed + 1);
		expect(inner.isAllowed).toBe(true);
		await until(() => w.got.events.some((e) => e.event === 'resumed'));
		await polls(w, rt, 2);
		expect(rt.view().session.phase).toBe('charging');
	});

	it('raises an operator alarm when the charger does not obey a suspend', async () => {
		const w = await world();
		const meter = new SimulatedMeter({
			maxPowerW: 11_000,
			wantedWh: 40_000,
			rampSeconds: 0,
			now: w.clock.now
		});
		const stubborn: Charger = {
			kind: 'simulated',
			allow: async () => meter.setAllowed(true),
			suspend: async () => {},
			stop: async () => {},
			setCurrentLimit: async () => {},
			state: () => 'allowed'
		};
		const { rt } = station(w, new MemoryKioskStore(), await w.connect('kiosk'), {
			meter,
			charger: stubborn
		});
		await rt.start();
		await join(w, rt);
		await polls(w, rt, 70); // an increment, unpaid, then past its grace: suspend
		await until(() => rt.view().session.phase === 'suspended');
		await polls(w, rt, 5);
		expect(rt.view().alarm).toMatch(/charger did not obey "suspend".*kW/);
		expect(rt.view().alarmCause).toBe('charger_disobeyed');
		await until(() =>
			w.got.events.some((e) => e.event === 'fault' && /did not obey/.test(e.reason ?? ''))
		);
	});

	it('queues ledger writes while the RPC is down and carries them out in order, also after a restart', async () => {
		const w = await world();
		const store = new MemoryKioskStore();
		const done: string[] = [];
		let down = true;
		const ledger: StationLedger = {
			openSession: async (id) => {
				if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'unreachable' });
				done.push(`open ${id}`);
				return '0xopen';
			},
			anchorReadings: async (id, records, range) => {
				if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'unreachable' });
				done.push(`anchor ${range.fromReading}-${range.toReading} (${records.length})`);
				return { txHash: `0x${'a'.repeat(64)}`, root: `0x${'b'.repeat(64)}` };
			},
			closeSession: async () => {
				done.push('close');
				return { txHash: `0x${'c'.repeat(64)}`, root: `0x${'d'.repeat(64)}` };
			}
		};
		const first = station(w, store, await w.connect('kiosk-a'), { ledger });
		await first.rt.start();
		await join(w, first.rt);
		await polls(w, first.rt, 5);
		await (first.rt as unknown as { anchor(): Promise<void> }).anchor();
		await until(async () => (await store.queue('ledger').list()).length === 2);
		const snap = (await loadStationSnapshot(store, 'st-1'))!;
		await first.rt.stop();
		down = false;
		const second = station(w, store, await w.connect('kiosk-b'), {
			ledger,
			startWh: snap.session.last!.energyWh
		});
		await second.rt.start();
		await until(() => done.length === 2);
		await second.rt.settle();
		expect(await store.queue('ledger').list()).toEqual([]);
		expect(done).toEqual([`open ${snap.session.sessionId}`, 'anchor 1-5 (5)']);
	});

	it("counts a refused-as-done write as done only when it is this station's own; anything else is an operator alarm", async () => {
		const w = await world();
		const reverted = (name: string) =>
			Object.assign(new Error(name), { code: 'reverted', revert: { name, args: {} } });
		const asked: string[] = [];
		const anchored: { toReading: number; energyWh: number }[] = [];
		let openAnswer: string | null =
			"session sess-x of this station was opened on the ledger by 0xMallory, not by this station's signer";
		const ledger: StationLedger = {
			openSession: async () => {
				throw reverted('SessionAlreadyExists');
			},
			anchorReadings: async (_id, _records, range) => {
				anchored.push(range);
				return { txHash: `0x${'a'.repeat(64)}`, root: `0x${'b'.repeat(64)}` };
			},
			closeSession: async () => {
				throw reverted('SessionAlreadyClosed');
			},
			recorded: async (job) => {
				asked.push(job.kind);
				return job.kind === 'open' ? openAnswer : null;
			}
		};
		// A store whose writes of readings the test can hold: an anchor then falls between storing a reading and counting it.
		const store = new MemoryKioskStore();
		let gate: Promise<void> | null = null;
		const putReading = store.putReading.bind(store);
		store.putReading = async (...args) => {
			await gate;
			return putReading(...args);
		};
		const { rt } = station(w, store, await w.connect('kiosk-r'), { ledger });
		await rt.start();
		await join(w, rt);
		await until(() => rt.view().alarm !== null);
		expect(rt.view().alarm).toMatch(
			/already holds the open of session .* but not as this station wrote it: .*0xMallory/
		);
		expect(rt.view().alarmCause).toBe('ledger_mismatch');
		expect(asked).toEqual(['open']);
		openAnswer = null;
		// Anchors carry the energy at their own last reading, whenever the anchor is taken.
		for (let i = 0; i < 3; i++) {
			await polls(w, rt, 1 + i);
			let release: () => void = () => undefined;
			gate = new Promise((r) => (release = r));
			const before = rt.view().readings.length;
			w.clock.advance(1000);
			const poll = rt.pollOnce();
			await until(() => rt.view().readings.length > before);
			await (rt as unknown as { anchor(): Promise<void> }).anchor();
			release();
			gate = null;
			await poll;
		}
		await until(() => anchored.length === 3);
		const energyAt = new Map(w.got.readings.map((r) => [r.seq, r]));
		await until(() => w.got.readings.length >= anchored.at(-1)!.toReading);
		const first = rt.view().readings[0]!;
		const wh = (seq: number) => {
			const rd = parseOcmf(
				(energyAt.get(seq) ?? rt.view().readings.find((r) => r.seq === seq)!).ocmf
			).payload.RD as { RV: number }[];
			return Math.round(rd.at(-1)!.RV * 1000);
		};
		for (const a of anchored) expect(a.energyWh).toBe(wh(a.toReading) - wh(first.seq));
		// A close refused as done that the chain shows as ours: done, the station moves on, no new alarm.
		rt.clearAlarm();
		w.clock.advance(500);
		rt.requestStop('operator');
		const paid = new Set<string>();
		await until(async () => {
			for (const inv of w.got.invoices) {
				if (paid.has(inv.bolt11)) continue;
				paid.add(inv.bolt11);
				await payer(w).pay({
					paymentRequest: inv.bolt11,
					feeLimitMsat: 10_000n,
					timeoutSeconds: 10
				});
			}
			return rt.view().session.phase === 'settled';
		});
		await until(() => rt.view().session.closed);
		expect(asked).toContain('close');
		expect(rt.view().alarm).toBeNull();
	});
});
