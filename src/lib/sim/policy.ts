// Station choice. Every policy chooses among stations the vehicle can reach with 3 % of its
// battery to spare (else it limps to the nearest):
//   nearest  least travel time (what a driver without information does);
//   random   any station in range;
//   live     least travel + expected wait + charge time, from what a maps app shows now: which
//            connectors are busy and since when, how many vehicles queue, the connectors' power;
//   reserve  the same plus the reservations on the ledger of vehicles due before it, and the
//            site's power limit shared among the vehicles expected there;
//   optimal  reserve's choice (it differs in power sharing and re-planning; see options.ts);
//   lookahead  the optimiser with two more things a Lightcharge station and the ledger can tell:
//            when each session charging now is expected to end (energy still wanted at the power
//            it gets), and the wait this vehicle's arrival adds to the vehicles reserved after it,
//            counted in its cost (the choice a fleet, not each driver alone, would make).
// Stations are scanned nearest first (station-index.ts) and the scan stops once no farther
// station can win, or after MAX_CANDIDATES stations in range: a choice costs O(1) in the number
// of stations of a city.
import { roadKmBetween, trafficFactor } from './city';
import { chargeMinutes } from './charging';
import { DECISION_SECONDS, type SimContext, type StationState, type Vehicle } from './model';
import { delayToOthersMinutes, expectedWaitMinutes, type StationLoad } from './wait-estimate';

export interface StationChoice {
	stationIndex: number;
	travelMinutes: number;
	waitMinutes: number;
	chargeMinutes: number;
	expectedMinutes: number;
}

/** Stations in range a choice looks at, at most (the nearest first). */
export const MAX_CANDIDATES = 60;

/** What a station's status shows: connectors in use since when, and the queue. */
export function stationLoad(s: StationState): StationLoad {
	const busySince: number[] = [];
	for (const c of s.connectors) if (c) busySince.push(c.plugAt);
	return {
		connectors: s.spec.connectors,
		busySince,
		waiting: s.waiting.length,
		meanSessionMin: s.meanSessionMin
	};
}

/**
 * stationLoad plus when each session is expected to end: the energy it still wants at the power it
 * gets now (a session without power yet: plug-in + typical). The charging curve's taper makes
 * sessions above 80 % end a little later than this says.
 */
export function stationLoadAhead(s: StationState, now: number): StationLoad {
	const busySince: number[] = [];
	const busyUntil: number[] = [];
	for (const c of s.connectors) {
		if (!c) continue;
		busySince.push(c.plugAt);
		const delivered = Math.min(
			c.targetWh,
			c.deliveredWh + (c.kw * Math.max(0, now - c.updatedAt)) / 3.6
		);
		busyUntil.push(
			c.kw > 0 ? now + ((c.targetWh - delivered) * 3.6) / c.kw : c.plugAt + s.meanSessionMin * 60
		);
	}
	return {
		connectors: s.spec.connectors,
		busySince,
		busyUntil,
		waiting: s.waiting.length,
		meanSessionMin: s.meanSessionMin
	};
}

export async function chooseStation(
	ctx: SimContext,
	v: Vehicle,
	exclude: ReadonlySet<number> = new Set()
): Promise<StationChoice> {
	const { city } = ctx.scenario;
	const n = city.nodes.length;
	const spec = v.spec;
	const now = ctx.now;
	const factor = trafficFactor(now + DECISION_SECONDS);
	const order = ctx.index.byTime(v.node);
	const usableKwh = v.socKwh - 0.03 * spec.batteryKwh;
	const km = (s: StationState) => roadKmBetween(city, v.node, s.spec.node);
	const inRange = (s: StationState) => km(s) * spec.consumption <= usableKwh;
	const travel = (s: StationState) => city.freeFlowMin[v.node * n + s.spec.node]! * factor;
	const chargeAt = (s: StationState, kw: number) =>
		chargeMinutes(
			spec.batteryKwh,
			spec.maxChargeKw,
			Math.max(0, v.socKwh - km(s) * spec.consumption) / spec.batteryKwh,
			spec.targetSoc,
			kw
		);
	const simple = (s: StationState): StationChoice => {
		const t = travel(s);
		const c = chargeAt(s, Math.min(s.spec.connectorKw, spec.maxChargeKw));
		return {
			stationIndex: s.spec.index,
			travelMinutes: t,
			waitMinutes: 0,
			chargeMinutes: c,
			expectedMinutes: t + c
		};
	};

	const candidates: StationState[] = [];
	let fallback: StationState | null = null;
	for (const i of order) {
		if (exclude.has(i)) continue;
		const s = ctx.stations[i]!;
		fallback ??= s;
		if (!inRange(s)) continue;
		if (ctx.config.policy === 'nearest') return simple(s);
		candidates.push(s);
		if (ctx.config.policy !== 'random' && candidates.length >= MAX_CANDIDATES) break;
	}
	if (candidates.length === 0) {
		// Nothing in range: limp to the nearest station.
		if (!fallback) throw new RangeError('no station to choose from');
		return simple(fallback);
	}
	if (ctx.config.policy === 'random') return simple(ctx.choiceRng.pick(candidates));

	const reservationAware = ctx.config.reservations;
	const startUnix = ctx.unix(0);
	// No station charges this vehicle faster than its own maximum on the fastest connector.
	const fastest = Math.min(spec.maxChargeKw, maxConnectorKw(ctx));
	const bestPossibleCharge = chargeMinutes(
		spec.batteryKwh,
		spec.maxChargeKw,
		v.socKwh / spec.batteryKwh,
		spec.targetSoc,
		fastest
	);
	const lookahead = ctx.config.lookahead;
	let best: StationChoice | null = null;
	// What the choice minimises: the driver's own expected minutes, plus (lookahead) the minutes it adds to others.
	let bestCost = Infinity;
	for (const s of candidates) {
		const t = travel(s);
		// Candidates come nearest first: once travel plus the fastest possible charge cannot beat
		// the best so far, no farther station can (the added cost is never negative).
		if (best && t + bestPossibleCharge >= bestCost) break;
		const eta = now + DECISION_SECONDS + t * 60;
		const load = lookahead ? stationLoadAhead(s, now) : stationLoad(s);
		let reservedEtas: number[] = [];
		let allReserved: number[] = [];
		if (reservationAware) {
			const listNow = ctx.ledger.listReservationsNow;
			const queue = listNow ? listNow(s.spec.id) : await ctx.ledger.listReservations(s.spec.id);
			allReserved = queue.map((r) => r.eta - startUnix);
			reservedEtas = allReserved.filter((e) => e <= eta);
		}
		const wait = expectedWaitMinutes(load, now, eta, reservedEtas);
		const sharing = Math.min(
			s.spec.connectors,
			load.busySince.length + load.waiting + reservedEtas.length + 1
		);
		// A maps app shows connector power; Lightcharge stations also publish their site limit.
		const kw = reservationAware
			? Math.min(s.spec.connectorKw, s.spec.siteLimitKw / sharing)
			: s.spec.connectorKw;
		const c = chargeAt(s, Math.min(kw, spec.maxChargeKw));
		const total = t + wait + c;
		const cost =
			lookahead && allReserved.length > reservedEtas.length
				? total + delayToOthersMinutes(load, now, eta, c * 60, allReserved)
				: total;
		if (!best || cost < bestCost) {
			best = {
				stationIndex: s.spec.index,
				travelMinutes: t,
				waitMinutes: wait,
				chargeMinutes: c,
				expectedMinutes: total
			};
			bestCost = cost;
		}
	}
	return best!;
}

const fastestConnector = new WeakMap<object, number>();
function maxConnectorKw(ctx: SimContext): number {
	let kw = fastestConnector.get(ctx.scenario);
	if (kw === undefined) {
		kw = 0;
		for (const s of ctx.scenario.stations) kw = Math.max(kw, s.connectorKw);
		fastestConnector.set(ctx.scenario, kw);
	}
	return kw;
}
