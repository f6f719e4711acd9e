// The kiosk's core, framework-free: it polls the meter, signs each reading as OCMF, publishes
// readings, invoices and events over the bus, watches invoices, drives the charger and anchors the
// session on the ledger. All decisions are made by the pure `reduce` in station.ts; this file only
// carries out its effects. The kiosk UI and the headless station (`npm run station`) both run it.
import type { Charger } from '../charger/port';
import type { LightningNode, Subscription } from '../lightning/port';
import type { Meter, MeterSample } from '../meter/types';
import type { MessageBus } from '../mqtt/bus';
import { billingRecordHash } from '../protocol/billing';
import { encodeMessage, parseMessage } from '../protocol/messages';
import { makeReading } from '../protocol/readings';
import { driverTopic, eventsTopic, invoicesTopic, readingsTopic, statusTopic } from '../protocol/topics';
import type {
	BillingRecord,
	InvoiceMessage,
	ReadingMessage,
	SessionEvent,
	StationStatus,
	Tariff
} from '../protocol/types';
import {
	deliveredWh,
	newStationSession,
	reduce,
	type StationEffect,
	type StationEvent,
	type StationSession,
	type StopCause
} from './station';

/** What the station needs of the ledger; `src/lib/ledger` provides it, queued when the RPC is down. */
export interface StationLedger {
	openSession(sessionId: string, driverRef: string): Promise<string>;
	anchorReadings(
		sessionId: string,
		ocmfRecords: string[],
		range: { fromReading: number; toReading: number; energyWh: number }
	): Promise<{ txHash: string; root: string }>;
	closeSession(
		sessionId: string,
		totals: { energyWh: number; amountMsat: bigint; paymentHashes: string[] }
	): Promise<{ txHash: string; root: string }>;
}

export interface StationIdentity {
	stationId: string;
	name: string;
	/** secp256k1 private key (hex): signs OCMF readings and the station's ledger transactions. */
	signingKeyHex: string;
	signingKey: string;
	signerAddress: string;
	maxPowerW: number;
}

export interface StationRuntimeOptions {
	identity: StationIdentity;
	tariff: Tariff;
	meter: Meter;
	charger: Charger;
	lightning: LightningNode;
	bus: MessageBus;
	ledger?: StationLedger;
	pollMs?: number;
	anchorIntervalMs?: number;
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
	anchors: { txHash: string; root: string; fromReading: number; toReading: number }[];
	closeTx: string | null;
}

export class StationRuntime {
	private session: StationSession;
	private readings: ReadingMessage[] = [];
	private events: SessionEvent[] = [];
	private eventSeq = 0;
	private readingSeq = 0;
	private lastSample: MeterSample | null = null;
	private lastError: string | null = null;
	private anchoredTo = 0;
	private anchors: StationView['anchors'] = [];
	private closeTx: string | null = null;
	private lightningPubkey = '';
	private network: StationStatus['network'] = 'regtest';
	private watches = new Map<string, Subscription>();
	private timers: ReturnType<typeof setInterval>[] = [];
	private unsubscribeDriver: (() => void) | null = null;
	private polling = false;
	private listeners = new Set<(v: StationView) => void>();
	private ledgerQueue: Promise<unknown> = Promise.resolve();
	private effects: Promise<void> = Promise.resolve();
	private readonly now: () => number;

	constructor(private readonly o: StationRuntimeOptions) {
		this.now = o.now ?? (() => Date.now());
		this.session = newStationSession(o.identity.stationId, o.tariff);
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
			anchors: this.anchors,
			closeTx: this.closeTx
		};
	}

	subscribe(listener: (v: StationView) => void): () => void {
		this.listeners.add(listener);
		listener(this.view());
		return () => this.listeners.delete(listener);
	}

	async start(): Promise<void> {
		const info = await this.o.lightning.getInfo();
		this.lightningPubkey = info.pubkey;
		this.network = info.network;
		this.timers.push(setInterval(() => void this.poll(), this.o.pollMs ?? 1000));
		this.timers.push(setInterval(() => void this.anchor(), this.o.anchorIntervalMs ?? 60_000));
		await this.offerNewSession();
	}

	async stop(): Promise<void> {
		for (const t of this.timers) clearInterval(t);
		this.timers = [];
		for (const w of this.watches.values()) w.close();
		this.watches.clear();
		this.unsubscribeDriver?.();
		await this.ledgerQueue.catch(() => undefined);
	}

	/** A stop from the kiosk's own button (operator) or from a driver message. */
	requestStop(cause: StopCause): void {
		this.dispatch({ type: 'stop', cause });
	}

	/** Offer the next session: fresh id, a QR code on screen, the driver topic subscribed. */
	async offerNewSession(): Promise<void> {
		const sessionId = this.o.newSessionId?.() ?? randomSessionId();
		this.unsubscribeDriver?.();
		this.readings = [];
		this.events = [];
		this.eventSeq = 0;
		this.readingSeq = 0;
		this.anchoredTo = 0;
		this.anchors = [];
		this.closeTx = null;
		this.dispatch({ type: 'offered', sessionId });
		const { stationId } = this.o.identity;
		this.unsubscribeDriver = await this.o.bus.subscribe(driverTopic(stationId, sessionId), (topic, payload) =>
			this.onDriverMessage(sessionId, topic, payload)
		);
		await this.publishStatus();
	}

	private onDriverMessage(sessionId: string, topic: string, payload: Uint8Array): void {
		const parsed = parseMessage(topic, payload);
		if (!parsed.ok || parsed.kind !== 'driver') return this.log(`Ignored a driver message: ${parsed.ok ? 'wrong topic' : parsed.error}`);
		const m = parsed.message;
		if (m.sessionId !== sessionId || this.session.sessionId !== sessionId) return;
		if (m.type === 'join') this.dispatch({ type: 'joined', budgetMsat: m.budgetMsat, driverRef: m.driverRef });
		else if (m.type === 'budget') this.dispatch({ type: 'budget', budgetMsat: m.budgetMsat });
		else if (m.type === 'stop') this.dispatch({ type: 'stop', cause: 'driver' });
	}

	private dispatch(e: StationEvent): void {
		const before = this.session.phase;
		const { state, effects } = reduce(this.session, e);
		this.session = state;
		// Effects run one after another, in the order the reducer decided them (charger off before the end reading).
		for (const fx of effects) this.effects = this.effects.then(() => this.run(fx));
		if (before !== state.phase) void this.publishStatus();
		this.notify();
	}

	private notify(): void {
		const v = this.view();
		for (const l of this.listeners) l(v);
	}

	private log(line: string): void {
		this.o.onLog?.(line);
	}

	private fail(what: string, e: unknown): void {
		this.lastError = `${what}: ${(e as Error)?.message ?? String(e)}`;
		this.log(this.lastError);
		this.notify();
	}

	private async poll(): Promise<void> {
		if (this.polling) return; // a slow meter must not stack reads
		this.polling = true;
		try {
			this.lastSample = await this.o.meter.read();
			const phase = this.session.phase;
			if (phase === 'charging' || phase === 'suspended') await this.signAndPublish(this.lastSample, this.readingSeq === 0 ? 'B' : 'T');
			else this.notify();
		} catch (e) {
			this.fail('Meter read failed', e);
		} finally {
			this.polling = false;
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
			{ seq, tx, energyWh: sample.energyWh, at: sample.at, meter: this.o.meter.identity, stationId, sessionId },
			this.o.identity.signingKeyHex
		);
		const msg: ReadingMessage = { v: 1, type: 'reading', sessionId, seq, ocmf };
		this.readings = [...this.readings, msg];
		this.dispatch({ type: 'reading', reading: { seq, energyWh: sample.energyWh, at: sample.at, tx } });
		await this.o.bus.publish(readingsTopic(stationId, sessionId), encodeMessage(msg)).catch((e) => this.fail('Publishing a reading failed', e));
	}

	private async run(fx: StationEffect): Promise<void> {
		const sessionId = this.session.sessionId;
		try {
			switch (fx.kind) {
				case 'charger':
					await this.o.charger[fx.action]();
					return;
				case 'final_reading': {
					// Let the contactor open, then the end reading closes the signed series.
					const sample = await this.o.meter.read();
					this.lastSample = sample;
					await this.signAndPublish(sample, 'E');
					await this.anchor();
					return;
				}
				case 'create_invoice':
					await this.createInvoice(fx.record);
					return;
				case 'event':
					await this.publishEvent({ event: fx.event, reason: fx.reason, invoiceSeq: fx.invoiceSeq, paymentHash: fx.paymentHash, energyWh: fx.energyWh, amountMsat: fx.amountMsat });
					return;
				case 'ledger_open':
					if (!this.o.ledger) return;
					this.enqueueLedger(async () => {
						const tx = await this.o.ledger!.openSession(sessionId, this.session.driverRef ?? '');
						this.log(`Session ${sessionId} opened on the ledger (${tx})`);
					});
					return;
				case 'ledger_close':
					this.enqueueLedger(async () => {
						if (this.o.ledger) {
							const r = await this.o.ledger.closeSession(sessionId, {
								energyWh: fx.energyWh,
								amountMsat: BigInt(fx.amountMsat),
								paymentHashes: fx.paymentHashes
							});
							this.closeTx = r.txHash;
							await this.publishEvent({ event: 'closed', txHash: r.txHash, root: r.root, energyWh: fx.energyWh, amountMsat: fx.amountMsat });
						}
						this.dispatch({ type: 'closed' });
					});
					return;
			}
		} catch (e) {
			this.fail(`Could not carry out ${fx.kind}`, e);
		}
	}

	private async createInvoice(record: BillingRecord): Promise<void> {
		const { stationId } = this.o.identity;
		const sessionId = record.sessionId;
		const recordHash = billingRecordHash(record);
		let created;
		try {
			created = await this.o.lightning.createInvoice({
				amountMsat: BigInt(record.amountMsat),
				descriptionHash: recordHash,
				expirySeconds: this.o.tariff.invoiceExpirySeconds
			});
		} catch (e) {
			this.dispatch({ type: 'invoice_failed', seq: record.seq, message: (e as Error).message });
			return;
		}
		this.dispatch({
			type: 'invoice_created',
			increment: { seq: record.seq, record, recordHash, paymentHash: created.paymentHash, bolt11: created.paymentRequest }
		});
		const msg: InvoiceMessage = { v: 1, type: 'invoice', sessionId, seq: record.seq, record, recordHash, bolt11: created.paymentRequest };
		await this.o.bus.publish(invoicesTopic(stationId, sessionId), encodeMessage(msg)).catch((e) => this.fail('Publishing an invoice failed', e));
		this.watchInvoice(created.paymentHash);
	}

	private watchInvoice(paymentHash: string): void {
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
					void this.o.lightning
						.lookupInvoice(paymentHash)
						.then((s) => (s.state === 'settled' ? this.dispatch({ type: 'invoice_paid', paymentHash, preimage: s.preimage }) : this.watchInvoice(paymentHash)))
						.catch(() => this.watchInvoice(paymentHash));
				}, 1000);
			}
		);
		this.watches.set(paymentHash, sub);
	}

	private enqueueLedger(job: () => Promise<void>): void {
		// Ledger writes are serialised and retried with backoff; a down RPC delays, never loses, them.
		this.ledgerQueue = this.ledgerQueue.then(async () => {
			for (let attempt = 0; ; attempt++) {
				try {
					await job();
					return;
				} catch (e) {
					this.fail('Ledger write failed (will retry)', e);
					if (attempt >= 8) return;
					await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
				}
			}
		});
	}

	/** Anchors the readings signed since the last anchor as one Merkle root. */
	private async anchor(): Promise<void> {
		const ledger = this.o.ledger;
		if (!ledger) return;
		const pending = this.readings.filter((r) => r.seq > this.anchoredTo);
		if (pending.length === 0) return;
		const sessionId = this.session.sessionId;
		const fromReading = pending[0]!.seq;
		const toReading = pending[pending.length - 1]!.seq;
		this.anchoredTo = toReading;
		const energyWh = deliveredWh(this.session);
		this.enqueueLedger(async () => {
			const r = await ledger.anchorReadings(sessionId, pending.map((p) => p.ocmf), { fromReading, toReading, energyWh });
			this.anchors = [...this.anchors, { txHash: r.txHash, root: r.root, fromReading, toReading }];
			await this.publishEvent({ event: 'anchored', txHash: r.txHash, root: r.root, fromReading, toReading, energyWh });
			this.notify();
		});
	}

	private async publishEvent(detail: Omit<SessionEvent, 'v' | 'type' | 'sessionId' | 'seq' | 'at'>): Promise<void> {
		const { stationId } = this.o.identity;
		const sessionId = this.session.sessionId;
		const ev: SessionEvent = { v: 1, type: 'event', sessionId, seq: ++this.eventSeq, at: this.now(), ...stripUndefined(detail) } as SessionEvent;
		this.events = [...this.events, ev];
		this.notify();
		await this.o.bus.publish(eventsTopic(stationId, sessionId), encodeMessage(ev)).catch((e) => this.fail('Publishing an event failed', e));
	}

	statusMessage(): StationStatus {
		const id = this.o.identity;
		const phase = this.session.phase;
		return {
			v: 1,
			type: 'status',
			stationId: id.stationId,
			name: id.name,
			state: phase === 'charging' || phase === 'stopping' ? 'occupied' : phase === 'suspended' ? 'suspended' : 'available',
			tariff: this.o.tariff,
			connectors: [{ id: 1, type: 'Type 2', maxPowerW: id.maxPowerW }],
			signingKey: id.signingKey,
			signerAddress: id.signerAddress,
			lightningPubkey: this.lightningPubkey,
			network: this.network,
			sessionId: this.session.sessionId || undefined,
			updatedAt: this.now()
		};
	}

	private async publishStatus(): Promise<void> {
		await this.o.bus
			.publish(statusTopic(this.o.identity.stationId), encodeMessage(stripUndefined(this.statusMessage())), { retain: true })
			.catch((e) => this.fail('Publishing the station status failed', e));
	}
}

function stripUndefined<T extends object>(o: T): T {
	return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function randomSessionId(): string {
	const b = new Uint8Array(8);
	crypto.getRandomValues(b);
	return 's-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
