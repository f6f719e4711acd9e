// The wallet's core for one session, framework-free. It pins the station's identity (signing key,
// Lightning payee, tariff: from the registry through `checkIdentity`, on the network of the
// driver's own node), joins with proof of the QR code's one-time secret, verifies every reading,
// decides on every invoice (driver.ts) and pays through the driver's own Lightning node.
//
// Who may say what: a message of this session counts only with the session's MAC (keyed by the
// join secret, which a stranger on the broker never saw) and, for status, invoices and events, the
// pinned station key's signature; anything else is dropped and counted, cheaply, before any
// elliptic-curve work. A validly signed status that disagrees with the pin raises an alarm and
// stops payments. A payment hash is written to the journal before the payment is sent, so a
// reload or crash can never pay the same invoice twice; payments in flight at start are tracked
// to their end. A failed payment asks the station for a new invoice of the same record.
import {
	LightningError,
	type LightningNode,
	type Network,
	type PaymentUpdate,
	waitUntilReady
} from '../lightning';
import type { MessageBus } from '../mqtt';
import {
	billingRecordHash,
	eventsTopic,
	hasValidMac,
	type InvoiceMessage,
	invoicesTopic,
	parseMessageData,
	type ReadingMessage,
	readingsTopic,
	ReadingVerifier,
	readRawMessage,
	type SessionEvent,
	type SessionLink,
	type StationStatus,
	statusTopic,
	type VerifiedReading,
	verifyStationSignature
} from '../protocol';
import { DriverChannel, type DriverKey } from './driver-channel';
import { decideInvoice, type RefusalReason } from './driver';
import { pinMismatch } from './identity';
import type {
	CheckIdentity,
	IdentityVerdict,
	JournalEntry,
	PaymentJournal,
	StationPin
} from './ports';
import { Emitter, backoffDelay } from '../core';

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

/**
 * connecting → ready → joining → charging ⇄ suspended → stopping → closing → settled, or failed.
 * `closing`: every payment is made, the station's ledger close is still pending.
 */
export type DriverPhase =
	| 'connecting'
	| 'ready'
	| 'joining'
	| 'charging'
	| 'suspended'
	| 'stopping'
	| 'closing'
	| 'settled'
	| 'failed';

export type InvoiceView = {
	seq: number;
	amountMsat: bigint;
	energyWh: number;
	paymentHash?: string;
	/** `replaced`: its payment failed and the station issued a new invoice for the same record. */
	state: 'waiting' | 'paying' | 'paid' | 'refused' | 'failed' | 'replaced';
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
	invoices: (Omit<InvoiceView, 'amountMsat' | 'feeMsat'> & {
		amountMsat: string;
		feeMsat?: string;
	})[];
	events: SessionEvent[];
	/** The Lightning network of the driver's own node, read at start. */
	network?: Network;
	/** The per-session driver key registered at join, and how many messages it signed. */
	driverKey?: DriverKey;
	driverCounter?: number;
	alarm?: string | null;
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
		invoices: v.invoices.map((i) => ({
			...i,
			amountMsat: i.amountMsat.toString(),
			feeMsat: i.feeMsat?.toString()
		})),
		events: v.events,
		network: v.network ?? undefined,
		driverKey: v.driverKey ?? undefined,
		driverCounter: v.driverCounter,
		alarm: v.alarm
	};
}

/** How many refusal sentences are kept for the screen; the counters count them all. */
export const KEPT_REFUSALS = 20;

export interface DriverView {
	phase: DriverPhase;
	status: StationStatus | null;
	identity: IdentityVerdict | null;
	/** The driver's own node's network: the one invoices must be for. */
	network: Network | null;
	readings: VerifiedReading[];
	/** The last few refused readings (all are counted in `rejectedReadingCount`). */
	rejectedReadings: { seq: number; reason: string }[];
	rejectedReadingCount: number;
	invoices: InvoiceView[];
	events: SessionEvent[];
	paidMsat: bigint;
	feesMsat: bigint;
	budgetMsat: bigint;
	suspendReason: string | null;
	/** Every message dropped: malformed, or not from this session's station. */
	droppedMessages: number;
	/** Of those, the ones without this session's MAC or the station's signature: a stranger's. */
	forgedMessages: number;
	/** Why the last few dropped messages were refused. */
	refusedMessages: string[];
	/** The station's signed word now disagrees with what was pinned at join: payments have stopped. */
	alarm: string | null;
	/** The station's totals at stop (its `stopped` event), once it stopped. */
	stoppedAmountMsat: bigint | null;
	lastError: string | null;
	/** What the wallet waits for before it can go on (its own node starting or syncing), for the driver to read. */
	waiting: string | null;
	driverKey: DriverKey | null;
	driverCounter: number;
}

export interface DriverRuntimeOptions {
	link: SessionLink;
	bus: MessageBus;
	lightning: LightningNode;
	journal: PaymentJournal;
	/** Judges the station's signed status against the trusted network's registry (or pin). Without it, nothing is trusted. */
	checkIdentity?: CheckIdentity;
	/** Most routing fee per payment, msat. */
	feeLimitMsat?: bigint;
	paymentTimeoutSeconds?: number;
	driverRef?: string;
	/** New invoices asked for one increment after failed payments, before the driver must ask by hand (default 3). */
	maxReinvoices?: number;
	/**
	 * Pause before asking for a new invoice after a failed payment, doubled for each further one
	 * (default 2 s: 2, 4, 8 s). Most failures are a route out of liquidity for a moment; asking at
	 * once would use up every automatic attempt within milliseconds of the same dry route.
	 */
	reinvoiceDelayMs?: number;
	/** How long to wait for the driver's own node to start or sync before giving up (default 60 s). */
	nodeWaitMs?: number;
	/** Pauses between checks of the node (tests pass their own). */
	sleep?: (ms: number) => Promise<void>;
	now?: () => number;
	onLog?: (line: string) => void;
}

/** Counter-only changes reach subscribers at most this often, so a flood cannot flood the screen. */
const QUIET_NOTIFY_MS = 250;

export class DriverRuntime {
	private v: DriverView = {
		phase: 'connecting',
		status: null,
		identity: null,
		network: null,
		readings: [],
		rejectedReadings: [],
		rejectedReadingCount: 0,
		invoices: [],
		events: [],
		paidMsat: 0n,
		feesMsat: 0n,
		budgetMsat: 0n,
		suspendReason: null,
		droppedMessages: 0,
		forgedMessages: 0,
		refusedMessages: [],
		alarm: null,
		stoppedAmountMsat: null,
		lastError: null,
		waiting: null,
		driverKey: null,
		driverCounter: 0
	};
	private verifier: ReadingVerifier | null = null;
	private readingsBySeq = new Map<number, VerifiedReading>();
	private pendingInvoices = new Map<number, InvoiceMessage>();
	private accepted: { seq: number; toReading: number } | null = null;
	private committedMsat = 0n;
	private payQueue: Promise<void> = Promise.resolve();
	private unsubs: (() => void)[] = [];
	private readonly views = new Emitter<[DriverView]>();
	private quietTimer: ReturnType<typeof setTimeout> | null = null;
	private pin: StationPin | null = null;
	private channel: DriverChannel | null = null;
	private reinvoices = new Map<number, number>();
	/** Payments sent again because the node had never seen them (once each). */
	private resent = new Map<string, number>();
	private reinvoiceTimers = new Set<ReturnType<typeof setTimeout>>();
	private readonly stationMac: Uint8Array;
	private readonly now: () => number;
	private closed = false;

	constructor(private readonly o: DriverRuntimeOptions) {
		this.now = o.now ?? (() => Date.now());
		this.stationMac = new DriverChannel(o.link).keys.station;
	}

	view(): DriverView {
		return this.v;
	}

	private get feeLimitMsat(): bigint {
		return this.o.feeLimitMsat ?? 10_000n;
	}

	/** The tariff billing is checked against (pinned at join), or the station's current one before. */
	get acceptedTariff(): StationStatus['tariff'] | null {
		return this.pin?.tariff ?? this.v.status?.tariff ?? null;
	}

	subscribe(l: (v: DriverView) => void): () => void {
		const off = this.views.on(l);
		l(this.v);
		return off;
	}

	/** `quiet`: only counters changed; subscribers hear of it within QUIET_NOTIFY_MS, batched. */
	private set(patch: Partial<DriverView>, quiet = false): void {
		this.v = { ...this.v, ...patch };
		if (quiet) {
			this.quietTimer ??= setTimeout(() => {
				this.quietTimer = null;
				this.notify();
			}, QUIET_NOTIFY_MS);
			return;
		}
		this.notify();
	}

	private notify(): void {
		if (this.quietTimer) {
			clearTimeout(this.quietTimer);
			this.quietTimer = null;
		}
		this.views.emit(this.v);
	}

	private get ids() {
		return { stationId: this.o.link.stationId, sessionId: this.o.link.sessionId };
	}

	/**
	 * Reads the network of the driver's node, then waits for the station's status for this session
	 * (its MAC and signature checked) and checks who the station is.
	 */
	async start(timeoutMs = 10_000): Promise<void> {
		const { stationId, sessionId } = this.ids;
		try {
			// A node that is still starting, restarting or syncing is waited for (and the driver told),
			// not taken for a failure; a macaroon or certificate error ends the wait at once.
			const info = await waitUntilReady(this.o.lightning, {
				whose: 'Your Lightning node',
				maxWaitMs: this.o.nodeWaitMs ?? 60_000,
				sleep: this.o.sleep,
				onWaiting: (sentence) => this.set({ waiting: sentence })
			});
			this.set({ network: info.network, waiting: null });
		} catch (e) {
			this.set({
				phase: 'failed',
				waiting: null,
				lastError: `Your Lightning node cannot be reached: ${(e as Error).message}`
			});
			throw e;
		}
		const status = await new Promise<StationStatus>((resolve, reject) => {
			const timer = setTimeout(
				() =>
					reject(
						new Error(
							`Station ${stationId} has not announced session ${sessionId}: is its code still on the screen? Scan it again.`
						)
					),
				timeoutMs
			);
			void this.o.bus
				.subscribe(statusTopic(stationId), (topic, payload) => {
					const status = this.authenticStatus(topic, payload);
					if (!status) return;
					if (this.v.phase === 'connecting') {
						clearTimeout(timer);
						resolve(status);
					} else this.onLaterStatus(status);
				})
				.then((u) => this.unsubs.push(u), reject);
		}).catch((e: Error) => {
			this.set({ phase: 'failed', lastError: e.message });
			throw e;
		});
		const identity: IdentityVerdict = this.o.checkIdentity
			? await this.o.checkIdentity(status)
			: {
					ok: false,
					reason: 'not_checked',
					message:
						'This wallet has no way to check the station (no trusted network): do not pay it.'
				};
		let problem = identity.ok ? null : identity.message;
		if (identity.ok && status.network !== this.v.network)
			problem = `The station invoices on ${status.network}, but your Lightning node is on ${this.v.network}: it cannot pay this station.`;
		if (!problem && status.state !== 'available')
			problem =
				status.state === 'occupied' || status.state === 'suspended'
					? 'This session has already been taken by another phone. Scan the code again when the station shows a new one.'
					: `The station is ${status.state}: it cannot start a session now.`;
		if (identity.ok) this.pin = identity.pin;
		this.set({ status, identity, phase: problem ? 'failed' : 'ready', lastError: problem });
		await this.resumeInFlight();
	}

	/** Joins the session with a budget: subscribes to its topics, then tells the station, with proof of the join secret. */
	async join(budgetMsat: bigint): Promise<void> {
		const status = this.v.status;
		if (!status || this.v.phase !== 'ready' || !this.pin)
			throw new Error('The station is not ready to be joined.');
		if (status.sessionId !== this.ids.sessionId)
			throw new Error(
				'This session link is no longer offered by the station: scan its code again.'
			);
		this.verifier = new ReadingVerifier({
			stationId: this.ids.stationId,
			sessionId: this.ids.sessionId,
			publicKey: this.pin.signingKey
		});
		this.channel = new DriverChannel(this.o.link);
		this.set({ phase: 'joining', budgetMsat, driverKey: this.channel.driverKey, driverCounter: 0 });
		await this.subscribeSession();
		await this.o.bus.publish(
			this.channel.topic,
			this.channel.join(budgetMsat, this.o.driverRef ?? 'wallet', this.now())
		);
	}

	/**
	 * Picks a joined session up again after a reload: re-verifies the stored readings with the pinned
	 * key, restores the invoices (the payment journal decides which are paid), re-subscribes to the
	 * session's topics without joining again, and tracks payments that were in flight to their end.
	 */
	async resume(s: DriverSnapshot): Promise<void> {
		if (!s.identity?.ok || !s.network || !s.driverKey)
			throw new Error(
				'This session was started by an older version of the wallet: it cannot be resumed, but its receipt is kept.'
			);
		this.pin = s.identity.pin;
		this.verifier = new ReadingVerifier({
			stationId: this.ids.stationId,
			sessionId: this.ids.sessionId,
			publicKey: this.pin.signingKey
		});
		this.channel = new DriverChannel(this.o.link, s.driverKey, s.driverCounter ?? 0);
		const readings: VerifiedReading[] = [];
		for (const r of s.readings) {
			const res = this.verifier.accept({
				v: 1,
				type: 'reading',
				sessionId: this.ids.sessionId,
				seq: r.seq,
				ocmf: r.ocmf
			});
			if (res.ok && !res.duplicate) {
				readings.push(res.reading);
				this.readingsBySeq.set(res.reading.seq, res.reading);
			}
		}
		const journal = new Map(this.o.journal.entries().map((e) => [e.paymentHash, e]));
		let paid = 0n,
			fees = 0n;
		const invoices: InvoiceView[] = [];
		for (const saved of s.invoices) {
			const i: InvoiceView = {
				...saved,
				amountMsat: BigInt(saved.amountMsat),
				feeMsat: saved.feeMsat === undefined ? undefined : BigInt(saved.feeMsat)
			};
			const e = i.paymentHash ? journal.get(i.paymentHash) : undefined;
			if (i.state === 'paying' && !e) {
				// Stored as accepted, but the journal (written before any payment) never reserved it:
				// nothing was sent. It is decided again once the session is back, and paid once.
				this.pendingInvoices.set(i.seq, {
					v: 1,
					type: 'invoice',
					sessionId: this.ids.sessionId,
					seq: i.seq,
					record: i.record,
					recordHash: i.recordHash,
					bolt11: i.bolt11
				});
				continue;
			}
			if (e?.status === 'succeeded')
				Object.assign(i, {
					state: 'paid',
					preimage: e.preimage,
					feeMsat: BigInt(e.feeMsat ?? '0'),
					message: undefined,
					reason: undefined
				});
			else if (e?.status === 'sending')
				Object.assign(i, {
					state: 'paying',
					message: 'Payment was in flight when the wallet closed: checking its outcome…'
				});
			else if (e?.status === 'failed' && i.state !== 'replaced')
				Object.assign(i, { state: 'failed', reason: 'payment_failed' });
			if (i.state === 'paid') {
				paid += i.amountMsat;
				fees += i.feeMsat ?? 0n;
			}
			if (i.paymentHash && i.state !== 'refused' && i.state !== 'replaced') {
				if (i.state === 'failed') {
					// Its payment failed: the same increment is due again, from a new invoice.
					if (!this.accepted || i.seq > this.accepted.seq)
						this.accepted =
							i.seq === 1 ? null : { seq: i.seq - 1, toReading: i.record.fromReading };
				} else {
					if (!this.accepted || i.seq > this.accepted.seq)
						this.accepted = { seq: i.seq, toReading: i.record.toReading };
					this.committedMsat += i.amountMsat;
				}
			}
			invoices.push(i);
		}
		const stopped = [...s.events].reverse().find((e) => e.event === 'stopped');
		this.v = {
			...this.v,
			phase:
				s.phase === 'connecting' || s.phase === 'ready' || s.phase === 'failed'
					? 'charging'
					: s.phase,
			status: s.status,
			identity: s.identity,
			network: s.network,
			readings,
			invoices,
			events: s.events,
			paidMsat: paid,
			feesMsat: fees,
			budgetMsat: BigInt(s.budgetMsat),
			suspendReason:
				s.phase === 'suspended'
					? ([...s.events].reverse().find((e) => e.event === 'suspended')?.reason ??
						'suspended by the station')
					: null,
			alarm: s.alarm ?? null,
			stoppedAmountMsat: stopped?.amountMsat !== undefined ? BigInt(stopped.amountMsat) : null,
			driverKey: s.driverKey,
			driverCounter: s.driverCounter ?? 0
		};
		this.set({});
		if (this.v.phase !== 'settled') {
			this.unsubs.push(
				await this.o.bus.subscribe(statusTopic(this.ids.stationId), (topic, payload) => {
					const status = this.authenticStatus(topic, payload);
					if (status) this.onLaterStatus(status);
				})
			);
			await this.subscribeSession();
		}
		await this.resumeInFlight();
		this.reconsider();
		this.settleIfPaid();
	}

	private async subscribeSession(): Promise<void> {
		const { stationId, sessionId } = this.ids;
		const route = (topic: string, payload: Uint8Array) => {
			const raw = readRawMessage(topic, payload);
			if (!raw.ok) return this.drop(raw.error);
			// A stranger on the broker never saw the join secret: its message stops here, after one HMAC.
			if (!isObject(raw.data) || !hasValidMac(raw.data, this.stationMac))
				return this.forged(`${NOUNS[raw.where.kind]} without this session's code`);
			const p = parseMessageData(raw.where, raw.data);
			if (!p.ok) return this.drop(p.error);
			if (p.kind === 'readings') this.onReading(p.message);
			else if (p.kind === 'invoices' || p.kind === 'events') {
				if (!this.pin || !verifyStationSignature(p.message, stationId, this.pin.signingKey))
					return this.forged(`${NOUNS[p.kind]} not signed by the station`);
				if (p.kind === 'invoices') this.onInvoice(p.message);
				else this.onEvent(p.message);
			}
		};
		for (const topic of [
			readingsTopic(stationId, sessionId),
			invoicesTopic(stationId, sessionId),
			eventsTopic(stationId, sessionId)
		])
			this.unsubs.push(await this.o.bus.subscribe(topic, route));
	}

	/**
	 * A status this session may believe: tagged with this session's MAC and signed by the key it
	 * names (which the identity check then ties to the registry, or which must be the pinned one).
	 * A status without the session's MAC (another session's, the offline will) is not about this
	 * session and is ignored; one with a wrong MAC or signature is a stranger's, dropped and counted.
	 */
	private authenticStatus(topic: string, payload: Uint8Array): StationStatus | null {
		const raw = readRawMessage(topic, payload);
		if (!raw.ok) {
			this.drop(raw.error);
			return null;
		}
		if (!isObject(raw.data) || raw.data.mac === undefined) return null;
		if (!hasValidMac(raw.data, this.stationMac)) {
			this.forged("a status without this session's code");
			return null;
		}
		const p = parseMessageData(raw.where, raw.data);
		if (!p.ok || p.kind !== 'status') {
			this.drop(p.ok ? 'unexpected message' : p.error);
			return null;
		}
		const key = this.pin?.signingKey ?? p.message.signingKey;
		if (
			p.message.sessionId !== this.ids.sessionId ||
			!verifyStationSignature(p.message, this.ids.stationId, key)
		) {
			this.forged('a status not signed by the station');
			return null;
		}
		return p.message;
	}

	/** After the identity is pinned: a signed status that disagrees with it stops payments. */
	private onLaterStatus(status: StationStatus): void {
		const mismatch = this.pin ? pinMismatch(this.pin, status) : null;
		if (mismatch && !this.v.alarm) {
			const alarm = `The station's signed status no longer matches what was checked when you joined: ${mismatch}. Payments have stopped; stop the session and tell the operator.`;
			this.o.onLog?.(alarm);
			this.set({ status, alarm, lastError: alarm });
			return;
		}
		this.set({ status }, true);
	}

	async stop(): Promise<void> {
		if (!this.channel) throw new Error('Not joined.');
		this.set({
			phase: this.v.phase === 'settled' || this.v.phase === 'closing' ? this.v.phase : 'stopping'
		});
		await this.sendSigned(this.channel.stop(this.now()));
	}

	/** Raises or lowers the budget the station may bill this session up to. */
	async changeBudget(budgetMsat: bigint): Promise<void> {
		if (!this.channel) throw new Error('Not joined.');
		this.set({ budgetMsat });
		await this.sendSigned(this.channel.budget(budgetMsat, this.now()));
		this.reconsider();
	}

	/** Asks the station for a new invoice of increment `seq` (after its payment failed). */
	async requestNewInvoice(seq: number): Promise<void> {
		if (!this.channel) throw new Error('Not joined.');
		this.reinvoices.set(seq, (this.reinvoices.get(seq) ?? 0) + 1);
		await this.sendSigned(this.channel.reinvoice(seq, this.now()));
	}

	private async sendSigned(payload: string): Promise<void> {
		this.set({ driverCounter: this.channel!.counter });
		await this.o.bus.publish(this.channel!.topic, payload);
	}

	close(): void {
		this.closed = true;
		for (const u of this.unsubs) u();
		this.unsubs = [];
		if (this.quietTimer) clearTimeout(this.quietTimer);
		for (const t of this.reinvoiceTimers) clearTimeout(t);
		this.reinvoiceTimers.clear();
	}

	private drop(why: string): void {
		const message = `A message from the station was refused: ${why}`;
		this.set(
			{
				droppedMessages: this.v.droppedMessages + 1,
				refusedMessages: [...this.v.refusedMessages.slice(-(KEPT_REFUSALS - 1)), message]
			},
			true
		);
	}

	private forged(what: string): void {
		const message = `Ignored ${what} (not from this session's station).`;
		const last = this.v.refusedMessages.at(-1);
		this.set(
			{
				droppedMessages: this.v.droppedMessages + 1,
				forgedMessages: this.v.forgedMessages + 1,
				refusedMessages:
					last === message
						? this.v.refusedMessages
						: [...this.v.refusedMessages.slice(-(KEPT_REFUSALS - 1)), message]
			},
			true
		);
	}

	private onReading(m: ReadingMessage): void {
		const r = this.verifier!.accept(m);
		if (!r.ok) {
			this.set({
				rejectedReadings: [
					...this.v.rejectedReadings.slice(-(KEPT_REFUSALS - 1)),
					{ seq: m.seq, reason: r.reason }
				],
				rejectedReadingCount: this.v.rejectedReadingCount + 1,
				lastError: `Reading ${m.seq} refused: ${r.reason}`
			});
			return;
		}
		if (r.duplicate) return;
		this.readingsBySeq.set(r.reading.seq, r.reading);
		const readings = this.v.readings;
		const next =
			readings.length === 0 || readings[readings.length - 1]!.seq < r.reading.seq
				? [...readings, r.reading]
				: [...readings, r.reading].sort((a, b) => a.seq - b.seq);
		this.set({ readings: next, phase: this.v.phase === 'joining' ? 'charging' : this.v.phase });
		this.reconsider();
	}

	private onInvoice(m: InvoiceMessage): void {
		const known = this.v.invoices.find(
			(i) => i.seq === m.seq && i.state !== 'refused' && i.state !== 'replaced'
		);
		if (known) {
			if (known.bolt11 === m.bolt11) return;
			// The station's new invoice for an increment whose payment failed: the same record, a new payment hash.
			if (known.state === 'failed' && known.recordHash === billingRecordHash(m.record)) {
				this.updateInvoice(known.seq, {
					state: 'replaced',
					message: `Replaced by a new invoice from the station after the payment failed.`
				});
				this.pendingInvoices.set(m.seq, m);
				this.reconsider();
				return;
			}
			this.addInvoice(
				m,
				'refused',
				'sequence',
				`A second, different invoice number ${m.seq} arrived; only the first is considered.`
			);
			return;
		}
		if (this.pendingInvoices.size >= 16 && !this.pendingInvoices.has(m.seq))
			return this.drop(`invoice ${m.seq} arrived while 16 others wait for their readings`);
		this.pendingInvoices.set(m.seq, m);
		this.reconsider();
	}

	private onEvent(e: SessionEvent): void {
		if (this.v.events.some((x) => x.seq === e.seq)) return;
		const patch: Partial<DriverView> = { events: [...this.v.events, e] };
		if (e.event === 'suspended')
			Object.assign(patch, {
				phase: 'suspended',
				suspendReason: e.reason ?? 'suspended by the station'
			});
		if (e.event === 'resumed') Object.assign(patch, { phase: 'charging', suspendReason: null });
		if (e.event === 'stopped' && this.v.phase !== 'settled' && this.v.phase !== 'closing')
			Object.assign(patch, { phase: 'stopping' });
		if (e.event === 'stopped' && e.amountMsat !== undefined)
			patch.stoppedAmountMsat = BigInt(e.amountMsat);
		if (e.event === 'closed') Object.assign(patch, { phase: 'settled' });
		this.set(patch);
		this.settleIfPaid();
	}

	/** Stopped and every payment made: the driver is done, whatever the ledger close is doing. */
	private settleIfPaid(): void {
		const due = this.v.stoppedAmountMsat;
		if (this.v.phase !== 'stopping' || due === null) return;
		if (this.v.invoices.some((i) => i.state === 'paying') || this.v.paidMsat < due) return;
		this.set({ phase: 'closing' });
	}

	private addInvoice(
		m: InvoiceMessage,
		state: InvoiceView['state'],
		reason?: InvoiceView['reason'],
		message?: string,
		paymentHash?: string
	): void {
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
		// Refused invoices are kept for the screen and the receipt, but a flood of them is not.
		let invoices = [...this.v.invoices, entry];
		const refused = invoices.filter((i) => i.state === 'refused');
		if (refused.length > KEPT_REFUSALS) invoices = invoices.filter((i) => i !== refused[0]);
		this.set({ invoices, lastError: state === 'refused' ? (message ?? null) : this.v.lastError });
	}

	/** Changes the live (not refused, not replaced) invoice `seq`. */
	private updateInvoice(seq: number, patch: Partial<InvoiceView>): void {
		this.set({
			invoices: this.v.invoices.map((i) =>
				i.seq === seq && i.state !== 'refused' && i.state !== 'replaced' ? { ...i, ...patch } : i
			)
		});
	}

	/** Re-evaluates invoices waiting for their readings, in order. */
	private reconsider(): void {
		if (!this.pin || !this.v.network) return;
		const seqs = [...this.pendingInvoices.keys()].sort((a, b) => a - b);
		for (const seq of seqs) {
			const m = this.pendingInvoices.get(seq)!;
			if (this.v.alarm) {
				this.pendingInvoices.delete(seq);
				this.addInvoice(m, 'refused', 'identity', `Invoice ${m.seq} is not paid: ${this.v.alarm}`);
				continue;
			}
			const d = decideInvoice(m, {
				...this.ids,
				tariff: this.pin.tariff,
				payee: this.pin.lightningPubkey,
				network: this.v.network,
				budgetMsat: this.v.budgetMsat,
				committedMsat: this.committedMsat,
				readings: this.readingsBySeq,
				firstReadingSeq: this.v.readings[0]?.seq ?? null,
				previous: this.accepted,
				// This session's own reservation of this very increment is not "used": see below.
				isPaymentHashUsed: (h) => this.o.journal.isUsed(h) && !this.ownReservation(h, m.seq),
				nowSeconds: Math.floor(this.now() / 1000),
				feeLimitMsat: this.feeLimitMsat
			});
			if (d.action === 'wait') return;
			this.pendingInvoices.delete(seq);
			if (d.action === 'refuse') {
				this.addInvoice(m, 'refused', d.reason, d.message);
				continue;
			}
			// Accepted before a reload whose stored session did not have it yet (the journal is written
			// before a payment, the session after): the broker delivered it again. Its payment is
			// already the journal's: take up its outcome, never send it a second time.
			const own = this.ownReservation(d.invoice.paymentHash, m.seq);
			this.accepted = { seq: m.seq, toReading: m.record.toReading };
			this.committedMsat += d.amountMsat;
			this.addInvoice(m, 'paying', undefined, undefined, d.invoice.paymentHash);
			if (own) {
				this.adopt(own);
				continue;
			}
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

	/** The journal's entry for `paymentHash` when this session reserved it for increment `seq` and no live invoice of the view holds it. */
	private ownReservation(paymentHash: string, seq: number): JournalEntry | null {
		const e = this.o.journal.entries().find((x) => x.paymentHash === paymentHash);
		if (
			!e ||
			e.sessionId !== this.ids.sessionId ||
			e.stationId !== this.ids.stationId ||
			e.seq !== seq
		)
			return null;
		return this.v.invoices.some(
			(i) => i.paymentHash === paymentHash && i.state !== 'refused' && i.state !== 'replaced'
		)
			? null
			: e;
	}

	/** Takes up the journal's outcome of a payment sent before a reload (the invoice view is `paying`). */
	private adopt(e: JournalEntry): void {
		if (e.status === 'succeeded')
			void this.settle(
				e,
				{
					paymentHash: e.paymentHash,
					status: 'succeeded',
					valueMsat: BigInt(e.amountMsat),
					feeMsat: BigInt(e.feeMsat ?? '0'),
					preimage: e.preimage
				},
				true
			);
		else if (e.status === 'failed')
			this.failed(
				e,
				paymentFailureSentence({
					paymentHash: e.paymentHash,
					status: 'failed',
					valueMsat: 0n,
					feeMsat: 0n,
					failureReason: e.failure as PaymentUpdate['failureReason']
				})
			);
		else void this.track(e);
	}

	private async pay(entry: JournalEntry): Promise<void> {
		try {
			await this.o.journal.reserve(entry);
		} catch {
			this.updateInvoice(entry.seq, {
				state: 'refused',
				reason: 'already_paid',
				message: `Invoice ${entry.seq} was already paid from this wallet.`
			});
			return;
		}
		await this.send(entry);
	}

	/** Sends a payment the journal has reserved, and settles, tracks or fails it by the answer. */
	private async send(entry: JournalEntry): Promise<void> {
		let result: PaymentUpdate;
		try {
			result = await this.o.lightning.pay({
				paymentRequest: entry.bolt11,
				feeLimitMsat: this.feeLimitMsat,
				timeoutSeconds: this.o.paymentTimeoutSeconds ?? 60
			});
		} catch (e) {
			// We do not know whether it left: keep it reserved and track it instead of paying again.
			this.updateInvoice(entry.seq, {
				state: 'paying',
				message: `Payment ${entry.seq} could not be confirmed yet (${(e as Error).message}): checking its outcome…`
			});
			void this.track(entry);
			return;
		}
		await this.settle(entry, result);
	}

	private async settle(entry: JournalEntry, result: PaymentUpdate, tracked = false): Promise<void> {
		if (result.status === 'succeeded') {
			await this.o.journal.complete(entry.paymentHash, {
				status: 'succeeded',
				feeMsat: result.feeMsat.toString(),
				preimage: result.preimage
			});
			// Counted once, for the live invoice it pays: a payment tracked after a reload before its
			// invoice is back in the view (or tracked twice) changes only the journal.
			const live = this.v.invoices.find(
				(i) => i.seq === entry.seq && i.state !== 'refused' && i.state !== 'replaced'
			);
			if (!live || live.state === 'paid') return;
			this.updateInvoice(entry.seq, {
				state: 'paid',
				feeMsat: result.feeMsat,
				preimage: result.preimage,
				message: undefined
			});
			this.set({
				paidMsat: this.v.paidMsat + BigInt(entry.amountMsat),
				feesMsat: this.v.feesMsat + result.feeMsat
			});
			this.settleIfPaid();
		} else if (result.status === 'failed' && result.failureReason === 'already_paid' && !tracked) {
			// The journal reserved this hash before any attempt, so an earlier attempt of ours paid it
			// (e.g. a request retried after a reload): fetch that payment's outcome and preimage.
			void this.track(entry);
		} else if (result.status === 'failed') {
			await this.o.journal.complete(entry.paymentHash, {
				status: 'failed',
				failure: result.failureReason
			});
			this.failed(entry, paymentFailureSentence(result));
		}
	}

	/**
	 * A definite failure: nothing left this wallet, so the increment is due again. Billing rolls back
	 * to before it, and the station is asked for a new invoice of the same record (a few times;
	 * then the driver decides). Until then the station suspends after its grace energy, as it should.
	 */
	private failed(entry: JournalEntry, sentence: string): void {
		this.committedMsat -= BigInt(entry.amountMsat);
		const live = this.v.invoices.find(
			(i) => i.seq === entry.seq && i.paymentHash === entry.paymentHash
		);
		if (live)
			this.accepted =
				live.seq === 1 ? null : { seq: live.seq - 1, toReading: live.record.fromReading };
		const asked = this.reinvoices.get(entry.seq) ?? 0;
		const automatic = asked < (this.o.maxReinvoices ?? 3) && !this.closed && !!this.channel;
		const delayMs = backoffDelay(asked + 1, {
			initialDelayMs: this.o.reinvoiceDelayMs ?? 2000,
			maxDelayMs: Infinity
		});
		const message = automatic
			? `${sentence} A new invoice will be asked for in ${delayMs >= 1000 ? `${Math.round(delayMs / 1000)} s` : `${delayMs} ms`}.`
			: `${sentence} Ask the station for a new invoice when the problem is fixed.`;
		this.updateInvoice(entry.seq, { state: 'failed', reason: 'payment_failed', message });
		this.set({ lastError: message });
		if (!automatic) return;
		const timer = setTimeout(() => {
			this.reinvoiceTimers.delete(timer);
			// Paid meanwhile (a late success of the old one), or asked for by hand: nothing to do.
			const live = this.v.invoices.find(
				(i) => i.seq === entry.seq && i.state !== 'refused' && i.state !== 'replaced'
			);
			if (
				this.closed ||
				live?.state !== 'failed' ||
				live.paymentHash !== entry.paymentHash ||
				(this.reinvoices.get(entry.seq) ?? 0) !== asked
			)
				return;
			void this.requestNewInvoice(entry.seq).catch((e: Error) =>
				this.set({ lastError: `Could not ask for a new invoice: ${e.message}` })
			);
		}, delayMs);
		this.reinvoiceTimers.add(timer);
	}

	private async track(entry: JournalEntry): Promise<void> {
		try {
			const r = await this.o.lightning.trackPayment(entry.paymentHash);
			await this.settle(entry, r, true);
		} catch (e) {
			// The node has no payment with this hash: nothing left (the wallet stopped after reserving
			// it and before the node took it, or the request was lost on the way). Send it again: at once
			// the first time, then after 1, 2, 4… up to 30 s. Never a second payment: a copy still on its
			// way is refused by the node for the same hash ("already paid"/in flight) and tracked; an
			// invoice expired meanwhile fails, and the station is asked for a new one.
			if (e instanceof LightningError && e.code === 'not_found' && !this.closed) {
				const tries = this.resent.get(entry.paymentHash) ?? 0;
				this.resent.set(entry.paymentHash, tries + 1);
				const again = () =>
					(this.payQueue = this.payQueue.then(() => (this.closed ? undefined : this.send(entry))));
				if (tries === 0) return void again();
				this.updateInvoice(entry.seq, {
					message: `Payment ${entry.seq} has not reached your Lightning node yet: sending it again.`
				});
				const timer = setTimeout(
					() => {
						this.reinvoiceTimers.delete(timer);
						void again();
					},
					backoffDelay(tries, { initialDelayMs: 1000, maxDelayMs: 30_000 })
				);
				this.reinvoiceTimers.add(timer);
				return;
			}
			this.set({ lastError: `Still checking payment ${entry.seq}: ${(e as Error).message}` });
		}
	}

	/** Payments of this session that were in flight when the wallet last stopped. */
	private async resumeInFlight(): Promise<void> {
		for (const e of this.o.journal.entries()) {
			if (
				e.sessionId !== this.ids.sessionId ||
				e.stationId !== this.ids.stationId ||
				e.status !== 'sending'
			)
				continue;
			void this.track(e);
		}
	}
}

const NOUNS = {
	status: 'a status',
	readings: 'a reading',
	invoices: 'an invoice',
	events: 'an event',
	driver: 'a driver message'
} as const;

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
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
