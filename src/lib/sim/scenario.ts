// A scenario is a pure function of its options and seed: the city, the stations and their feeders,
// the vehicles, their shifts and their drivers' habits. Each vehicle carries its own random
// streams (trips, errands), so it makes the same trips whatever the policy: policies are compared
// on identical demand.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { buildCity, drawDemandNode, type City } from './city';
import { resolveOptions, type ResolvedOptions, type ScenarioOptions } from './options';
import { hashString, Rng } from './random';

export interface StationSpec {
	id: string;
	index: number;
	node: number;
	connectors: number;
	connectorKw: number;
	/** The site's grid connection: total power the site may draw, kW. */
	siteLimitKw: number;
	/** Index into Scenario.feeders. */
	feeder: number;
	/** Station's OCMF signing key (hex), derived from the seed. Simulation only. */
	signingKey: string;
	pricePerKwhMsat: string;
	startFeeMsat: string;
}

/** Several sites behind one distribution transformer: their total draw is limited too. */
export interface FeederSpec {
	index: number;
	stations: number[];
	/** Infinity when the scenario has no feeder limits. */
	limitKw: number;
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
	/** The driver posts reservations on the ledger. */
	reserves: boolean;
	/** Already has a channel to the hub at the start. */
	hasChannel: boolean;
	/** Seed of this vehicle's trip stream (destinations, stops) and of its errands' streams. */
	tripSeed: number;
	errandSeed: number;
}

export interface Scenario {
	options: ResolvedOptions;
	city: City;
	stations: StationSpec[];
	feeders: FeederSpec[];
	vehicles: VehicleSpec[];
}

export function buildScenario(input: ScenarioOptions): Scenario {
	const options = resolveOptions(input);
	const root = new Rng(options.seed);
	const city = buildCity(root.fork('city'), { gridSize: options.gridSize });
	const stations = buildStations(options, city, root.fork('stations'));
	const feeders = buildFeeders(options, city, stations);
	const vrng = root.fork('vehicles');
	const vehicles: VehicleSpec[] = [];
	const width = String(options.vehicles).length < 4 ? 4 : String(options.vehicles).length;
	for (let i = 0; i < options.vehicles; i++) {
		const batteryKwh = vrng.pick([50, 60, 64, 77, 82, 100]);
		// Shifts cluster in the morning, so charging demand peaks around midday and evening.
		const shiftStart = Math.round((5 + vrng.range(0, 7)) * 3600);
		const id = `EV-${String(i + 1).padStart(width, '0')}`;
		vehicles.push({
			id,
			index: i,
			home: drawDemandNode(city, vrng),
			batteryKwh,
			consumption: vrng.range(0.15, 0.21),
			maxChargeKw: vrng.pick([50, 100, 120, 150, 200]),
			initialSoc: vrng.range(0.22, 0.85),
			reserveSoc: vrng.range(0.18, 0.3),
			targetSoc: vrng.range(0.78, 0.92),
			shiftStart,
			shiftEnd: shiftStart + Math.round(vrng.range(8, 12) * 3600),
			reserves: vrng.next() < options.reservingShare,
			hasChannel: vrng.next() < options.channelShare,
			tripSeed: hashString(`${options.seed}:trips:${id}`),
			errandSeed: hashString(`${options.seed}:errands:${id}`)
		});
	}
	return { options, city, stations, feeders, vehicles };
}

function buildStations(options: ResolvedOptions, city: City, rng: Rng): StationSpec[] {
	const stations: StationSpec[] = [];
	const used = new Set<number>();
	const width = String(options.stations).length < 3 ? 3 : String(options.stations).length;
	for (let i = 0; i < options.stations; i++) {
		// Operators build where land is available as much as where demand is: 30 % near demand.
		// Two sites share a street corner only once every corner has one.
		let node = 0;
		for (let attempt = 0; attempt < 20; attempt++) {
			node = rng.next() < 0.3 ? drawDemandNode(city, rng) : rng.int(city.nodes.length);
			if (!used.has(node) || used.size >= city.nodes.length) break;
		}
		used.add(node);
		const connectors = rng.pick([2, 2, 3, 4, 4, 6]);
		const connectorKw = rng.pick([50, 75, 150]);
		const siteLimitKw = Math.round(connectors * connectorKw * rng.range(0.5, 0.8));
		const id = `ST-${String(i + 1).padStart(width, '0')}`;
		stations.push({
			id,
			index: i,
			node,
			connectors,
			connectorKw,
			siteLimitKw,
			feeder: i,
			signingKey: bytesToHex(
				sha256(utf8ToBytes(`lightcharge-sim station key ${options.seed} ${id}`))
			),
			pricePerKwhMsat: '250000',
			startFeeMsat: '1000'
		});
	}
	return stations;
}

/**
 * Groups neighbouring sites onto feeders of `feederSites` sites: sites are ordered along a
 * serpentine over 4 km bands of the city, then cut into runs, so a feeder covers one district.
 */
function buildFeeders(options: ResolvedOptions, city: City, stations: StationSpec[]): FeederSpec[] {
	if (options.feederSites <= 1) {
		return stations.map((s) => ({ index: s.index, stations: [s.index], limitKw: Infinity }));
	}
	const band = (s: StationSpec) => Math.floor(city.nodes[s.node]!.y / 4);
	const order = [...stations].sort((a, b) => {
		const ba = band(a);
		const bb = band(b);
		if (ba !== bb) return ba - bb;
		const xa = city.nodes[a.node]!.x;
		const xb = city.nodes[b.node]!.x;
		return (ba % 2 === 0 ? xa - xb : xb - xa) || a.index - b.index;
	});
	const feeders: FeederSpec[] = [];
	for (let i = 0; i < order.length; i += options.feederSites) {
		const members = order.slice(i, i + options.feederSites);
		const index = feeders.length;
		let sum = 0;
		for (const s of members) {
			s.feeder = index;
			sum += s.siteLimitKw;
		}
		feeders.push({
			index,
			stations: members.map((s) => s.index),
			limitKw: Math.round(sum * options.feederLimitShare)
		});
	}
	return feeders;
}
