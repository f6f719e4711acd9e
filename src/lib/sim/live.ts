// What the live view draws of one running simulation: where every vehicle is and in which phase,
// each station's queue and load, and the headline counters — `summarise`, the same figures the
// report gives, so the screen and the report never disagree.
import type { FleetSim } from './engine';
import type { Policy } from './options';
import { PHASES, type Phase } from './phases';
import { summarise, type RunSummary } from './report';

export interface LiveStation {
	waiting: number;
	charging: number;
	loadKw: number;
}

export interface LiveView {
	policy: Policy;
	/** x, y (km) per vehicle. */
	positions: Float32Array;
	/** Index into PHASES per vehicle. */
	phases: Uint8Array;
	stations: LiveStation[];
	loadKw: number;
	limitKw: number;
	phaseCounts: Record<Phase, number>;
	summary: RunSummary;
}

export function liveView(sim: FleetSim): LiveView {
	const positions = new Float32Array(sim.vehicles.length * 2);
	const phases = new Uint8Array(sim.vehicles.length);
	sim.vehicles.forEach((v, i) => {
		const p = sim.position(v);
		positions[2 * i] = p.x;
		positions[2 * i + 1] = p.y;
		phases[i] = PHASES.indexOf(v.phase);
	});
	let loadKw = 0;
	let limitKw = 0;
	const stations = sim.stations.map((st) => {
		let charging = 0;
		for (const c of st.connectors) if (c) charging++;
		loadKw += st.loadKw;
		limitKw += st.spec.siteLimitKw;
		return { waiting: st.waiting.length, charging, loadKw: st.loadKw };
	});
	return {
		policy: sim.policy,
		positions,
		phases,
		stations,
		loadKw,
		limitKw,
		phaseCounts: sim.phaseCounts(),
		summary: summarise(sim)
	};
}
