// A scenario is a pure function of its options and seed: the city, the stations, the vehicles and
// their shifts. The same seed gives the same scenario for every policy, so policies are compared
// on identical demand.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { buildCity, drawDemandNode, type City } from './city.js';
import { Rng } from './random.js';

export type Policy = 'optimal' | 'nearest' | 'random';
export const POLICIES: readonly Policy[] = ['optimal', 'nearest', 'random'];

export interface ScenarioOptions {
	seed: number;
	vehicles: number;
	stations: number;
	hours: number;
	/** Nodes per side of the street grid (default 20). */
	gridSize?: number;
	/**
	 * Fraction of sessions whose every per-minute reading is signed as OCMF (makeReading) and verified
	 * by the vehicle (ReadingVerifier). Every session's begin and end readings, which the bill rests
	 * on, are always signed. Default 0.05; 1 signs everything (slower: ~1.6 ms per signature).
	 */
	readingSample?: number;
	/** Simulated clock start, Unix ms (default Monday 2026-11-23 00:00 UTC). */
	startMs?: number;
}

export interface StationSpec {
	id: string;
	index: number;
	node: number;
	connectors: number;
	connectorKw: number;
	/** The site's grid connection: total power the site may draw, kW. */
	siteLimitKw: number;
	/** Station's OCMF signing key (hex), derived from the seed. Simulation only. */
	signingKey: string;
	pricePerKwhMsat: string;
	startFeeMsat: string;
}

export interface VehicleSpec {
	id: string;
	index: number;
	home: number;
	batteryKwh: number;
	/** kWh per road km. */
	consumption: number;
	maxChargeKw: number;
	initialSoc: number;
	/** Below this state of charge the driver goes to charge. */
	reserveSoc: number;
	/** Charge up to this state of charge. */
	targetSoc: number;
	/** Shift start and end, simulated seconds. */
	shiftStart: number;
	shiftEnd: number;
}

export interface Scenario {
	options: Required<ScenarioOptions>;
	city: City;
	stations: StationSpec[];
	vehicles: VehicleSpec[];
}

export const DEFAULT_START_MS = Date.UTC(2026, 10, 23);

export function validateScenarioOptions(o: ScenarioOptions): Required<ScenarioOptions> {
	const check = (ok: boolean, message: string) => {
		if (!ok) throw new RangeError(message);
	};
	check(Number.isSafeInteger(o.seed) && o.seed >= 0, `seed must be a non-negative integer, got ${o.seed}`);
	check(Number.isInteger(o.vehicles) && o.vehicles >= 1 && o.vehicles <= 20_000, `vehicles must be an integer 1..20000, got ${o.vehicles}`);
	check(Number.isInteger(o.stations) && o.stations >= 1 && o.stations <= 1_000, `stations must be an integer 1..1000, got ${o.stations}`);
	check(Number.isFinite(o.hours) && o.hours > 0 && o.hours <= 168, `hours must be a number in (0, 168], got ${o.hours}`);
	const readingSample = o.readingSample ?? 0.05;
	check(readingSample >= 0 && readingSample <= 1, `readingSample must be between 0 and 1, got ${readingSample}`);
	return {
		seed: o.seed,
		vehicles: o.vehicles,
		stations: o.stations,
		hours: o.hours,
		gridSize: o.gridSize ?? 20,
		readingSample,
		startMs: o.startMs ?? DEFAULT_START_MS
	};
}

export function buildScenario(input: ScenarioOptions): Scenario {
	const options = validateScenarioOptions(input);
	const root = new Rng(options.seed);
	const city = buildCity(root.fork('city'), { gridSize: options.gridSize });
	const rng = root.fork('stations');
	const stations: StationSpec[] = [];
	const used = new Set<number>();
	for (let i = 0; i < options.stations; i++) {
		// Operators build where land is available as much as where demand is: 30 % near demand.
		let node = 0;
		for (let attempt = 0; attempt < 20; attempt++) {
			node = rng.next() < 0.3 ? drawDemandNode(city, rng) : rng.int(city.nodes.length);
			if (!used.has(node)) break;
		}
		used.add(node);
		const connectors = rng.pick([2, 2, 3, 4, 4, 6]);
		const connectorKw = rng.pick([50, 75, 150]);
		const siteLimitKw = Math.round(connectors * connectorKw * rng.range(0.5, 0.8));
		const id = `ST-${String(i + 1).padStart(3, '0')}`;
		stations.push({
			id,
			index: i,
			node,
			connectors,
			connectorKw,
			siteLimitKw,
			signingKey: bytesToHex(sha256(utf8ToBytes(`lightcharge-sim station key ${options.seed} ${id}`))),
			pricePerKwhMsat: '250000',
			startFeeMsat: '1000'
		});
	}
	const vrng = root.fork('vehicles');
	const vehicles: VehicleSpec[] = [];
	for (let i = 0; i < options.vehicles; i++) {
		const batteryKwh = vrng.pick([50, 60, 64, 77, 82, 100]);
		// Shifts cluster in the morning, so charging demand peaks around midday and evening.
		const shiftStart = Math.round((5 + vrng.range(0, 7)) * 3600);
		vehicles.push({
			id: `EV-${String(i + 1).padStart(4, '0')}`,
			index: i,
			home: drawDemandNode(city, vrng),
			batteryKwh,
			consumption: vrng.range(0.15, 0.21),
			maxChargeKw: vrng.pick([50, 100, 120, 150, 200]),
			initialSoc: vrng.range(0.22, 0.85),
			reserveSoc: vrng.range(0.18, 0.3),
			targetSoc: vrng.range(0.78, 0.92),
			shiftStart,
			shiftEnd: shiftStart + Math.round(vrng.range(8, 12) * 3600)
		});
	}
	return { options, city, stations, vehicles };
}
