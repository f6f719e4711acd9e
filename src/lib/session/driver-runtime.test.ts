// DriverRuntime.resume: a wallet closed while a payment is in flight picks the session up again
// from what it stored (snapshot + payment journal), tracks that payment to its end without paying
// again, and goes on paying the next increments from the readings it had verified before.
import { describe, expect, it } from 'vitest';
import { SimulatedCharger } from '../charger';
import { LightningError } from '../lightning';
import { buildHubTopology, Simnet, SimnetNode } from '../lightning/simnet';
import { SimulatedMeter } from '../meter';
import { MemoryBroker } from '../mqtt';
import { ethereumAddressOf, ocmfPublicKeyHex } from '../protocol';
import { DriverRuntime, MemoryJournal, toSnapshot } from './driver-runtime';
import { receiptFromSnapshot, verifyReceipt } from './receipt';
import { StationRuntime } from './station-runtime';
import { HeldPayments } from './held-payments.testing';
import { offeredLink, registryCheck } from './wallet.testing';
import { testTariff, until } from './factories.testing';

const KEY = '4'.repeat(63) + '7';
const signingKey = ocmfPublicKeyHex(KEY);
const identity = {
	stationId: 'st-r',
	name: 'Resume test',
	signingKeyHex: KEY,
	signingKey,
	signerAddress: ethereumAddressOf(signingKey),
	maxPowerW: 36_000
};
const tariff = testTariff({ graceWh: 100 });

/** A station on the simnet (hub topology with vehicle-1) on a clock of its own; `tick` reads the meter a second later. */
async function chargingStation(sessionId: string) {
	let clock = 1_800_000_000_000;
	const now = () => clock;
	const broker = new MemoryBroker();
	const net = new Simnet({ now, settleDelayMs: 5 });
	buildHubTopology(net, ['vehicle-1', 'st-r']);
	const meter = new SimulatedMeter({
		maxPowerW: 36_000,
		wantedWh: 60_000,
		rampSeconds: 0,
		now,
		startWh: 100_000
	});
	const station = new StationRuntime({
		identity,
		tariff,
		meter,
		charger: new SimulatedCharger(meter),
		lightning: new SimnetNode(net, 'st-r'),
		bus: broker.connect(),
		pollMs: 0,
		anchorIntervalMs: 0,
		now,
		newSessionId: () => sessionId
	});
	await station.start();
	const tick = async () => {
		clock += 1000;
		await station.pollOnce();
		await new Promise((r) => setTimeout(r, 0));
	};
	return { now, broker, net, station, tick };
}

/**
 * A wallet that paid increment 1 and stopped (crash, reload) while increment 2's payment was
 * reserved in its journal and held at the node's gate; what it stored is in `snapshot` and `stored`.
 */
async function stoppedWithIncrement2InFlight(sessionId: string) {
	const world = await chargingStation(sessionId);
	const { now, broker, net, station, tick } = world;
	const node = new HeldPayments(new SimnetNode(net, 'vehicle-1'));
	const journal = new MemoryJournal();
	const link = offeredLink(station);
	const checkIdentity = registryCheck({
		signer: identity.signerAddress,
		lightningPubkey: net.node('st-r').pubkey
	});
	const first = new DriverRuntime({
		link,
		bus: broker.connect(),
		lightning: node,
		journal,
		checkIdentity,
		feeLimitMsat: 10_000n,
		now
	});
	await first.start(1000);
	await first.join(1_000_000_000n);
	await until(() => station.view().session.phase === 'charging', 'charging');
	for (let i = 0; i < 11; i++) await tick();
	await until(() => first.view().invoices.some((i) => i.state === 'paid'), 'invoice 1 paid');
	node.hold();
	for (let i = 0; i < 10 && !first.view().invoices.some((i) => i.state === 'paying'); i++)
		await tick();
	await until(
		() =>
			first.view().invoices.some((i) => i.state === 'paying') &&
			journal.entries().some((e) => e.status === 'sending'),
		'invoice 2 in flight'
	);
	const snapshot = toSnapshot(first.view(), first.acceptedTariff!)!;
	const stored = new MemoryJournal();
	for (const e of journal.entries()) await stored.reserve({ ...e });
	first.close();
	return { ...world, node, link, checkIdentity, snapshot, stored };
}

describe('DriverRuntime.resume', () => {
	it('tracks the payment in flight at a reload, pays nothing twice, and goes on billing', async () => {
		const { now, broker, station, tick, node, link, checkIdentity, snapshot, stored } =
			await stoppedWithIncrement2InFlight('sess-r');
		const poll = tick;
		expect(node.sent).toBe(2);
		node.release(); // the payment the crashed wallet had sent completes on the network

		const second = new DriverRuntime({
			link,
			bus: broker.connect(),
			lightning: node,
			journal: stored,
			checkIdentity,
			feeLimitMsat: 10_000n,
			now
		});
		await second.resume(snapshot);
		await until(
			() => second.view().invoices.filter((i) => i.state === 'paid').length === 2,
			'invoice 2 tracked to paid after the reload'
		);
		expect(node.sent).toBe(2);
		expect(second.view().phase).toBe('charging');
		expect(second.view().readings.map((r) => r.seq)).toEqual(snapshot.readings.map((r) => r.seq));

		// Billing goes on from the readings verified before the reload.
		for (let i = 0; i < 12; i++) await poll();
		await until(
			() => second.view().invoices.filter((i) => i.state === 'paid').length >= 3,
			'invoice 3 paid after the reload'
		);
		expect(node.sent).toBe(3);
		expect(second.view().invoices.every((i) => i.state === 'paid')).toBe(true);
		const s = station.view().session;
		expect(s.increments.filter((i) => i.paid)).toHaveLength(second.view().invoices.length);

		const after = toSnapshot(second.view(), second.acceptedTariff!)!;
		const receipt = receiptFromSnapshot(after, {
			stationId: 'st-r',
			sessionId: 'sess-r',
			startedAt: 0,
			feesMsat: second.view().feesMsat.toString(),
			ledger: null
		});
		expect(verifyReceipt(receipt, null).checks.filter((c) => c.status === 'fail')).toEqual([]);
		second.close();
		await station.stop();
	});

	it('a payment reserved but never taken by the node before the reload is sent once after it; nothing is paid twice', async () => {
		// Increment 2 is reserved in the journal, and the wallet stops before its node ever sees it
		// (the held payment is never released).
		const { now, broker, net, station, link, checkIdentity, snapshot, stored } =
			await stoppedWithIncrement2InFlight('sess-n');
		expect(net.listPayments('vehicle-1')).toHaveLength(1);

		const after = new HeldPayments(new SimnetNode(net, 'vehicle-1'));
		const second = new DriverRuntime({
			link,
			bus: broker.connect(),
			lightning: after,
			journal: stored,
			checkIdentity,
			feeLimitMsat: 10_000n,
			now
		});
		await second.resume(snapshot);
		await until(
			() => second.view().invoices.filter((i) => i.state === 'paid').length === 2,
			'invoice 2 sent after the reload and paid'
		);
		expect(after.sent).toBe(1);
		expect(net.listPayments('vehicle-1')).toHaveLength(2);
		expect(second.view().lastError).toBeNull();
		second.close();
		await station.stop();
	});

	it('an invoice stored as accepted whose payment the journal never reserved (the page reloaded in between) is paid once after the reload', async () => {
		const { now, broker, net, station, link, checkIdentity, snapshot, stored } =
			await stoppedWithIncrement2InFlight('sess-u');
		// The journal as it was before increment 2 was reserved: only increment 1.
		const journal = new MemoryJournal();
		for (const e of stored.entries()) if (e.seq === 1) await journal.reserve({ ...e });
		const paidBefore = snapshot.invoices.filter((i) => i.state === 'paid');
		expect(paidBefore).toHaveLength(1);
		expect(snapshot.invoices.find((i) => i.seq === 2)?.state).toBe('paying');
		const after = new HeldPayments(new SimnetNode(net, 'vehicle-1'));
		const second = new DriverRuntime({
			link,
			bus: broker.connect(),
			lightning: after,
			journal,
			checkIdentity,
			feeLimitMsat: 10_000n,
			now
		});
		await second.resume(snapshot);
		await until(
			() => second.view().invoices.filter((i) => i.state === 'paid').length === 2,
			'invoice 2 paid after the reload'
		);
		expect(after.sent).toBe(1);
		expect(second.view().invoices.map((i) => [i.seq, i.state])).toEqual([
			[1, 'paid'],
			[2, 'paid']
		]);
		second.close();
		await station.stop();
	});

	it('an invoice paid after the last stored snapshot, delivered again by the broker after the reload, is taken up from the journal, not refused; billing goes on', async () => {
		// The page stored its session (snapshot) after increment 1; increment 2 then arrived and was
		// paid (the journal is written before the payment, the session only after), and the page
		// reloaded before the session was stored again. The broker delivers again what the page never
		// acknowledged (the wallet acknowledges a message once it stored what it changed).
		const { now, broker, net, station, tick } = await chargingStation('sess-j');
		const journal = new MemoryJournal();
		const link = offeredLink(station);
		const checkIdentity = registryCheck({
			signer: identity.signerAddress,
			lightningPubkey: net.node('st-r').pubkey
		});
		const node = new HeldPayments(new SimnetNode(net, 'vehicle-1'));
		const first = new DriverRuntime({
			link,
			bus: broker.connect(),
			lightning: node,
			journal,
			checkIdentity,
			feeLimitMsat: 10_000n,
			now
		});
		await first.start(1000);
		await first.join(1_000_000_000n);
		await until(() => station.view().session.phase === 'charging', 'charging');
		for (let i = 0; i < 11; i++) await tick();
		await until(() => first.view().invoices.some((i) => i.state === 'paid'), 'invoice 1 paid');
		const stored = toSnapshot(first.view(), first.acceptedTariff!)!;
		const storedUpTo = broker.log.length;
		for (
			let i = 0;
			i < 12 && first.view().invoices.filter((i) => i.state === 'paid').length < 2;
			i++
		)
			await tick();
		await until(
			() => first.view().invoices.filter((i) => i.state === 'paid').length === 2,
			'invoice 2 paid before the reload'
		);
		first.close();
		expect(node.sent).toBe(2);

		const second = new DriverRuntime({
			link,
			bus: broker.connect(),
			lightning: node,
			journal,
			checkIdentity,
			feeLimitMsat: 10_000n,
			now
		});
		await second.resume(stored);
		const again = broker.connect();
		for (const m of broker.log.slice(storedUpTo))
			if (m.topic.includes('sess-j') && !m.topic.endsWith('/driver'))
				await again.publish(m.topic, m.payload);
		await until(
			() => second.view().invoices.filter((i) => i.state === 'paid').length === 2,
			'invoice 2 taken up as paid'
		);
		for (
			let i = 0;
			i < 12 && second.view().invoices.filter((i) => i.state === 'paid').length < 3;
			i++
		)
			await tick();
		await until(
			() => second.view().invoices.filter((i) => i.state === 'paid').length === 3,
			'invoice 3 paid after the reload'
		);
		expect(node.sent).toBe(3); // invoice 2 was not sent again
		expect(second.view().invoices.map((i) => i.state)).toEqual(['paid', 'paid', 'paid']);
		expect(second.view().paidMsat).toBe(
			second.view().invoices.reduce((sum, i) => sum + i.amountMsat, 0n)
		);
		expect(station.view().session.increments.filter((i) => i.paid)).toHaveLength(3);
		second.close();
		await station.stop();
	});

	it('a payment whose requests are lost on the way twice is sent again until it reaches the node, and paid once', async () => {
		const { now, broker, net, station, tick } = await chargingStation('sess-l');
		const inner = new SimnetNode(net, 'vehicle-1');
		let lose = 2;
		let attempts = 0;
		// The request never reaches the node (a dropped connection): the node knows no such payment.
		const node = Object.assign(Object.create(inner) as SimnetNode, {
			pay: async (...args: Parameters<SimnetNode['pay']>) => {
				attempts++;
				if (lose > 0) {
					lose--;
					throw new LightningError(
						'unreachable',
						'the connection dropped before the node answered'
					);
				}
				return inner.pay(...args);
			}
		});
		const checkIdentity = registryCheck({
			signer: identity.signerAddress,
			lightningPubkey: net.node('st-r').pubkey
		});
		const driver = new DriverRuntime({
			link: offeredLink(station),
			bus: broker.connect(),
			lightning: node,
			journal: new MemoryJournal(),
			checkIdentity,
			feeLimitMsat: 10_000n,
			now
		});
		await driver.start(1000);
		await driver.join(1_000_000_000n);
		await until(() => station.view().session.phase === 'charging', 'charging');
		for (let i = 0; i < 11; i++) await tick();
		await until(
			() => driver.view().invoices[0]?.state === 'paid',
			'invoice 1 paid on the third attempt'
		);
		expect(attempts).toBe(3);
		expect(net.listPayments('vehicle-1')).toHaveLength(1);
		expect(driver.view().lastError).toBeNull();
		driver.close();
		await station.stop();
	});

	it('an "already paid" answer to its own payment is tracked to the preimage, not counted as failed', async () => {
		const { now, broker, net, station, tick } = await chargingStation('sess-r');
		const node = new HeldPayments(new SimnetNode(net, 'vehicle-1'));
		node.answerAlreadyPaid = true;
		const checkIdentity = registryCheck({
			signer: identity.signerAddress,
			lightningPubkey: net.node('st-r').pubkey
		});
		const driver = new DriverRuntime({
			link: offeredLink(station),
			bus: broker.connect(),
			lightning: node,
			journal: new MemoryJournal(),
			checkIdentity,
			feeLimitMsat: 10_000n,
			now
		});
		await driver.start(1000);
		await driver.join(1_000_000_000n);
		await until(() => station.view().session.phase === 'charging', 'charging');
		for (let i = 0; i < 11; i++) await tick();
		await until(
			() => driver.view().invoices.some((i) => i.state === 'paid'),
			'invoice 1 paid after tracking'
		);
		const inv = driver.view().invoices[0]!;
		expect(inv.preimage).toMatch(/^[0-9a-f]{64}$/);
		expect(driver.view().paidMsat).toBe(inv.amountMsat);
		expect(node.sent).toBe(1);
		driver.close();
		await station.stop();
	});
});

describe('DriverRuntime.start with a node that is still starting', () => {
	it('waits for its own node, tells the driver, and joins once it serves', async () => {
		const { now, broker, net, station } = await chargingStation('sess-w');
		const real = new SimnetNode(net, 'vehicle-1');
		let answers = 0;
		// What LND answers while its RPC server comes up, then a node catching up with the chain.
		const node = Object.assign(Object.create(real) as SimnetNode, {
			getInfo: async () => {
				answers++;
				if (answers <= 2)
					throw new LightningError('starting', 'the RPC server is in the process of starting up');
				const info = await real.getInfo();
				return answers === 3 ? { ...info, syncedToChain: false } : info;
			}
		});
		const checkIdentity = registryCheck({
			signer: identity.signerAddress,
			lightningPubkey: net.node('st-r').pubkey
		});
		const pauses: number[] = [];
		const driver = new DriverRuntime({
			link: offeredLink(station),
			bus: broker.connect(),
			lightning: node,
			journal: new MemoryJournal(),
			checkIdentity,
			now,
			sleep: async (ms) => void pauses.push(ms)
		});
		const seen: string[] = [];
		driver.subscribe((v) => v.waiting && seen.at(-1) !== v.waiting && seen.push(v.waiting));
		await driver.start(1000);
		expect(seen).toEqual([
			'Your Lightning node is still starting; waiting for it.',
			expect.stringMatching(
				/^Your Lightning node is catching up with the chain \(block \d+\); waiting for it\.$/
			)
		]);
		expect(pauses).toEqual([500, 1000, 2000]);
		expect(driver.view()).toMatchObject({
			phase: 'ready',
			waiting: null,
			lastError: null,
			network: 'regtest'
		});
		await driver.join(100_000_000n);
		await until(() => station.view().session.phase === 'charging', 'charging');
	});

	it('does not wait out a macaroon the node refuses: the driver is told at once', async () => {
		const node = {
			getInfo: async () => {
				throw new LightningError(
					'unauthorized',
					'verification failed: signature mismatch after caveat verification'
				);
			}
		} as unknown as SimnetNode;
		const link = {
			v: 2 as const,
			network: '0000aaaa',
			stationId: 'st-r',
			sessionId: 'sess-m',
			secret: 'A'.repeat(22)
		};
		const driver = new DriverRuntime({
			link,
			bus: new MemoryBroker().connect(),
			lightning: node,
			journal: new MemoryJournal(),
			sleep: async () => {
				throw new Error('must not pause');
			}
		});
		await expect(driver.start(1000)).rejects.toThrow(/signature mismatch/);
		expect(driver.view()).toMatchObject({
			phase: 'failed',
			waiting: null,
			lastError: expect.stringMatching(
				/^Your Lightning node cannot be reached: .*signature mismatch/
			)
		});
	});
});
