// What a scenario can be asked for, with its defaults and the checks a person gets a sentence
// from. A policy is a station choice plus a power policy; the model's options (information,
// driver behaviour, grid, Lightning) apply to every policy alike, so policies stay comparable.

/** Station-choice policies. See policy.ts. */
export type Policy = 'optimal' | 'lookahead' | 'reserve' | 'live' | 'nearest' | 'random';
export const POLICIES: readonly Policy[] = [
	'optimal',
	'lookahead',
	'reserve',
	'live',
	'nearest',
	'random'
];

/**
 * How a site (and its feeder) shares power among its sessions. See power.ts.
 * equal: water-filling with equal weights. slack: weights by least slack to the driver's deadline.
 * llf: least laxity first (ACN-Sim's LLF). edf: earliest deadline first. srpt: shortest remaining
 * charge first.
 */
export type PowerPolicy = 'equal' | 'slack' | 'llf' | 'edf' | 'srpt';
export const POWER_POLICIES: readonly PowerPolicy[] = ['equal', 'slack', 'llf', 'edf', 'srpt'];

export interface PolicyConfig {
	policy: Policy;
	power: PowerPolicy;
	/** On arrival at a longer queue than expected, the driver may choose again (once per errand). */
	replan: boolean;
	/** Drivers read the reservations on the ledger and post their own (the others have no use for the ledger's queue). */
	reservations: boolean;
	/**
	 * The choice also reads when each session charging now is expected to end (its station
	 * publishes it), and counts the wait it adds to the vehicles reserved after it (policy.ts).
	 */
	lookahead: boolean;
}

/** Each policy's power policy unless a scenario overrides it. */
export const DEFAULT_POWER: Record<Policy, PowerPolicy> = {
	optimal: 'srpt',
	lookahead: 'srpt',
	reserve: 'equal',
	live: 'equal',
	nearest: 'equal',
	random: 'equal'
};

export function policyConfig(policy: Policy, power?: PowerPolicy): PolicyConfig {
	return {
		policy,
		power: power ?? DEFAULT_POWER[policy],
		replan: policy === 'optimal' || policy === 'lookahead',
		reservations: policy === 'optimal' || policy === 'lookahead' || policy === 'reserve',
		lookahead: policy === 'lookahead'
	};
}

export interface ScenarioOptions {
	seed: number;
	vehicles: number;
	stations: number;
	hours: number;
	/** Nodes per side of the street grid (default 20). */
	gridSize?: number;
	/**
	 * Fraction of sessions carried through the whole cryptographic path: every reading signed
	 * (OCMF, the station's key) and verified by the vehicle, the invoice signed (BOLT11), decoded
	 * and checked by the wallet's guard. The other sessions make the same readings, anchors, bill
	 * and payment without signatures (payload text hashed into the anchors, paid by keysend).
	 */
	readingSample?: number;
	/** Seconds between a session's meter readings (each anchored when made). Default 60. */
	meterIntervalSeconds?: number;
	/** Simulated clock start, Unix ms (default Monday 2026-11-23 00:00 UTC). */
	startMs?: number;

	// ---- information and driver behaviour ----
	/** σ of the log-normal error of a drive's duration against its prediction (0 = exact ETAs). */
	etaNoise?: number;
	/** Share of drivers who post a reservation when they choose a station (default 1). */
	reservingShare?: number;
	/** Probability that a reservation is a no-show: the driver goes elsewhere without cancelling. */
	noShowRate?: number;
	/** A driver who finds at least this many vehicles waiting leaves at once (0 = never balks). */
	balkQueue?: number;
	/** Mean patience in a queue, minutes (exponential); a driver waiting longer leaves (0 = never). */
	patienceMin?: number;
	/** Seconds between ledger blocks: a reservation is visible to others from the next block (0 = at once). */
	blockSeconds?: number;
	/** Minutes a reservation stays valid after its ETA. */
	reservationGraceMin?: number;

	// ---- grid ----
	/** Sites per feeder (grouped by location); 0 = every site has its own grid connection only. */
	feederSites?: number;
	/** A feeder's limit as a share of the sum of its sites' limits (default 0.6). */
	feederLimitShare?: number;
	/** Overrides every policy's power policy. */
	powerPolicy?: PowerPolicy;

	// ---- Lightning ----
	/** Share of vehicles with a channel to the hub at the start; the rest open one before their first payment. */
	channelShare?: number;
	/** Mean seconds between Bitcoin blocks (exponential). */
	bitcoinBlockSeconds?: number;
	/** Confirmations before a new channel is usable (LND's default is 3). */
	channelConfirmations?: number;
	/** On-chain fee rate for opening a channel, sat/vB. */
	onchainFeeSatPerVb?: number;
	/** The hub's routing fee (LND's defaults: 1,000 msat + 1 ppm). */
	hubBaseFeeMsat?: number;
	hubFeePpm?: number;
}

export type ResolvedOptions = Required<Omit<ScenarioOptions, 'powerPolicy'>> & {
	powerPolicy: PowerPolicy | null;
};

export const DEFAULT_START_MS = Date.UTC(2026, 10, 23);
export const DEFAULT_READING_SAMPLE = 0.02;

export const LIMITS = { vehicles: 100_000, stations: 5_000, hours: 168 } as const;

export function resolveOptions(o: ScenarioOptions): ResolvedOptions {
	const check = (ok: boolean, message: string) => {
		if (!ok) throw new RangeError(message);
	};
	const share = (name: string, value: number) =>
		check(
			Number.isFinite(value) && value >= 0 && value <= 1,
			`${name} must be between 0 and 1, got ${value}`
		);
	const nonNegative = (name: string, value: number) =>
		check(Number.isFinite(value) && value >= 0, `${name} must be a number ≥ 0, got ${value}`);
	check(
		Number.isSafeInteger(o.seed) && o.seed >= 0,
		`seed must be a non-negative integer, got ${o.seed}`
	);
	check(
		Number.isInteger(o.vehicles) && o.vehicles >= 1 && o.vehicles <= LIMITS.vehicles,
		`vehicles must be an integer 1..${LIMITS.vehicles}, got ${o.vehicles}`
	);
	check(
		Number.isInteger(o.stations) && o.stations >= 1 && o.stations <= LIMITS.stations,
		`stations must be an integer 1..${LIMITS.stations}, got ${o.stations}`
	);
	check(
		Number.isFinite(o.hours) && o.hours > 0 && o.hours <= LIMITS.hours,
		`hours must be a number in (0, ${LIMITS.hours}], got ${o.hours}`
	);
	const r: ResolvedOptions = {
		seed: o.seed,
		vehicles: o.vehicles,
		stations: o.stations,
		hours: o.hours,
		gridSize: o.gridSize ?? 20,
		readingSample: o.readingSample ?? DEFAULT_READING_SAMPLE,
		meterIntervalSeconds: o.meterIntervalSeconds ?? 60,
		startMs: o.startMs ?? DEFAULT_START_MS,
		etaNoise: o.etaNoise ?? 0,
		reservingShare: o.reservingShare ?? 1,
		noShowRate: o.noShowRate ?? 0,
		balkQueue: o.balkQueue ?? 0,
		patienceMin: o.patienceMin ?? 0,
		blockSeconds: o.blockSeconds ?? 1,
		reservationGraceMin: o.reservationGraceMin ?? 15,
		feederSites: o.feederSites ?? 0,
		feederLimitShare: o.feederLimitShare ?? 0.6,
		powerPolicy: o.powerPolicy ?? null,
		channelShare: o.channelShare ?? 0,
		bitcoinBlockSeconds: o.bitcoinBlockSeconds ?? 600,
		channelConfirmations: o.channelConfirmations ?? 3,
		onchainFeeSatPerVb: o.onchainFeeSatPerVb ?? 10,
		hubBaseFeeMsat: o.hubBaseFeeMsat ?? 1000,
		hubFeePpm: o.hubFeePpm ?? 1
	};
	share('readingSample', r.readingSample);
	share('reservingShare', r.reservingShare);
	share('noShowRate', r.noShowRate);
	share('channelShare', r.channelShare);
	check(
		r.feederLimitShare > 0 && r.feederLimitShare <= 1,
		`feederLimitShare must be in (0, 1], got ${r.feederLimitShare}`
	);
	check(
		Number.isInteger(r.meterIntervalSeconds) &&
			r.meterIntervalSeconds >= 60 &&
			r.meterIntervalSeconds % 60 === 0,
		`meterIntervalSeconds must be a whole number of minutes, got ${r.meterIntervalSeconds}`
	);
	check(
		Number.isFinite(r.etaNoise) && r.etaNoise >= 0 && r.etaNoise <= 1,
		`etaNoise must be between 0 and 1, got ${r.etaNoise}`
	);
	check(
		Number.isInteger(r.balkQueue) && r.balkQueue >= 0,
		`balkQueue must be a whole number ≥ 0, got ${r.balkQueue}`
	);
	check(
		Number.isInteger(r.feederSites) && r.feederSites >= 0,
		`feederSites must be a whole number ≥ 0, got ${r.feederSites}`
	);
	check(
		Number.isInteger(r.channelConfirmations) &&
			r.channelConfirmations >= 0 &&
			r.channelConfirmations <= 100,
		`channelConfirmations must be a whole number 0..100, got ${r.channelConfirmations}`
	);
	check(
		Number.isSafeInteger(r.hubBaseFeeMsat) && r.hubBaseFeeMsat >= 0,
		`hubBaseFeeMsat must be a whole number ≥ 0, got ${r.hubBaseFeeMsat}`
	);
	check(
		Number.isSafeInteger(r.hubFeePpm) && r.hubFeePpm >= 0,
		`hubFeePpm must be a whole number ≥ 0, got ${r.hubFeePpm}`
	);
	for (const [name, value] of [
		['patienceMin', r.patienceMin],
		['blockSeconds', r.blockSeconds],
		['reservationGraceMin', r.reservationGraceMin],
		['onchainFeeSatPerVb', r.onchainFeeSatPerVb]
	] as const)
		nonNegative(name, value);
	check(
		r.bitcoinBlockSeconds > 0 && Number.isFinite(r.bitcoinBlockSeconds),
		`bitcoinBlockSeconds must be a number > 0, got ${r.bitcoinBlockSeconds}`
	);
	if (r.powerPolicy !== null)
		check(
			POWER_POLICIES.includes(r.powerPolicy),
			`powerPolicy must be one of ${POWER_POLICIES.join(', ')}, got ${r.powerPolicy}`
		);
	return r;
}
