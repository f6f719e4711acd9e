// The payment guard: every item of the bad-input list is refused with a sentence, and none is paid.
// Invoices come from the simnet (real BOLT11, signed by the station's node key) or are forged with
// our encoder where a test needs a field the simnet would never write.
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Network } from '../lightning';
import { encodeBolt11 } from '../lightning/simnet';
import { buildHubTopology, Simnet, SimnetNode } from '../lightning/simnet';
import { MemoryBroker } from '../mqtt';
import {
	type BillingRecord,
	billingRecordHash,
	buildBillingRecord,
	encodeMessage,
	ethereumAddressOf,
	type InvoiceMessage,
	invoicesTopic,
	makeReading,
	newJoinSecret,
	ocmfPublicKeyHex,
	type ReadingMessage,
	readingsTopic,
	sessionKeys,
	signStationMessage,
	type StationStatus,
	statusTopic,
	tagMessage,
	type VerifiedReading
} from '../protocol';
import { decideInvoice, type InvoiceContext, type InvoiceDecision } from './driver';
import { registryCheck } from './wallet.testing';
import {
	DriverRuntime,
	MemoryJournal,
	paymentFailureSentence,
	type DriverView
} from './driver-runtime';
import type { JournalEntry } from './ports';
import { testTariff, until } from './factories.testing';

const KEY = '2'.repeat(63) + '9';
const stationId = 'st-1';
const sessionId = 'sess-1';
const tariff = testTariff();
const START_MS = 1_800_000_000_000;
const meter = { vendor: 'Lightcharge', model: 'SIM-1', serial: 'SIM-0001' };

/** A simnet with the station and a vehicle on the hub, three signed readings and invoice 1 for them. */
async function setup() {
	let clock = START_MS;
	const net = new Simnet({ now: () => clock });
	buildHubTopology(net, ['vehicle-1', stationId, 'other-station']);
	const station = new SimnetNode(net, stationId);
	const readingMessages: ReadingMessage[] = [];
	const readings = new Map<number, VerifiedReading>();
	for (let seq = 1; seq <= 3; seq++) {
		const r = makeReading(
			{
				seq,
				tx: seq === 1 ? 'B' : 'T',
				energyWh: 10_000 + (seq - 1) * 60,
				at: START_MS + seq * 1000,
				meter,
				stationId,
				sessionId
			},
			KEY
		);
		readings.set(seq, r.verified);
		readingMessages.push(r.reading);
	}
	const record = buildBillingRecord({
		stationId,
		sessionId,
		seq: 1,
		from: { seq: 1, energyWh: 10_000 },
		to: { seq: 3, energyWh: 10_120 },
		tariff
	});
	const recordHash = billingRecordHash(record);
	const created = await station.createInvoice({
		amountMsat: BigInt(record.amountMsat),
		descriptionHash: recordHash,
		expirySeconds: 600
	});
	const msg: InvoiceMessage = {
		v: 1,
		type: 'invoice',
		sessionId,
		seq: 1,
		record,
		recordHash,
		bolt11: created.paymentRequest
	};
	const ctx: InvoiceContext = {
		stationId,
		sessionId,
		tariff,
		payee: net.node(stationId).pubkey,
		network: 'regtest',
		budgetMsat: 100_000_000n,
		committedMsat: 0n,
		readings,
		firstReadingSeq: 1,
		previous: null,
		isPaymentHashUsed: () => false,
		nowSeconds: Math.floor(clock / 1000) + 5
	};
	/** An invoice the station's own node key signs, with any fields we like. */
	const forge = (o: {
		network?: Network;
		amountMsat?: bigint;
		descriptionHash?: string;
		timestamp?: number;
		expirySeconds?: number;
		key?: string;
	}) =>
		encodeBolt11(
			{
				network: o.network ?? 'regtest',
				amountMsat: o.amountMsat ?? BigInt(record.amountMsat),
				timestamp: o.timestamp ?? Math.floor(clock / 1000),
				paymentHash: bytesToHex(sha256(new TextEncoder().encode(`forged ${Math.random()}`))),
				paymentSecret: '33'.repeat(32),
				descriptionHash: o.descriptionHash ?? recordHash,
				expirySeconds: o.expirySeconds ?? 600
			},
			o.key ?? net.node(stationId).privateKey
		);
	return {
		net,
		station,
		vehicle: new SimnetNode(net, 'vehicle-1'),
		readings,
		readingMessages,
		record,
		recordHash,
		msg,
		ctx,
		forge,
		created,
		advance: (ms: number) => (clock += ms)
	};
}

function refusal(d: InvoiceDecision) {
	if (d.action !== 'refuse') throw new Error(`expected a refusal, got ${d.action}`);
	// A sentence a person can read: starts with a capital, ends with a full stop.
	expect(d.message).toMatch(/^[A-Z].*\.$/s);
	return d;
}

describe('decideInvoice: the good case', () => {
	it('pays an invoice that matches the rebuilt record, the station node, the network and the budget', async () => {
		const { msg, ctx, created } = await setup();
		const d = decideInvoice(msg, ctx);
		expect(d).toMatchObject({
			action: 'pay',
			amountMsat: 31_000n,
			invoice: { paymentHash: created.paymentHash }
		});
	});
});

describe('decideInvoice: the bad-input list is refused', () => {
	it('an invoice for another network', async () => {
		const s = await setup();
		const d = refusal(decideInvoice({ ...s.msg, bolt11: s.forge({ network: 'testnet' }) }, s.ctx));
		expect(d).toMatchObject({
			reason: 'network',
			message:
				'The invoice is for testnet, but this wallet pays on regtest (the local test network).'
		});
		expect(
			refusal(decideInvoice({ ...s.msg, bolt11: s.forge({ network: 'mainnet' }) }, s.ctx)).message
		).toMatch(/Bitcoin mainnet/);
	});

	it('an expired invoice, and one about to expire', async () => {
		const s = await setup();
		expect(
			refusal(decideInvoice(s.msg, { ...s.ctx, nowSeconds: s.ctx.nowSeconds + 700 }))
		).toMatchObject({ reason: 'expired', message: expect.stringMatching(/expired \d+ s ago/) });
		const brief = s.forge({ expirySeconds: 8 });
		expect(
			refusal(
				decideInvoice({ ...s.msg, bolt11: brief }, { ...s.ctx, nowSeconds: s.ctx.nowSeconds - 5 })
			)
		).toMatchObject({
			reason: 'expired',
			message: expect.stringMatching(/too soon to pay it safely/)
		});
	});

	it('an invoice amount different from the record', async () => {
		const s = await setup();
		const d = refusal(
			decideInvoice({ ...s.msg, bolt11: s.forge({ amountMsat: 310_000n }) }, s.ctx)
		);
		expect(d).toMatchObject({
			reason: 'amount',
			message: 'The invoice asks for 310 sat but the verified energy costs 31 sat.'
		});
	});

	it('a record whose amount is not what the signed readings and tariff give', async () => {
		const s = await setup();
		const inflated: BillingRecord = { ...s.record, amountMsat: '62000' };
		const d = refusal(
			decideInvoice({ ...s.msg, record: inflated, recordHash: billingRecordHash(inflated) }, s.ctx)
		);
		expect(d).toMatchObject({
			reason: 'record_mismatch',
			message: expect.stringMatching(
				/asks 62 sat for 120 Wh, but the signed readings show 120 Wh costing 31 sat/
			)
		});
		const moreEnergy: BillingRecord = { ...s.record, toWh: 10_200, energyWh: 200 };
		expect(
			refusal(
				decideInvoice(
					{ ...s.msg, record: moreEnergy, recordHash: billingRecordHash(moreEnergy) },
					s.ctx
				)
			).reason
		).toBe('record_mismatch');
	});

	it('a description hash different from the record', async () => {
		const s = await setup();
		const other = bytesToHex(sha256(new TextEncoder().encode('another record')));
		const d = refusal(
			decideInvoice({ ...s.msg, bolt11: s.forge({ descriptionHash: other }) }, s.ctx)
		);
		expect(d).toMatchObject({
			reason: 'description_hash',
			message:
				'The invoice commits to a different billing record than the energy this wallet verified.'
		});
		// The message's recordHash must be the record's own hash too.
		expect(refusal(decideInvoice({ ...s.msg, recordHash: other }, s.ctx)).reason).toBe(
			'record_hash'
		);
	});

	it('a payee other than the station’s registered node', async () => {
		const s = await setup();
		// A real simnet invoice from another node, committing to the right record.
		const elsewhere = await new SimnetNode(s.net, 'other-station').createInvoice({
			amountMsat: 31_000n,
			descriptionHash: s.recordHash,
			expirySeconds: 600
		});
		const d = refusal(decideInvoice({ ...s.msg, bolt11: elsewhere.paymentRequest }, s.ctx));
		expect(d).toMatchObject({
			reason: 'payee',
			message: expect.stringMatching(
				/^The invoice would pay node [0-9a-f]{8}…[0-9a-f]{8}, not the station's node/
			)
		});
	});

	it('a payment hash already paid', async () => {
		const s = await setup();
		const used = new Set([s.created.paymentHash]);
		const d = refusal(decideInvoice(s.msg, { ...s.ctx, isPaymentHashUsed: (h) => used.has(h) }));
		expect(d).toMatchObject({
			reason: 'already_paid',
			message: 'Invoice 1 has already been paid; it will not be paid twice.'
		});
	});

	it('a malformed or truncated BOLT11 string', async () => {
		const s = await setup();
		for (const bolt11 of [
			s.msg.bolt11.slice(0, -7),
			s.msg.bolt11.slice(0, 30),
			'lnbcrt1junk',
			'',
			// One character changed 21 from the end (to 'q', or 'p' where it already was 'q': the invoice is
			// random, and a 'q' written over a 'q' would leave it valid — a 1-in-32 flake seen in CI).
			s.msg.bolt11.replace(
				/(.)(.{20})$/,
				(_, c: string, rest: string) => (c === 'q' ? 'p' : 'q') + rest
			)
		]) {
			const d = refusal(decideInvoice({ ...s.msg, bolt11 }, s.ctx));
			expect(d.reason).toBe('malformed');
			expect(d.message).toMatch(/^The station's invoice cannot be used: /);
		}
	});

	it('an invoice past the budget, out of order, or overlapping the last one', async () => {
		const s = await setup();
		expect(
			refusal(decideInvoice(s.msg, { ...s.ctx, budgetMsat: 40_000n, committedMsat: 10_000n }))
		).toMatchObject({ reason: 'budget' });
		expect(
			refusal(decideInvoice({ ...s.msg, seq: 2, record: { ...s.record, seq: 2 } }, s.ctx))
		).toMatchObject({ reason: 'sequence' });
		expect(refusal(decideInvoice(s.msg, { ...s.ctx, firstReadingSeq: 2 }))).toMatchObject({
			reason: 'overlap'
		});
		expect(
			refusal(decideInvoice({ ...s.msg, record: { ...s.record, sessionId: 'sess-2' } }, s.ctx))
		).toMatchObject({ reason: 'record_mismatch' });
	});

	it('waits (does not refuse, does not pay) while the billed readings have not arrived', async () => {
		const s = await setup();
		const partial = new Map(s.readings);
		partial.delete(3);
		expect(decideInvoice(s.msg, { ...s.ctx, readings: partial })).toEqual({
			action: 'wait',
			why: 'waiting for reading 3'
		});
	});
});

describe('a fee above the driver’s limit', () => {
	it('the simnet refuses the route (NO_ROUTE) and the invoice stays unpaid', async () => {
		const s = await setup();
		// The hub charges LND's default 1000 msat base fee; a limit below it cannot be met.
		const r = await s.vehicle.pay({
			paymentRequest: s.msg.bolt11,
			feeLimitMsat: 999n,
			timeoutSeconds: 10
		});
		expect(r).toMatchObject({
			status: 'failed',
			failureReason: 'no_route',
			message: expect.stringMatching(/above the limit of 999 msat/)
		});
		expect(paymentFailureSentence(r)).toMatch(
			/^Payment failed: no route to the station was found within your fee limit \(.*\)\.$/
		);
		expect(await s.station.lookupInvoice(s.created.paymentHash)).toMatchObject({
			state: 'open',
			amountPaidMsat: 0n
		});
		expect(s.net.balances(stationId).localMsat).toBe(1_000_000_000n);
	});
});

describe('PaymentJournal contract (MemoryJournal; IdbJournal keeps the same promises in IndexedDB)', () => {
	it('reserves a hash once, completes it, and lists it', async () => {
		const j = new MemoryJournal();
		const entry: JournalEntry = {
			paymentHash: 'aa'.repeat(32),
			stationId,
			sessionId,
			seq: 1,
			amountMsat: '31000',
			bolt11: 'lnbcrt…',
			status: 'sending',
			at: 1
		};
		expect(j.isUsed(entry.paymentHash)).toBe(false);
		await j.reserve(entry);
		expect(j.isUsed(entry.paymentHash)).toBe(true);
		await expect(j.reserve({ ...entry, seq: 2 })).rejects.toThrow(/already used/);
		await j.complete(entry.paymentHash, {
			status: 'succeeded',
			feeMsat: '1000',
			preimage: 'bb'.repeat(32)
		});
		expect(j.entries()).toEqual([
			{ ...entry, status: 'succeeded', feeMsat: '1000', preimage: 'bb'.repeat(32) }
		]);
	});
});

/** A station played by hand over an in-memory bus: status, readings and invoices as the kiosk publishes them. */
async function handStation(s: Awaited<ReturnType<typeof setup>>) {
	const broker = new MemoryBroker();
	const kiosk = broker.connect();
	const signingKey = ocmfPublicKeyHex(KEY);
	const status: StationStatus = {
		v: 1,
		type: 'status',
		stationId,
		name: 'Test station',
		state: 'available',
		tariff,
		connectors: [{ id: 1, type: 'Type 2', maxPowerW: 11_000 }],
		signingKey,
		signerAddress: ethereumAddressOf(signingKey),
		lightningPubkey: s.net.node(stationId).pubkey,
		network: 'regtest',
		sessionId,
		updatedAt: START_MS
	};
	const link = {
		v: 2 as const,
		network: '0000aaaa',
		stationId,
		sessionId,
		secret: newJoinSecret()
	};
	const mac = sessionKeys(link.secret, stationId, sessionId).station;
	// As the kiosk sends them: signed with the station key, tagged with the session's MAC.
	await kiosk.publish(
		statusTopic(stationId),
		encodeMessage(signStationMessage(status, stationId, KEY, mac)),
		{ retain: true }
	);
	const checkIdentity = registryCheck({
		signer: ethereumAddressOf(signingKey),
		lightningPubkey: s.net.node(stationId).pubkey
	});
	const wallet = (journal: MemoryJournal, feeLimitMsat = 10_000n) =>
		new DriverRuntime({
			link,
			bus: broker.connect(),
			lightning: s.vehicle,
			journal,
			checkIdentity,
			feeLimitMsat,
			now: () => START_MS + 5000
		});
	const publishAll = async (invoice: InvoiceMessage) => {
		for (const r of s.readingMessages)
			await kiosk.publish(readingsTopic(stationId, sessionId), encodeMessage(tagMessage(r, mac)));
		await kiosk.publish(
			invoicesTopic(stationId, sessionId),
			encodeMessage(signStationMessage(invoice, stationId, KEY, mac))
		);
	};
	return { wallet, publishAll };
}

const invoiceState = (v: DriverView, seq: number) => v.invoices.find((i) => i.seq === seq);

describe('DriverRuntime: no second payment, also after a reload', () => {
	it('a reloaded wallet over the same journal takes up its own payment instead of paying again; a paid invoice offered in another session is refused', async () => {
		const s = await setup();
		const h = await handStation(s);
		const journal = new MemoryJournal();

		const first = h.wallet(journal);
		await first.start(1000);
		await first.join(100_000_000n);
		await h.publishAll(s.msg);
		await until(() => invoiceState(first.view(), 1)?.state === 'paid', 'the first payment');
		const paid = invoiceState(first.view(), 1)!;
		first.close();

		// The page reloads: a new runtime, the journal read back from storage, the invoice redelivered.
		// It is this session's increment 1, which this wallet paid: shown paid, from the journal.
		const second = h.wallet(journal);
		await second.start(1000);
		await second.join(100_000_000n);
		await h.publishAll(s.msg);
		await until(() => invoiceState(second.view(), 1)?.state === 'paid', 'the payment taken up');
		expect(invoiceState(second.view(), 1)).toMatchObject({
			preimage: paid.preimage,
			feeMsat: paid.feeMsat
		});
		expect(second.view().paidMsat).toBe(paid.amountMsat);
		expect(second.view().lastError).toBeNull();
		expect(s.net.listPayments('vehicle-1')).toHaveLength(1);
		expect(journal.entries()).toMatchObject([
			{ paymentHash: s.created.paymentHash, status: 'succeeded' }
		]);
		second.close();

		// The same paid invoice in the journal under another session (a station offering it again):
		// refused, nothing paid.
		const elsewhere = new MemoryJournal();
		for (const e of journal.entries())
			await elsewhere.reserve({ ...e, sessionId: 'another-session' });
		const third = h.wallet(elsewhere);
		await third.start(1000);
		await third.join(100_000_000n);
		await h.publishAll(s.msg);
		await until(() => invoiceState(third.view(), 1)?.state === 'refused', 'the refusal');
		expect(invoiceState(third.view(), 1)).toMatchObject({
			reason: 'already_paid',
			message: 'Invoice 1 has already been paid; it will not be paid twice.'
		});
		expect(third.view().lastError).toBe(
			'Invoice 1 has already been paid; it will not be paid twice.'
		);
		expect(s.net.listPayments('vehicle-1')).toHaveLength(1);
		third.close();
	});

	it('a fee limit the route cannot meet: the invoice fails with a sentence and nothing is paid', async () => {
		const s = await setup();
		const h = await handStation(s);
		const rt = h.wallet(new MemoryJournal(), 500n);
		await rt.start(1000);
		await rt.join(100_000_000n);
		await h.publishAll(s.msg);
		await until(() => invoiceState(rt.view(), 1)?.state === 'failed', 'the failed payment');
		expect(invoiceState(rt.view(), 1)?.message).toMatch(
			/^Payment failed: no route to the station was found within your fee limit/
		);
		expect(rt.view().paidMsat).toBe(0n);
		expect(await s.station.lookupInvoice(s.created.paymentHash)).toMatchObject({ state: 'open' });
		rt.close();
	});
});
