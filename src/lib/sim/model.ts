// The simulation's running state and the context every part of the engine works through. The
// engine (engine.ts) owns one of each; vehicles.ts, sites.ts, billing.ts, audit.ts and report.ts
// read and change them. Nothing here imports those parts, so dependencies point one way.
import type { Simnet } from '../lightning/simnet';
import type { ReadingVerifier, VerifiedReading, Tariff } from '../protocol';
import type { EventQueue } from './event-queue';
import type { SimLedger, SimTx } from './ledger-port';
import type { Metrics } from './metrics';
import type { PolicyConfig } from './options';
import type { PayloadTemplate } from './payload-template';
import type { Phase } from './phases';
import type { Rng } from './random';
import type { Scenario, StationSpec, VehicleSpec } from './scenario';
import type { StationIndex } from './station-index';

export interface Move {
	from: number;
	to: number;
	/** Simulated seconds. */
	depart: number;
	arrive: number;
}

/** One charging errand: from deciding to charge until the payment settles. */
export interface Errand {
	index: number;
	start: number;
	// Its random draws are all made when it starts (errands.ts), so policies stay paired.
	/** When the driver wants to be done (simulated seconds). */
	deadline: number;
	/** Seconds spent queued so far, over every station tried. */
	waitedSeconds: number;
	/** Queued since (simulated seconds), or null when not queued. */
	waitingSince: number | null;
	/** Times the driver chose again (re-plan, balk, renege, no-show). */
	rechoices: number;
	replans: number;
	/** Drew to run this errand's session through the whole cryptographic path. */
	sampled: boolean;
	/** Patience in a queue this errand (seconds; Infinity when drivers never renege). */
	patienceSeconds: number;
	/** Uniform draw deciding whether the reservation is a no-show. */
	noShowDraw: number;
	/** Standard normals for the ETA error of each drive to a station; `drives` made so far. */
	etaNormals: number[];
	drives: number;
	/** Counter that invalidates a renege event scheduled for an earlier queue. */
	queueToken: number;
	/** Predicted travel minutes of the drive under way (for reservations and the ETA error). */
	predictedMinutes: number;
	/** Stations this errand left (balked, reneged, re-planned away from, or did not show up at). */
	excluded: Set<number>;
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
	/** Unix seconds after which the reservation is no longer valid. */
	reservationExpires: number;
	errand: Errand | null;
	session: ChargingSession | null;
	errandsStarted: number;
	chargesDone: number;
	/** Energy of the move under way once it ends (kWh). */
	tripKwh: number;
	/** Trips begun so far; trip k is a pure function of (vehicle, k), see vehicles.ts. */
	tripsMade: number;
	nextTrip: Trip | null;
	/** 'open' once its channel to the hub is usable. */
	channel: 'none' | 'opening' | 'open';
	/** A session waiting for the channel to confirm before it can be paid. */
	awaitingChannel: ChargingSession | null;
}

export interface Trip {
	index: number;
	/** The stop before it. */
	stopSeconds: number;
	/** Destination node, drawn when the trip starts (-1 before). */
	to: number;
}

export interface SimReading {
	seq: number;
	tx: 'B' | 'T' | 'E';
	/** Simulated seconds. */
	at: number;
	energyWh: number;
	/** Signed OCMF record, or null for a reading outside the crypto sample. */
	ocmf: string | null;
	/** What the anchor commits to: the OCMF record, or the payload text the station would sign. */
	leafText: string;
}

/** What a receipt needs of an anchored reading: the record, the anchor's root and the proof. */
export interface AnchoredReading {
	reading: SimReading;
	root: string;
	proof: string[];
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
	socAtPlugKwh: number;
	/** Delivered so far, Wh (continuous; readings floor it onto the meter register). */
	deliveredWh: number;
	targetWh: number;
	/** Allocated power now, kW, and since when (simulated seconds). */
	kw: number;
	updatedAt: number;
	/** Readings made and not yet anchored: dropped from memory once anchored. */
	pending: SimReading[];
	first: SimReading;
	last: SimReading;
	readingCount: number;
	/** The session's OCMF payload text with the per-reading fields cut out (made at its first reading). */
	payloadTemplate: PayloadTemplate | null;
	lastAnchoredSeq: number;
	/** Begin and end readings with their anchors: what the audit and a receipt need. */
	beginAnchor: AnchoredReading | null;
	endAnchor: AnchoredReading | null;
	anchors: number;
	/** Readings the vehicle verified that a bill can rest on (first and latest). */
	verified: Map<number, VerifiedReading>;
	verifier: ReadingVerifier | null;
	billedWh: number | null;
	amountMsat: bigint | null;
	paymentHash: string | null;
	paidAt: number | null;
	paid: number;
	feeMsat: bigint;
	closed: boolean;
}

export interface StationState {
	spec: StationSpec;
	tariff: Tariff;
	readonly publicKey: string;
	readonly lightningPubkey: string;
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
	feeder: FeederState;
}

export interface FeederState {
	index: number;
	sites: StationState[];
	limitKw: number;
	loadKw: number;
	peakLoadKw: number;
	/** Bumped at every reallocation: a scheduled end check for an older allocation is stale. */
	version: number;
}

export type FeedKind = 'ledger' | 'lightning';
export interface FeedEvent {
	t: number;
	kind: FeedKind;
	text: string;
}

export type SimEvent =
	| { k: 'shiftStart'; v: Vehicle }
	| { k: 'tripStart'; v: Vehicle }
	| { k: 'tripEnd'; v: Vehicle }
	| { k: 'decided'; v: Vehicle }
	| { k: 'arrive'; v: Vehicle }
	| { k: 'renege'; v: Vehicle; token: number }
	| { k: 'tick' }
	| { k: 'endCheck'; feeder: FeederState; version: number }
	| { k: 'bitcoinBlock' }
	| { k: 'paid'; s: ChargingSession; ok: boolean; feeMsat: bigint; detail: string }
	| { k: 'lightning'; run: () => void };

/** What the parts of the engine share. */
export interface SimContext {
	readonly scenario: Scenario;
	readonly config: PolicyConfig;
	readonly ledger: SimLedger;
	readonly net: Simnet;
	readonly queue: EventQueue<SimEvent>;
	readonly vehicles: Vehicle[];
	readonly stations: StationState[];
	readonly feeders: FeederState[];
	readonly index: StationIndex;
	readonly metrics: Metrics;
	/** Simulated seconds now. */
	readonly now: number;
	readonly endSeconds: number;
	unix(simSeconds: number): number;
	feed(kind: FeedKind, text: string): void;
	/** Runs a ledger call, counting its gas; a failure is counted and fed, not thrown. */
	ledgerCall<T extends SimTx>(call: () => Promise<T>): Promise<T | null>;
	/** The same for a call done at once (`SimLedger.anchorReadingsNow`). */
	ledgerCallNow<A, T extends SimTx>(call: (a: A) => T, a: A): T | null;
	/** The random stream of the `random` policy (its own, so it shifts nothing else). */
	readonly choiceRng: Rng;
	/** Payments in flight by payment hash, hashes ever paid, vehicles whose channel is confirming. */
	readonly payments: {
		byHash: Map<string, ChargingSession>;
		paidHashes: Set<string>;
		opening: Set<Vehicle>;
	};
	/** Called as each trip begins (tests check trips are the same under every policy). */
	readonly onTrip?: ((v: Vehicle, index: number, to: number) => void) | undefined;
	/** Called with each session once it is closed on the ledger (tests and reports look at them). */
	readonly onSessionClosed?: ((s: ChargingSession) => void) | undefined;
}

/** Simulated seconds a vehicle spends reading the queues and sending its reservation. */
export const DECISION_SECONDS = 30;
/** Simulated milliseconds a Lightning payment stays in flight. */
export const PAYMENT_SETTLE_MS = 2500;
/** Seconds between power reallocations (the taper changes what a battery accepts). */
export const TICK_SECONDS = 60;
/** Channel size a vehicle opens to the hub, and the virtual bytes of its funding transaction. */
export const VEHICLE_CHANNEL_SAT = 1_000_000n;
export const CHANNEL_OPEN_VBYTES = 154;
