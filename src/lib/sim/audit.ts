// Cross-checks of the engine's separate records of the same facts: where each vehicle is (its
// phase, its move, a station's queue, a connector), its battery, and every site and feeder within
// its power limit. Returns the problems found; an empty list means consistent.
import type { SimContext, Vehicle } from './model';
import { PHASES } from './phases';

const TOLERANCE_KW = 1e-6;

export function auditSim(ctx: SimContext): string[] {
	const problems: string[] = [];
	const waitingAt = new Map<Vehicle, number>();
	const chargingAt = new Map<Vehicle, number>();
	for (const st of ctx.stations) {
		for (const v of st.waiting) {
			if (waitingAt.has(v)) problems.push(`${v.spec.id} waits at two stations`);
			waitingAt.set(v, st.spec.index);
		}
		st.connectors.forEach((s, c) => {
			if (!s) return;
			if (chargingAt.has(s.vehicle) || waitingAt.has(s.vehicle))
				problems.push(`${s.vehicle.spec.id} is in two places`);
			if (s.connector !== c || s.station !== st)
				problems.push(`${s.id} is recorded on another connector`);
			if (s.deliveredWh > s.targetWh + 1e-6)
				problems.push(`${s.id} delivered ${s.deliveredWh} Wh past its target ${s.targetWh}`);
			chargingAt.set(s.vehicle, st.spec.index);
		});
		// A free connector and a queue at the same station: someone should have plugged in.
		if (st.waiting.length > 0 && st.connectors.some((c) => c === null))
			problems.push(`${st.spec.id} has a free connector and ${st.waiting.length} waiting`);
		if (st.loadKw > st.spec.siteLimitKw + TOLERANCE_KW)
			problems.push(`${st.spec.id} draws ${st.loadKw} kW over its ${st.spec.siteLimitKw} kW limit`);
	}
	for (const f of ctx.feeders) {
		if (f.loadKw > f.limitKw + TOLERANCE_KW)
			problems.push(`feeder ${f.index} draws ${f.loadKw} kW over its ${f.limitKw} kW limit`);
	}
	for (const v of ctx.vehicles) {
		if (!PHASES.includes(v.phase)) problems.push(`${v.spec.id} has unknown phase ${v.phase}`);
		const moving = v.move !== null;
		const waiting = waitingAt.get(v);
		const charging = chargingAt.get(v);
		const places =
			(moving ? 1 : 0) + (waiting !== undefined ? 1 : 0) + (charging !== undefined ? 1 : 0);
		if (places > 1) problems.push(`${v.spec.id} is in ${places} places at once`);
		if (v.phase === 'waiting' && (waiting === undefined || waiting !== v.stationIndex))
			problems.push(`${v.spec.id} is waiting but not in its station's queue`);
		if (v.phase !== 'waiting' && waiting !== undefined)
			problems.push(`${v.spec.id} is queued while ${v.phase}`);
		if (v.phase === 'waiting' && v.errand?.waitingSince == null)
			problems.push(`${v.spec.id} is queued but its wait is not being counted`);
		if (v.phase === 'charging' && (charging === undefined || charging !== v.stationIndex))
			problems.push(`${v.spec.id} is charging but on no connector of its station`);
		if (v.phase !== 'charging' && charging !== undefined)
			problems.push(`${v.spec.id} occupies a connector while ${v.phase}`);
		if (v.phase === 'go' && !moving) problems.push(`${v.spec.id} is on its way but not moving`);
		if ((v.phase === 'calculating' || v.phase === 'paying' || v.phase === 'done') && moving)
			problems.push(`${v.spec.id} moves while ${v.phase}`);
		if (['calculating', 'go', 'waiting', 'charging', 'paying'].includes(v.phase) && !v.errand)
			problems.push(`${v.spec.id} is ${v.phase} outside an errand`);
		if (v.socKwh < -1e-9 || v.socKwh > v.spec.batteryKwh + 1e-6)
			problems.push(`${v.spec.id} battery at ${v.socKwh} kWh`);
	}
	return problems;
}
