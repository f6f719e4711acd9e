// The wallet's core for one session, framework-free: it reads the station's status, checks its
// identity, joins, verifies every reading, decides on every invoice (driver.ts) and pays through
// the driver's own Lightning node. A payment hash is written to the journal before the payment is
// sent, so a reload or crash can never pay the same invoice twice; payments in flight at start
// are tracked to their end.
import type { LightningNode, Network, PaymentUpdate } from '../lightning/port';
import type { MessageBus } from '../mqtt/bus';
import { encodeMessage, parseMessage } from '../protocol/messages';
import { ReadingVerifier, type VerifiedReading } from '../protocol/readings';
import { driverTopic, eventsTopic, invoicesTopic, readingsTopic, statusTopic } from '../protocol/topics';
import type { DriverMessage, InvoiceMessage, ReadingMessage, SessionEvent, SessionLink, StationStatus } from '../protocol/types';
import { decideInvoice, type RefusalReason } from './driver';

export interface JournalEntry {
	paymentHash: string;
	stationId: string;
	sessionId: string;
	seq: number;
	amountMsat: string;
	bolt11: string;
	status: 'sending' | 'succeeded' | 'failed';
	feeMsat?: string;
	preimage?: string;
	failure?: string;
	at: number;
}

/** Where the wallet remembers every payment it sent; `storage/` keeps it in IndexedDB. */
export interface PaymentJournal {
	isUsed(paymentHash: string): boolean;
	/** Persisted before the payment is sent. */
	reserve(entry: JournalEntry): Promise<void>;
	complete(paymentHash: string, result: Pick<JournalEntry, 'status' | 'feeMsat' | 'preimage' | 'failure'>): Promise<void>;
	entries(): JournalEntry[];
}

export class MemoryJournal implements PaymentJournal {
	private map = new Map<string, JournalEntry>();
	isUsed(h: string) {
		return this.map.has(h);
	}
	async reserve(e: JournalEntry) {
		if (this.map.has(e.paymentHash)) throw new Error('payment hash already used');
		this.map.set(e.paymentHash, e);
	}
	async complete(h: string, r: Pick<JournalEntry, 'status' | 'feeMsat' | 'preimage' | 'failure'>) {
		const e = this.map.get(h);
		if (e) this.map.set(h, { ...e, ...r });
	}
	entries() {
		return [...this.map.values()];
	}
}

export type IdentityVerdict =
	| { ok: true; source: 'ledger' | 'pinned'; detail: string }
	| { ok: false; message: string };

export type DriverPhase = 'connecting' | 'ready' | 'joining' | 'charging' | 'suspended' | 'stopping' | 'settled' | 'failed';

export type InvoiceView = {
	seq: number;
	amountMsat: bigint;
	energyWh: number;
	paymentHash?: string;
	state: 'waiting' | 'paying' | 'paid' | 'refused' | 'failed';
	reason?: RefusalReason | 'payment_failed';
	message?: string;
	feeMsat?: bigint;
	preimage?: string;
	bolt11: string;
	/** The billing record the invoice carries and its hash (kept for the receipt). */
	record: InvoiceMessage['record'];
	recordHash: string;
};

/** A session's state as the wallet stores it, so a reload resumes it (amounts as strings). */
export interface DriverSnapshot {
	phase: DriverPhase;
	status: StationStatus;
	/** The tariff accepted at join: later status messages cannot change what is billed. */
	tariff: StationStatus['tariff'];
	identity: IdentityVerdict | null;
	budgetMsat: string;
	readings: { seq: number; ocmf: string }[];
	invoices: (Omit<InvoiceView, 'amountMsat' | 'feeMsat'> & { amountMsat: string; feeMsat?: string })[];
	events: SessionEvent[];
}

export function toSnapshot(v: DriverView, tariff: StationStatus['tariff']): DriverSnapshot | null {
	if (!v.status) return null;
	return {
		phase: v.phase,
		status: v.status,
		tariff,
		identity: v.identity,
		budgetMsat: v.budgetMsat.toString(),
		readings: v.readings.map((r) => ({ seq: r.seq, ocmf: r.ocmf })),
		invoices: v.invoices.map((i) => ({ ...i, amountMsat: i.amountMsat.toString(), feeMsat: i.feeMsat?.toString() })),
		events: v.events
	};
}

export interface DriverView {
	phase: DriverPhase;
	status: StationStatus | null;
	identity: IdentityVerdict | null;
	readings: VerifiedReading[];
	rejectedReadings: { seq: number; reason: string }[];
	invoices: InvoiceView[];
	events: SessionEvent[];
	paidMsat: bigint;
	feesMsat: bigint;
	budgetMsat: bigint;
	suspendReason: string | null;
	droppedMessages: number;
	/** Why each dropped message was refused (malformed, or a record that contradicts its own tariff). */
	refusedMessages: string[];
	lastError: string | null;
}

export interface DriverRuntimeOptions {
	link: SessionLink;
	bus: MessageBus;
	lightning: LightningNode;
	journal: PaymentJournal;
	/** Checks the station's key and node against the registry (or a pinned record). */
	checkIdentity?: (status: StationStatus) => Promise<IdentityVerdict>;
	/** Most routing fee per payment, msat. */
	feeLimitMsat?: bigint;
	paymentTimeoutSeconds?: number;
	driverRef?: string;
	now?: () => number;
	onLog?: (line: string) => void;
}

export class DriverRuntime {
	private v: DriverView = {
		phase: 'connecting',
		status: null,
		identity: null,
		readings: [],
		rejectedReadings: [],
		invoices: [],
		events: [],
		paidMsat: 0n,
		feesMsat: 0n,
		budgetMsat: 0n,
		suspendReason: null,
		droppedMessages: 0,
		refusedMessages: [],
		lastError: null
	};
	private verifier: ReadingVerifier | null = null;
	private readingsBySeq = new Map<number, VerifiedReading>();
	private pendingInvoices = new Map<number, InvoiceMessage>();
	private accepted: { seq: number; toReading: number } | null = null;
	private committedMsat = 0n;
	private payQueue: Promise<void> = Promise.resolve();
	private unsubs: (() => void)[] = [];
	private listeners = new Set<(v: DriverView) => void>();
	private tariff: StationStatus['tariff'] | null = null;
	private readonly now: () => number;

	constructor(private readonly o: DriverRuntimeOptions) {
		this.now = o.now ?? (() => Date.now());
	}

	view(): DriverView {
		return this.v;
	}

	/** The tariff billing is checked against (pinned at join), or the station's current one before. */
	get acceptedTariff(): StationStatus['tariff'] | null {
		return this.tariff ?? this.v.status?.tariff ?? null;
	}

	subscribe(l: (v: DriverView) => void): () => void {
		this.listeners.add(l);
		l(this.v);
		return () => this.listeners.delete(l);
	}

	private set(patch: Partial<DriverView>): void {
		this.v = { ...this.v, ...patch };
		for (const l of this.listeners) l(this.v);
	}

	private get ids() {
		return { stationId: this.o.link.stationId, sessionId: this.o.link.sessionId };
	}

	/** Reads the station's retained status and checks who it is. */
	async start(timeoutMs = 10_000): Promise<void> {
		const { stationId } = this.ids;
		const status = await new Promise<StationStatus>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`Station ${stationId} has not published its status: is it online?`)), timeoutMs);
			void this.o.bus
				.subscribe(statusTopic(stationId), (topic, payload) => {
					const p = parseMessage(topic, payload);
					if (!p.ok || p.kind !== 'status') return this.drop(p.ok ? 'unexpected message' : p.error);
					if (this.v.phase === 'connecting') {
						clearTimeout(timer);
						resolve(p.message);
					}
					this.set({ status: p.message });
				})
				.then((u) => this.unsubs.push(u), reject);
		}).catch((e: Error) => {
			this.set({ phase: 'failed', lastError: e.message });
			throw e;
		});
		const identity = this.o.checkIdentity ? await this.o.checkIdentity(status) : ({ ok: true, source: 'pinned', detail: 'not checked' } as const);
		this.set({ status, identity, phase: identity.ok ? 'ready' : 'failed', lastError: identity.ok ? null : identity.message });
		await this.resumeInFlight();
	}

	/** Joins the session with a budget: subscribes to its topics, then tells the station. */
	async join(budgetMsat: bigint): Promise<void> {
		const status = this.v.status;
		if (!status || this.v.phase !== 'ready') throw new Error('The station is not ready to be joined.');
		if (status.sessionId !== this.ids.sessionId) throw new Error('This session link is no longer offered by the station: scan its code again.');
		this.tariff = status.tariff;
		this.verifier = new ReadingVerifier({ stationId: this.ids.stationId, sessionId: this.ids.sessionId, publicKey: status.signingKey });
		this.set({ phase: 'joining', budgetMsat });
		const { sessionId } = this.ids;
		await this.subscribeSession();
		await this.send({ v: 1, type: 'join', sessionId, budgetMsat: budgetMsat.toString(), driverRef: this.o.driverRef ?? 'wallet', at: this.now() });
	}

	/**
	 * Picks a joined session up again after a reload: re-verifies the stored readings, restores the
	 * invoices (the payment journal decides which are paid), re-subscribes to the session's topics
	 * without joining again, and tracks payments that were in flight to their end.
	 */
	async resume(s: DriverSnapshot): Promise<void> {
		this.tariff = s.tariff;
		this.verifier = new ReadingVerifier({ stationId: this.ids.stationId, sessionId: this.ids.sessionId, publicKey: s.status.signingKey });
		const readings: VerifiedReading[] = [];
		for (const r of s.readings) {
			const res = this.verifier.accept({ v: 1, type: 'reading', sessionId: this.ids.sessionId, seq: r.seq, ocmf: r.ocmf });
			if (res.ok && !res.duplicate) {
				readings.push(res.reading);
				this.readingsBySeq.set(res.reading.seq, res.reading);
			}
		}
		const journal = new Map(this.o.journal.entries().map((e) => [e.paymentHash, e]));
		let paid = 0n, fees = 0n;
		const invoices: InvoiceView[] = s.invoices.map((saved) => {
			const i: InvoiceView = { ...saved, amountMsat: BigInt(saved.amountMsat), feeMsat: saved.feeMsat === undefined ? undefined : BigInt(saved.feeMsat) };
			const e = i.paymentHash ? journal.get(i.paymentHash) : undefined;
			if (e?.status === 'succeeded') Object.assign(i, { state: 'paid', preimage: e.preimage, feeMsat: BigInt(e.feeMsat ?? '0'), message: undefined, reason: undefined });
			else if (e?.status === 'sending') Object.assign(i, { state: 'paying', message: 'Payment was in flight when the wallet closed: checking its outcome…' });
			else if (e?.status === 'failed') Object.assign(i, { state: 'failed', reason: 'payment_failed' });
			if (i.state === 'paid') {
				paid += i.amountMsat;
				fees += i.feeMsat ?? 0n;
			}
			if (i.paymentHash && i.state !== 'refused') {
				if (!this.accepted || i.seq > this.accepted.seq) this.accepted = { seq: i.seq, toReading: i.record.toReading };
				if (i.state !== 'failed') this.committedMsat += i.amountMsat;
			}
			return i;
		});
		this.v = {
			...this.v,
			phase: s.phase === 'connecting' || s.phase === 'ready' || s.phase === 'failed' ? 'charging' : s.phase,
			status: s.status,
			identity: s.identity,
			readings,
			invoices,
			events: s.events,
			paidMsat: paid,
			feesMsat: fees,
			budgetMsat: BigInt(s.budgetMsat),
			suspendReason: s.phase === 'suspended' ? ([...s.events].reverse().find((e) => e.event === 'suspended')?.reason ?? 'suspended by the station') : null
		};
		this.set({});
		if (this.v.phase !== 'settled') {
			this.unsubs.push(
				await this.o.bus.subscribe(statusTopic(this.ids.stationId), (topic, payload) => {
					const p = parseMessage(topic, payload);
					if (p.ok && p.kind === 'status') this.set({ status: p.message });
				})
			);
			await this.subscribeSession();
		}
		await this.resumeInFlight();
	}

	private async subscribeSession(): Promise<void> {
		const { stationId, sessionId } = this.ids;
		const route = (topic: string, payload: Uint8Array) => {
			const p = parseMessage(topic, payload);
			if (!p.ok) return this.drop(p.error);
			if (p.kind === 'readings') this.onReading(p.message);
			else if (p.kind === 'invoices') this.onInvoice(p.message);
			else if (p.kind === 'events') this.onEvent(p.message);
		};
		for (const topic of [readingsTopic(stationId, sessionId), invoicesTopic(stationId, sessionId), eventsTopic(stationId, sessionId)])
			this.unsubs.push(await this.o.bus.subscribe(topic, route));
	}

	async stop(): Promise<void> {
		this.set({ phase: 'stopping' });
		await this.send({ v: 1, type: 'stop', sessionId: this.ids.sessionId, at: this.now() });
	}

	close(): void {
		for (const u of this.unsubs) u();
		this.unsubs = [];
	}

	private async send(m: DriverMessage): Promise<void> {
		await this.o.bus.publish(driverTopic(this.ids.stationId, this.ids.sessionId), encodeMessage(m));
	}

	private drop(why: string): void {
		this.o.onLog?.(`Dropped a message: ${why}`);
		const message = `A message from the station was refused: ${why}`;
		this.set({ droppedMessages: this.v.droppedMessages + 1, refusedMessages: [...this.v.refusedMessages, message].slice(-50), lastError: message });
	}

	private onReading(m: ReadingMessage): void {
		const r = this.verifier!.accept(m);
		if (!r.ok) {
			this.set({ rejectedReadings: [...this.v.rejectedReadings, { seq: m.seq, reason: r.reason }], lastError: `Reading ${m.seq} refused: ${r.reason}` });
			return;
		}
		if (r.duplicate) return;
		this.readingsBySeq.set(r.reading.seq, r.reading);
		this.set({ readings: [...this.v.readings, r.reading].sort((a, b) => a.seq - b.seq), phase: this.v.phase === 'joining' ? 'charging' : this.v.phase });
		this.reconsider();
	}

	private onInvoice(m: InvoiceMessage): void {
		const known = this.v.invoices.find((i) => i.seq === m.seq && i.state !== 'refused');
		if (known) {
			if (known.bolt11 !== m.bolt11) this.addInvoice(m, 'refused', 'sequence', `A second, different invoice number ${m.seq} arrived; only the first is considered.`);
			return;
		}
		this.pendingInvoices.set(m.seq, m);
		this.reconsider();
	}

	private onEvent(e: SessionEvent): void {
		if (this.v.events.some((x) => x.seq === e.seq)) return;
		const patch: Partial<DriverView> = { events: [...this.v.events, e] };
		if (e.event === 'suspended') Object.assign(patch, { phase: 'suspended', suspendReason: e.reason ?? 'suspended by the station' });
		if (e.event === 'resumed') Object.assign(patch, { phase: 'charging', suspendReason: null });
		if (e.event === 'stopped' && this.v.phase !== 'settled') Object.assign(patch, { phase: 'stopping' });
		if (e.event === 'closed') Object.assign(patch, { phase: 'settled' });
		this.set(patch);
	}

	private addInvoice(m: InvoiceMessage, state: InvoiceView['state'], reason?: InvoiceView['reason'], message?: string, paymentHash?: string): void {
		const entry: InvoiceView = {
			seq: m.seq,
			amountMsat: BigInt(m.record.amountMsat),
			energyWh: m.record.energyWh,
			state,
			reason,
			message,
			paymentHash,
			bolt11: m.bolt11,
			record: m.record,
			recordHash: m.recordHash
		};
		this.set({ invoices: [...this.v.invoices, entry], lastError: state === 'refused' ? message ?? null : this.v.lastError });
	}

	private updateInvoice(seq: number, patch: Partial<InvoiceView>): void {
		this.set({ invoices: this.v.invoices.map((i) => (i.seq === seq && i.state !== 'refused' ? { ...i, ...patch } : i)) });
	}

	/** Re-evaluates invoices waiting for their readings, in order. */
	private reconsider(): void {
		const seqs = [...this.pendingInvoices.keys()].sort((a, b) => a - b);
		for (const seq of seqs) {
			const m = this.pendingInvoices.get(seq)!;
			const status = this.v.status!;
			const d = decideInvoice(m, {
				...this.ids,
				tariff: this.tariff!,
				payee: status.lightningPubkey,
				network: status.network as Network,
				budgetMsat: this.v.budgetMsat,
				committedMsat: this.committedMsat,
				readings: this.readingsBySeq,
				firstReadingSeq: this.v.readings[0]?.seq ?? null,
				previous: this.accepted,
				isPaymentHashUsed: (h) => this.o.journal.isUsed(h),
				nowSeconds: Math.floor(this.now() / 1000)
			});
			if (d.action === 'wait') return;
			this.pendingInvoices.delete(seq);
			if (d.action === 'refuse') {
				this.addInvoice(m, 'refused', d.reason, d.message);
				continue;
			}
			this.accepted = { seq: m.seq, toReading: m.record.toReading };
			this.committedMsat += d.amountMsat;
			this.addInvoice(m, 'paying', undefined, undefined, d.invoice.paymentHash);
			const entry: JournalEntry = {
				paymentHash: d.invoice.paymentHash,
				...this.ids,
				seq: m.seq,
				amountMsat: d.amountMsat.toString(),
				bolt11: m.bolt11,
				status: 'sending',
				at: this.now()
			};
			this.payQueue = this.payQueue.then(() => this.pay(entry));
		}
	}

	private async pay(entry: JournalEntry): Promise<void> {
		try {
			await this.o.journal.reserve(entry);
		} catch (e) {
			this.updateInvoice(entry.seq, { state: 'refused', reason: 'already_paid', message: `Invoice ${entry.seq} was already paid from this wallet.` });
			return;
		}
		let result: PaymentUpdate;
		try {
			result = await this.o.lightning.pay({
				paymentRequest: entry.bolt11,
				feeLimitMsat: this.o.feeLimitMsat ?? 10_000n,
				timeoutSeconds: this.o.paymentTimeoutSeconds ?? 60
			});
		} catch (e) {
			// We do not know whether it left: keep it reserved and track it instead of paying again.
			this.updateInvoice(entry.seq, { state: 'failed', reason: 'payment_failed', message: `Payment ${entry.seq} could not be confirmed: ${(e as Error).message}` });
			void this.track(entry);
			return;
		}
		await this.settle(entry, result);
	}

	private async settle(entry: JournalEntry, result: PaymentUpdate, tracked = false): Promise<void> {
		if (result.status === 'succeeded') {
			await this.o.journal.complete(entry.paymentHash, { status: 'succeeded', feeMsat: result.feeMsat.toString(), preimage: result.preimage });
			this.updateInvoice(entry.seq, { state: 'paid', feeMsat: result.feeMsat, preimage: result.preimage });
			this.set({ paidMsat: this.v.paidMsat + BigInt(entry.amountMsat), feesMsat: this.v.feesMsat + result.feeMsat });
		} else if (result.status === 'failed' && result.failureReason === 'already_paid' && !tracked) {
			// The journal reserved this hash before any attempt, so an earlier attempt of ours paid it
			// (e.g. a request retried after a reload): fetch that payment's outcome and preimage.
			void this.track(entry);
		} else if (result.status === 'failed') {
			await this.o.journal.complete(entry.paymentHash, { status: 'failed', failure: result.failureReason });
			this.committedMsat -= BigInt(entry.amountMsat);
			this.updateInvoice(entry.seq, { state: 'failed', reason: 'payment_failed', message: paymentFailureSentence(result) });
			this.set({ lastError: paymentFailureSentence(result) });
		}
	}

	private async track(entry: JournalEntry): Promise<void> {
		try {
			const r = await this.o.lightning.trackPayment(entry.paymentHash);
			await this.settle(entry, r, true);
		} catch (e) {
			this.set({ lastError: `Still checking payment ${entry.seq}: ${(e as Error).message}` });
		}
	}

	/** Payments of this session that were in flight when the wallet last stopped. */
	private async resumeInFlight(): Promise<void> {
		for (const e of this.o.journal.entries()) {
			if (e.sessionId !== this.ids.sessionId || e.stationId !== this.ids.stationId || e.status !== 'sending') continue;
			void this.track(e);
		}
	}
}

export function paymentFailureSentence(u: PaymentUpdate): string {
	const why: Record<string, string> = {
		timeout: 'the payment timed out before a route was found',
		no_route: 'no route to the station was found within your fee limit',
		insufficient_balance: 'your node does not have enough balance in its channels',
		incorrect_payment_details: "the station's node refused the payment details",
		error: 'the payment failed',
		canceled: 'the payment was canceled',
		already_paid: 'it was already paid',
		invalid_request: 'the payment request was invalid'
	};
	return `Payment failed: ${why[u.failureReason ?? 'error'] ?? 'the payment failed'}${u.message ? ` (${u.message})` : ''}.`;
}
