// The economics of streaming payments: one session at constant power, read once a second, paid
// increment by increment through the real parts — the station's reducer (session/station.ts)
// decides when to invoice and when to suspend, the simnet creates each BOLT11 invoice and routes
// each payment through the hub at its fee policy, and the wallet's guard (decideInvoice) checks
// each invoice against readings before paying. It measures what the fleet simulation cannot at
// minute resolution: the hub's fee per kWh against the increment, the energy delivered but not
// yet paid for (the station's risk), and suspensions when a payment takes longer than the grace
// energy lasts.
import { Simnet, buildHubTopology, seededRandomBytes } from '../lightning/simnet';
import {
	billingRecordHash,
	makeReading,
	type VerifiedReading,
	type InvoiceMessage,
	type Tariff
} from '../protocol';
import {
	decideInvoice,
	newStationSession,
	reduce,
	type StationEffect,
	type StationEvent,
	type StationSession
} from '../session';
import { EventQueue } from './event-queue';

export interface StreamingOptions {
	incrementWh: number;
	/** Energy the station delivers past an unpaid increment before it suspends (the kiosk's default is 50). */
	graceWh: number;
	powerKw: number;
	sessionWh: number;
	pricePerKwhMsat: bigint;
	hubBaseFeeMsat: bigint;
	hubFeePpm: bigint;
	/** Station reads its meter this often (the kiosk: 1 s). */
	readingIntervalMs?: number;
	/** Invoice decided → created by the station's node and delivered to the wallet. */
	invoiceDelayMs?: number;
	/** A payment's time in flight through the hub until the station's node sees it settled. */
	settleDelayMs?: number;
}

export interface StreamingResult {
	incrementWh: number;
	powerKw: number;
	hubBaseFeeMsat: number;
	hubFeePpm: number;
	settleDelayMs: number;
	graceWh: number;
	payments: number;
	energyWh: number;
	paidMsat: number;
	feeMsat: number;
	/** Hub fees ÷ energy paid for. */
	feeShare: number;
	/** Most energy delivered but not yet paid for at any reading, and its mean over the session. */
	maxAtRiskWh: number;
	meanAtRiskWh: number;
	suspensions: number;
	suspendedSeconds: number;
	sessionSeconds: number;
}

type Ev =
	| { k: 'reading' }
	| { k: 'invoice'; record: Extract<StationEffect, { kind: 'create_invoice' }>['record'] }
	| { k: 'run'; run: () => void };

const STATION = 'st-econ';
const CAR = 'car-econ';
const START_MS = Date.UTC(2026, 10, 23, 12);
const SIGNING_KEY = '5e'.repeat(32);
const METER = { vendor: 'Lightcharge', model: 'SIM-1', serial: 'ECON-1' };

export function simulateStreamingSession(o: StreamingOptions): StreamingResult {
	const readingMs = o.readingIntervalMs ?? 1000;
	const invoiceDelayMs = o.invoiceDelayMs ?? 150;
	const settleDelayMs = o.settleDelayMs ?? 1000;
	const queue = new EventQueue<Ev>();
	let now = 0;
	const net = new Simnet({
		now: () => START_MS + now,
		random: seededRandomBytes('economics'),
		schedule: (run, ms) => queue.push(now + ms, { k: 'run', run }),
		settleDelayMs
	});
	buildHubTopology(net, [CAR, STATION], { channelSat: 50_000_000n });
	net.setFeePolicy('hub', o.hubBaseFeeMsat, o.hubFeePpm);
	const stationId = 'ST-ECON';
	const sessionId = 'ECON-1';
	const tariff: Tariff = {
		pricePerKwhMsat: o.pricePerKwhMsat.toString(),
		startFeeMsat: '0',
		incrementWh: o.incrementWh,
		graceWh: o.graceWh,
		mode: 'stream',
		invoiceExpirySeconds: 600
	};
	const payee = net.node(STATION).pubkey;

	let session: StationSession = newStationSession(stationId, tariff);
	let charging = false;
	let registerWh = 0;
	let deliveredWh = 0;
	let seq = 0;
	const refs = new Map<
		number,
		{ seq: number; energyWh: number; at: number; tx: 'B' | 'T' | 'E' }
	>();
	const verified = new Map<number, VerifiedReading>();
	const paidHashes = new Set<string>();
	const byHash = new Map<string, { energyWh: number }>();
	let previous: { seq: number; toReading: number } | null = null;
	let paidWh = 0;
	let payments = 0;
	let feeMsat = 0n;
	let paidMsat = 0n;
	let maxAtRisk = 0;
	let riskSum = 0;
	let riskSamples = 0;
	let suspensions = 0;
	let suspendedSince: number | null = null;
	let suspendedMs = 0;
	let done = false;

	// The wallet signs nothing, but its guard needs the readings a bill rests on: made (signed by
	// the station) when first asked for.
	const readingFor = (n: number): VerifiedReading | undefined => {
		const known = verified.get(n);
		if (known) return known;
		const ref = refs.get(n);
		if (!ref) return undefined;
		const made = makeReading(
			{
				seq: ref.seq,
				tx: ref.tx,
				energyWh: ref.energyWh,
				at: START_MS + ref.at,
				meter: METER,
				stationId,
				sessionId
			},
			SIGNING_KEY
		);
		verified.set(n, made.verified);
		return made.verified;
	};

	const apply = (e: StationEvent) => {
		const { state, effects } = reduce(session, e);
		session = state;
		for (const fx of effects) {
			if (fx.kind === 'charger') {
				const wasCharging = charging;
				charging = fx.action === 'allow';
				if (wasCharging && fx.action === 'suspend') {
					suspensions++;
					suspendedSince = now;
				}
				if (!wasCharging && charging && suspendedSince !== null) {
					suspendedMs += now - suspendedSince;
					suspendedSince = null;
				}
			} else if (fx.kind === 'create_invoice') {
				queue.push(now + invoiceDelayMs, { k: 'invoice', record: fx.record });
			} else if (fx.kind === 'final_reading') {
				read('E');
			} else if (fx.kind === 'ledger_close') {
				done = true;
			}
		}
	};

	const read = (tx: 'B' | 'T' | 'E') => {
		seq++;
		const ref = { seq, energyWh: registerWh, at: now, tx };
		refs.set(seq, ref);
		apply({ type: 'reading', reading: ref });
		const risk = registerWh - paidWh;
		maxAtRisk = Math.max(maxAtRisk, risk);
		riskSum += risk;
		riskSamples++;
	};

	net.subscribe((e) => {
		if (e.type !== 'payment' || e.payment.status === 'IN_FLIGHT') return;
		const paid = byHash.get(e.payment.paymentHash);
		if (!paid || e.payment.status !== 'SUCCEEDED') return;
		byHash.delete(e.payment.paymentHash);
		payments++;
		feeMsat += e.payment.feeMsat;
		paidMsat += e.payment.valueMsat;
		paidWh += paid.energyWh;
		apply({
			type: 'invoice_paid',
			paymentHash: e.payment.paymentHash,
			preimage: e.payment.preimage
		});
	});

	// The reducer keeps these for the runtime's message checks; the economics never sends a message.
	apply({ type: 'offered', sessionId, joinSecret: 'economics' });
	apply({
		type: 'joined',
		budgetMsat: (o.pricePerKwhMsat * BigInt(o.sessionWh) * 2n).toString(),
		driverRef: 'ECON',
		driverKey: '02'.padEnd(66, '0')
	});
	read('B');
	queue.push(readingMs, { k: 'reading' });
	while (!done) {
		const next = queue.pop();
		if (!next) throw new Error('streaming session stalled before it settled');
		// Energy flows at constant power while the charger is allowed; the register shows whole Wh.
		if (charging)
			deliveredWh = Math.min(o.sessionWh, deliveredWh + (o.powerKw * (next.time - now)) / 3600);
		now = next.time;
		const e = next.item;
		if (e.k === 'run') {
			e.run();
		} else if (e.k === 'reading') {
			registerWh = Math.floor(deliveredWh + 1e-9);
			if (session.phase === 'charging' && registerWh >= o.sessionWh)
				apply({ type: 'stop', cause: 'car_full' });
			else if (session.phase === 'charging' || session.phase === 'suspended') read('T');
			if (session.phase !== 'stopping' && session.phase !== 'settled')
				queue.push(now + readingMs, { k: 'reading' });
		} else {
			const invoice = net.addInvoice(STATION, {
				valueMsat: BigInt(e.record.amountMsat),
				descriptionHash: billingRecordHash(e.record),
				expiry: 600
			});
			const increment = {
				seq: e.record.seq,
				record: e.record,
				recordHash: billingRecordHash(e.record),
				paymentHash: invoice.paymentHash,
				bolt11: invoice.paymentRequest
			};
			apply({ type: 'invoice_created', increment });
			const msg: InvoiceMessage = {
				v: 1,
				type: 'invoice',
				sessionId,
				seq: e.record.seq,
				record: e.record,
				recordHash: increment.recordHash,
				bolt11: invoice.paymentRequest
			};
			readingFor(e.record.fromReading);
			readingFor(e.record.toReading);
			const decision = decideInvoice(msg, {
				stationId,
				sessionId,
				tariff,
				payee,
				network: 'regtest',
				budgetMsat: BigInt(o.sessionWh) * o.pricePerKwhMsat,
				committedMsat: paidMsat,
				readings: verified,
				firstReadingSeq: 1,
				previous,
				isPaymentHashUsed: (h) => paidHashes.has(h),
				nowSeconds: Math.floor((START_MS + now) / 1000)
			});
			if (decision.action !== 'pay')
				throw new Error(
					`the wallet would not pay increment ${e.record.seq}: ${decision.action === 'refuse' ? decision.message : decision.why}`
				);
			previous = { seq: e.record.seq, toReading: e.record.toReading };
			paidHashes.add(invoice.paymentHash);
			byHash.set(invoice.paymentHash, { energyWh: e.record.energyWh });
			net.sendPayment(CAR, {
				paymentRequest: invoice.paymentRequest,
				feeLimitMsat: decision.amountMsat / 10n + 10_000n,
				timeoutSeconds: 60
			});
		}
	}
	return {
		incrementWh: o.incrementWh,
		powerKw: o.powerKw,
		hubBaseFeeMsat: Number(o.hubBaseFeeMsat),
		hubFeePpm: Number(o.hubFeePpm),
		settleDelayMs,
		graceWh: o.graceWh,
		payments,
		energyWh: paidWh,
		paidMsat: Number(paidMsat),
		feeMsat: Number(feeMsat),
		feeShare: paidMsat > 0n ? Number(feeMsat) / Number(paidMsat) : 0,
		maxAtRiskWh: maxAtRisk,
		meanAtRiskWh: riskSamples ? riskSum / riskSamples : 0,
		suspensions,
		suspendedSeconds: suspendedMs / 1000,
		sessionSeconds: now / 1000
	};
}

/** LND's default fee policy, and a hub that waives the base fee. */
export const FEE_POLICIES = [
	{ name: 'LND default (1 sat + 1 ppm)', baseMsat: 1000n, ppm: 1n },
	{ name: 'zero base fee (0 + 1 ppm)', baseMsat: 0n, ppm: 1n }
] as const;
export const INCREMENTS_WH = [10, 20, 50, 100, 200, 500, 1000, 2000] as const;

/**
 * The smallest increment (least energy at risk) whose fee share stays under `maxShare`, at a
 * price and fee policy: fee per increment = base + ppm·amount, amount = increment × price.
 */
export function leastIncrementUnderFeeShare(
	pricePerKwhMsat: bigint,
	baseMsat: bigint,
	ppm: bigint,
	maxShare = 0.01,
	candidates: readonly number[] = INCREMENTS_WH
): number | null {
	for (const wh of candidates) {
		const amount = (BigInt(wh) * pricePerKwhMsat) / 1000n;
		if (amount === 0n) continue;
		const fee = baseMsat + (amount * ppm) / 1_000_000n;
		if (Number(fee) / Number(amount) < maxShare) return wh;
	}
	return null;
}
