// Who may say what, in one process: the kiosk's StationRuntime and the wallet's DriverRuntime over
// an in-memory broker with a stranger on it, paying through the simnet. The stranger never saw the
// QR code; where a test gives it the join secret (someone who looked over the driver's shoulder),
// it still lacks the station's and the driver's keys.
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedCharger } from '../charger';
import { LightningError } from '../lightning';
import { buildHubTopology, Simnet, SimnetNode } from '../lightning/simnet';
import { SimulatedMeter } from '../meter';
import { MemoryBroker } from '../mqtt';
import {
	driverTopic,
	encodeMessage,
	eventsTopic,
	ethereumAddressOf,
	newDriverKey,
	ocmfPublicKeyHex,
	parseMessage,
	sessionKeys,
	signDriverMessage,
	signStationMessage,
	type StationStatus,
	statusTopic,
	tagMessage
} from '../protocol';
import { DriverChannel } from './driver-channel';
import { DriverRuntime, MemoryJournal } from './driver-runtime';
import { HeldPayments } from './held-payments.testing';
import { unpaid } from './station';
import type { StationLedger } from './ports';
import { StationRuntime } from './station-runtime';
import { offeredLink, registryCheck } from './wallet.testing';
import { testTariff, until } from './factories.testing';

const KEY = '8'.repeat(63) + '3';
const signingKey = ocmfPublicKeyHex(KEY);
const identity = {
	stationId: 'st-t',
	name: 'Trust test',
	signingKeyHex: KEY,
	signingKey,
	signerAddress: ethereumAddressOf(signingKey),
	maxPowerW: 36_000
};
const tariff = testTariff({ graceWh: 100 });

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

const settle = () => new Promise((r) => setTimeout(r, 20));

/** The station's node, which can be made to answer like an LND whose RPC server is starting. */
class RestartingNode extends SimnetNode {
	startingFor = 0;
	async createInvoice(...a: Parameters<SimnetNode['createInvoice']>) {
		if (this.startingFor > 0) {
			this.startingFor--;
			throw new LightningError(
				'starting',
				'the RPC server is in the process of starting up, but not yet ready to accept calls'
			);
		}
		return super.createInvoice(...a);
	}
}

async function world(o: { ledger?: StationLedger } = {}) {
	let clock = 1_800_000_000_000;
	const now = () => clock;
	const broker = new MemoryBroker();
	const net = new Simnet({ now, settleDelayMs: 5 });
	buildHubTopology(net, ['vehicle-1', 'st-t', 'mallory']);
	const meter = new SimulatedMeter({
		maxPowerW: 36_000,
		wantedWh: 60_000,
		rampSeconds: 0,
		now,
		startWh: 200_000
	});
	const stationNode = new RestartingNode(net, 'st-t');
	const station = new StationRuntime({
		identity,
		tariff,
		meter,
		charger: new SimulatedCharger(meter),
		lightning: stationNode,
		bus: broker.connect(),
		ledger: o.ledger,
		pollMs: 0,
		anchorIntervalMs: 0,
		invoiceRetryMs: 10,
		now,
		newSessionId: () => 'sess-t'
	});
	cleanups.push(() => station.stop());
	await station.start();
	const node = new HeldPayments(new SimnetNode(net, 'vehicle-1'));
	const link = offeredLink(station);
	const checkIdentity = registryCheck({
		signer: identity.signerAddress,
		lightningPubkey: net.node('st-t').pubkey
	});
	const driver = new DriverRuntime({
		link,
		bus: broker.connect(),
		lightning: node,
		journal: new MemoryJournal(),
		checkIdentity,
		feeLimitMsat: 10_000n,
		reinvoiceDelayMs: 20,
		now
	});
	cleanups.push(() => driver.close());
	const stranger = broker.connect();
	const poll = async () => {
		clock += 1000;
		await station.pollOnce();
		await new Promise((r) => setTimeout(r, 0));
	};
	const received = () => net.balances('st-t').localMsat;
	return {
		broker,
		net,
		station,
		stationNode,
		driver,
		node,
		link,
		stranger,
		poll,
		now,
		received,
		advance: (ms: number) => (clock += ms)
	};
}

describe('station messages: only the station, only this session', () => {
	it('a forged retained status before the join neither blocks the join nor is believed; the kiosk puts its own back', async () => {
		const w = await world();
		const real = parseMessage(
			statusTopic('st-t'),
			w.broker.log.filter((l) => l.topic === statusTopic('st-t')).at(-1)!.payload
		);
		const status = (real as Extract<typeof real, { ok: true }>).message as StationStatus;
		// Another payee, unsigned; then signed by a stranger's key with a copied MAC.
		const evil = {
			...status,
			lightningPubkey: w.net.node('mallory').pubkey,
			sig: undefined,
			mac: undefined
		};
		await w.stranger.publish(statusTopic('st-t'), JSON.stringify(evil), { retain: true });
		await settle();
		await w.stranger.publish(
			statusTopic('st-t'),
			JSON.stringify({
				...(signStationMessage(evil, 'st-t', '5'.repeat(64)) as object),
				mac: status.mac
			}),
			{ retain: true }
		);
		await settle();
		expect(w.station.view().foreignStatuses).toBe(2);
		await w.driver.start(3000);
		expect(w.driver.view().phase).toBe('ready');
		expect(w.driver.view().status?.lightningPubkey).toBe(w.net.node('st-t').pubkey);
		await w.driver.join(1_000_000_000n);
		await until(() => w.station.view().session.phase === 'charging', 'charging');
	});

	it('a status signed by the station that names another payee mid-session is an alarm: payments stop', async () => {
		const w = await world();
		await w.driver.start(1000);
		await w.driver.join(1_000_000_000n);
		await until(() => w.station.view().session.phase === 'charging', 'charging');
		for (let i = 0; i < 11; i++) await w.poll();
		await until(() => w.driver.view().invoices.some((i) => i.state === 'paid'), 'invoice 1 paid');
		// A stranger's status (no session code) is ignored and counted; no alarm.
		const current = w.station.statusMessage();
		await w.stranger.publish(
			statusTopic('st-t'),
			JSON.stringify({ ...current, lightningPubkey: w.net.node('mallory').pubkey })
		);
		await settle();
		expect(w.driver.view().alarm).toBeNull();
		// The station's own key and the session code, another node: the station changed under the driver.
		const keys = sessionKeys(w.link.secret, 'st-t', 'sess-t');
		await w.stranger.publish(
			statusTopic('st-t'),
			encodeMessage(
				signStationMessage(
					{ ...current, lightningPubkey: w.net.node('mallory').pubkey },
					'st-t',
					KEY,
					keys.station
				)
			)
		);
		await until(() => w.driver.view().alarm !== null, 'the alarm');
		expect(w.driver.view().alarm).toMatch(/names another Lightning node/);
		const paidBefore = w.driver.view().paidMsat;
		for (let i = 0; i < 11; i++) await w.poll();
		await until(
			() => w.driver.view().invoices.some((i) => i.reason === 'identity'),
			'invoice 2 refused'
		);
		expect(w.driver.view().paidMsat).toBe(paidBefore);
		expect(w.net.listPayments('vehicle-1')).toHaveLength(1);
	});

	it('without an identity check nothing is trusted; a node on another network cannot pay', async () => {
		const w = await world();
		const blind = new DriverRuntime({
			link: w.link,
			bus: w.broker.connect(),
			lightning: w.node,
			journal: new MemoryJournal()
		});
		cleanups.push(() => blind.close());
		await blind.start(1000);
		expect(blind.view()).toMatchObject({
			phase: 'failed',
			identity: { ok: false, reason: 'not_checked' }
		});
		const signet = {
			...w.node,
			getInfo: async () => ({ ...(await w.node.getInfo()), network: 'signet' as const })
		};
		const wrongNet = new DriverRuntime({
			link: w.link,
			bus: w.broker.connect(),
			lightning: signet as never,
			journal: new MemoryJournal(),
			checkIdentity: registryCheck({
				signer: identity.signerAddress,
				lightningPubkey: w.net.node('st-t').pubkey
			})
		});
		cleanups.push(() => wrongNet.close());
		await wrongNet.start(1000);
		expect(wrongNet.view().phase).toBe('failed');
		expect(wrongNet.view().lastError).toMatch(
			/invoices on regtest, but your Lightning node is on signet/
		);
	});
});

describe('driver messages: only the driver who joined', () => {
	it("a stranger's pre-join, stop and budget change are refused and counted; the driver's session goes on", async () => {
		const w = await world();
		// Without the join secret: a join that proves nothing.
		const join = {
			v: 1 as const,
			type: 'join' as const,
			sessionId: 'sess-t',
			budgetMsat: '1',
			driverRef: 'mallory',
			at: 1,
			driverKey: newDriverKey().publicKey
		};
		await w.stranger.publish(
			driverTopic('st-t', 'sess-t'),
			encodeMessage({ ...join, mac: 'ab'.repeat(32) })
		);
		await settle();
		expect(w.station.view().session.phase).toBe('awaiting_driver');
		await w.driver.start(1000);
		await w.driver.join(1_000_000_000n);
		await until(() => w.station.view().session.phase === 'charging', 'charging');
		// Someone who saw the QR code: the session's code, but not the driver's key.
		const keys = sessionKeys(w.link.secret, 'st-t', 'sess-t');
		await w.stranger.publish(
			driverTopic('st-t', 'sess-t'),
			encodeMessage(tagMessage({ ...join, driverKey: newDriverKey().publicKey }, keys.driver))
		);
		await w.stranger.publish(
			driverTopic('st-t', 'sess-t'),
			encodeMessage(
				signDriverMessage(
					{ v: 1, type: 'stop', sessionId: 'sess-t', at: 2, n: 99 },
					'st-t',
					'5'.repeat(64),
					keys.driver
				)
			)
		);
		await w.stranger.publish(
			driverTopic('st-t', 'sess-t'),
			encodeMessage(
				signDriverMessage(
					{ v: 1, type: 'budget', sessionId: 'sess-t', budgetMsat: '1', at: 2, n: 99 },
					'st-t',
					'5'.repeat(64),
					keys.driver
				)
			)
		);
		await settle();
		expect(w.station.view().refusedDriverMessages).toBe(4);
		expect(w.station.view().session).toMatchObject({
			phase: 'charging',
			budgetMsat: '1000000000',
			driverRef: 'wallet'
		});
		// The driver's own budget change counts; replayed, it does not.
		const channel = new DriverChannel(
			w.link,
			w.driver.view().driverKey!,
			w.driver.view().driverCounter
		);
		const raise = channel.budget(2_000_000_000n, 3);
		await w.stranger.publish(channel.topic, raise);
		await settle();
		expect(w.station.view().session.budgetMsat).toBe('2000000000');
		await w.stranger.publish(channel.topic, raise);
		await settle();
		expect(w.station.view().refusedDriverMessages).toBe(5);
		expect(w.station.view().driverRefusals.at(-1)).toMatch(/replayed/);
		for (let i = 0; i < 11; i++) await w.poll();
		await until(() => w.driver.view().invoices.some((i) => i.state === 'paid'), 'invoice 1 paid');
	});
});

describe('liveness', () => {
	it('a failed payment gets a new invoice for the same record, which is paid; the old one stays unpaid', async () => {
		const w = await world();
		await w.driver.start(1000);
		await w.driver.join(1_000_000_000n);
		await until(() => w.station.view().session.phase === 'charging', 'charging');
		w.node.failNext = 1;
		for (let i = 0; i < 11; i++) await w.poll();
		await until(
			() => w.driver.view().invoices.some((i) => i.state === 'paid'),
			'the new invoice paid'
		);
		const inv = w.driver.view().invoices;
		expect(inv.map((i) => [i.seq, i.state])).toEqual([
			[1, 'replaced'],
			[1, 'paid']
		]);
		expect(inv[0]!.paymentHash).not.toBe(inv[1]!.paymentHash);
		expect(inv[0]!.recordHash).toBe(inv[1]!.recordHash);
		const s = w.station.view().session;
		expect(s.increments).toHaveLength(1);
		expect(s.increments[0]).toMatchObject({
			paid: true,
			paymentHash: inv[1]!.paymentHash,
			replacedHashes: [inv[0]!.paymentHash]
		});
		expect(w.net.lookupInvoice('st-t', inv[0]!.paymentHash!)).toMatchObject({ state: 'OPEN' });
		expect(w.net.listPayments('vehicle-1')).toHaveLength(1);
		// Billing goes on.
		for (let i = 0; i < 11; i++) await w.poll();
		await until(
			() => w.driver.view().invoices.filter((i) => i.state === 'paid').length === 2,
			'invoice 2 paid'
		);
		expect(unpaid(w.station.view().session)).toHaveLength(0);
	});

	it("a failed payment while the station's node restarts: the kiosk issues the new invoice once its node answers, and it is paid", async () => {
		const w = await world();
		await w.driver.start(1000);
		await w.driver.join(1_000_000_000n);
		await until(() => w.station.view().session.phase === 'charging', 'charging');
		// The payment fails (the hub cannot reach the restarting station) and the driver's request
		// for a new invoice reaches a node still starting: three answers of "starting".
		w.node.hold();
		for (let i = 0; i < 11 && w.driver.view().invoices.length === 0; i++) await w.poll();
		await until(
			() => w.driver.view().invoices.some((i) => i.state === 'paying'),
			'invoice 1 being paid'
		);
		w.stationNode.startingFor = 3;
		w.node.failNext = 1;
		w.node.release();
		await until(
			() => w.driver.view().invoices.some((i) => i.state === 'paid'),
			'the new invoice paid'
		);
		expect(w.stationNode.startingFor).toBe(0);
		expect(w.driver.view().invoices.map((i) => [i.seq, i.state])).toEqual([
			[1, 'replaced'],
			[1, 'paid']
		]);
		// No "could not issue invoice 1 again" fault was published.
		expect(
			w.broker.log.filter(
				(l) => l.topic === eventsTopic('st-t', 'sess-t') && String(l.payload).includes('"fault"')
			)
		).toEqual([]);
		expect(w.net.listPayments('vehicle-1')).toHaveLength(1);
	});

	it('a route that stays dry for three payments: new invoices are asked for with growing pauses, the last is paid; then the driver must ask', async () => {
		const w = await world();
		await w.driver.start(1000);
		await w.driver.join(1_000_000_000n);
		await until(() => w.station.view().session.phase === 'charging', 'charging');
		w.node.failNext = 3;
		for (let i = 0; i < 11; i++) await w.poll();
		await until(
			() => w.driver.view().invoices.some((i) => i.state === 'paid'),
			'the fourth invoice paid',
			3000
		);
		expect(w.driver.view().invoices.map((i) => i.state)).toEqual([
			'replaced',
			'replaced',
			'replaced',
			'paid'
		]);
		expect(w.station.view().session.increments[0]!.replacedHashes).toHaveLength(3);
		expect(w.net.listPayments('vehicle-1')).toHaveLength(1);
		// Increment 2 fails four times: after the third new invoice the wallet waits for the driver.
		w.node.failNext = 4;
		for (let i = 0; i < 11; i++) await w.poll();
		await until(
			() =>
				w.driver.view().invoices.filter((i) => i.seq === 2).length === 4 &&
				w.driver.view().invoices.at(-1)!.state === 'failed',
			'four failed attempts',
			3000
		);
		await new Promise((r) => setTimeout(r, 400)); // longer than the next pause (160 ms) would be
		expect(w.driver.view().invoices.filter((i) => i.seq === 2).length).toBe(4);
		expect(w.driver.view().lastError).toMatch(
			/Ask the station for a new invoice when the problem is fixed/
		);
		await w.driver.requestNewInvoice(2);
		await until(
			() => w.driver.view().invoices.filter((i) => i.state === 'paid').length === 2,
			'invoice 2 paid by hand'
		);
		expect(w.net.listPayments('vehicle-1')).toHaveLength(2);
	});

	it('stopped and paid, the wallet is done ("ledger close pending") while the station’s close is delayed', async () => {
		let release: () => void = () => undefined;
		const closeGate = new Promise<void>((r) => (release = r));
		const ledger: StationLedger = {
			openSession: async () => '0x' + '11'.repeat(32),
			anchorReadings: async () => ({
				txHash: '0x' + '22'.repeat(32),
				root: '0x' + '33'.repeat(32)
			}),
			closeSession: async () => {
				await closeGate;
				return { txHash: '0x' + '44'.repeat(32), root: '0x' + '55'.repeat(32) };
			}
		};
		const w = await world({ ledger });
		await w.driver.start(1000);
		await w.driver.join(1_000_000_000n);
		await until(() => w.station.view().session.phase === 'charging', 'charging');
		for (let i = 0; i < 15; i++) await w.poll();
		w.advance(300);
		await w.driver.stop();
		await until(() => w.driver.view().phase === 'closing', 'the wallet to be done');
		expect(w.driver.view().paidMsat).toBe(w.driver.view().stoppedAmountMsat);
		expect(w.station.view().session.closed).toBe(false);
		release();
		await until(() => w.driver.view().phase === 'settled', 'the close');
	});
});
