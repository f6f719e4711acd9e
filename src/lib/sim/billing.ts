// Paying for a session: the station bills the energy between its begin and end readings; in the
// crypto sample the invoice (BOLT11, description hash = the billing record's hash) travels as a
// protocol message and the vehicle pays only after the wallet's own guard (decideInvoice) agrees;
// outside it the vehicle pays the same amount by keysend over the same hub route. A vehicle
// without a channel opens one to the hub when its first errand starts; a payment due before the
// channel confirms waits for it. Then the station closes the session on the ledger.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { buildHashTree } from '../ledger';
import type { SimnetEvent } from '../lightning/simnet';
import {
	billingRecordHash,
	buildBillingRecord,
	encodeMessage,
	parseMessage,
	invoicesTopic,
	type InvoiceMessage
} from '../protocol';
import { decideInvoice } from '../session';
import { finishErrand } from './errands';
import {
	CHANNEL_OPEN_VBYTES,
	VEHICLE_CHANNEL_SAT,
	type ChargingSession,
	type SimContext,
	type Vehicle
} from './model';

const nodeName = (v: Vehicle) => v.spec.id.toLowerCase();

/** Opens the vehicle's channel to the hub if it has none (on-chain: it confirms over the next blocks). */
export function ensureChannel(ctx: SimContext, v: Vehicle): void {
	if (v.channel !== 'none') return;
	ctx.net.openChannel(nodeName(v), 'hub', VEHICLE_CHANNEL_SAT);
	ctx.metrics.channelsOpened++;
	ctx.metrics.onchainFeesSat += CHANNEL_OPEN_VBYTES * ctx.scenario.options.onchainFeeSatPerVb;
	v.channel = 'opening';
	ctx.feed('lightning', `${v.spec.id} opened a channel to the hub`);
	if (isConfirmed(ctx, v)) v.channel = 'open';
	else ctx.payments.opening.add(v);
}

function isConfirmed(ctx: SimContext, v: Vehicle): boolean {
	const channel = ctx.net
		.channelsOf(nodeName(v))
		.find((c) => ctx.net.otherEnd(c, nodeName(v)) === 'hub');
	return channel !== undefined && !ctx.net.isPending(channel);
}

/** After a Bitcoin block: channels that confirmed become usable; payments waiting for them go. */
export async function channelsConfirmed(ctx: SimContext): Promise<void> {
	for (const v of [...ctx.payments.opening]) {
		if (!isConfirmed(ctx, v)) continue;
		ctx.payments.opening.delete(v);
		v.channel = 'open';
		const s = v.awaitingChannel;
		if (s) {
			v.awaitingChannel = null;
			ctx.metrics.channelWaitSeconds += ctx.now - s.endAt!;
			await pay(ctx, s);
		}
	}
}

/** The session ended: bill it, and pay as soon as the vehicle can. */
export async function bill(ctx: SimContext, s: ChargingSession): Promise<void> {
	const v = s.vehicle;
	v.phase = 'paying';
	if (v.channel !== 'open') {
		v.awaitingChannel = s;
		ctx.metrics.paymentsDelayedByChannel++;
		return;
	}
	await pay(ctx, s);
}

async function pay(ctx: SimContext, s: ChargingSession): Promise<void> {
	const v = s.vehicle;
	const station = s.station;
	const record = buildBillingRecord({
		stationId: station.spec.id,
		sessionId: s.id,
		seq: 1,
		from: { seq: s.first.seq, energyWh: s.first.energyWh },
		to: { seq: s.last.seq, energyWh: s.last.energyWh },
		tariff: station.tariff
	});
	s.billedWh = record.energyWh;
	s.amountMsat = BigInt(record.amountMsat);
	const feeLimitMsat = s.amountMsat / 100n + 10_000n;
	if (!s.sampled) {
		const secret = sha256(
			utf8ToBytes(
				`lightcharge-sim keysend ${ctx.scenario.options.seed} ${s.id} ${billingRecordHash(record)}`
			)
		);
		const preimage = bytesToHex(secret);
		s.paymentHash = bytesToHex(sha256(secret));
		return send(
			ctx,
			s,
			() =>
				ctx.net.sendKeysend(nodeName(v), {
					dest: station.lightningPubkey,
					amtMsat: s.amountMsat!,
					preimage,
					feeLimitMsat,
					timeoutSeconds: 60
				}),
			true
		);
	}
	const recordHash = billingRecordHash(record);
	const invoice = ctx.net.addInvoice(station.spec.id.toLowerCase(), {
		valueMsat: s.amountMsat,
		descriptionHash: recordHash,
		expiry: station.tariff.invoiceExpirySeconds,
		memo: `${station.spec.id} ${s.id}`
	});
	// The invoice travels as a protocol message, validated on receipt as the wallet does.
	const wire = encodeMessage({
		v: 1,
		type: 'invoice',
		sessionId: s.id,
		seq: 1,
		record,
		recordHash,
		bolt11: invoice.paymentRequest
	});
	const parsed = parseMessage(invoicesTopic(station.spec.id, s.id), wire);
	if (!parsed.ok || parsed.message.type !== 'invoice')
		throw new Error(`invoice message for ${s.id} did not parse back`);
	ctx.metrics.invoicesChecked++;
	const decision = decideInvoice(parsed.message as InvoiceMessage, {
		stationId: station.spec.id,
		sessionId: s.id,
		tariff: station.tariff,
		payee: station.lightningPubkey,
		network: 'regtest',
		budgetMsat: 100_000_000n,
		committedMsat: 0n,
		readings: s.verified,
		firstReadingSeq: s.first.seq,
		previous: null,
		isPaymentHashUsed: (hash) => ctx.payments.paidHashes.has(hash),
		nowSeconds: ctx.unix(ctx.now)
	});
	if (decision.action !== 'pay') {
		ctx.metrics.invoicesRefused++;
		ctx.feed(
			'lightning',
			`${v.spec.id} refused the invoice of ${s.id}: ${decision.action === 'refuse' ? decision.message : decision.why}`
		);
		return finishSession(ctx, s, 0n, `0x${'0'.repeat(64)}`);
	}
	s.paymentHash = decision.invoice.paymentHash;
	return send(
		ctx,
		s,
		() =>
			ctx.net.sendPayment(nodeName(v), {
				paymentRequest: invoice.paymentRequest,
				feeLimitMsat,
				timeoutSeconds: 60
			}),
		false
	);
}

async function send(
	ctx: SimContext,
	s: ChargingSession,
	start: () => unknown,
	keysend: boolean
): Promise<void> {
	ctx.payments.byHash.set(s.paymentHash!, s);
	ctx.payments.paidHashes.add(s.paymentHash!);
	if (keysend) ctx.metrics.keysendPayments++;
	try {
		start();
	} catch (error) {
		// Refused before anything was sent (LND answers these as RPC errors).
		ctx.payments.byHash.delete(s.paymentHash!);
		await settled(ctx, s, false, 0n, error instanceof Error ? error.message : String(error));
	}
}

/** The simnet's payment updates, turned into events of the simulation. */
export function onLightning(ctx: SimContext, e: SimnetEvent): void {
	if (e.type !== 'payment' || e.payment.status === 'IN_FLIGHT') return;
	const s = ctx.payments.byHash.get(e.payment.paymentHash);
	if (!s) return;
	ctx.payments.byHash.delete(e.payment.paymentHash);
	ctx.queue.push(ctx.now, {
		k: 'paid',
		s,
		ok: e.payment.status === 'SUCCEEDED',
		feeMsat: e.payment.feeMsat,
		detail: e.payment.detail ?? e.payment.failureReason
	});
}

export async function settled(
	ctx: SimContext,
	s: ChargingSession,
	ok: boolean,
	feeMsat: bigint,
	detail: string
): Promise<void> {
	const m = ctx.metrics;
	if (!ok) {
		m.paymentsFailed++;
		ctx.feed('lightning', `payment for ${s.id} failed: ${detail}`);
		return finishSession(ctx, s, 0n, `0x${'0'.repeat(64)}`);
	}
	s.paid++;
	s.paidAt = ctx.now;
	s.feeMsat = feeMsat;
	m.paymentsOk++;
	m.paidMsat += s.amountMsat!;
	m.feesMsat += feeMsat;
	ctx.feed(
		'lightning',
		`${s.vehicle.spec.id} paid ${s.station.spec.id} ${(Number(s.amountMsat!) / 1000).toFixed(0)} sat via hub (fee ${(Number(feeMsat) / 1000).toFixed(1)} sat)`
	);
	await finishSession(ctx, s, s.amountMsat!, buildHashTree([`0x${s.paymentHash!}`]).root);
}

async function finishSession(
	ctx: SimContext,
	s: ChargingSession,
	amountMsat: bigint,
	paymentsRoot: string
): Promise<void> {
	const v = s.vehicle;
	const energyWh = s.last.energyWh - s.first.energyWh;
	const closeTx = await ctx.ledgerCall(() =>
		ctx.ledger.closeSession({
			stationId: s.station.spec.id,
			sessionId: s.id,
			energyWh,
			amountMsat,
			paymentsRoot
		})
	);
	if (closeTx)
		ctx.feed('ledger', `${s.station.spec.id} closed ${s.id}: ${(energyWh / 1000).toFixed(1)} kWh`);
	s.closed = closeTx !== null;
	const m = ctx.metrics;
	m.closedMeteredWh += energyWh;
	if (s.billedWh !== null) m.billedWh += s.billedWh;
	const late = s.endAt !== null && v.errand !== null && s.endAt > v.errand.deadline;
	m.sessionRecords?.push({
		id: s.id,
		vehicle: v.spec.id,
		station: s.station.spec.id,
		feeder: s.station.feeder.index,
		plugAt: s.plugAt,
		endAt: s.endAt,
		paidAt: s.paidAt,
		energyWh,
		amountMsat: amountMsat.toString(),
		feeMsat: s.feeMsat.toString(),
		sampled: s.sampled,
		waitMin: (v.errand?.waitedSeconds ?? 0) / 60
	});
	ctx.onSessionClosed?.(s);
	finishErrand(ctx, v, late);
	v.stationIndex = null;
	v.session = null;
	v.phase = 'done';
	v.chargesDone++;
}
