// A whole session in one process: the kiosk's StationRuntime and the wallet's DriverRuntime talk
// over an in-memory broker and pay through the simnet (vehicle → hub → station), with a simulated
// car behind a simulated meter on an injected clock. No fakes of our own code: only the network
// and the hardware are simulated.
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedCharger } from '../charger';
import { buildHubTopology, Simnet, SimnetNode } from '../lightning/simnet';
import { SimulatedMeter } from '../meter';
import { MemoryBroker } from '../mqtt';
import {
	billingRecordHash,
	buildBillingRecord,
	encodeMessage,
	ethereumAddressOf,
	type InvoiceMessage,
	invoicesTopic,
	ocmfPublicKeyHex,
	sessionKeys,
	signStationMessage,
	type Tariff
} from '../protocol';
import { DriverRuntime, MemoryJournal } from './driver-runtime';
import { StationRuntime } from './station-runtime';
import { unpaid } from './station';
import { HeldPayments } from './held-payments.testing';
import { offeredLink, registryCheck } from './wallet.testing';
import { testTariff, until } from './factories.testing';

const KEY = '3'.repeat(63) + '5';
const signingKey = ocmfPublicKeyHex(KEY);
// 36 kW: 10 Wh per simulated second, so one 100 Wh increment takes ten polls.
const identity = {
	stationId: 'st-1',
	name: 'Flow test',
	signingKeyHex: KEY,
	signingKey,
	signerAddress: ethereumAddressOf(signingKey),
	maxPowerW: 36_000
};
const streamTariff = testTariff();

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

async function world(tariff: Tariff = streamTariff) {
	let clock = 1_800_000_000_000;
	const now = () => clock;
	const broker = new MemoryBroker();
	const net = new Simnet({ now, settleDelayMs: 5 });
	buildHubTopology(net, ['vehicle-1', 'st-1', 'mallory']);
	const meter = new SimulatedMeter({
		maxPowerW: 36_000,
		wantedWh: 60_000,
		rampSeconds: 0,
		now,
		startWh: 500_000
	});
	const charger = new SimulatedCharger(meter);
	const station = new StationRuntime({
		identity,
		tariff,
		meter,
		charger,
		lightning: new SimnetNode(net, 'st-1'),
		bus: broker.connect(),
		pollMs: 0,
		anchorIntervalMs: 0,
		now,
		newSessionId: () => 'sess-flow'
	});
	cleanups.push(() => station.stop());
	await station.start();
	const wallet = new HeldPayments(new SimnetNode(net, 'vehicle-1'));
	const journal = new MemoryJournal();
	const driver = new DriverRuntime({
		link: offeredLink(station),
		bus: broker.connect(),
		lightning: wallet,
		journal,
		checkIdentity: registryCheck({
			signer: identity.signerAddress,
			lightningPubkey: net.node('st-1').pubkey
		}),
		feeLimitMsat: 10_000n,
		now
	});
	cleanups.push(() => driver.close());
	await driver.start(1000);
	await driver.join(1_000_000_000n);
	await until(() => station.view().session.phase === 'charging', 'the station to start charging');

	/** One simulated second, one meter poll, then let messages and payments run their course. */
	const poll = async () => {
		clock += 1000;
		await station.pollOnce();
		await new Promise((r) => setTimeout(r, 0));
	};
	/** Everything invoiced so far is paid on both sides. */
	const allPaid = () => {
		const s = station.view().session;
		return (
			!s.invoicing &&
			unpaid(s).length === 0 &&
			driver.view().invoices.every((i) => i.state !== 'paying')
		);
	};
	/** The driver presses stop a moment after the last poll (the end reading needs a later meter time). */
	const stop = async () => {
		clock += 300;
		await driver.stop();
	};
	return {
		broker,
		net,
		meter,
		charger,
		station,
		driver,
		wallet,
		journal,
		poll,
		allPaid,
		now,
		stop
	};
}

describe('a charging session between StationRuntime and DriverRuntime', () => {
	it('pays several increments in stream mode, then the rest at stop, and settles', async () => {
		const w = await world();
		for (let i = 0; i < 45; i++) {
			await w.poll();
			await until(w.allPaid, `increment payments after poll ${i + 1}`);
		}
		const during = w.station.view().session;
		expect(during.phase).toBe('charging');
		expect(during.increments.length).toBeGreaterThanOrEqual(3);
		await w.stop();
		await until(() => w.station.view().session.phase === 'settled', 'the session to settle');
		await w.station.settle();

		const s = w.station.view().session;
		const d = w.driver.view();
		expect(s.increments.every((i) => i.paid)).toBe(true);
		expect(d.invoices.map((i) => i.state)).toEqual(s.increments.map(() => 'paid'));
		const billed = s.increments.reduce((sum, i) => sum + BigInt(i.record.amountMsat), 0n);
		expect(d.paidMsat).toBe(billed);
		// Energy × price + start fee, from the signed register values.
		const energyWh = s.last!.energyWh - s.first!.energyWh;
		expect(billed).toBe(
			(BigInt(energyWh) * 250_000n) / 1000n +
				1000n -
				roundingOf(s.increments.map((i) => i.record.energyWh))
		);
		const payments = w.net.listPayments('vehicle-1');
		expect(payments.map((p) => p.status)).toEqual(s.increments.map(() => 'SUCCEEDED'));
		expect(payments.every((p) => p.route.join('>') === 'vehicle-1>hub>st-1')).toBe(true);
		expect(d.feesMsat).toBe(payments.reduce((sum, p) => sum + p.feeMsat, 0n));
		expect(w.journal.entries().map((e) => e.status)).toEqual(s.increments.map(() => 'succeeded'));
	});

	it('suspends when an increment stays unpaid past the grace energy, and resumes when it is paid', async () => {
		const w = await world();
		w.wallet.hold();
		for (let i = 0; i < 30 && w.station.view().session.phase !== 'suspended'; i++) await w.poll();
		const suspended = w.station.view().session;
		expect(suspended.phase).toBe('suspended');
		expect(suspended.suspendReason).toMatch(/^unpaid: invoice 1 is not paid after 50 Wh of grace/);
		expect(w.charger.state()).toBe('suspended');
		await until(() => w.driver.view().phase === 'suspended', 'the wallet to see the suspension');
		// The car draws nothing while suspended.
		const heldAt = w.station.view().session.last!.energyWh;
		for (let i = 0; i < 3; i++) await w.poll();
		expect(w.station.view().session.last!.energyWh).toBe(heldAt);

		w.wallet.release();
		await until(() => w.station.view().session.phase === 'charging', 'the station to resume');
		expect(w.charger.state()).toBe('allowed');
		await until(() => w.driver.view().phase === 'charging', 'the wallet to see the resumption');
		expect(w.station.view().events.map((e) => e.event)).toEqual(
			expect.arrayContaining(['suspended', 'paid', 'resumed'])
		);
		// Billing goes on from where invoice 1 ended, grace energy included.
		for (let i = 0; i < 12; i++) {
			await w.poll();
			await until(w.allPaid, 'invoice 2 to be paid');
		}
		expect(w.station.view().session.increments.length).toBe(2);
		const [first, second] = w.station.view().session.increments;
		expect(second!.record.fromReading).toBe(first!.record.toReading);
	});

	it('postpaid: no invoice while charging, one at stop, paid', async () => {
		const w = await world({ ...streamTariff, mode: 'postpaid' });
		for (let i = 0; i < 25; i++) await w.poll();
		expect(w.station.view().session.increments).toEqual([]);
		expect(w.driver.view().invoices).toEqual([]);
		await w.stop();
		await until(
			() => w.station.view().session.phase === 'settled',
			'the postpaid session to settle'
		);
		const s = w.station.view().session;
		expect(s.increments).toHaveLength(1);
		const only = s.increments[0]!;
		expect(only.record.fromReading).toBe(s.first!.seq);
		expect(only.record.toReading).toBe(s.last!.seq);
		expect(only.paid).toBe(true);
		expect(w.driver.view().invoices).toMatchObject([{ seq: 1, state: 'paid' }]);
		expect(w.net.listPayments('vehicle-1')).toHaveLength(1);
	});

	it('ignores a forged invoice published on the bus, with or without the session code; the simnet shows no payment for it', async () => {
		const w = await world();
		for (let i = 0; i < 5; i++) await w.poll();
		// Anyone on the broker can read the readings and build the right record, but cannot
		// invoice from the station's node: here mallory invoices from its own.
		const readings = w.station.view().readings;
		const s = w.station.view().session;
		const record = buildBillingRecord({
			stationId: 'st-1',
			sessionId: 'sess-flow',
			seq: 1,
			from: { seq: s.first!.seq, energyWh: s.first!.energyWh },
			to: { seq: s.last!.seq, energyWh: s.last!.energyWh },
			tariff: streamTariff
		});
		expect(readings.at(-1)!.seq).toBe(record.toReading);
		const recordHash = billingRecordHash(record);
		const forged = await new SimnetNode(w.net, 'mallory').createInvoice({
			amountMsat: BigInt(record.amountMsat),
			descriptionHash: recordHash,
			expirySeconds: 600
		});
		const msg: InvoiceMessage = {
			v: 1,
			type: 'invoice',
			sessionId: 'sess-flow',
			seq: 1,
			record,
			recordHash,
			bolt11: forged.paymentRequest
		};
		const stranger = w.broker.connect();
		// A stranger on the broker: no session code (it never saw the QR code).
		await stranger.publish(invoicesTopic('st-1', 'sess-flow'), encodeMessage(msg));
		// Someone who saw the QR code: the session's MAC, but mallory's signature, not the station's.
		const mac = sessionKeys(s.joinSecret!, 'st-1', 'sess-flow').station;
		await stranger.publish(
			invoicesTopic('st-1', 'sess-flow'),
			encodeMessage(signStationMessage(msg, 'st-1', '5'.repeat(64), mac))
		);
		await until(() => w.driver.view().forgedMessages === 2, 'both forged invoices to be counted');
		expect(w.driver.view().invoices).toEqual([]);
		expect(w.driver.view().refusedMessages).toEqual([
			"Ignored an invoice without this session's code (not from this session's station).",
			"Ignored an invoice not signed by the station (not from this session's station)."
		]);

		// The station's real invoice 1 is still paid normally.
		for (let i = 0; i < 10; i++) {
			await w.poll();
			await until(w.allPaid, 'the real invoice');
		}
		expect(w.station.view().session.increments[0]?.paid).toBe(true);
		expect(w.net.lookupInvoice('mallory', forged.paymentHash)).toMatchObject({
			state: 'OPEN',
			amtPaidMsat: 0n
		});
		expect(w.net.listPayments('vehicle-1').map((p) => p.paymentHash)).not.toContain(
			forged.paymentHash
		);
		expect(w.net.listPayments('vehicle-1').every((p) => p.route.at(-1) === 'st-1')).toBe(true);
	});
});

/** What flooring each increment's price loses against pricing the whole energy at once, msat. */
function roundingOf(incrementsWh: number[]): bigint {
	const whole = (BigInt(incrementsWh.reduce((a, b) => a + b, 0)) * 250_000n) / 1000n;
	const parts = incrementsWh.reduce((sum, wh) => sum + (BigInt(wh) * 250_000n) / 1000n, 0n);
	return whole - parts;
}
