// The fleet simulator: a discrete-event engine (one priority queue of timed events) over the
// scenario's city, stations and vehicles. Each vehicle goes idle → calculating → go → waiting →
// charging → paying → done. The parts: vehicles.ts (trips and errands), policy.ts (station
// choice), sites.ts (queues, power, sessions), metering.ts (readings and anchors), billing.ts
// (invoices, payments, channels), audit.ts (cross-checks), report.ts (figures). Everything runs on
// the shared core: the ledger contract's rules, OCMF readings, billing records, the wallet's
// payment guard and the Lightning simnet in simulated time.
import { Simnet, buildHubTopology, seededRandomBytes } from '../lightning/simnet';
import { ocmfPublicKeyHex } from '../protocol';
import { auditSim } from './audit';
import { channelsConfirmed, onLightning, settled } from './billing';
import { EventQueue } from './event-queue';
import type { SimLedger, SimTx } from './ledger-port';
import { Metrics } from './metrics';
import {
	PAYMENT_SETTLE_MS,
	TICK_SECONDS,
	VEHICLE_CHANNEL_SAT,
	type ChargingSession,
	type FeederState,
	type FeedEvent,
	type FeedKind,
	type SimContext,
	type SimEvent,
	type StationState,
	type Vehicle
} from './model';
import { policyConfig, type Policy, type PolicyConfig } from './options';
import { PHASES, type Phase } from './phases';
import { Rng } from './random';
import { buildReport, type PolicyReport } from './report';
import type { Scenario } from './scenario';
import { endCheck, tick } from './sites';
import { StationIndex } from './station-index';
import { afterStop, arrive, depart, endTrip, renege, startTrip } from './vehicles';

export interface FleetSimOptions {
	scenario: Scenario;
	policy: Policy | PolicyConfig;
	ledger: SimLedger;
	/** Called for each ledger or Lightning event (the live view's feed). */
	onFeed?: (e: FeedEvent) => void;
	/** Called with each session once closed (tests inspect them; they are not kept otherwise). */
	onSessionClosed?: (s: ChargingSession) => void;
	/** Called as each trip begins. */
	onTrip?: (v: Vehicle, index: number, to: number) => void;
	/** Keep one record per session for the report's CSV (default false: memory stays per errand). */
	keepSessionRecords?: boolean;
}

export class FleetSim implements SimContext {
	readonly scenario: Scenario;
	readonly config: PolicyConfig;
	readonly vehicles: Vehicle[];
	readonly stations: StationState[];
	readonly feeders: FeederState[];
	readonly net: Simnet;
	readonly index: StationIndex;
	readonly metrics: Metrics;
	readonly endSeconds: number;
	readonly ledger: SimLedger;
	readonly queue = new EventQueue<SimEvent>();
	readonly choiceRng: Rng;
	readonly payments = {
		byHash: new Map<string, ChargingSession>(),
		paidHashes: new Set<string>(),
		opening: new Set<Vehicle>()
	};
	readonly onSessionClosed: ((s: ChargingSession) => void) | undefined;
	readonly onTrip: ((v: Vehicle, index: number, to: number) => void) | undefined;
	readonly hubBalanceAtStartMsat: bigint;
	private readonly onFeed: ((e: FeedEvent) => void) | undefined;
	private readonly bitcoinRng: Rng;
	private nowSeconds = 0;
	private started = false;

	constructor(options: FleetSimOptions) {
		const { scenario } = options;
		const o = scenario.options;
		this.scenario = scenario;
		this.config =
			typeof options.policy === 'string' ? policyConfig(options.policy) : options.policy;
		this.ledger = options.ledger;
		this.onFeed = options.onFeed;
		this.onSessionClosed = options.onSessionClosed;
		this.onTrip = options.onTrip;
		this.endSeconds = o.hours * 3600;
		this.metrics = new Metrics(this.endSeconds / 60, options.keepSessionRecords ?? false);
		const root = new Rng(o.seed);
		this.choiceRng = root.fork(`choice:${this.config.policy}`);
		// The same Bitcoin blocks for every policy.
		this.bitcoinRng = root.fork('bitcoin');
		// Lightning in simulated time: the simnet's clock is ours, and its scheduled settlements are
		// events in our queue.
		this.net = new Simnet({
			now: () => this.nowMs(),
			random: seededRandomBytes(`lightcharge-sim ${o.seed}`),
			schedule: (run, delayMs) =>
				this.queue.push(this.nowSeconds + delayMs / 1000, { k: 'lightning', run }),
			settleDelayMs: PAYMENT_SETTLE_MS,
			confirmations: o.channelConfirmations
		});
		for (const s of scenario.stations)
			this.net.createNode(s.id.toLowerCase(), { acceptKeysend: true });
		buildHubTopology(
			this.net,
			scenario.stations.map((s) => s.id.toLowerCase()),
			{ channelSat: 20_000_000n }
		);
		const withChannel = scenario.vehicles
			.filter((v) => v.hasChannel)
			.map((v) => v.id.toLowerCase());
		buildHubTopology(this.net, withChannel, { channelSat: VEHICLE_CHANNEL_SAT });
		for (const v of scenario.vehicles)
			if (!v.hasChannel)
				this.net.createNode(v.id.toLowerCase(), { onchainSat: VEHICLE_CHANNEL_SAT });
		this.net.setFeePolicy('hub', BigInt(o.hubBaseFeeMsat), BigInt(o.hubFeePpm));
		this.hubBalanceAtStartMsat = this.net.balances('hub').localMsat;
		this.net.subscribe((e) => onLightning(this, e));

		this.feeders = scenario.feeders.map((f) => ({
			index: f.index,
			sites: [],
			limitKw: f.limitKw,
			loadKw: 0,
			peakLoadKw: 0,
			version: 0
		}));
		const net = this.net;
		this.stations = scenario.stations.map((spec) => {
			const feeder = this.feeders[spec.feeder]!;
			// Keys are derived when first needed (a scalar multiplication each): a city has thousands of stations.
			let ocmfKey: string | undefined;
			const station: StationState = {
				spec,
				tariff: {
					pricePerKwhMsat: spec.pricePerKwhMsat,
					startFeeMsat: spec.startFeeMsat,
					incrementWh: 100,
					graceWh: 50,
					mode: 'postpaid',
					invoiceExpirySeconds: 3600
				},
				get publicKey() {
					return (ocmfKey ??= ocmfPublicKeyHex(spec.signingKey));
				},
				get lightningPubkey() {
					return net.node(spec.id.toLowerCase()).pubkey;
				},
				connectors: new Array<ChargingSession | null>(spec.connectors).fill(null),
				registersWh: Array.from(
					{ length: spec.connectors },
					(_, i) => 1_000_000 + spec.index * 10_000 + i * 1000
				),
				waiting: [],
				meanSessionMin: 45,
				finishedSessions: 0,
				loadKw: 0,
				peakLoadKw: 0,
				feeder
			};
			feeder.sites.push(station);
			return station;
		});
		this.index = new StationIndex(
			scenario.city,
			scenario.stations.map((s) => s.node)
		);
		this.vehicles = scenario.vehicles.map((spec) => ({
			spec,
			phase: 'idle',
			node: spec.home,
			move: null,
			socKwh: spec.initialSoc * spec.batteryKwh,
			stationIndex: null,
			reservationId: null,
			reservationExpires: 0,
			errand: null,
			session: null,
			errandsStarted: 0,
			chargesDone: 0,
			tripKwh: 0,
			tripsMade: 0,
			nextTrip: null,
			channel: spec.hasChannel ? 'open' : 'none',
			awaitingChannel: null
		}));
	}

	get policy(): Policy {
		return this.config.policy;
	}

	get now(): number {
		return this.nowSeconds;
	}

	nowMs(): number {
		return this.scenario.options.startMs + Math.round(this.nowSeconds * 1000);
	}

	unix(simSeconds: number): number {
		return Math.floor(this.scenario.options.startMs / 1000 + simSeconds);
	}

	feed(kind: FeedKind, text: string): void {
		this.onFeed?.({ t: this.nowSeconds, kind, text });
	}

	async ledgerCall<T extends SimTx>(call: () => Promise<T>): Promise<T | null> {
		try {
			return this.counted(await call());
		} catch (error) {
			return this.ledgerError(error);
		}
	}

	ledgerCallNow<A, T extends SimTx>(call: (a: A) => T, a: A): T | null {
		try {
			return this.counted(call(a));
		} catch (error) {
			return this.ledgerError(error);
		}
	}

	private counted<T extends SimTx>(tx: T): T {
		const entry = this.metrics.ledgerTx[tx.method];
		entry.count++;
		entry.gas += tx.gasUsed;
		return tx;
	}

	private ledgerError(error: unknown): null {
		this.metrics.ledgerErrors++;
		this.feed('ledger', `ledger error: ${error instanceof Error ? error.message : String(error)}`);
		return null;
	}

	private start(): void {
		if (this.started) return;
		this.started = true;
		for (const v of this.vehicles)
			this.queue.push(Math.min(v.spec.shiftStart, this.endSeconds), { k: 'shiftStart', v });
		this.queue.push(TICK_SECONDS, { k: 'tick' });
		this.queue.push(this.nextBlockDelay(), { k: 'bitcoinBlock' });
	}

	private nextBlockDelay(): number {
		return -Math.log(1 - this.bitcoinRng.next()) * this.scenario.options.bitcoinBlockSeconds;
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
			// Most events (trips) finish synchronously: await only those that do not.
			const pending = this.handle(event.item);
			if (pending) await pending;
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

	private handle(e: SimEvent): void | Promise<void> {
		switch (e.k) {
			case 'shiftStart':
				return afterStop(this, e.v);
			case 'tripStart':
				return startTrip(this, e.v);
			case 'tripEnd':
				return endTrip(this, e.v);
			case 'decided':
				return depart(this, e.v);
			case 'arrive':
				return arrive(this, e.v);
			case 'renege':
				return renege(this, e.v, e.token);
			case 'tick':
				if (this.nowSeconds + TICK_SECONDS <= this.endSeconds)
					this.queue.push(this.nowSeconds + TICK_SECONDS, { k: 'tick' });
				return tick(this);
			case 'endCheck':
				return endCheck(this, e.feeder, e.version);
			case 'bitcoinBlock':
				this.net.mineBlocks(1);
				this.queue.push(this.nowSeconds + this.nextBlockDelay(), { k: 'bitcoinBlock' });
				return channelsConfirmed(this);
			case 'paid':
				return settled(this, e.s, e.ok, e.feeMsat, e.detail);
			case 'lightning':
				e.run();
				return;
		}
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
		const f = Math.min(
			1,
			Math.max(0, (at - v.move.depart) / Math.max(1, v.move.arrive - v.move.depart))
		);
		return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
	}

	phaseCounts(): Record<Phase, number> {
		const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
		for (const v of this.vehicles) counts[v.phase]++;
		return counts;
	}

	/** Cross-checks the engine's separate records (see audit.ts); empty when consistent. */
	audit(): string[] {
		return auditSim(this);
	}

	report(wallSeconds?: number): PolicyReport {
		return buildReport(this, wallSeconds);
	}
}
