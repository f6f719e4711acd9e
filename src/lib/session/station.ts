// The station's side of one charging session, as a pure function of events:
//   idle → awaiting_driver → charging ⇄ suspended → stopping → settled
// `reduce` returns the next state and the effects the runtime must carry out (charger, invoices,
// events, ledger). Every amount is derived from signed readings only, so the wallet can rebuild
// each billing record from readings it verified itself.
import {
	amountForEnergyMsat,
	type BillingRecord,
	buildBillingRecord,
	type SessionEventKind,
	type Tariff
} from '../protocol';

export type StationPhase =
	'idle' | 'awaiting_driver' | 'charging' | 'suspended' | 'stopping' | 'settled';

export type StopCause = 'driver' | 'operator' | 'budget' | 'car_full' | 'meter_fault';

export interface SignedReadingRef {
	seq: number;
	energyWh: number;
	at: number;
	tx: 'B' | 'T' | 'E';
}

export interface Increment {
	seq: number;
	record: BillingRecord;
	recordHash: string;
	/** The current invoice's payment hash; once paid, the hash that was paid. */
	paymentHash: string;
	bolt11: string;
	paid: boolean;
	preimage?: string;
	/** Earlier invoices of the same record, replaced after the driver's payment failed; a late payment of one still counts. */
	replacedHashes?: string[];
}

export interface StationSession {
	phase: StationPhase;
	stationId: string;
	sessionId: string;
	tariff: Tariff;
	/** The offered session's one-time join secret (shown only in the QR code; never published). */
	joinSecret: string | null;
	/** The per-session key the driver registered at join; it signs every later driver message. */
	driverKey: string | null;
	/** The highest driver message number accepted: a replayed or older one is refused. */
	driverCounter: number;
	budgetMsat: string | null;
	driverRef: string | null;
	first: SignedReadingRef | null;
	last: SignedReadingRef | null;
	/** The reading the next billing record starts from. */
	billedTo: SignedReadingRef | null;
	increments: Increment[];
	/** An invoice is being created; no second one until it exists. */
	invoicing: boolean;
	/** The increment whose invoice is being issued again (after the driver's payment failed). */
	reissuing: number | null;
	/** Where the record being invoiced starts, to roll back if creating the invoice fails. */
	pendingFrom: SignedReadingRef | null;
	/** Why the session is suspended, for people (the event carries it to the wallet). */
	suspendReason: string | null;
	/** Why the session is suspended, for decisions: the reducer never reads the sentence. */
	suspendCause: SuspendCause | null;
	stopCause: StopCause | null;
	/** The end reading could not be taken (meter fault): the session ends at the last verified reading. */
	finalMissing: boolean;
	closed: boolean;
}

/** What suspended a session: an unpaid increment past its grace, a faulty meter, or a meter not read for too long. */
export type SuspendCause = 'unpaid' | 'meter_fault' | 'meter_gap';

/** The sentences of meter suspends start with these words (for people; decisions use `suspendCause`). */
export const METER_FAULT_PREFIX = 'meter: ';
export const isMeterFault = (s: StationSession): boolean => s.suspendCause === 'meter_fault';
/** Paused because the meter was not read for too long (a stuck read, a starved page): it resumes by itself. */
export const METER_GAP_PREFIX = 'meter-gap: ';
export const isMeterGap = (s: StationSession): boolean => s.suspendCause === 'meter_gap';

export type StationEvent =
	| { type: 'offered'; sessionId: string; joinSecret: string }
	| { type: 'joined'; budgetMsat: string; driverRef: string; driverKey: string }
	/** `n`: the driver message's number (authenticated by the runtime). */
	| { type: 'budget'; budgetMsat: string; n: number }
	/** The driver's payment of increment `seq` failed: it asks for a new invoice of the same record. */
	| { type: 'reinvoice'; seq: number; n: number }
	| { type: 'invoice_reissued'; seq: number; paymentHash: string; bolt11: string }
	| { type: 'reissue_failed'; seq: number; message: string }
	| { type: 'reading'; reading: SignedReadingRef }
	| { type: 'invoice_created'; increment: Omit<Increment, 'paid'> }
	| { type: 'invoice_failed'; seq: number; message: string }
	| { type: 'invoice_paid'; paymentHash: string; preimage?: string }
	| { type: 'stop'; cause: StopCause; n?: number }
	/** The meter failed or said something impossible; nothing it says now can be billed. */
	| { type: 'meter_fault'; reason: string }
	/** The operator checked the meter and lets the session go on. */
	| { type: 'fault_cleared' }
	/** No meter reading for longer than the station allows: nothing limits the energy now. */
	| { type: 'meter_gap'; reason: string }
	/** The meter answers again after a gap. */
	| { type: 'meter_back' }
	/** The end reading could not be taken. */
	| { type: 'final_failed'; reason: string }
	/** After the end reading no reading comes to bill again: the runtime asks for a retry of a failed final invoice. */
	| { type: 'retry_billing' }
	| { type: 'closed' };

export type StationEffect =
	| { kind: 'charger'; action: 'allow' | 'suspend' | 'stop' }
	| { kind: 'create_invoice'; record: BillingRecord }
	/** A new invoice for an increment already invoiced (same record, new payment hash). */
	| { kind: 'reissue_invoice'; seq: number; record: BillingRecord }
	| {
			kind: 'event';
			event: SessionEventKind;
			reason?: string;
			invoiceSeq?: number;
			paymentHash?: string;
			energyWh?: number;
			amountMsat?: string;
	  }
	/** Take one last reading (TX=E) now that the charger is off. */
	| { kind: 'final_reading' }
	| { kind: 'ledger_open' }
	| { kind: 'ledger_close'; energyWh: number; amountMsat: string; paymentHashes: string[] };

export function newStationSession(stationId: string, tariff: Tariff): StationSession {
	return {
		phase: 'idle',
		stationId,
		sessionId: '',
		tariff,
		joinSecret: null,
		driverKey: null,
		driverCounter: 0,
		budgetMsat: null,
		driverRef: null,
		first: null,
		last: null,
		billedTo: null,
		increments: [],
		invoicing: false,
		reissuing: null,
		pendingFrom: null,
		suspendReason: null,
		suspendCause: null,
		stopCause: null,
		finalMissing: false,
		closed: false
	};
}

export const deliveredWh = (s: StationSession): number =>
	s.first && s.last ? s.last.energyWh - s.first.energyWh : 0;
export const billedMsat = (s: StationSession): bigint =>
	s.increments.reduce((sum, i) => sum + BigInt(i.record.amountMsat), 0n);
export const paidMsat = (s: StationSession): bigint =>
	s.increments.filter((i) => i.paid).reduce((sum, i) => sum + BigInt(i.record.amountMsat), 0n);
export const unpaid = (s: StationSession): Increment[] => s.increments.filter((i) => !i.paid);
/** What the energy delivered so far costs, billed or not. */
export function costSoFarMsat(s: StationSession): bigint {
	const unbilledWh = s.billedTo && s.last ? s.last.energyWh - s.billedTo.energyWh : 0;
	const startFee =
		s.increments.length === 0 && deliveredWh(s) > 0 ? BigInt(s.tariff.startFeeMsat) : 0n;
	return (
		billedMsat(s) + amountForEnergyMsat(unbilledWh, BigInt(s.tariff.pricePerKwhMsat)) + startFee
	);
}

const CAUSE_WORDS: Record<StopCause, string> = {
	driver: 'the driver stopped the session',
	operator: 'the operator stopped the session',
	budget: "the driver's budget is used up",
	car_full: 'the car is full',
	meter_fault: 'the meter reported a fault'
};

export function reduce(
	s: StationSession,
	e: StationEvent
): { state: StationSession; effects: StationEffect[] } {
	const fx: StationEffect[] = [];
	let n: StationSession = s;
	switch (e.type) {
		case 'offered':
			if (s.phase !== 'idle' && s.phase !== 'settled') break;
			n = {
				...newStationSession(s.stationId, s.tariff),
				phase: 'awaiting_driver',
				sessionId: e.sessionId,
				joinSecret: e.joinSecret
			};
			break;
		case 'joined':
			if (s.phase !== 'awaiting_driver') break;
			n = {
				...s,
				phase: 'charging',
				budgetMsat: e.budgetMsat,
				driverRef: e.driverRef,
				driverKey: e.driverKey
			};
			fx.push(
				{ kind: 'ledger_open' },
				{ kind: 'charger', action: 'allow' },
				{ kind: 'event', event: 'started' }
			);
			break;
		case 'budget':
			if (s.phase === 'idle' || s.phase === 'settled' || e.n <= s.driverCounter) break;
			n = { ...s, budgetMsat: e.budgetMsat, driverCounter: e.n };
			break;
		case 'reinvoice': {
			if (e.n <= s.driverCounter) break;
			n = { ...s, driverCounter: e.n };
			const i = unpaid(s)[0];
			// Only the increment the session waits for, one reissue at a time.
			if (
				!i ||
				i.seq !== e.seq ||
				s.reissuing !== null ||
				s.phase === 'idle' ||
				s.phase === 'settled'
			)
				break;
			n = { ...n, reissuing: i.seq };
			fx.push({ kind: 'reissue_invoice', seq: i.seq, record: i.record });
			break;
		}
		case 'invoice_reissued': {
			const i = s.increments.find((x) => x.seq === e.seq);
			if (s.reissuing !== e.seq || !i) break;
			n = { ...s, reissuing: null };
			if (i.paid) break; // the old invoice was paid meanwhile: keep it
			n.increments = s.increments.map((x) =>
				x === i
					? {
							...x,
							paymentHash: e.paymentHash,
							bolt11: e.bolt11,
							replacedHashes: [...(x.replacedHashes ?? []), x.paymentHash]
						}
					: x
			);
			break;
		}
		case 'reissue_failed':
			if (s.reissuing !== e.seq) break;
			n = { ...s, reissuing: null };
			fx.push({
				kind: 'event',
				event: 'fault',
				reason: `Could not issue invoice ${e.seq} again: ${e.message}`
			});
			break;
		case 'reading': {
			if (s.phase === 'idle' || s.phase === 'awaiting_driver' || s.phase === 'settled') break;
			const r = e.reading;
			n = { ...s, last: r, first: s.first ?? r, billedTo: s.billedTo ?? r };
			if (n.phase === 'stopping') {
				if (r.tx === 'E') {
					fx.push({
						kind: 'event',
						event: 'stopped',
						reason: n.stopCause ? CAUSE_WORDS[n.stopCause] : undefined,
						energyWh: deliveredWh(n),
						amountMsat: costSoFarMsat(n).toString()
					});
					n = finish(n, fx);
				}
				break;
			}
			if (n.tariff.mode === 'stream') n = bill(n, fx);
			n = guard(n, fx);
			break;
		}
		case 'invoice_created':
			if (!s.invoicing) break;
			n = {
				...s,
				invoicing: false,
				pendingFrom: null,
				increments: [...s.increments, { ...e.increment, paid: false }]
			};
			if (n.phase === 'stopping') n = finish(n, fx);
			break;
		case 'invoice_failed':
			// Bill the same energy again on the next reading: roll billedTo back to where the record started.
			n = { ...s, invoicing: false, billedTo: s.pendingFrom ?? s.billedTo, pendingFrom: null };
			fx.push({
				kind: 'event',
				event: 'fault',
				reason: `Could not create invoice ${e.seq}: ${e.message}`
			});
			break;
		case 'invoice_paid': {
			const i = s.increments.find(
				(x) => x.paymentHash === e.paymentHash || x.replacedHashes?.includes(e.paymentHash)
			);
			if (!i || i.paid) break; // unknown or already counted: never count a payment twice
			n = {
				...s,
				increments: s.increments.map((x) =>
					x === i ? { ...x, paid: true, preimage: e.preimage, paymentHash: e.paymentHash } : x
				)
			};
			fx.push({
				kind: 'event',
				event: 'paid',
				invoiceSeq: i.seq,
				paymentHash: i.paymentHash,
				amountMsat: i.record.amountMsat
			});
			if (n.phase === 'suspended' && n.suspendCause === 'unpaid' && unpaid(n).length === 0) {
				n = { ...n, phase: 'charging', suspendReason: null, suspendCause: null };
				fx.push({ kind: 'charger', action: 'allow' }, { kind: 'event', event: 'resumed' });
				// The energy delivered in grace is due now.
				if (n.tariff.mode === 'stream') n = bill(n, fx);
			}
			if (n.phase === 'stopping') n = finish(n, fx);
			break;
		}
		case 'stop':
			if (e.n !== undefined) {
				if (e.n <= s.driverCounter) break;
				s = { ...s, driverCounter: e.n };
				n = s;
			}
			if (s.phase === 'awaiting_driver') {
				n = { ...s, phase: 'settled', stopCause: e.cause, closed: true };
				fx.push({
					kind: 'event',
					event: 'stopped',
					reason: CAUSE_WORDS[e.cause],
					energyWh: 0,
					amountMsat: '0'
				});
				break;
			}
			if (s.phase !== 'charging' && s.phase !== 'suspended') break;
			n = { ...s, phase: 'stopping', stopCause: e.cause };
			fx.push({ kind: 'charger', action: 'stop' }, { kind: 'final_reading' });
			break;
		case 'meter_fault': {
			if (s.phase !== 'charging' && s.phase !== 'suspended') break;
			if (isMeterFault(s)) break; // already suspended for a fault: one alarm, not one per poll
			const reason = `${METER_FAULT_PREFIX}${e.reason}`;
			n = { ...s, phase: 'suspended', suspendReason: reason, suspendCause: 'meter_fault' };
			// Suspended already (unpaid): the charger is off; the fault now holds the session.
			if (s.phase === 'charging') fx.push({ kind: 'charger', action: 'suspend' });
			fx.push(
				{ kind: 'event', event: 'fault', reason: e.reason },
				{ kind: 'event', event: 'suspended', reason }
			);
			break;
		}
		case 'meter_gap':
			// Only a running charger needs stopping: suspended or stopping, it is off already.
			if (s.phase !== 'charging') break;
			n = {
				...s,
				phase: 'suspended',
				suspendReason: `${METER_GAP_PREFIX}${e.reason}`,
				suspendCause: 'meter_gap'
			};
			fx.push(
				{ kind: 'charger', action: 'suspend' },
				{ kind: 'event', event: 'suspended', reason: n.suspendReason! }
			);
			break;
		case 'meter_back':
			if (s.phase !== 'suspended' || !isMeterGap(s)) break;
			{
				// What flowed in the gap is counted by the reading just taken: bill it, and judge grace and
				// budget on it first, so the charger is not switched on only to be switched off again.
				const after: StationEffect[] = [];
				n = { ...s, phase: 'charging', suspendReason: null, suspendCause: null };
				if (n.tariff.mode === 'stream') n = bill(n, after);
				n = guard(n, after);
				if (n.phase === 'charging')
					fx.push({ kind: 'charger', action: 'allow' }, { kind: 'event', event: 'resumed' });
				fx.push(...after);
			}
			break;
		case 'fault_cleared':
			if (s.phase !== 'suspended' || !isMeterFault(s)) break;
			n = { ...s, phase: 'charging', suspendReason: null, suspendCause: null };
			fx.push({ kind: 'charger', action: 'allow' }, { kind: 'event', event: 'resumed' });
			n = guard(n, fx);
			break;
		case 'final_failed':
			if (s.phase !== 'stopping' || s.last?.tx === 'E') break;
			n = { ...s, finalMissing: true };
			fx.push(
				{
					kind: 'event',
					event: 'fault',
					reason: `no end reading: ${e.reason}; the session ends at the last verified reading`
				},
				{
					kind: 'event',
					event: 'stopped',
					reason: n.stopCause ? CAUSE_WORDS[n.stopCause] : undefined,
					energyWh: deliveredWh(n),
					amountMsat: costSoFarMsat(n).toString()
				}
			);
			n = finish(n, fx);
			break;
		case 'retry_billing':
			if (s.phase === 'stopping' && !s.invoicing) n = finish(s, fx);
			break;
		case 'closed':
			n = { ...s, closed: true };
			break;
	}
	return { state: n, effects: fx };
}

/** In stream mode: invoice the energy since the last billed reading once it reaches one increment. */
function bill(s: StationSession, fx: StationEffect[]): StationSession {
	if (s.invoicing || unpaid(s).length > 0 || !s.billedTo || !s.last) return s;
	if (s.last.energyWh - s.billedTo.energyWh < s.tariff.incrementWh) return s;
	return invoice(s, s.last, fx);
}

function invoice(s: StationSession, to: SignedReadingRef, fx: StationEffect[]): StationSession {
	const n: StationSession = { ...s, invoicing: true, pendingFrom: s.billedTo, billedTo: to };
	fx.push({ kind: 'create_invoice', record: invoicingRecord(n)! });
	return n;
}

/**
 * The billing record whose invoice is being created (`invoicing`), rebuilt from the session alone:
 * a reload between the decision and the Lightning call must invoice exactly this record.
 */
export function invoicingRecord(s: StationSession): BillingRecord | null {
	if (!s.invoicing || !s.pendingFrom || !s.billedTo) return null;
	return buildBillingRecord({
		stationId: s.stationId,
		sessionId: s.sessionId,
		seq: s.increments.length + 1,
		from: { seq: s.pendingFrom.seq, energyWh: s.pendingFrom.energyWh },
		to: { seq: s.billedTo.seq, energyWh: s.billedTo.energyWh },
		tariff: s.tariff
	});
}

/** Suspend past the grace energy of an unpaid increment, and stop when the budget is used up. */
function guard(s: StationSession, fx: StationEffect[]): StationSession {
	if (s.phase !== 'charging' || !s.last) return s;
	const oldest = unpaid(s)[0];
	if (oldest && s.last.energyWh - oldest.record.toWh >= s.tariff.graceWh) {
		const reason = `unpaid: invoice ${oldest.seq} is not paid after ${s.tariff.graceWh} Wh of grace`;
		fx.push({ kind: 'charger', action: 'suspend' }, { kind: 'event', event: 'suspended', reason });
		return { ...s, phase: 'suspended', suspendReason: reason, suspendCause: 'unpaid' };
	}
	if (s.budgetMsat !== null) {
		const nextIncrementMsat = amountForEnergyMsat(
			s.tariff.incrementWh,
			BigInt(s.tariff.pricePerKwhMsat)
		);
		if (costSoFarMsat(s) + nextIncrementMsat > BigInt(s.budgetMsat)) {
			fx.push({ kind: 'charger', action: 'stop' }, { kind: 'final_reading' });
			return { ...s, phase: 'stopping', stopCause: 'budget' };
		}
	}
	return s;
}

/** After the final (E) reading: bill what is left, then settle once everything is paid. */
const ended = (s: StationSession) => s.last?.tx === 'E' || s.finalMissing;

function finish(s: StationSession, fx: StationEffect[]): StationSession {
	if (!ended(s)) return s;
	let n = s;
	if (!n.invoicing && n.billedTo && n.last && n.last.energyWh > n.billedTo.energyWh)
		n = invoice(n, n.last, fx);
	return settleIfDone(n, fx);
}

function settleIfDone(s: StationSession, fx: StationEffect[]): StationSession {
	if (s.phase !== 'stopping' || s.invoicing || unpaid(s).length > 0 || !ended(s)) return s;
	fx.push({
		kind: 'ledger_close',
		energyWh: deliveredWh(s),
		amountMsat: paidMsat(s).toString(),
		paymentHashes: s.increments.map((i) => i.paymentHash)
	});
	return { ...s, phase: 'settled' };
}
