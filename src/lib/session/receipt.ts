// A charging session's receipt: everything a third party needs to re-check what the driver paid
// for, without trusting the wallet. It holds the station's signed readings (OCMF), the billing
// records and their invoices, the preimages (proof of payment) and, per ledger anchor, a Merkle
// proof of each reading. `verifyReceipt` is pure: the ledger's anchors come in as an argument
// (the app and scripts/verify-receipt.ts fetch them).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { decodeBolt11 } from '../lightning';
import { buildReadingsTree, verifyReadingProof } from '../ledger';
import {
	type BillingRecord,
	billingRecordHash,
	buildBillingRecord,
	ReadingVerifier,
	type SessionEvent,
	type StationStatus,
	type Tariff,
	type VerifiedReading,
	verifyOcmf
} from '../protocol';
import type { DriverSnapshot } from './driver-runtime';

export const RECEIPT_FORMAT = 'lightcharge-receipt/1' as const;

export interface ReceiptPayment {
	seq: number;
	record: BillingRecord;
	recordHash: string;
	bolt11: string;
	/** What the wallet did with it: only `paid` ones count towards the total. */
	state: 'paid' | 'refused' | 'failed' | 'pending';
	paymentHash?: string;
	preimage?: string;
	feeMsat?: string;
	/** Why it was refused or failed, in words. */
	message?: string;
}

export interface ReceiptAnchor {
	anchorIndex: number;
	/** Merkle root (0x + 64 hex) of the readings fromReading..toReading, as anchored on the ledger. */
	root: string;
	fromReading: number;
	toReading: number;
	txHash?: string;
	/** One proof per reading of the range, by reading seq. Empty when the wallet lacks a reading of the range. */
	proofs: { seq: number; proof: string[] }[];
}

export interface Receipt {
	format: typeof RECEIPT_FORMAT;
	/** Unix ms the receipt was written. */
	createdAt: number;
	stationId: string;
	sessionId: string;
	stationName: string;
	station: Pick<StationStatus, 'signingKey' | 'signerAddress' | 'lightningPubkey' | 'network'>;
	tariff: Tariff;
	/** Where the anchors live; null when the wallet had no ledger. */
	ledger: { chainId: number; rpcUrl: string; registry: string; sessions: string } | null;
	/** Signed readings, ascending by seq. */
	readings: { seq: number; ocmf: string }[];
	payments: ReceiptPayment[];
	anchors: ReceiptAnchor[];
	events: SessionEvent[];
	totals: { energyWh: number; paidMsat: string; feesMsat: string };
	startedAt: number;
	closedAt: number | null;
}

export interface ReceiptInput extends Omit<Receipt, 'format' | 'createdAt' | 'anchors' | 'totals'> {
	/** Anchors as announced by the station (events) or read from the ledger. */
	anchors: Omit<ReceiptAnchor, 'proofs'>[];
	feesMsat: bigint;
	/** Energy between the first and last verified reading, Wh. */
	energyWh: number;
	createdAt?: number;
}

/** The readings of one anchor's range, or null when the receipt lacks one of them. */
function rangeReadings(
	readings: Receipt['readings'],
	from: number,
	to: number
): Receipt['readings'] | null {
	const inRange = readings.filter((r) => r.seq >= from && r.seq <= to);
	return inRange.length === to - from + 1 ? inRange : null;
}

/** Builds a receipt: totals from paid payments, Merkle proofs per anchored range. */
export function buildReceipt(input: ReceiptInput): Receipt {
	const readings = [...input.readings].sort((a, b) => a.seq - b.seq);
	const paidMsat = input.payments
		.filter((p) => p.state === 'paid')
		.reduce((s, p) => s + BigInt(p.record.amountMsat), 0n);
	const anchors: ReceiptAnchor[] = [...input.anchors]
		.sort((a, b) => a.anchorIndex - b.anchorIndex)
		.map((a) => {
			const range = rangeReadings(readings, a.fromReading, a.toReading);
			if (!range) return { ...a, proofs: [] };
			const tree = buildReadingsTree(range.map((r) => r.ocmf));
			return { ...a, proofs: range.map((r, i) => ({ seq: r.seq, proof: tree.proof(i) })) };
		});
	const { feesMsat, createdAt, energyWh, ...rest } = input;
	return {
		...rest,
		format: RECEIPT_FORMAT,
		createdAt: createdAt ?? Date.now(),
		readings,
		anchors,
		totals: { energyWh, paidMsat: paidMsat.toString(), feesMsat: feesMsat.toString() }
	};
}

export type CheckStatus = 'pass' | 'fail' | 'skipped';
export interface ReceiptCheck {
	/** Short name of what was checked. */
	what: string;
	status: CheckStatus;
	detail: string;
}
export interface ReceiptVerification {
	/** True when nothing failed (skipped checks, e.g. the ledger when offline, are listed). */
	ok: boolean;
	checks: ReceiptCheck[];
}

/** A ledger anchor as `Ledger.getAnchors` returns it (only the fields compared). */
export interface LedgerAnchor {
	anchorIndex: number;
	root: string;
	fromReading: number;
	toReading: number;
}

/**
 * Re-verifies a receipt: every reading's signature and order, every paid billing record rebuilt
 * from the readings, its hash in the invoice's `h` tag, payee and amount, every preimage against
 * its payment hash, the totals, and every reading's Merkle proof against its anchor — and those
 * anchors against the ledger's when `ledgerAnchors` is given (null: the ledger was not consulted).
 */
export function verifyReceipt(
	receipt: Receipt,
	ledgerAnchors: LedgerAnchor[] | null
): ReceiptVerification {
	const checks: ReceiptCheck[] = [];
	const add = (what: string, ok: boolean, detail: string) =>
		checks.push({ what, status: ok ? 'pass' : 'fail', detail });

	// Readings: signatures by the station's key, pagination, energy and time moving forward.
	const verifier = new ReadingVerifier({
		stationId: receipt.stationId,
		sessionId: receipt.sessionId,
		publicKey: receipt.station.signingKey
	});
	const bySeq = new Map<number, VerifiedReading>();
	const readingProblems: string[] = [];
	for (const r of receipt.readings) {
		const res = verifier.accept({
			v: 1,
			type: 'reading',
			sessionId: receipt.sessionId,
			seq: r.seq,
			ocmf: r.ocmf
		});
		if (!res.ok) readingProblems.push(res.reason);
		else if (res.duplicate) readingProblems.push(`reading ${r.seq} appears twice`);
		else bySeq.set(r.seq, res.reading);
	}
	add(
		'signed readings',
		readingProblems.length === 0 && receipt.readings.length > 0,
		readingProblems.length > 0
			? readingProblems.join('; ')
			: receipt.readings.length === 0
				? 'the receipt holds no reading'
				: `${receipt.readings.length} readings signed by the station's key ${receipt.station.signingKey.slice(0, 12)}…, in order`
	);

	// Billing records and invoices, in order, each continuing where the previous one ended.
	const paid = receipt.payments.filter((p) => p.state === 'paid').sort((a, b) => a.seq - b.seq);
	let previous: BillingRecord | null = null;
	let paidTotal = 0n;
	const firstSeq = receipt.readings[0]?.seq ?? null;
	for (const p of paid) {
		const problems = paymentProblems(receipt, p, previous, firstSeq, bySeq);
		add(
			`payment ${p.seq}`,
			problems.length === 0,
			problems.length > 0
				? problems.join('; ')
				: `${p.record.energyWh} Wh for ${p.record.amountMsat} msat: record, invoice and preimage match`
		);
		previous = p.record;
		paidTotal += BigInt(p.record.amountMsat);
	}
	add(
		'total paid',
		paidTotal.toString() === receipt.totals.paidMsat,
		`paid invoices add up to ${paidTotal} msat; the receipt states ${receipt.totals.paidMsat} msat`
	);

	// Merkle proofs of the readings against each anchor.
	for (const a of receipt.anchors) {
		const range = rangeReadings(receipt.readings, a.fromReading, a.toReading);
		if (!range) {
			add(
				`anchor ${a.anchorIndex}`,
				false,
				`the receipt lacks readings of the anchored range ${a.fromReading}–${a.toReading}`
			);
			continue;
		}
		const bad: number[] = [];
		for (const r of range) {
			const proof = a.proofs.find((x) => x.seq === r.seq);
			let ok = false;
			try {
				ok = !!proof && verifyReadingProof(a.root, r.ocmf, proof.proof);
			} catch {
				ok = false;
			}
			if (!ok) bad.push(r.seq);
		}
		add(
			`anchor ${a.anchorIndex}`,
			bad.length === 0,
			bad.length === 0
				? `readings ${a.fromReading}–${a.toReading} are proven under root ${a.root.slice(0, 12)}…`
				: `no valid Merkle proof for readings ${bad.join(', ')}`
		);
	}
	if (ledgerAnchors === null) {
		checks.push({
			what: 'ledger anchors',
			status: 'skipped',
			detail: 'the ledger was not consulted (offline or no ledger given)'
		});
	} else {
		const problems: string[] = [];
		for (const a of receipt.anchors) {
			const onChain = ledgerAnchors.find((l) => l.anchorIndex === a.anchorIndex);
			if (!onChain) problems.push(`anchor ${a.anchorIndex} is not on the ledger`);
			else if (
				onChain.root.toLowerCase() !== a.root.toLowerCase() ||
				onChain.fromReading !== a.fromReading ||
				onChain.toReading !== a.toReading
			)
				problems.push(
					`anchor ${a.anchorIndex} differs from the ledger's (root ${onChain.root.slice(0, 12)}…, readings ${onChain.fromReading}–${onChain.toReading})`
				);
		}
		const covered = receipt.anchors.length;
		add(
			'ledger anchors',
			problems.length === 0 && covered > 0,
			problems.length > 0
				? problems.join('; ')
				: covered === 0
					? 'the receipt holds no anchor'
					: `${covered} anchor(s) match the ledger's (${ledgerAnchors.length} on chain)`
		);
	}
	return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

function paymentProblems(
	receipt: Receipt,
	p: ReceiptPayment,
	previous: BillingRecord | null,
	firstSeq: number | null,
	bySeq: Map<number, VerifiedReading>
): string[] {
	const problems: string[] = [];
	const r = p.record;
	const expectedSeq = (previous?.seq ?? 0) + 1;
	if (r.seq !== expectedSeq || p.seq !== r.seq)
		problems.push(`record ${r.seq} is out of order (expected ${expectedSeq})`);
	const expectedFrom = previous?.toReading ?? firstSeq;
	if (r.fromReading !== expectedFrom)
		problems.push(`record starts at reading ${r.fromReading}, not ${expectedFrom}`);
	const from = bySeq.get(r.fromReading),
		to = bySeq.get(r.toReading);
	if (!from || !to)
		problems.push(`readings ${r.fromReading}–${r.toReading} are not among the verified readings`);
	else {
		try {
			const rebuilt = buildBillingRecord({
				stationId: receipt.stationId,
				sessionId: receipt.sessionId,
				seq: r.seq,
				from: { seq: from.seq, energyWh: from.energyWh },
				to: { seq: to.seq, energyWh: to.energyWh },
				tariff: receipt.tariff
			});
			if (billingRecordHash(rebuilt) !== billingRecordHash(r))
				problems.push(
					`record does not match the signed readings and tariff (${rebuilt.energyWh} Wh, ${rebuilt.amountMsat} msat expected)`
				);
		} catch (e) {
			problems.push(`record cannot be rebuilt: ${(e as Error).message}`);
		}
	}
	let hash: string | null = null;
	try {
		hash = billingRecordHash(r);
	} catch (e) {
		problems.push(`record cannot be hashed: ${(e as Error).message}`);
	}
	if (hash && hash !== p.recordHash.toLowerCase())
		problems.push('recordHash is not the hash of the record');
	try {
		const inv = decodeBolt11(p.bolt11);
		if (hash && inv.descriptionHash?.toLowerCase() !== hash)
			problems.push("invoice's description hash (h) is not the record's hash");
		if (inv.payee.toLowerCase() !== receipt.station.lightningPubkey.toLowerCase())
			problems.push("invoice is not payable to the station's node");
		if (inv.amountMsat === null || inv.amountMsat.toString() !== r.amountMsat)
			problems.push(
				`invoice amount ${inv.amountMsat ?? 'none'} msat is not the record's ${r.amountMsat} msat`
			);
		if (!p.paymentHash || inv.paymentHash.toLowerCase() !== p.paymentHash.toLowerCase())
			problems.push("payment hash is not the invoice's");
	} catch (e) {
		problems.push(`invoice cannot be decoded: ${(e as Error).message}`);
	}
	if (!p.preimage || !/^[0-9a-fA-F]{64}$/.test(p.preimage))
		problems.push('no preimage (proof of payment)');
	else if (
		bytesToHex(sha256(hexToBytes(p.preimage.toLowerCase()))) !== p.paymentHash?.toLowerCase()
	)
		problems.push('preimage does not hash to the payment hash');
	return problems;
}

export class ReceiptFormatError extends Error {}

/** Reads a receipt from parsed JSON; throws a sentence naming the first bad field. */
export function parseReceipt(value: unknown): Receipt {
	const fail = (m: string): never => {
		throw new ReceiptFormatError(`Not a Lightcharge receipt: ${m}.`);
	};
	if (typeof value !== 'object' || value === null || Array.isArray(value))
		fail('the file is not a JSON object');
	const r = value as Record<string, unknown>;
	if (r.format !== RECEIPT_FORMAT)
		fail(`format is ${JSON.stringify(r.format ?? null)}, expected "${RECEIPT_FORMAT}"`);
	for (const k of ['stationId', 'sessionId', 'stationName'] as const)
		if (typeof r[k] !== 'string') fail(`${k} is missing`);
	const station = r.station as Record<string, unknown> | undefined;
	if (
		!station ||
		typeof station.signingKey !== 'string' ||
		typeof station.lightningPubkey !== 'string'
	)
		fail("the station's keys are missing");
	const tariff = r.tariff as Record<string, unknown> | undefined;
	if (
		!tariff ||
		typeof tariff.pricePerKwhMsat !== 'string' ||
		typeof tariff.startFeeMsat !== 'string'
	)
		fail('the tariff is missing');
	if (
		!Array.isArray(r.readings) ||
		!r.readings.every((x) => typeof x?.seq === 'number' && typeof x?.ocmf === 'string')
	)
		fail('readings must be a list of {seq, ocmf}');
	if (
		!Array.isArray(r.payments) ||
		!r.payments.every(
			(x) =>
				typeof x?.seq === 'number' &&
				typeof x?.bolt11 === 'string' &&
				typeof x?.record === 'object' &&
				typeof x?.recordHash === 'string'
		)
	)
		fail('payments must be a list of {seq, record, recordHash, bolt11, …}');
	if (
		!Array.isArray(r.anchors) ||
		!r.anchors.every((x) => typeof x?.root === 'string' && Array.isArray(x?.proofs))
	)
		fail('anchors must be a list of {root, proofs, …}');
	const totals = r.totals as Record<string, unknown> | undefined;
	if (!totals || typeof totals.paidMsat !== 'string') fail('totals are missing');
	if (
		r.ledger !== null &&
		(typeof r.ledger !== 'object' ||
			typeof (r.ledger as Record<string, unknown>).rpcUrl !== 'string')
	)
		fail('ledger must be null or {chainId, rpcUrl, registry, sessions}');
	return value as Receipt;
}

const csvCell = (v: string | number) =>
	/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);

/** One line per billed increment, for a spreadsheet or an expense report. */
export function receiptToCsv(receipt: Receipt): string {
	const head = [
		'station',
		'session',
		'increment',
		'from_reading',
		'to_reading',
		'from_wh',
		'to_wh',
		'energy_wh',
		'amount_msat',
		'fee_msat',
		'state',
		'payment_hash',
		'preimage',
		'note'
	];
	const rows = [...receipt.payments]
		.sort((a, b) => a.seq - b.seq)
		.map((p) => [
			receipt.stationId,
			receipt.sessionId,
			p.seq,
			p.record.fromReading,
			p.record.toReading,
			p.record.fromWh,
			p.record.toWh,
			p.record.energyWh,
			p.record.amountMsat,
			p.feeMsat ?? '',
			p.state,
			p.paymentHash ?? '',
			p.preimage ?? '',
			p.message ?? ''
		]);
	return [head, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** What a stored session knows beyond its snapshot. */
export interface SessionMeta {
	stationId: string;
	sessionId: string;
	startedAt: number;
	feesMsat: string;
	ledger: Receipt['ledger'];
	/** Anchors read from the ledger, when the wallet could; otherwise the station's `anchored` events are used. */
	ledgerAnchors?: {
		anchorIndex: number;
		root: string;
		fromReading: number;
		toReading: number;
		txHash?: string;
	}[];
}

/** The receipt of a session the wallet stored (see DriverSnapshot). */
export function receiptFromSnapshot(s: DriverSnapshot, meta: SessionMeta): Receipt {
	const anchors =
		meta.ledgerAnchors && meta.ledgerAnchors.length > 0
			? meta.ledgerAnchors
			: s.events
					.filter(
						(e) =>
							e.event === 'anchored' &&
							e.root &&
							e.fromReading !== undefined &&
							e.toReading !== undefined
					)
					.sort((a, b) => a.seq - b.seq)
					.map((e, anchorIndex) => ({
						anchorIndex,
						root: e.root!,
						fromReading: e.fromReading!,
						toReading: e.toReading!,
						txHash: e.txHash
					}));
	const readings = [...s.readings].sort((a, b) => a.seq - b.seq);
	const energy = (ocmf: string | undefined) => {
		if (!ocmf) return 0;
		const v = verifyOcmf(ocmf, s.status.signingKey);
		const rd = v.ok ? v.payload.RD : null;
		const last = Array.isArray(rd)
			? (rd.at(-1) as { RV?: unknown; RU?: unknown } | undefined)
			: undefined;
		return typeof last?.RV === 'number' ? Math.round(last.RV * (last.RU === 'Wh' ? 1 : 1000)) : 0;
	};
	const closed = s.events.find((e) => e.event === 'closed');
	return buildReceipt({
		stationId: meta.stationId,
		sessionId: meta.sessionId,
		stationName: s.status.name,
		station: {
			signingKey: s.status.signingKey,
			signerAddress: s.status.signerAddress,
			lightningPubkey: s.status.lightningPubkey,
			network: s.status.network
		},
		tariff: s.tariff,
		ledger: meta.ledger,
		readings,
		payments: s.invoices.map((i) => ({
			seq: i.seq,
			record: i.record,
			recordHash: i.recordHash,
			bolt11: i.bolt11,
			state:
				i.state === 'paid'
					? 'paid'
					: i.state === 'refused'
						? 'refused'
						: i.state === 'failed'
							? 'failed'
							: 'pending',
			paymentHash: i.paymentHash,
			preimage: i.preimage,
			feeMsat: i.feeMsat,
			message: i.message
		})),
		anchors,
		events: s.events,
		energyWh: readings.length > 1 ? energy(readings.at(-1)?.ocmf) - energy(readings[0]?.ocmf) : 0,
		feesMsat: BigInt(meta.feesMsat),
		startedAt: meta.startedAt,
		closedAt: closed?.at ?? null
	});
}
