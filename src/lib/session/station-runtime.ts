// The kiosk's core, framework-free: it polls the meter, signs each reading as OCMF, publishes
// readings, invoices and events over the bus, watches invoices, drives the charger and anchors the
// session on the ledger. All decisions are made by the pure `reduce` in station.ts; this file only
// carries out its effects. The kiosk UI and the headless station (`npm run station`) both run it.
//
// Durability: every reading is stored before it is published, every message goes through the
// outbox, ledger writes through a durable job queue, and the session snapshot is saved after each
// change, so a reload resumes the session without counting energy or issuing an invoice twice.
import type { Charger } from '../charger';
import { LightningError, type LightningNode, type Subscription } from '../lightning';
import { type Meter, MeterGuard, type MeterSample, pollMeter } from '../meter';
import type { MessageBus } from '../mqtt';
import { MemoryKioskStore } from '../storage';
import {
	type BillingRecord,
	billingRecordHash,
	driverTopic,
	encodeMessage,
	eventsTopic,
	hasValidMac,
	type InvoiceMessage,
	invoicesTopic,
	makeReading,
	newJoinSecret,
	parseMessageData,
	parseOcmf,
	parseOcmfTime,
	type ReadingMessage,
	readingsTopic,
	readRawMessage,
	type SessionEvent,
	sessionKeys,
	type SessionKeys,
	signStationMessage,
	type StationStatus,
	statusTopic,
	tagMessage,
	type Tariff,
	verifyDriverSignature
} from '../protocol';
import {
	invoicingRecord,
	isMeterFault,
	isMeterGap,
	METER_FAULT_PREFIX,
	METER_GAP_PREFIX,
	newStationSession,
	reduce,
	unpaid,
	type StationEffect,
	type StationEvent,
	type StationSession,
	type SuspendCause,
	type StopCause
} from './station';
import { Outbox, type OutboxMessage } from './outbox';
import { LedgerJobs } from './ledger-jobs';
import type { KioskStore, LedgerJob, StationLedger } from './ports';
import { stationStatus, type StationIdentity } from './status';
import { Emitter } from '../core';

/** Lightning errors that a node coming up again ends by itself: worth another attempt. */
const TRANSIENT_LIGHTNING = new Set(['starting', 'unreachable', 'timeout']);
/** Attempts at reissuing one invoice (at `invoiceRetryMs` apart: a minute at the default). */
const REISSUE_ATTEMPTS = 12;

/** What an operator alarm is about. */
export type AlarmCause =
	'meter_fault' | 'charger_disobeyed' | 'ledger_mismatch' | 'ledger_refused_close';

export interface StationRuntimeOptions {
	identity: StationIdentity;
	tariff: Tariff;
	meter: Meter;
	charger: Charger;
	lightning: LightningNode;
	bus: MessageBus;
	ledger?: StationLedger;
	/** Where the session, the outbox and the ledger jobs survive a reload; in memory by default. */
	store?: KioskStore;
	pollMs?: number;
	anchorIntervalMs?: number;
	/** Pause before a failed final invoice is tried again (default 5 s). */
	invoiceRetryMs?: number;
	/** Consecutive failed meter polls that make a fault (default 1: the Modbus master already retries). */
	readFailuresForFault?: number;
	/**
	 * The most energy per hour the meter can plausibly count, W (default: 1.5 × the station's
	 * maximum power). A larger step between two reads is a fault, not energy to bill.
	 */
	maxPlausiblePowerW?: number;
	/** How long the meter may still show power after the charger was told to suspend or stop (default 5 s). */
	chargerObeyMs?: number;
	/**
	 * The longest the charger may run without a meter reading (default 5 s, or three polls if that
	 * is longer). Past it the charger is suspended until the meter answers again: without readings
	 * nothing bounds the energy a driver has not paid for (an 18 s gap let 195 Wh through a 150 Wh bound).
	 */
	maxMeterGapMs?: number;
	newSessionId?: () => string;
	now?: () => number;
	onLog?: (line: string) => void;
}

export interface StationView {
	session: StationSession;
	lastSample: MeterSample | null;
	readings: ReadingMessage[];
	events: SessionEvent[];
	lightningPubkey: string;
	network: StationStatus['network'];
	lastError: string | null;
	/** An operator alarm, in words: the charger did not obey, the meter is faulty, the ledger disagrees. Cleared by the operator. */
	alarm: string | null;
	/** What the alarm is about, for decisions (never read the sentence). */
	alarmCause: AlarmCause | null;
	anchors: { txHash: string; root: string; fromReading: number; toReading: number }[];
	closeTx: string | null;
	/** Messages stored but not yet acknowledged by the broker; ledger jobs still to do. */
	outboxPending: number;
	ledgerPending: number;
	/** True when this session was picked up again from storage after a reload. */
	resumed: boolean;
	/** Driver-topic messages refused (no proof of the join secret, not signed by the driver's key, replayed). */
	refusedDriverMessages: number;
	/** Why the last few were refused. */
	driverRefusals: string[];
	/** Retained statuses on this station's topic that were not this kiosk's (each answered by republishing its own). */
	foreignStatuses: number;
}

/** What is saved after every change of the session (the readings are stored one by one beside it). */
export interface StationSnapshot {
	v: 1;
	session: StationSession;
	events: SessionEvent[];
	eventSeq: number;
	readingSeq: number;
	anchoredTo: number;
	anchors: StationView['anchors'];
	closeTx: string | null;
	/** The billing record whose invoice is being created (stored before the Lightning call). */
	pendingRecord: BillingRecord | null;
	/** Highest invoice seq handed to the outbox. */
	invoicesPublished: number;
	savedAt: number;
}

export async function loadStationSnapshot(
	store: KioskStore,
	stationId: string
): Promise<StationSnapshot | null> {
	const s = await store.loadSnapshot<StationSnapshot>(stationId);
	if (!s || s.v !== 1) return null;
	// Snapshots saved before suspends carried a cause had only the sentence: read the cause from it once.
	if (s.session.suspendCause === undefined)
		s.session = { ...s.session, suspendCause: legacySuspendCause(s.session.suspendReason) };
	return s;
}

function legacySuspendCause(reason: string | null): SuspendCause | null {
	if (reason === null) return null;
	if (reason.startsWith(METER_GAP_PREFIX)) return 'meter_gap';
	if (reason.startsWith(METER_FAULT_PREFIX)) return 'meter_fault';
	return 'unpaid';
}

export class StationRuntime {
	private session: StationSession;
	private readings: ReadingMessage[] = [];
	private events: SessionEvent[] = [];
	private eventSeq = 0;
	private readingSeq = 0;
	private lastSample: MeterSample | null = null;
	private lastError: string | null = null;
	private alarm: string | null = null;
	private alarmCause: AlarmCause | null = null;
	/** The lastError the ledger queue set, so its recovery clears only that one. */
	private ledgerError: string | null = null;
	private anchoredTo = 0;
	private anchors: StationView['anchors'] = [];
	private closeTx: string | null = null;
	private pendingRecord: BillingRecord | null = null;
	private invoicesPublished = 0;
	private resumed = false;
	private refusedDriverMessages = 0;
	private driverRefusals: string[] = [];
	private foreignStatuses = 0;
	private lastStatusPayload: string | null = null;
	private statusRepublish: { timer: ReturnType<typeof setTimeout> | null; lastAt: number } = {
		timer: null,
		lastAt: 0
	};
	private unsubscribeStatus: (() => void) | null = null;
	private keysFor: { sessionId: string; keys: SessionKeys } | null = null;
	private lightningPubkey = '';
	private network: StationStatus['network'] = 'regtest';
	private watches = new Map<string, Subscription>();
	private timers: ReturnType<typeof setInterval>[] = [];
	private unsubscribeDriver: (() => void) | null = null;
	private polling = false;
	private readFailures = 0;
	/** When the meter last answered, or the charger was last allowed (whichever is later). */
	private meterFreshAt: number | null = null;
	private guard: MeterGuard | null = null;
	/** Set after a suspend or stop: the meter must show the power gone by `deadline`. */
	private awaitingPowerOff: { action: string; deadline: number } | null = null;
	private readonly views = new Emitter<[StationView]>();
	private effects: Promise<void> = Promise.resolve();
	private saving: Promise<void> = Promise.resolve();
	private readonly store: KioskStore;
	private readonly outbox: Outbox;
	private readonly ledgerJobs: LedgerJobs;
	private stopped = false;
	private readonly now: () => number;

	constructor(private readonly o: StationRuntimeOptions) {
		this.now = o.now ?? (() => Date.now());
		this.session = newStationSession(o.identity.stationId, o.tariff);
		this.store = o.store ?? new MemoryKioskStore();
		this.outbox = new Outbox(o.bus, this.store.queue<OutboxMessage>('outbox'), {
			onRefused: (m, e) => this.fail(`The broker refused a message on ${m.topic}`, e),
			onChange: () => this.notify()
		});
		this.ledgerJobs = new LedgerJobs(o.ledger, this.store.queue<LedgerJob>('ledger'), {
			carryOut: (job) => this.carryOut(job),
			isCurrent: (job) => job.sessionId === this.session.sessionId,
			closed: () => this.dispatch({ type: 'closed' }),
			log: (line) => this.log(line),
			fail: (what, e) => this.fail(what, e),
			retrying: (e) => {
				this.fail('Ledger write failed (queued, will retry)', e);
				this.ledgerError = this.lastError;
			},
			alarm: (cause, text) => this.raiseAlarm(cause, text),
			recovered: () => {
				if (this.ledgerError !== null && this.lastError === this.ledgerError) this.lastError = null;
				this.ledgerError = null;
			},
			notify: () => this.notify()
		});
	}

	view(): StationView {
		return {
			session: this.session,
			lastSample: this.lastSample,
			readings: this.readings,
			events: this.events,
			lightningPubkey: this.lightningPubkey,
			network: this.network,
			lastError: this.lastError,
			alarm: this.alarm,
			alarmCause: this.alarmCause,
			anchors: this.anchors,
			closeTx: this.closeTx,
			outboxPending: this.outbox.pending,
			ledgerPending: this.ledgerJobs.pending,
			resumed: this.resumed,
			refusedDriverMessages: this.refusedDriverMessages,
			driverRefusals: this.driverRefusals,
			foreignStatuses: this.foreignStatuses
		};
	}

	/** What the station's QR code carries for the current session (null before one is offered). */
	offer(): { stationId: string; sessionId: string; secret: string } | null {
		const s = this.session;
		return s.sessionId && s.joinSecret
			? { stationId: s.stationId, sessionId: s.sessionId, secret: s.joinSecret }
			: null;
	}

	/** The offered or running session's MAC keys (from its join secret). */
	private keys(): SessionKeys | null {
		const s = this.session;
		if (!s.sessionId || !s.joinSecret) return null;
		if (this.keysFor?.sessionId !== s.sessionId)
			this.keysFor = {
				sessionId: s.sessionId,
				keys: sessionKeys(s.joinSecret, s.stationId, s.sessionId)
			};
		return this.keysFor.keys;
	}

	/** A status, invoice or event as this station sends it: signed with its key, tagged for the session. */
	private signed<T extends object>(message: T, tag = true): T {
		return signStationMessage(
			message,
			this.o.identity.stationId,
			this.o.identity.signingKeyHex,
			tag ? (this.keys()?.station ?? undefined) : undefined
		);
	}

	subscribe(listener: (v: StationView) => void): () => void {
		const off = this.views.on(listener);
		listener(this.view());
		return off;
	}

	/**
	 * Starts the station: replays what the outbox and the ledger queue still hold, resumes a
	 * session found in storage (or offers a new one), then polls the meter. With `pollMs: 0` the
	 * caller drives the meter with `pollOnce()` (tests).
	 */
	async start(): Promise<void> {
		const info = await this.o.lightning.getInfo();
		this.lightningPubkey = info.pubkey;
		this.network = info.network;
		await this.outbox.start();
		await this.ledgerJobs.start();
		await this.watchOwnStatus();
		const resumed = await this.resume();
		if (this.o.pollMs !== 0)
			this.timers.push(setInterval(() => void this.pollOnce(), this.o.pollMs ?? 1000));
		if (this.o.anchorIntervalMs !== 0)
			this.timers.push(setInterval(() => void this.anchor(), this.o.anchorIntervalMs ?? 60_000));
		if (!resumed) await this.offerNewSession();
	}

	/** Stops timers and watches; what is still queued stays stored for the next start. */
	async stop(): Promise<void> {
		this.stopped = true;
		for (const t of this.timers) clearInterval(t);
		this.timers = [];
		for (const w of this.watches.values()) w.close();
		this.watches.clear();
		this.unsubscribeDriver?.();
		this.unsubscribeStatus?.();
		if (this.statusRepublish.timer) clearTimeout(this.statusRepublish.timer);
		const ledgerStopped = this.ledgerJobs.stop();
		// Effects in progress are not awaited (a Lightning call may hang); what they stored stays stored.
		await this.saving.catch(() => undefined);
		await ledgerStopped;
		this.outbox.close();
	}

	/** Resolves when every message so far is acknowledged and every ledger job done (tests, benchmark). */
	async settle(): Promise<void> {
		await this.effects;
		await this.outbox.drained();
		await this.saving;
		await this.ledgerJobs.drained();
	}

	/** A stop from the kiosk's own button (operator) or from a driver message. */
	requestStop(cause: StopCause): void {
		this.dispatch({ type: 'stop', cause });
	}

	/** The operator checked the meter/charger and acknowledges the alarm; a meter fault lets charging go on. */
	clearAlarm(): void {
		this.alarm = null;
		this.alarmCause = null;
		this.readFailures = 0;
		// Checked afresh against the last signed reading: a meter that went backwards faults again.
		this.guard = null;
		if (isMeterFault(this.session)) this.dispatch({ type: 'fault_cleared' });
		else this.notify();
	}

	/** Offer the next session: fresh id, a QR code on screen, the driver topic subscribed. */
	async offerNewSession(): Promise<void> {
		const sessionId = this.o.newSessionId?.() ?? randomSessionId();
		this.readings = [];
		this.events = [];
		this.eventSeq = 0;
		this.readingSeq = 0;
		this.anchoredTo = 0;
		this.anchors = [];
		this.closeTx = null;
		this.pendingRecord = null;
		this.invoicesPublished = 0;
		this.resumed = false;
		this.awaitingPowerOff = null;
		this.guard = null;
		this.dispatch({ type: 'offered', sessionId, joinSecret: newJoinSecret() });
		await this.store
			.dropReadings(this.o.identity.stationId, sessionId)
			.catch((e) => this.fail('Could not clear old readings', e));
		await this.listenToDriver(sessionId);
		await this.publishStatus();
	}

	private async listenToDriver(sessionId: string): Promise<void> {
		this.unsubscribeDriver?.();
		this.unsubscribeDriver = await this.o.bus.subscribe(
			driverTopic(this.o.identity.stationId, sessionId),
			(topic, payload) => this.onDriverMessage(sessionId, topic, payload)
		);
	}

	/** Picks up the stored session, if one was running; true when it did. */
	private async resume(): Promise<boolean> {
		const { stationId } = this.o.identity;
		const snap = await loadStationSnapshot(this.store, stationId);
		if (!snap || snap.session.stationId !== stationId || !snap.session.sessionId) return false;
		const s = snap.session;
		if (s.phase === 'idle' || (s.phase === 'settled' && s.closed)) return false;
		// Stored by a version without join secrets: no driver could prove this session; offer a new one.
		if (!s.joinSecret) return false;
		// A reissue cut short by the reload is forgotten: the driver asks again.
		this.session = {
			...s,
			tariff: s.phase === 'awaiting_driver' ? this.o.tariff : s.tariff,
			reissuing: null
		};
		this.events = snap.events;
		this.eventSeq = snap.eventSeq;
		this.anchoredTo = snap.anchoredTo;
		this.anchors = snap.anchors;
		this.closeTx = snap.closeTx;
		this.pendingRecord = snap.pendingRecord;
		this.invoicesPublished = snap.invoicesPublished;
		this.readings = await this.store.readings(stationId, s.sessionId);
		this.readingSeq = Math.max(snap.readingSeq, this.readings.at(-1)?.seq ?? 0);
		this.resumed = true;
		this.log(`Resumed session ${s.sessionId} (${s.phase}, ${this.readings.length} readings)`);

		// Readings stored after the last snapshot: apply them now (the reducer ignores none, counts none twice).
		for (const r of this.readings) {
			if (s.last && r.seq <= s.last.seq) continue;
			const ref = readingRefOf(r);
			if (!ref) continue;
			// It may not have reached the outbox before the page went away: publish it again (receivers deduplicate).
			void this.outbox
				.publish(readingsTopic(stationId, s.sessionId), encodeMessage(r))
				.catch((e) => this.fail('Storing a reading for publishing failed', e));
			this.dispatch({ type: 'reading', reading: ref });
		}
		await this.listenToDriver(s.sessionId);
		const unpaidIncrements = this.session.increments.filter((i) => !i.paid);
		// Invoices created but maybe not published: publish again (same payment hash; receivers deduplicate).
		for (const i of this.session.increments)
			if (i.seq > this.invoicesPublished)
				await this.publishInvoice(i.record, i.recordHash, i.bolt11);
		for (const i of unpaidIncrements)
			for (const hash of [i.paymentHash, ...(i.replacedHashes ?? [])])
				await this.recheckInvoice(hash);
		// An invoice decided but not created before the page went away (its Lightning call cut short, or
		// not yet begun: the snapshot then says `invoicing` without a stored record) would hold billing
		// and the final invoice forever: create it now, for the very record the reducer decided.
		const cutShort = s.invoicing ? (snap.pendingRecord ?? invoicingRecord(s)) : null;
		if (cutShort) this.effects = this.effects.then(() => this.createInvoice(cutShort));
		// The charger lost its state with the page: tell it again what the session says.
		const phase = this.session.phase;
		if (phase === 'charging') this.enqueueEffect({ kind: 'charger', action: 'allow' });
		else if (phase === 'suspended') this.enqueueEffect({ kind: 'charger', action: 'suspend' });
		else if (phase === 'stopping') {
			this.enqueueEffect({ kind: 'charger', action: 'stop' });
			if (!this.session.last || this.session.last.tx !== 'E')
				this.enqueueEffect({ kind: 'final_reading' });
		} else if (phase === 'settled' && !this.session.closed) {
			const closing = (await this.ledgerJobs.list()).some(
				(j) => j.kind === 'close' && j.sessionId === s.sessionId
			);
			if (!closing) this.dispatch({ type: 'closed' });
		}
		await this.publishStatus();
		void this.persist();
		return true;
	}

	private async recheckInvoice(paymentHash: string): Promise<void> {
		try {
			const st = await this.o.lightning.lookupInvoice(paymentHash);
			if (st.state === 'settled')
				return this.dispatch({ type: 'invoice_paid', paymentHash, preimage: st.preimage });
		} catch (e) {
			this.fail('Could not look up an invoice after the restart', e);
		}
		this.watchInvoice(paymentHash);
	}

	/**
	 * Driver messages count only with proof: the join's MAC shows it holds the QR code's one-time
	 * secret (a stranger on the broker never saw it) and registers the driver's key; every later
	 * message is signed with that key and numbered. Anything else is dropped and counted.
	 */
	private onDriverMessage(sessionId: string, topic: string, payload: Uint8Array): void {
		if (this.session.sessionId !== sessionId) return;
		const refuse = (why: string) => {
			this.refusedDriverMessages++;
			this.driverRefusals = [...this.driverRefusals.slice(-9), why];
			// One log line per ten refusals at most: a flood must not flood the log.
			if (this.refusedDriverMessages % 10 === 1)
				this.log(`Refused a driver message (${this.refusedDriverMessages} so far): ${why}`);
			this.notifySoon();
		};
		const raw = readRawMessage(topic, payload);
		if (!raw.ok) return refuse(raw.error);
		const keys = this.keys();
		if (
			!keys ||
			typeof raw.data !== 'object' ||
			raw.data === null ||
			!hasValidMac(raw.data, keys.driver)
		)
			return refuse('no proof of the session code (join secret)');
		const parsed = parseMessageData(raw.where, raw.data);
		if (!parsed.ok || parsed.kind !== 'driver')
			return refuse(parsed.ok ? 'wrong topic' : parsed.error);
		const m = parsed.message;
		if (m.sessionId !== sessionId) return refuse('for another session');
		const s = this.session;
		if (m.type === 'join') {
			if (!m.driverKey) return refuse('a join without a driver key');
			if (s.phase !== 'awaiting_driver')
				return s.driverKey === m.driverKey
					? undefined
					: refuse('a join after the session was taken');
			return this.dispatch({
				type: 'joined',
				budgetMsat: m.budgetMsat,
				driverRef: m.driverRef,
				driverKey: m.driverKey
			});
		}
		if (!s.driverKey || !verifyDriverSignature(m, s.stationId, s.driverKey))
			return refuse(`a ${m.type} not signed by the driver who joined`);
		if (m.n === undefined || m.n <= s.driverCounter)
			return refuse(`a ${m.type} that was sent before (replayed)`);
		if (m.type === 'budget') this.dispatch({ type: 'budget', budgetMsat: m.budgetMsat, n: m.n });
		else if (m.type === 'stop') this.dispatch({ type: 'stop', cause: 'driver', n: m.n });
		else if (m.type === 'reinvoice') this.dispatch({ type: 'reinvoice', seq: m.seq, n: m.n });
	}

	/**
	 * Watches this station's retained status: one that is not the last this kiosk published (a
	 * stranger's, an old one, the broker's copy of the offline will) is answered by publishing its
	 * own again, at most every two seconds, so a poisoned status never sticks.
	 */
	private async watchOwnStatus(): Promise<void> {
		this.unsubscribeStatus = await this.o.bus.subscribe(
			statusTopic(this.o.identity.stationId),
			(_topic, payload) => {
				if (this.lastStatusPayload === null || this.stopped) return;
				if (new TextDecoder().decode(payload) === this.lastStatusPayload) return;
				this.foreignStatuses++;
				if (this.foreignStatuses % 10 === 1)
					this.log(
						`A status on this station's topic was not its own (${this.foreignStatuses} so far): publishing its own again`
					);
				if (this.statusRepublish.timer) return;
				const wait = Math.max(0, this.statusRepublish.lastAt + 2000 - this.now());
				this.statusRepublish.timer = setTimeout(() => {
					this.statusRepublish.timer = null;
					this.statusRepublish.lastAt = this.now();
					void this.publishStatus();
				}, wait);
				this.notifySoon();
			}
		);
	}

	private notifyTimer: ReturnType<typeof setTimeout> | null = null;
	/** Counter-only changes: batched, so a flood of refused messages does not redraw the kiosk per message. */
	private notifySoon(): void {
		this.notifyTimer ??= setTimeout(() => {
			this.notifyTimer = null;
			this.notify();
		}, 250);
	}

	private dispatch(e: StationEvent): void {
		const before = this.session.phase;
		const { state, effects } = reduce(this.session, e);
		if (state === this.session && effects.length === 0) return;
		this.session = state;
		// Effects run one after another, in the order the reducer decided them (charger off before the end reading).
		for (const fx of effects) this.enqueueEffect(fx);
		if (before !== state.phase) void this.publishStatus();
		void this.persist();
		this.notify();
	}

	private enqueueEffect(fx: StationEffect): void {
		this.effects = this.effects.then(() => this.run(fx));
	}

	/** Saves the snapshot; saves are chained so the last one written is the newest. */
	private persist(): Promise<void> {
		const snap: StationSnapshot = {
			v: 1,
			session: this.session,
			events: this.events,
			eventSeq: this.eventSeq,
			readingSeq: this.readingSeq,
			anchoredTo: this.anchoredTo,
			anchors: this.anchors,
			closeTx: this.closeTx,
			pendingRecord: this.pendingRecord,
			invoicesPublished: this.invoicesPublished,
			savedAt: this.now()
		};
		const saved = this.saving.then(() => this.store.saveSnapshot(this.o.identity.stationId, snap));
		this.saving = saved.catch((e) => this.fail('Could not save the session', e));
		return this.saving;
	}

	private notify(): void {
		const v = this.view();
		this.views.emit(v);
	}

	private log(line: string): void {
		this.o.onLog?.(line);
	}

	private fail(what: string, e: unknown): void {
		this.lastError = `${what}: ${(e as Error)?.message ?? String(e)}`;
		this.log(this.lastError);
		this.notify();
	}

	private raiseAlarm(cause: AlarmCause, text: string): void {
		if (this.alarm === text) return;
		this.alarm = text;
		this.alarmCause = cause;
		this.log(`ALARM: ${text}`);
		void this.publishEvent({ event: 'fault', reason: text });
		this.notify();
	}

	/** The watchdog's limit: the longest the charger may run without a meter reading. */
	private get maxMeterGapMs(): number {
		return this.o.maxMeterGapMs ?? Math.max(5000, 3 * (this.o.pollMs || 1000));
	}

	/**
	 * Suspends a running charger when the meter has not answered within the limit. Called on every
	 * poll tick before anything else, so a read that hangs (the next ticks skip the read) or a page
	 * whose timers were starved (the first tick after) still stops the energy.
	 */
	private checkMeterGap(): void {
		if (this.session.phase !== 'charging' || this.meterFreshAt === null) return;
		const gap = this.now() - this.meterFreshAt;
		if (gap <= this.maxMeterGapMs) return;
		const reason = `the meter was not read for ${(gap / 1000).toFixed(1)} s (at most ${(this.maxMeterGapMs / 1000).toFixed(1)} s allowed); charging is paused until it answers again`;
		this.log(`Meter watchdog: ${reason}`);
		this.dispatch({ type: 'meter_gap', reason });
	}

	/** One meter poll: read, check, sign and publish (while a session runs). */
	async pollOnce(): Promise<void> {
		this.checkMeterGap();
		if (this.polling) return; // a slow meter must not stack reads
		this.polling = true;
		try {
			// The meter layer's poll: the sample plus the serial answering now (a swapped meter is a fault).
			const outcome = await pollMeter(this.o.meter, this.now);
			if (!outcome.ok) {
				this.readFailures++;
				this.fail('Meter read failed', outcome.error);
				if (
					this.readFailures >= (this.o.readFailuresForFault ?? 1) &&
					this.sessionRunning() &&
					!isMeterFault(this.session)
				) {
					const verdict = this.meterGuard().check(outcome);
					if (!verdict.ok) this.meterFault(verdict.fault.message);
				}
				return;
			}
			this.readFailures = 0;
			const sample = outcome.sample;
			this.lastSample = sample;
			this.meterFreshAt = this.now();
			this.checkChargerObeyed(sample);
			if (this.sessionRunning() && !isMeterFault(this.session)) {
				const verdict = this.meterGuard().check(outcome);
				if (!verdict.ok) return this.meterFault(verdict.fault.message);
				await this.signAndPublish(sample, this.readingSeq === 0 ? 'B' : 'T');
				// The reading counts what flowed in the gap; then charging may go on (grace and budget permitting).
				if (isMeterGap(this.session)) this.dispatch({ type: 'meter_back' });
			} else this.notify();
		} finally {
			this.polling = false;
		}
	}

	private sessionRunning(): boolean {
		return this.session.phase === 'charging' || this.session.phase === 'suspended';
	}

	private meterFault(message: string): void {
		this.raiseAlarm(
			'meter_fault',
			`${message} Energy since the last verified reading is not billed.`
		);
		this.dispatch({ type: 'meter_fault', reason: message });
	}

	/**
	 * The meter layer's guard, continuing from the session's last signed reading: what it refuses
	 * (energy backwards or faster than the charger can deliver, another meter) is never signed.
	 */
	private meterGuard(): MeterGuard {
		const last = this.session.last;
		this.guard ??= new MeterGuard({
			expectedSerial: this.o.meter.identity.serial,
			maxPowerW: this.o.maxPlausiblePowerW ?? this.o.identity.maxPowerW * 1.5,
			last: last
				? { energyWh: last.energyWh, at: last.at, powerW: 0, voltageV: 0, currentA: 0 }
				: undefined
		});
		return this.guard;
	}

	/** Why a sample cannot be billed, or null (the guard then counts it as the last good one). */
	private implausible(sample: MeterSample): string | null {
		const verdict = this.meterGuard().check({
			ok: true,
			sample,
			serial: this.o.meter.identity.serial
		});
		return verdict.ok ? null : verdict.fault.message;
	}

	private checkChargerObeyed(sample: MeterSample): void {
		const wait = this.awaitingPowerOff;
		if (!wait) return;
		const threshold = Math.max(50, this.o.identity.maxPowerW * 0.02);
		if (sample.powerW <= threshold) {
			this.awaitingPowerOff = null;
			if (this.alarmCause === 'charger_disobeyed') {
				this.alarm = null;
				this.alarmCause = null;
			}
			return;
		}
		if (this.now() >= wait.deadline) {
			this.raiseAlarm(
				'charger_disobeyed',
				`The charger did not obey "${wait.action}": the meter still shows ${(sample.powerW / 1000).toFixed(1)} kW. Switch the charger off by hand and check its wiring.`
			);
		}
	}

	private async signAndPublish(sample: MeterSample, tx: 'B' | 'T' | 'E'): Promise<void> {
		const { stationId } = this.o.identity;
		const sessionId = this.session.sessionId;
		const phase = this.session.phase;
		// Only the end reading may follow a stop; a poll that raced the stop is dropped, not signed.
		if (tx !== 'E' && phase !== 'charging' && phase !== 'suspended') return;
		if (tx === 'E' && phase !== 'stopping') return;
		const seq = ++this.readingSeq;
		const { ocmf } = makeReading(
			{
				seq,
				tx,
				energyWh: sample.energyWh,
				at: sample.at,
				meter: this.o.meter.identity,
				stationId,
				sessionId
			},
			this.o.identity.signingKeyHex
		);
		const keys = this.keys();
		const body: ReadingMessage = { v: 1, type: 'reading', sessionId, seq, ocmf };
		const msg: ReadingMessage = keys ? tagMessage(body, keys.station) : body;
		this.readings = [...this.readings, msg];
		// Stored first: a reload finds every reading it signed, so none is lost and none counted twice.
		await this.store.putReading(stationId, msg);
		const published = this.outbox.publish(readingsTopic(stationId, sessionId), encodeMessage(msg));
		this.dispatch({
			type: 'reading',
			reading: { seq, energyWh: sample.energyWh, at: sample.at, tx }
		});
		await published.catch((e) => this.fail('Storing a reading for publishing failed', e));
	}

	private async run(fx: StationEffect): Promise<void> {
		const sessionId = this.session.sessionId;
		try {
			switch (fx.kind) {
				case 'charger':
					// Allowing starts the watchdog's window afresh: the meter has one full gap to answer.
					if (fx.action === 'allow')
						this.meterFreshAt = Math.max(this.meterFreshAt ?? 0, this.now());
					await this.o.charger[fx.action]();
					this.awaitingPowerOff =
						fx.action === 'allow'
							? null
							: { action: fx.action, deadline: this.now() + (this.o.chargerObeyMs ?? 5000) };
					return;
				case 'final_reading': {
					// Let the contactor open, then the end reading closes the signed series.
					let sample: MeterSample;
					try {
						sample = await this.o.meter.read();
					} catch (e) {
						this.dispatch({
							type: 'final_failed',
							reason: `the meter did not answer (${(e as Error).message})`
						});
						await this.anchor();
						return;
					}
					this.lastSample = sample;
					const problem = isMeterFault(this.session)
						? 'the meter is faulty'
						: this.implausible(sample);
					if (problem) this.dispatch({ type: 'final_failed', reason: problem });
					else await this.signAndPublish(sample, 'E');
					await this.anchor();
					return;
				}
				case 'create_invoice':
					await this.createInvoice(fx.record);
					return;
				case 'reissue_invoice':
					await this.reissueInvoice(fx.seq, fx.record);
					return;
				case 'event':
					await this.publishEvent({
						event: fx.event,
						reason: fx.reason,
						invoiceSeq: fx.invoiceSeq,
						paymentHash: fx.paymentHash,
						energyWh: fx.energyWh,
						amountMsat: fx.amountMsat
					});
					return;
				case 'ledger_open':
					this.ledgerJobs.enqueue({
						kind: 'open',
						sessionId,
						driverRef: this.session.driverRef ?? ''
					});
					return;
				case 'ledger_close':
					if (!this.o.ledger) {
						this.dispatch({ type: 'closed' });
						return;
					}
					this.ledgerJobs.enqueue({
						kind: 'close',
						sessionId,
						energyWh: fx.energyWh,
						amountMsat: fx.amountMsat,
						paymentHashes: fx.paymentHashes
					});
					return;
			}
		} catch (e) {
			this.fail(`Could not carry out ${fx.kind}`, e);
		}
	}

	private async createInvoice(record: BillingRecord): Promise<void> {
		const recordHash = billingRecordHash(record);
		// Stored before the Lightning call: after a reload the same record is invoiced, never a second one.
		this.pendingRecord = record;
		await this.persist();
		let created;
		try {
			created = await this.o.lightning.createInvoice({
				amountMsat: BigInt(record.amountMsat),
				descriptionHash: recordHash,
				expirySeconds: this.o.tariff.invoiceExpirySeconds
			});
		} catch (e) {
			this.pendingRecord = null;
			this.dispatch({ type: 'invoice_failed', seq: record.seq, message: (e as Error).message });
			// While charging, the next reading bills again; after the end reading nothing would, so retry
			// after a pause (not at once: a Lightning node that is down must not be hammered).
			if (this.session.phase === 'stopping')
				setTimeout(() => this.dispatch({ type: 'retry_billing' }), this.o.invoiceRetryMs ?? 5000);
			return;
		}
		this.pendingRecord = null;
		this.dispatch({
			type: 'invoice_created',
			increment: {
				seq: record.seq,
				record,
				recordHash,
				paymentHash: created.paymentHash,
				bolt11: created.paymentRequest
			}
		});
		await this.saving;
		await this.publishInvoice(record, recordHash, created.paymentRequest);
		this.watchInvoice(created.paymentHash);
	}

	/** A new invoice for the same record (the driver's payment of the old one failed); both stay watched. */
	private async reissueInvoice(seq: number, record: BillingRecord, attempt = 1): Promise<void> {
		const recordHash = billingRecordHash(record);
		let created;
		try {
			created = await this.o.lightning.createInvoice({
				amountMsat: BigInt(record.amountMsat),
				descriptionHash: recordHash,
				expirySeconds: this.o.tariff.invoiceExpirySeconds
			});
		} catch (e) {
			// The driver asks once; a payment that failed because this station's node was restarting
			// is usually asked again while it still starts. Nobody else would ask again, so wait for
			// the node (still the one reissue under way) instead of leaving the increment unpayable.
			const waitingFor =
				this.session.reissuing === seq && unpaid(this.session)[0]?.seq === seq && !this.stopped;
			if (
				waitingFor &&
				e instanceof LightningError &&
				TRANSIENT_LIGHTNING.has(e.code) &&
				attempt < REISSUE_ATTEMPTS
			) {
				this.log(`Invoice ${seq} could not be issued again yet (${e.message}); trying again`);
				setTimeout(
					() => void this.reissueInvoice(seq, record, attempt + 1),
					this.o.invoiceRetryMs ?? 5000
				);
				return;
			}
			this.dispatch({ type: 'reissue_failed', seq, message: (e as Error).message });
			return;
		}
		this.dispatch({
			type: 'invoice_reissued',
			seq,
			paymentHash: created.paymentHash,
			bolt11: created.paymentRequest
		});
		await this.saving;
		if (this.session.increments.find((i) => i.seq === seq)?.paymentHash !== created.paymentHash)
			return;
		this.log(`Invoice ${seq} issued again after the driver's payment failed`);
		await this.publishInvoice(record, recordHash, created.paymentRequest);
		this.watchInvoice(created.paymentHash);
	}

	private async publishInvoice(
		record: BillingRecord,
		recordHash: string,
		bolt11: string
	): Promise<void> {
		const { stationId } = this.o.identity;
		const msg = this.signed<InvoiceMessage>({
			v: 1,
			type: 'invoice',
			sessionId: record.sessionId,
			seq: record.seq,
			record,
			recordHash,
			bolt11
		});
		try {
			await this.outbox.publish(invoicesTopic(stationId, record.sessionId), encodeMessage(msg));
			this.invoicesPublished = Math.max(this.invoicesPublished, record.seq);
			void this.persist();
		} catch (e) {
			this.fail('Storing an invoice for publishing failed', e);
		}
	}

	private watchInvoice(paymentHash: string): void {
		if (this.stopped) return;
		const sub = this.o.lightning.watchInvoice(
			paymentHash,
			(s) => {
				if (s.state !== 'settled') return;
				this.watches.get(paymentHash)?.close();
				this.watches.delete(paymentHash);
				this.dispatch({ type: 'invoice_paid', paymentHash, preimage: s.preimage });
			},
			(e) => {
				// The stream broke: fall back to asking once more, then watch again.
				this.watches.delete(paymentHash);
				this.log(`Invoice watch broke (${e.message}); re-checking`);
				setTimeout(() => {
					if (this.stopped) return;
					void this.o.lightning
						.lookupInvoice(paymentHash)
						.then((s) =>
							s.state === 'settled'
								? this.dispatch({ type: 'invoice_paid', paymentHash, preimage: s.preimage })
								: this.watchInvoice(paymentHash)
						)
						.catch(() => this.watchInvoice(paymentHash));
				}, 1000);
			}
		);
		this.watches.set(paymentHash, sub);
	}

	/** Carries out one ledger write; returns what to do once it is recorded as done. */
	private async carryOut(job: LedgerJob): Promise<() => Promise<void>> {
		const ledger = this.o.ledger!;
		const current = () => job.sessionId === this.session.sessionId;
		switch (job.kind) {
			case 'open': {
				const tx = await ledger.openSession(job.sessionId, job.driverRef);
				return async () => this.log(`Session ${job.sessionId} opened on the ledger (${tx})`);
			}
			case 'anchor': {
				const { fromReading, toReading, energyWh } = job;
				const r = await ledger.anchorReadings(job.sessionId, job.ocmf, {
					fromReading,
					toReading,
					energyWh
				});
				return async () => {
					if (!current()) return;
					this.anchors = [
						...this.anchors,
						{ txHash: r.txHash, root: r.root, fromReading, toReading }
					];
					void this.persist();
					await this.publishEvent({
						event: 'anchored',
						txHash: r.txHash,
						root: r.root,
						fromReading,
						toReading,
						energyWh
					});
				};
			}
			case 'close': {
				const r = await ledger.closeSession(job.sessionId, {
					energyWh: job.energyWh,
					amountMsat: BigInt(job.amountMsat),
					paymentHashes: job.paymentHashes
				});
				return async () => {
					if (!current()) return;
					this.closeTx = r.txHash;
					this.dispatch({ type: 'closed' });
					await this.publishEvent({
						event: 'closed',
						txHash: r.txHash,
						root: r.root,
						energyWh: job.energyWh,
						amountMsat: job.amountMsat
					});
				};
			}
		}
	}

	/** Anchors the readings signed since the last anchor as one Merkle root. */
	private async anchor(): Promise<void> {
		if (!this.o.ledger) return;
		const pending = this.readings.filter((r) => r.seq > this.anchoredTo);
		if (pending.length === 0) return;
		const fromReading = pending[0]!.seq;
		const toReading = pending[pending.length - 1]!.seq;
		// The energy at the anchor's own last reading, read from that signed reading (the session's
		// `last` may not have caught up with a reading stored a moment ago).
		const first = readingRefOf(this.readings[0]!);
		const last = readingRefOf(pending[pending.length - 1]!);
		if (!first || !last)
			return this.fail('Anchoring', new Error(`reading ${toReading} cannot be read back`));
		this.anchoredTo = toReading;
		this.ledgerJobs.enqueue({
			kind: 'anchor',
			sessionId: this.session.sessionId,
			ocmf: pending.map((p) => p.ocmf),
			fromReading,
			toReading,
			energyWh: last.energyWh - first.energyWh
		});
		void this.persist();
	}

	private async publishEvent(
		detail: Omit<SessionEvent, 'v' | 'type' | 'sessionId' | 'seq' | 'at'>
	): Promise<void> {
		const { stationId } = this.o.identity;
		const sessionId = this.session.sessionId;
		if (!sessionId) return;
		const ev = this.signed({
			v: 1,
			type: 'event',
			sessionId,
			seq: ++this.eventSeq,
			at: this.now(),
			...stripUndefined(detail)
		} as SessionEvent);
		this.events = [...this.events, ev];
		void this.persist();
		this.notify();
		try {
			await this.outbox.publish(eventsTopic(stationId, sessionId), encodeMessage(ev));
		} catch (e) {
			this.fail('Storing an event for publishing failed', e);
		}
	}

	statusMessage(): StationStatus {
		const phase = this.session.phase;
		return stationStatus({
			identity: this.o.identity,
			tariff: this.o.tariff,
			state: isMeterFault(this.session)
				? 'faulted'
				: phase === 'charging' || phase === 'stopping'
					? 'occupied'
					: phase === 'suspended'
						? 'suspended'
						: 'available',
			lightningPubkey: this.lightningPubkey,
			network: this.network,
			sessionId: this.session.sessionId || undefined,
			at: this.now()
		});
	}

	private async publishStatus(): Promise<void> {
		// The retained status is state, not history: it goes straight to the broker (the newest wins).
		try {
			const payload = encodeMessage(this.signed(stripUndefined(this.statusMessage())));
			this.lastStatusPayload = payload;
			await this.o.bus.publish(statusTopic(this.o.identity.stationId), payload, { retain: true });
		} catch (e) {
			this.fail('Publishing the station status failed', e);
		}
	}
}

/** The reducer's view of a stored reading, read back from its own signed payload. */
function readingRefOf(
	r: ReadingMessage
): { seq: number; energyWh: number; at: number; tx: 'B' | 'T' | 'E' } | null {
	try {
		const rd = parseOcmf(r.ocmf).payload.RD;
		const last = Array.isArray(rd) ? (rd.at(-1) as Record<string, unknown> | undefined) : undefined;
		if (!last || typeof last.TM !== 'string' || typeof last.RV !== 'number') return null;
		const time = parseOcmfTime(last.TM);
		const tx = last.TX;
		if (!time || (tx !== 'B' && tx !== 'T' && tx !== 'E')) return null;
		return {
			seq: r.seq,
			energyWh: Math.round(last.RV * (last.RU === 'Wh' ? 1 : 1000)),
			at: time.unixMs,
			tx
		};
	} catch {
		return null;
	}
}

/** What to do with a failed ledger write: retry (RPC down), done (it already happened), or drop. */
function stripUndefined<T extends object>(o: T): T {
	return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * A new session's id: 64 random bits as base64url (11 characters). It only names the session (the
 * join secret beside it in the link is what proves the code was seen); short, so the session link
 * fits a low QR version (5-M on a LAN address, issue 15).
 */
export function randomSessionId(): string {
	const b = new Uint8Array(8);
	crypto.getRandomValues(b);
	return btoa(String.fromCharCode(...b))
		.replace(/\+/g, '-')
		.replace(/\//g, '_')
		.replace(/=+$/, '');
}
