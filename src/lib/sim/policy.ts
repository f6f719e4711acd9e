// Station choice. `optimal` minimises expected completion time: travel (with traffic) + expected
// wait from the station's queue of reservations on the ledger + charge time under the site's
// current power sharing, among stations within range. Baselines: `nearest` (least travel time)
// and `random` (any station within range).
import { roadKmBetween, travelMinutes, type City } from './city.js';
import { chargeMinutes } from './charging.js';
import type { QueuedReservation, SimLedger } from './ledger-port.js';
import type { Rng } from './random.js';
import type { Policy } from './scenario.js';

/** What a station publishes about itself (its retained status), as the optimiser sees it. */
export interface StationView {
	index: number;
	id: string;
	node: number;
	connectors: number;
	connectorKw: number;
	siteLimitKw: number;
	/** Sessions charging now. */
	charging: number;
	/** Typical plug-in to unplug time, minutes. */
	meanSessionMin: number;
}

export interface VehicleView {
	node: number;
	socKwh: number;
	spec: { id: string; batteryKwh: number; consumption: number; maxChargeKw: number; targetSoc: number };
}

export interface StationChoice {
	stationIndex: number;
	travelMinutes: number;
	waitMinutes: number;
	chargeMinutes: number;
	expectedMinutes: number;
}

/**
 * Expected wait at a station for a vehicle arriving at `etaUnix`: the reservations ahead of it
 * (earlier ETA) are served first-come on the station's connectors, each for the station's typical
 * session; reservations already past their ETA are vehicles waiting or charging now.
 */
export function expectedWaitMinutes(queue: readonly QueuedReservation[], connectors: number, meanSessionMin: number, nowUnix: number, etaUnix: number): number {
	const free = new Array<number>(connectors).fill(nowUnix);
	const hold = meanSessionMin * 60;
	for (const r of queue) {
		if (r.eta > etaUnix) break;
		let k = 0;
		for (let i = 1; i < free.length; i++) if (free[i]! < free[k]!) k = i;
		// A vehicle that arrived before now has been there a while already: it leaves earlier.
		const start = Math.max(r.eta, free[k]!);
		free[k] = Math.max(nowUnix, start + hold);
	}
	let earliest = Infinity;
	for (const f of free) earliest = Math.min(earliest, f);
	return Math.max(0, earliest - etaUnix) / 60;
}

export async function chooseStation(o: {
	policy: Policy;
	vehicle: VehicleView;
	city: City;
	stations: StationView[];
	nowSeconds: number;
	nowUnix: number;
	ledger: SimLedger;
	rng: Rng;
	/** Seconds between deciding and leaving (reading queues, the reservation being mined). */
	decisionSeconds?: number;
	/** A station not to choose (the one whose queue the vehicle is leaving). */
	exclude?: number;
}): Promise<StationChoice> {
	const v = o.vehicle;
	const lead = o.decisionSeconds ?? 30;
	// Within range: reachable with 3 % of the battery to spare.
	const usableKwh = v.socKwh - 0.03 * v.spec.batteryKwh;
	const allowed = o.exclude === undefined ? o.stations : o.stations.filter((s) => s.index !== o.exclude);
	if (allowed.length === 0) throw new RangeError('no station to choose from');
	let candidates = allowed.filter((s) => roadKmBetween(o.city, v.node, s.node) * v.spec.consumption <= usableKwh);
	if (candidates.length === 0) {
		// Nothing in range: limp to the closest station.
		candidates = [allowed.reduce((a, b) => (roadKmBetween(o.city, v.node, b.node) < roadKmBetween(o.city, v.node, a.node) ? b : a))];
	}
	const travel = (s: StationView) => travelMinutes(o.city, v.node, s.node, o.nowSeconds + lead);
	const arrivalSoc = (s: StationView) => Math.max(0, v.socKwh - roadKmBetween(o.city, v.node, s.node) * v.spec.consumption) / v.spec.batteryKwh;
	const chargeAt = (s: StationView, sharing: number) => {
		const perVehicle = Math.min(s.connectorKw, s.siteLimitKw / Math.max(1, Math.min(s.connectors, sharing)));
		return chargeMinutes(v.spec.batteryKwh, v.spec.maxChargeKw, arrivalSoc(s), v.spec.targetSoc, perVehicle);
	};
	const simple = (s: StationView): StationChoice => {
		const t = travel(s);
		const c = chargeAt(s, s.charging + 1);
		return { stationIndex: s.index, travelMinutes: t, waitMinutes: 0, chargeMinutes: c, expectedMinutes: t + c };
	};
	if (o.policy === 'nearest') {
		let best = candidates[0]!;
		for (const s of candidates) if (travel(s) < travel(best)) best = s;
		return simple(best);
	}
	if (o.policy === 'random') return simple(o.rng.pick(candidates));

	let best: StationChoice | null = null;
	for (const s of candidates) {
		const t = travel(s);
		// A station farther than the best total so far cannot win: skip reading its queue.
		if (best && t >= best.expectedMinutes) continue;
		const queue = await o.ledger.listReservations(s.id);
		const eta = o.nowUnix + lead + t * 60;
		const wait = expectedWaitMinutes(queue, s.connectors, s.meanSessionMin, o.nowUnix, eta);
		const ahead = queue.filter((r) => r.eta <= eta).length;
		const c = chargeAt(s, Math.min(s.connectors, ahead + 1));
		const total = t + wait + c;
		if (!best || total < best.expectedMinutes) {
			best = { stationIndex: s.index, travelMinutes: t, waitMinutes: wait, chargeMinutes: c, expectedMinutes: total };
		}
	}
	return best!;
}
