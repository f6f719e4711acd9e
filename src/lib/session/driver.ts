// The driver's side of a session, as pure decisions. The wallet pays an invoice only when the
// billing record it carries is exactly the one the wallet rebuilds from readings it verified
// itself, the invoice commits to that record, goes to the station's registered node on the right
// network, has not been paid before, and fits the driver's budget.
import { satExact } from '../format';
import {
	checkInvoice,
	type DecodedPaymentRequest,
	type InvoiceCheckFailure,
	type Network
} from '../lightning';
import {
	billingRecordHash,
	buildBillingRecord,
	type InvoiceMessage,
	type Tariff,
	type VerifiedReading
} from '../protocol';

export interface InvoiceContext {
	stationId: string;
	sessionId: string;
	/** The tariff the driver accepted at join (pinned: a later status cannot raise it). */
	tariff: Tariff;
	/** The station's Lightning node, as registered on the ledger (or pinned). */
	payee: string;
	network: Network;
	budgetMsat: bigint;
	/** Sum of what this session has paid or has in flight. */
	committedMsat: bigint;
	/** Readings verified so far, by seq. */
	readings: ReadonlyMap<number, VerifiedReading>;
	/** The first verified reading's seq: where billing must start. */
	firstReadingSeq: number | null;
	/** The previous accepted record's end reading and seq, if any. */
	previous: { seq: number; toReading: number } | null;
	/** Payment hashes this wallet has ever sent (persisted): never pay one twice. */
	isPaymentHashUsed: (paymentHash: string) => boolean;
	nowSeconds: number;
	/** The most routing fee the wallet pays per payment: an invoice whose routing hints cost more is refused. */
	feeLimitMsat?: bigint;
}

export type InvoiceDecision =
	| { action: 'pay'; invoice: DecodedPaymentRequest; amountMsat: bigint }
	/** Not yet decidable: the readings it bills have not arrived (MQTT topics are not ordered across each other). */
	| { action: 'wait'; why: string }
	| { action: 'refuse'; reason: RefusalReason; message: string };

/** Our own refusals, plus every reason the invoice check gives. */
export type RefusalReason =
	| 'record_mismatch'
	| 'record_hash'
	| 'sequence'
	| 'overlap'
	| 'already_paid'
	| 'budget'
	| 'identity'
	| InvoiceCheckFailure;

export function decideInvoice(msg: InvoiceMessage, c: InvoiceContext): InvoiceDecision {
	const r = msg.record;
	if (r.stationId !== c.stationId || r.sessionId !== c.sessionId)
		return refuse('record_mismatch', `Invoice ${msg.seq} is for another station or session.`);
	const expectedSeq = (c.previous?.seq ?? 0) + 1;
	if (msg.seq !== r.seq || r.seq !== expectedSeq)
		return refuse(
			'sequence',
			`Invoice ${msg.seq} is out of order: the next one should be number ${expectedSeq}.`
		);
	const expectedFrom = c.previous?.toReading ?? c.firstReadingSeq;
	if (expectedFrom === null) return { action: 'wait', why: 'no verified reading yet' };
	if (r.fromReading !== expectedFrom)
		return refuse(
			'overlap',
			`Invoice ${msg.seq} bills energy from reading ${r.fromReading}, but billing should continue from reading ${expectedFrom}: energy would be billed twice or skipped.`
		);
	if (r.toReading <= r.fromReading)
		return refuse('record_mismatch', `Invoice ${msg.seq} bills no readings.`);
	const from = c.readings.get(r.fromReading);
	const to = c.readings.get(r.toReading);
	if (!from || !to)
		return { action: 'wait', why: `waiting for reading ${!from ? r.fromReading : r.toReading}` };

	const rebuilt = buildBillingRecord({
		stationId: c.stationId,
		sessionId: c.sessionId,
		seq: r.seq,
		from: { seq: from.seq, energyWh: from.energyWh },
		to: { seq: to.seq, energyWh: to.energyWh },
		tariff: c.tariff
	});
	const rebuiltHash = billingRecordHash(rebuilt);
	if (billingRecordHash(r) !== rebuiltHash) {
		if (r.amountMsat !== rebuilt.amountMsat)
			return refuse(
				'record_mismatch',
				`Invoice ${msg.seq} asks ${satExact(BigInt(r.amountMsat))} for ${r.energyWh} Wh, but the signed readings show ${rebuilt.energyWh} Wh costing ${satExact(BigInt(rebuilt.amountMsat))} at the agreed tariff.`
			);
		return refuse(
			'record_mismatch',
			`Invoice ${msg.seq}'s billing record does not match the signed readings.`
		);
	}
	if (msg.recordHash !== rebuiltHash)
		return refuse(
			'record_hash',
			`Invoice ${msg.seq} names a record hash that is not the hash of its billing record.`
		);

	const amountMsat = BigInt(rebuilt.amountMsat);
	const check = checkInvoice(msg.bolt11, {
		amountMsat,
		descriptionHash: rebuiltHash,
		payee: c.payee,
		network: c.network,
		nowSeconds: c.nowSeconds,
		feeLimitMsat: c.feeLimitMsat
	});
	if (!check.ok) return refuse(check.reason, check.message);
	if (c.isPaymentHashUsed(check.invoice.paymentHash))
		return refuse(
			'already_paid',
			`Invoice ${msg.seq} has already been paid; it will not be paid twice.`
		);
	if (c.committedMsat + amountMsat > c.budgetMsat)
		return refuse(
			'budget',
			`Invoice ${msg.seq} for ${satExact(amountMsat)} would take this session past your budget of ${satExact(c.budgetMsat)}.`
		);
	return { action: 'pay', invoice: check.invoice, amountMsat };
}

function refuse(reason: RefusalReason, message: string): InvoiceDecision {
	return { action: 'refuse', reason, message };
}
