// The fleet simulator: a discrete-event engine (one priority queue of timed events) over the
// scenario's city, stations and vehicles. Each vehicle goes idle → calculating → go → waiting →
// charging → paying → done. The optimiser (policy.ts) picks stations from the reservations on the
// ledger; sites share their power limit by water-filling; every minute each session's reading is
// metered and its Merkle root anchored; at the end the station invoices through the Lightning
// simnet (hub topology, hub fees) and the vehicle pays after checking the invoice with the wallet's
// own guard (decideInvoice). Everything runs on the shared core; nothing here re-implements it.
import { buildHashTree, buildReadingsTree } from '../ledger/merkle.js';
import { Simnet, buildHubTopology, seededRandomBytes, type SimnetEvent } from '../lightning/simnet/index.js';
import { billingRecordHash, buildBillingRecord } from '../protocol/billing.js';
import { encodeMessage, parseMessage } from '../protocol/messages.js';
import { buildOcmfPayloadText, ocmfPublicKeyHex } from '../protocol/ocmf.js';
import { GATEWAY_VERSION, ReadingVerifier, makeReading, type VerifiedReading } from '../protocol/readings.js';
import { invoicesTopic } from '../protocol/topics.js';
import type { InvoiceMessage, Tariff } from '../protocol/types.js';
import { decideInvoice } from '../session/driver.js';
import { roadKmBetween, travelMinutes } from './city.js';
import { acceptedPowerKw, waterFill } from './charging.js';
import { EventQueue } from './event-queue.js';
import type { LedgerMethod, SimLedger, SimTx } from './ledger-port.js';
import { chooseStation, type StationChoice, type StationView } from './policy.js';
import { Rng } from './random.js';
import type { PolicyReport } from './report.js';
import type { Policy, Scenario, StationSpec, VehicleSpec } from './scenario.js';

import { PHASES, type Phase } from './phases.js';

export { PHASES, type Phase };

/** Simulated seconds a vehicle spends reading the queues and getting its reservation mined. */
export const DECISION_SECONDS = 30;
/** Simulated milliseconds a Lightning payment stays in flight. */
export const PAYMENT_SETTLE_MS = 2500;
const TICK_SECONDS = 60;
const RESERVATION_VALIDITY_SECONDS = 8 * 3600;
const HUB_BASE_FEE_MSAT = 1000n;
const HUB_FEE_PPM = 1000n;

export interface Move {
	from: number;
	to: number;
	/** Simulated seconds. */
	depart: number;
	arrive: number;
}

export interface Vehicle {
	spec: VehicleSpec;
	phase: Phase;
	/** Node where the vehicle is, or where its current move started. */
	node: number;
	move: Move | null;
	socKwh: number;
	/** Station the vehicle is headed to, waiting at or charging at. */
	stationIndex: number | null;
	reservationId: number | null;
	/** When it began calculating / arrived at the station (simulated seconds). */
	errandStart: number;
	arrivedAt: number;
	/** Charging deadline the driver wants, simulated seconds. */
	deadline: number;
	session: ChargingSession | null;
	chargesDone: number;
	/** Energy of the planned trip once it ends (kWh). */
	tripKwh: number;
	/** Already re-planned once during this errand (the optimiser re-plans at most once). */
	replanned: boolean;
}

export interface SimReading {
	seq: number;
	tx: 'B' | 'T' | 'E';
	at: number;
	energyWh: number;
	/** Signed OCMF record, or null for an unsampled intermediate reading. */
	ocmf: string | null;
	/** What the anchor commits to: the OCMF record, or the payload text an unsampled reading would sign. */
	leafText: string;
}

export interface ChargingSession {
	id: string;
	vehicle: Vehicle;
	station: StationState;
	connector: number;
	sampled: boolean;
	plugAt: number;
	endAt: number | null;
	beginWh: number;
	deliveredWh: number;
	targetWh: number;
	allocatedKw: number;
	readings: SimReading[];
	lastAnchoredSeq: number;
	verified: Map<number, VerifiedReading>;
	verifier: ReadingVerifier | null;
	billedWh: number | null;
	amountMsat: bigint | null;
	paymentHash: string | null;
	paid: number;
	feeMsat: bigint;
	closed: boolean;
}

export interface StationState {
	spec: StationSpec;
	tariff: Tariff;
	publicKey: string;
	lightningPubkey: string;
	/** Connector → session. */
	connectors: Array<ChargingSession | null>;
	/** Per-connector meter register, Wh (never resets, like a real meter). */
	registersWh: number[];
	waiting: Vehicle[];
	/** Running mean of plug-in to unplug, minutes (what a station publishes as its typical session). */
	meanSessionMin: number;
	finishedSessions: number;
	loadKw: number;
	peakLoadKw: number;
}

export type FeedKind = 'ledger' | 'lightning';
export interface FeedEvent {
	t: number;
	kind: FeedKind;
	text: string;
}

type SimEvent =
	| { k: 'shiftStart'; v: Vehicle }
	| { k: 'tripStart'; v: Vehicle }
	| { k: 'tripEnd'; v: Vehicle }
	| { k: 'decided'; v: Vehicle }
	| { k: 'arrive'; v: Vehicle }
	| { k: 'tick' }
	| { k: 'paid'; s: ChargingSession; ok: boolean; feeMsat: bigint; detail: string }
	| { k: 'lightning'; run: () => void };

export interface FleetSimOptions {
	scenario: Scenario;
	policy: Policy;
	ledger: SimLedger;
	/** Called for each ledger or Lightning event (the live view's feed). */
	onFeed?: (e: FeedEvent) => void;
}

export class FleetSim {
	readonly scenario: Scenario;
	readonly policy: Policy;
	readonly vehicles: Vehicle[];
	readonly stations: StationState[];
	readonly net: Simnet;
	readonly endSeconds: number;
	private readonly ledger: SimLedger;
	private readonly queue = new EventQueue<SimEvent>();
	private readonly rng: Rng;
	private readonly onFeed: ((e: FeedEvent) => void) | undefined;
	private readonly byPaymentHash = new Map<string, ChargingSession>();
	private readonly paidHashes = new Set<string>();
	private nowSeconds = 0;
	private sessionCounter = 0;
	private started = false;

	// Measurements.
	readonly sessions: ChargingSession[] = [];
	readonly waits: number[] = [];
	readonly totals: number[] = [];
	deliveredWh = 0;
	readonly ledgerTx: Record<LedgerMethod, { count: number; gas: number }> = {
		reserve: { count: 0, gas: 0 },
		cancelReservation: { count: 0, gas: 0 },
		fulfilReservation: { count: 0, gas: 0 },
		openSession: { count: 0, gas: 0 },
		anchorReadings: { count: 0, gas: 0 },
		closeSession: { count: 0, gas: 0 }
	};
	ledgerErrors = 0;
	readingsMade = 0;
	readingsSigned = 0;
	readingsVerified = 0;
	paymentsOk = 0;
	paymentsFailed = 0;
	invoicesRefused = 0;
	paidMsat = 0n;
	feesMsat = 0n;
	hubBalanceAtStartMsat = 0n;
	maxSiteLoadRatio = 0;

	constructor(options: FleetSimOptions) {
		const { scenario } = options;
		this.scenario = scenario;
		this.policy = options.policy;
		this.ledger = options.ledger;
		this.onFeed = options.onFeed;
		this.endSeconds = scenario.options.hours * 3600;
		this.rng = new Rng(scenario.options.seed).fork(`run:${options.policy}`);
		// Lightning in simulated time: the simnet's clock is ours, and its scheduled settlements are
		// events in our queue.
		this.net = new Simnet({
			now: () => this.nowMs(),
			random: seededRandomBytes(`lightcharge-sim ${scenario.options.seed}`),
			schedule: (run, delayMs) => this.queue.push(this.nowSeconds + delayMs / 1000, { k: 'lightning', run }),
			settleDelayMs: PAYMENT_SETTLE_MS
		});
		buildHubTopology(this.net, scenario.stations.map((s) => s.id.toLowerCase()), { channelSat: 20_000_000n });
		buildHubTopology(this.net, scenario.vehicles.map((v) => v.id.toLowerCase()), { channelSat: 1_000_000n });
		this.net.setFeePolicy('hub', HUB_BASE_FEE_MSAT, HUB_FEE_PPM);
		this.hubBalanceAtStartMsat = this.net.balances('hub').localMsat;
		this.net.subscribe((e) => this.onLightning(e));

		this.stations = scenario.stations.map((spec) => ({
			spec,
			tariff: {
				pricePerKwhMsat: spec.pricePerKwhMsat,
				startFeeMsat: spec.startFeeMsat,
				incrementWh: 100,
				graceWh: 50,
				mode: 'postpaid',
				invoiceExpirySeconds: 3600
			},
			publicKey: ocmfPublicKeyHex(spec.signingKey),
			lightningPubkey: this.net.node(spec.id.toLowerCase()).pubkey,
			connectors: new Array<ChargingSession | null>(spec.connectors).fill(null),
			registersWh: Array.from({ length: spec.connectors }, (_, i) => 1_000_000 + spec.index * 10_000 + i * 1000),
			waiting: [],
			meanSessionMin: 45,
			finishedSessions: 0,
			loadKw: 0,
			peakLoadKw: 0
		}));
		this.vehicles = scenario.vehicles.map((spec) => ({
			spec,
			phase: 'idle',
			node: spec.home,
			move: null,
			socKwh: spec.initialSoc * spec.batteryKwh,
			stationIndex: null,
			reservationId: null,
			errandStart: 0,
			arrivedAt: 0,
			deadline: 0,
			session: null,
			chargesDone: 0,
			tripKwh: 0,
			replanned: false
		}));
	}

	get now(): number {
		return this.nowSeconds;
	}

	nowMs(): number {
		return this.scenario.options.startMs + Math.round(this.nowSeconds * 1000);
	}

	private unix(simSeconds: number): number {
		return Math.floor(this.scenario.options.startMs / 1000 + simSeconds);
	}

	private feed(kind: FeedKind, text: string): void {
		this.onFeed?.({ t: this.nowSeconds, kind, text });
	}

	private start(): void {
		if (this.started) return;
		this.started = true;
		for (const v of this.vehicles) this.queue.push(Math.min(v.spec.shiftStart, this.endSeconds), { k: 'shiftStart', v });
		this.queue.push(TICK_SECONDS, { k: 'tick' });
	}

	/** Runs every event up to `simSeconds` (capped at the scenario's end). */
	async runUntil(simSeconds: number): Promise<void> {
		this.start();
		const until = Math.min(simSeconds, this.endSeconds);
		for (;;) {
			const t = this.queue.peekTime();
			if (t === undefined || t > until) break;
			const event = this.queue.pop()!;
			this.nowSeconds = event.time;
			this.ledger.setTime(this.unix(event.time));
			await this.handle(event.item);
		}
		this.nowSeconds = Math.max(this.nowSeconds, until);
		this.ledger.setTime(this.unix(this.nowSeconds));
	}

	get finished(): boolean {
		return this.nowSeconds >= this.endSeconds;
	}

	async run(): Promise<PolicyReport> {
		await this.runUntil(this.endSeconds);
		return this.report();
	}

	private async handle(e: SimEvent): Promise<void> {
		switch (e.k) {
			case 'shiftStart':
				return this.afterStop(e.v);
			case 'tripStart':
				return this.startTrip(e.v);
			case 'tripEnd':
				return this.endTrip(e.v);
			case 'decided':
				return this.depart(e.v);
			case 'arrive':
				return this.arrive(e.v);
			case 'tick':
				return this.tick();
			case 'paid':
				return this.settled(e.s, e.ok, e.feeMsat, e.detail);
			case 'lightning':
				e.run();
				return;
		}
	}

	// ---------- driving ----------

	private inShift(v: Vehicle): boolean {
		return this.nowSeconds >= v.spec.shiftStart && this.nowSeconds < v.spec.shiftEnd;
	}

	/** The vehicle is parked at v.node and free: charge, drive on, or end its day. */
	private async afterStop(v: Vehicle): Promise<void> {
		if (v.socKwh < v.spec.reserveSoc * v.spec.batteryKwh && this.inShift(v)) return this.calculate(v);
		if (this.inShift(v)) {
			this.queue.push(this.nowSeconds + this.rng.range(4, 20) * 60, { k: 'tripStart', v });
		} else if (this.nowSeconds >= v.spec.shiftEnd && v.node !== v.spec.home) {
			this.beginMove(v, v.spec.home, 'idle');
		}
	}

	private async startTrip(v: Vehicle): Promise<void> {
		if (v.phase === 'done') v.phase = 'idle';
		if (!this.inShift(v)) return this.afterStop(v);
		let to = v.node;
		for (let attempt = 0; attempt < 8 && to === v.node; attempt++) to = this.drawDestination();
		if (to === v.node) return this.afterStop(v);
		const kwh = roadKmBetween(this.scenario.city, v.node, to) * v.spec.consumption;
		// Never start a trip that would leave less than 8 % in the battery: charge first.
		if (v.socKwh - kwh < 0.08 * v.spec.batteryKwh) return this.calculate(v);
		this.beginMove(v, to, 'idle');
	}

	private drawDestination(): number {
		const cdf = this.scenario.city.demandCdf;
		const target = this.rng.next() * cdf[cdf.length - 1]!;
		let lo = 0;
		let hi = cdf.length - 1;
		while (lo < hi) {
			const mid = (lo + hi) >> 1;
			if (cdf[mid]! > target) hi = mid;
			else lo = mid + 1;
		}
		return lo;
	}

	private beginMove(v: Vehicle, to: number, phase: 'idle' | 'go'): void {
		const minutes = travelMinutes(this.scenario.city, v.node, to, this.nowSeconds);
		v.tripKwh = roadKmBetween(this.scenario.city, v.node, to) * v.spec.consumption;
		v.move = { from: v.node, to, depart: this.nowSeconds, arrive: this.nowSeconds + minutes * 60 };
		v.phase = phase;
		this.queue.push(v.move.arrive, phase === 'go' ? { k: 'arrive', v } : { k: 'tripEnd', v });
	}

	private finishMove(v: Vehicle): void {
		if (!v.move) return;
		v.node = v.move.to;
		v.socKwh = Math.max(0, v.socKwh - v.tripKwh);
		v.tripKwh = 0;
		v.move = null;
	}

	private async endTrip(v: Vehicle): Promise<void> {
		this.finishMove(v);
		return this.afterStop(v);
	}

	// ---------- calculating: choose and reserve ----------

	private stationView(s: StationState): StationView {
		let charging = 0;
		for (const c of s.connectors) if (c) charging++;
		return {
			index: s.spec.index,
			id: s.spec.id,
			node: s.spec.node,
			connectors: s.spec.connectors,
			connectorKw: s.spec.connectorKw,
			siteLimitKw: s.spec.siteLimitKw,
			charging,
			meanSessionMin: s.meanSessionMin
		};
	}

	private choose(v: Vehicle, exclude?: number): Promise<StationChoice> {
		return chooseStation({
			policy: this.policy,
			vehicle: v,
			city: this.scenario.city,
			stations: this.stations.map((s) => this.stationView(s)),
			nowSeconds: this.nowSeconds,
			nowUnix: this.unix(this.nowSeconds),
			ledger: this.ledger,
			rng: this.rng,
			decisionSeconds: DECISION_SECONDS,
			...(exclude !== undefined ? { exclude } : {})
		});
	}

	private async calculate(v: Vehicle, preset?: StationChoice): Promise<void> {
		v.phase = 'calculating';
		if (!v.replanned) v.errandStart = this.nowSeconds;
		const choice = preset ?? (await this.choose(v));
		const station = this.stations[choice.stationIndex]!;
		v.stationIndex = choice.stationIndex;
		v.deadline = this.nowSeconds + (choice.expectedMinutes + this.rng.range(10, 90)) * 60;
		const eta = this.unix(this.nowSeconds + DECISION_SECONDS + choice.travelMinutes * 60);
		const tx = await this.ledgerCall(() =>
			this.ledger.reserve({ stationId: station.spec.id, vehicleRef: v.spec.id, eta, expiresAt: eta + RESERVATION_VALIDITY_SECONDS })
		);
		v.reservationId = tx?.reservationId ?? null;
		if (tx) this.feed('ledger', `${v.spec.id} reserved ${station.spec.id} (#${tx.reservationId}, ETA ${Math.round(choice.travelMinutes)} min)`);
		this.queue.push(this.nowSeconds + DECISION_SECONDS, { k: 'decided', v });
	}

	private async depart(v: Vehicle): Promise<void> {
		const station = this.stations[v.stationIndex!]!;
		if (station.spec.node === v.node) {
			v.phase = 'go';
			return this.arrive(v);
		}
		this.beginMove(v, station.spec.node, 'go');
	}

	private async arrive(v: Vehicle): Promise<void> {
		this.finishMove(v);
		const station = this.stations[v.stationIndex!]!;
		// The optimiser's driver finds a longer queue than the ledger suggested (sessions running
		// long, arrivals bunching): if another station is clearly sooner, give the slot back and go
		// there instead — at most once per errand.
		if (this.policy === 'optimal' && !v.replanned && this.stations.length > 1 && station.waiting.length >= station.spec.connectors) {
			const stayMin = (station.waiting.length / station.spec.connectors + 0.5) * station.meanSessionMin;
			const alternative = await this.choose(v, station.spec.index);
			if (alternative.travelMinutes + alternative.waitMinutes + DECISION_SECONDS / 60 < stayMin) {
				v.replanned = true;
				if (v.reservationId !== null) {
					const id = v.reservationId;
					const tx = await this.ledgerCall(() => this.ledger.cancelReservation(id));
					if (tx) this.feed('ledger', `${v.spec.id} cancelled #${id} at ${station.spec.id}: queue too long`);
					v.reservationId = null;
				}
				v.stationIndex = null;
				return this.calculate(v, alternative);
			}
		}
		v.phase = 'waiting';
		v.arrivedAt = this.nowSeconds;
		station.waiting.push(v);
	}

	private async ledgerCall<T extends SimTx>(call: () => Promise<T>): Promise<T | null> {
		try {
			const tx = await call();
			const entry = this.ledgerTx[tx.method];
			entry.count++;
			entry.gas += tx.gasUsed;
			return tx;
		} catch (error) {
			this.ledgerErrors++;
			this.feed('ledger', `ledger error: ${error instanceof Error ? error.message : String(error)}`);
			return null;
		}
	}

	// ---------- the minute tick: meter, anchor, finish, plug in, allocate ----------

	private async tick(): Promise<void> {
		const pending: Promise<unknown>[] = [];
		for (const station of this.stations) this.meterStation(station, pending);
		await Promise.all(pending);
		pending.length = 0;
		for (const station of this.stations) this.plugIn(station, pending);
		await Promise.all(pending);
		for (const station of this.stations) this.allocate(station);
		if (this.nowSeconds + TICK_SECONDS <= this.endSeconds) this.queue.push(this.nowSeconds + TICK_SECONDS, { k: 'tick' });
	}

	private meterStation(station: StationState, pending: Promise<unknown>[]): void {
		let drawnWh = 0;
		for (let c = 0; c < station.connectors.length; c++) {
			const s = station.connectors[c];
			if (!s) continue;
			const need = s.targetWh - s.deliveredWh;
			const possibleWh = Math.floor((s.allocatedKw * 1000 * TICK_SECONDS) / 3600);
			let wh: number;
			let at: number;
			let tx: 'T' | 'E';
			if (possibleWh >= need) {
				wh = need;
				const fraction = possibleWh > 0 ? need / possibleWh : 1;
				at = Math.max(this.nowSeconds - TICK_SECONDS + Math.max(1, Math.round(fraction * TICK_SECONDS)), s.readings.at(-1)!.at + 1);
				tx = 'E';
			} else {
				wh = possibleWh;
				at = this.nowSeconds;
				tx = 'T';
			}
			s.deliveredWh += wh;
			drawnWh += wh;
			this.deliveredWh += wh;
			s.vehicle.socKwh += wh / 1000;
			station.registersWh[c]! += wh;
			this.addReading(s, tx, at, station.registersWh[c]!);
			pending.push(this.anchor(s));
			if (tx === 'E') {
				s.endAt = at;
				station.connectors[c] = null;
				station.finishedSessions++;
				const minutes = (at - s.plugAt) / 60;
				station.meanSessionMin += (minutes - station.meanSessionMin) / Math.min(station.finishedSessions, 20);
				pending.push(this.invoice(s));
			}
		}
		const drawnKw = (drawnWh * 3600) / (TICK_SECONDS * 1000);
		if (drawnKw > station.peakLoadKw) station.peakLoadKw = drawnKw;
	}

	private addReading(s: ChargingSession, tx: 'B' | 'T' | 'E', atSeconds: number, registerWh: number): void {
		const seq = s.readings.length + 1;
		const at = this.scenario.options.startMs + Math.round(atSeconds * 1000);
		const station = s.station;
		const meter = { vendor: 'Lightcharge', model: 'SIM-1', serial: `${station.spec.id}-${s.connector + 1}` };
		this.readingsMade++;
		if (s.sampled || tx !== 'T') {
			const made = makeReading({ seq, tx, energyWh: registerWh, at, meter, stationId: station.spec.id, sessionId: s.id }, station.spec.signingKey);
			this.readingsSigned++;
			s.readings.push({ seq, tx, at: atSeconds, energyWh: registerWh, ocmf: made.ocmf, leafText: made.ocmf });
			// The vehicle checks readings it receives: every one in a sampled session, else the two the bill rests on.
			if (s.verifier) {
				const result = s.verifier.accept(made.reading);
				if (!result.ok) throw new Error(`reading ${seq} of ${s.id} failed verification: ${result.reason}`);
				this.readingsVerified++;
				s.verified.set(seq, result.reading);
			} else {
				s.verified.set(seq, made.verified);
			}
		} else {
			const leafText = buildOcmfPayloadText({
				stationId: station.spec.id,
				gatewayVersion: GATEWAY_VERSION,
				pagination: seq,
				meter,
				identification: { type: 'CENTRAL', data: s.id },
				reading: { at, tx, energyWh: registerWh }
			});
			s.readings.push({ seq, tx, at: atSeconds, energyWh: registerWh, ocmf: null, leafText });
		}
	}

	/** Anchors the readings since the last anchor: their Merkle root, range and energy. */
	private async anchor(s: ChargingSession): Promise<void> {
		const batch = s.readings.filter((r) => r.seq > s.lastAnchoredSeq);
		if (batch.length === 0) return;
		const tree = buildReadingsTree(batch.map((r) => r.leafText));
		const from = batch[0]!.seq;
		const to = batch[batch.length - 1]!.seq;
		s.lastAnchoredSeq = to;
		await this.ledgerCall(() =>
			this.ledger.anchorReadings({ stationId: s.station.spec.id, sessionId: s.id, root: tree.root, fromReading: from, toReading: to, energyWh: s.deliveredWh })
		);
	}

	private plugIn(station: StationState, pending: Promise<unknown>[]): void {
		for (let c = 0; c < station.connectors.length && station.waiting.length > 0; c++) {
			if (station.connectors[c]) continue;
			const v = station.waiting.shift()!;
			const id = `SIM-${this.scenario.options.seed}-${this.policy}-${++this.sessionCounter}`;
			const sampled = this.rng.next() < this.scenario.options.readingSample;
			const target = Math.max(0, Math.round((v.spec.targetSoc * v.spec.batteryKwh - v.socKwh) * 1000));
			const s: ChargingSession = {
				id,
				vehicle: v,
				station,
				connector: c,
				sampled,
				plugAt: this.nowSeconds,
				endAt: null,
				beginWh: station.registersWh[c]!,
				deliveredWh: 0,
				targetWh: Math.max(1, target),
				allocatedKw: 0,
				readings: [],
				lastAnchoredSeq: 0,
				verified: new Map(),
				verifier: sampled ? new ReadingVerifier({ stationId: station.spec.id, sessionId: id, publicKey: station.publicKey }) : null,
				billedWh: null,
				amountMsat: null,
				paymentHash: null,
				paid: 0,
				feeMsat: 0n,
				closed: false
			};
			station.connectors[c] = s;
			this.sessions.push(s);
			v.session = s;
			v.phase = 'charging';
			this.waits.push((this.nowSeconds - v.arrivedAt) / 60);
			this.addReading(s, 'B', this.nowSeconds, s.beginWh);
			pending.push(
				this.ledgerCall(() => this.ledger.openSession({ stationId: station.spec.id, sessionId: id, driverRef: v.spec.id })).then((tx) => {
					if (tx) this.feed('ledger', `${station.spec.id} opened session for ${v.spec.id}`);
				})
			);
		}
	}

	/** Shares the site limit among its sessions for the next minute. */
	private allocate(station: StationState): void {
		const active: ChargingSession[] = [];
		for (const s of station.connectors) if (s) active.push(s);
		const demands = active.map((s) => {
			const v = s.vehicle;
			const soc = v.socKwh / v.spec.batteryKwh;
			const maxKw = Math.min(station.spec.connectorKw, acceptedPowerKw(v.spec.maxChargeKw, soc));
			let weight = 1;
			if (this.policy === 'optimal') {
				// Least slack first: slack = time to the driver's deadline minus the time still needed at full rate.
				const needMin = ((s.targetWh - s.deliveredWh) / 1000 / Math.max(maxKw, 1)) * 60;
				const slackMin = (v.deadline - this.nowSeconds) / 60 - needMin;
				weight = 1 / Math.max(5, slackMin + 30);
			}
			return { maxKw, weight };
		});
		const shares = waterFill(demands, station.spec.siteLimitKw);
		let load = 0;
		active.forEach((s, i) => {
			s.allocatedKw = shares[i]!;
			load += shares[i]!;
		});
		station.loadKw = load;
		const ratio = load / station.spec.siteLimitKw;
		if (ratio > this.maxSiteLoadRatio) this.maxSiteLoadRatio = ratio;
	}

	// ---------- paying ----------

	private async invoice(s: ChargingSession): Promise<void> {
		const v = s.vehicle;
		v.phase = 'paying';
		const station = s.station;
		const first = s.readings[0]!;
		const last = s.readings[s.readings.length - 1]!;
		const record = buildBillingRecord({
			stationId: station.spec.id,
			sessionId: s.id,
			seq: 1,
			from: { seq: first.seq, energyWh: first.energyWh },
			to: { seq: last.seq, energyWh: last.energyWh },
			tariff: station.tariff
		});
		const recordHash = billingRecordHash(record);
		const invoice = this.net.addInvoice(station.spec.id.toLowerCase(), {
			valueMsat: BigInt(record.amountMsat),
			descriptionHash: recordHash,
			expiry: station.tariff.invoiceExpirySeconds,
			memo: `${station.spec.id} ${s.id}`
		});
		s.billedWh = record.energyWh;
		s.amountMsat = BigInt(record.amountMsat);
		// The invoice travels as a protocol message, validated on receipt like the wallet does.
		const wire = encodeMessage({ v: 1, type: 'invoice', sessionId: s.id, seq: 1, record, recordHash, bolt11: invoice.paymentRequest });
		const parsed = parseMessage(invoicesTopic(station.spec.id, s.id), wire);
		if (!parsed.ok || parsed.message.type !== 'invoice') throw new Error(`invoice message for ${s.id} did not parse back`);
		const decision = decideInvoice(parsed.message as InvoiceMessage, {
			stationId: station.spec.id,
			sessionId: s.id,
			tariff: station.tariff,
			payee: station.lightningPubkey,
			network: 'regtest',
			budgetMsat: 100_000_000n,
			committedMsat: 0n,
			readings: s.verified,
			firstReadingSeq: first.seq,
			previous: null,
			isPaymentHashUsed: (hash) => this.paidHashes.has(hash),
			nowSeconds: Math.floor(this.nowMs() / 1000)
		});
		if (decision.action !== 'pay') {
			this.invoicesRefused++;
			this.feed('lightning', `${v.spec.id} refused the invoice of ${s.id}: ${decision.action === 'refuse' ? decision.message : decision.why}`);
			await this.closeUnpaid(s);
			return;
		}
		s.paymentHash = decision.invoice.paymentHash;
		this.byPaymentHash.set(s.paymentHash, s);
		this.paidHashes.add(s.paymentHash);
		try {
			this.net.sendPayment(v.spec.id.toLowerCase(), {
				paymentRequest: invoice.paymentRequest,
				feeLimitMsat: decision.amountMsat / 100n + 10_000n,
				timeoutSeconds: 60
			});
		} catch (error) {
			// Refused before anything was sent (LND answers these as RPC errors).
			this.byPaymentHash.delete(s.paymentHash);
			await this.settled(s, false, 0n, error instanceof Error ? error.message : String(error));
		}
	}

	private onLightning(e: SimnetEvent): void {
		if (e.type !== 'payment' || e.payment.status === 'IN_FLIGHT') return;
		const s = this.byPaymentHash.get(e.payment.paymentHash);
		if (!s) return;
		this.queue.push(this.nowSeconds, {
			k: 'paid',
			s,
			ok: e.payment.status === 'SUCCEEDED',
			feeMsat: e.payment.feeMsat,
			detail: e.payment.detail ?? e.payment.failureReason
		});
	}

	private async settled(s: ChargingSession, ok: boolean, feeMsat: bigint, detail: string): Promise<void> {
		const v = s.vehicle;
		if (!ok) {
			this.paymentsFailed++;
			this.feed('lightning', `payment for ${s.id} failed: ${detail}`);
			return this.closeUnpaid(s);
		}
		s.paid++;
		s.feeMsat = feeMsat;
		this.paymentsOk++;
		this.paidMsat += s.amountMsat!;
		this.feesMsat += feeMsat;
		this.feed('lightning', `${v.spec.id} paid ${s.station.spec.id} ${(Number(s.amountMsat!) / 1000).toFixed(0)} sat via hub (fee ${(Number(feeMsat) / 1000).toFixed(1)} sat)`);
		const paymentsRoot = buildHashTree([`0x${s.paymentHash!}`]).root;
		await this.finishSession(s, s.amountMsat!, paymentsRoot);
	}

	private async closeUnpaid(s: ChargingSession): Promise<void> {
		await this.finishSession(s, 0n, `0x${'0'.repeat(64)}`);
	}

	private async finishSession(s: ChargingSession, amountMsat: bigint, paymentsRoot: string): Promise<void> {
		const v = s.vehicle;
		const closeTx = await this.ledgerCall(() =>
			this.ledger.closeSession({ stationId: s.station.spec.id, sessionId: s.id, energyWh: s.deliveredWh, amountMsat, paymentsRoot })
		);
		if (closeTx) this.feed('ledger', `${s.station.spec.id} closed ${s.id}: ${(s.deliveredWh / 1000).toFixed(1)} kWh`);
		s.closed = closeTx !== null;
		if (v.reservationId !== null) {
			const id = v.reservationId;
			await this.ledgerCall(() => this.ledger.fulfilReservation(id));
		}
		v.reservationId = null;
		v.stationIndex = null;
		v.session = null;
		v.phase = 'done';
		v.replanned = false;
		v.chargesDone++;
		this.totals.push((this.nowSeconds - v.errandStart) / 60);
		this.queue.push(this.nowSeconds + 60, { k: 'tripStart', v });
	}

	// ---------- observation ----------

	/** Position of a vehicle (km), interpolated along its move. */
	position(v: Vehicle, at = this.nowSeconds): { x: number; y: number } {
		const nodes = this.scenario.city.nodes;
		if (!v.move) {
			const n = nodes[v.node]!;
			return { x: n.x, y: n.y };
		}
		const a = nodes[v.move.from]!;
		const b = nodes[v.move.to]!;
		const f = Math.min(1, Math.max(0, (at - v.move.depart) / Math.max(1, v.move.arrive - v.move.depart)));
		return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
	}

	/**
	 * Cross-checks the engine's separate records of where each vehicle is. Returns problems found
	 * (empty when consistent): exactly one phase and one place per vehicle.
	 */
	audit(): string[] {
		const problems: string[] = [];
		const waitingAt = new Map<Vehicle, number>();
		const chargingAt = new Map<Vehicle, number>();
		for (const st of this.stations) {
			for (const v of st.waiting) {
				if (waitingAt.has(v)) problems.push(`${v.spec.id} waits at two stations`);
				waitingAt.set(v, st.spec.index);
			}
			for (const s of st.connectors) {
				if (!s) continue;
				if (chargingAt.has(s.vehicle) || waitingAt.has(s.vehicle)) problems.push(`${s.vehicle.spec.id} is in two places`);
				chargingAt.set(s.vehicle, st.spec.index);
			}
		}
		for (const v of this.vehicles) {
			if (!PHASES.includes(v.phase)) problems.push(`${v.spec.id} has unknown phase ${v.phase}`);
			const moving = v.move !== null;
			const waiting = waitingAt.get(v);
			const charging = chargingAt.get(v);
			const places = (moving ? 1 : 0) + (waiting !== undefined ? 1 : 0) + (charging !== undefined ? 1 : 0);
			if (places > 1) problems.push(`${v.spec.id} is in ${places} places at once`);
			if (v.phase === 'waiting' && (waiting === undefined || waiting !== v.stationIndex)) problems.push(`${v.spec.id} is waiting but not in its station's queue`);
			if (v.phase !== 'waiting' && waiting !== undefined) problems.push(`${v.spec.id} is queued while ${v.phase}`);
			if (v.phase === 'charging' && (charging === undefined || charging !== v.stationIndex)) problems.push(`${v.spec.id} is charging but on no connector of its station`);
			if (v.phase !== 'charging' && charging !== undefined) problems.push(`${v.spec.id} occupies a connector while ${v.phase}`);
			if (v.phase === 'go' && !moving) problems.push(`${v.spec.id} is on its way but not moving`);
			if ((v.phase === 'calculating' || v.phase === 'paying' || v.phase === 'done') && moving) problems.push(`${v.spec.id} moves while ${v.phase}`);
			if (v.socKwh < -1e-9 || v.socKwh > v.spec.batteryKwh + 1e-6) problems.push(`${v.spec.id} battery at ${v.socKwh} kWh`);
		}
		for (const st of this.stations) {
			if (st.loadKw > st.spec.siteLimitKw + 1e-9) problems.push(`${st.spec.id} draws ${st.loadKw} kW over its ${st.spec.siteLimitKw} kW limit`);
		}
		return problems;
	}

	phaseCounts(): Record<Phase, number> {
		const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
		for (const v of this.vehicles) counts[v.phase]++;
		return counts;
	}

	report(wallSeconds?: number): PolicyReport {
		// Vehicles still queued at the end count with the wait they have had so far.
		const waits = [...this.waits];
		for (const st of this.stations) for (const v of st.waiting) waits.push((this.nowSeconds - v.arrivedAt) / 60);
		const sorted = [...waits].sort((a, b) => a - b);
		const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
		const p95 = sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
		const finished = this.sessions.filter((s) => s.endAt !== null);
		let meteredWh = 0;
		let meteredFinishedWh = 0;
		let billedWh = 0;
		for (const s of this.sessions) {
			const first = s.readings[0];
			const last = s.readings[s.readings.length - 1];
			if (first && last) {
				meteredWh += last.energyWh - first.energyWh;
				if (s.endAt !== null) meteredFinishedWh += last.energyWh - first.energyWh;
			}
			if (s.billedWh !== null) billedWh += s.billedWh;
		}
		let transactions = 0;
		let gas = 0;
		const byMethod: PolicyReport['ledger']['byMethod'] = {};
		for (const [method, e] of Object.entries(this.ledgerTx) as [LedgerMethod, { count: number; gas: number }][]) {
			transactions += e.count;
			gas += e.gas;
			if (e.count > 0) byMethod[method] = { count: e.count, gas: e.gas };
		}
		const firstSite = this.stations[0]!.spec;
		let worst = { id: firstSite.id, peakKw: this.stations[0]!.peakLoadKw, limitKw: firstSite.siteLimitKw };
		let totalLimit = 0;
		for (const st of this.stations) {
			totalLimit += st.spec.siteLimitKw;
			if (st.peakLoadKw / st.spec.siteLimitKw > worst.peakKw / worst.limitKw) worst = { id: st.spec.id, peakKw: st.peakLoadKw, limitKw: st.spec.siteLimitKw };
		}
		const hubIncome = this.net.balances('hub').localMsat - this.hubBalanceAtStartMsat;
		return {
			policy: this.policy,
			vehicles: this.vehicles.length,
			stations: this.stations.length,
			simHours: this.nowSeconds / 3600,
			seed: this.scenario.options.seed,
			sessionsStarted: this.sessions.length,
			sessionsFinished: finished.length,
			stillWaiting: waits.length - this.waits.length,
			meanWaitMin: mean(waits),
			p95WaitMin: p95,
			meanTotalMin: mean(this.totals),
			energyDeliveredKwh: this.deliveredWh / 1000,
			energyMeteredKwh: meteredWh / 1000,
			energyMeteredFinishedKwh: meteredFinishedWh / 1000,
			energyBilledKwh: billedWh / 1000,
			peakSiteLoad: { stationId: worst.id, peakKw: worst.peakKw, limitKw: worst.limitKw, ratio: worst.peakKw / worst.limitKw },
			sitesAtLimit: this.stations.filter((st) => st.peakLoadKw >= st.spec.siteLimitKw - 1e-6).length,
			maxAllocatedRatio: this.maxSiteLoadRatio,
			totalSiteLimitKw: totalLimit,
			ledger: { kind: this.ledger.kind, gasEstimated: this.ledger.gasEstimated, transactions, gas, errors: this.ledgerErrors, byMethod },
			readings: { made: this.readingsMade, signed: this.readingsSigned, verifiedByVehicles: this.readingsVerified },
			payments: {
				succeeded: this.paymentsOk,
				failed: this.paymentsFailed,
				refused: this.invoicesRefused,
				amountSat: Number(this.paidMsat) / 1000,
				hubFeesSat: Number(this.feesMsat) / 1000,
				hubIncomeSat: Number(hubIncome) / 1000
			},
			phasesAtEnd: this.phaseCounts(),
			...(wallSeconds !== undefined ? { wallSeconds } : {})
		};
	}
}
