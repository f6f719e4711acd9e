// Runs a fleet simulation off the main thread and streams frames to the live view. Simulated time
// advances `speed` seconds per real second, in 100 ms steps; the in-memory ledger keeps it fast.
import { FleetSim, PHASES, type FeedEvent } from '$lib/sim/engine';
import { memoryLedgerFor } from '$lib/sim/run';
import { buildScenario } from '$lib/sim/scenario';
import type { Frame, FromWorker, ToWorker } from './protocol';

const STEP_MS = 100;
const FEED_KEEP = 40;

let sim: FleetSim | null = null;
let playing = false;
let speed = 600;
let timer: ReturnType<typeof setTimeout> | null = null;
let feed: FeedEvent[] = [];
let busy = false;

function post(message: FromWorker, transfer: Transferable[] = []): void {
	(self as unknown as Worker).postMessage(message, transfer);
}

function frame(s: FleetSim): Frame {
	const positions = new Float32Array(s.vehicles.length * 2);
	const phases = new Uint8Array(s.vehicles.length);
	s.vehicles.forEach((v, i) => {
		const p = s.position(v);
		positions[2 * i] = p.x;
		positions[2 * i + 1] = p.y;
		phases[i] = PHASES.indexOf(v.phase);
	});
	let loadKw = 0;
	let limitKw = 0;
	const stations = s.stations.map((st) => {
		let charging = 0;
		for (const c of st.connectors) if (c) charging++;
		loadKw += st.loadKw;
		limitKw += st.spec.siteLimitKw;
		return { waiting: st.waiting.length, charging, loadKw: st.loadKw };
	});
	let tx = 0;
	let gas = 0;
	for (const e of Object.values(s.ledgerTx)) {
		tx += e.count;
		gas += e.gas;
	}
	const waits = s.waits;
	const out: Frame = {
		t: s.now,
		positions,
		phases,
		stations,
		loadKw,
		limitKw,
		phaseCounts: s.phaseCounts(),
		sessions: s.sessions.length,
		paidSat: Number(s.paidMsat) / 1000,
		hubFeesSat: Number(s.feesMsat) / 1000,
		ledgerTx: tx,
		ledgerGas: gas,
		energyKwh: s.deliveredWh / 1000,
		meanWaitMin: waits.length ? waits.reduce((a, b) => a + b, 0) / waits.length : 0,
		feed,
		finished: s.finished
	};
	feed = [];
	return out;
}

async function step(): Promise<void> {
	timer = null;
	if (!sim || !playing || busy) return;
	busy = true;
	const started = performance.now();
	try {
		await sim.runUntil(sim.now + (speed * STEP_MS) / 1000);
		const f = frame(sim);
		post({ type: 'frame', frame: f }, [f.positions.buffer, f.phases.buffer]);
		if (sim.finished) playing = false;
	} catch (error) {
		playing = false;
		post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
	} finally {
		busy = false;
	}
	if (playing) timer = setTimeout(step, Math.max(0, STEP_MS - (performance.now() - started)));
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
	const m = event.data;
	try {
		if (m.type === 'start') {
			playing = false;
			if (timer) clearTimeout(timer);
			feed = [];
			const scenario = buildScenario({ ...m.setup, readingSample: 0.02 });
			sim = new FleetSim({
				scenario,
				policy: m.setup.policy,
				ledger: memoryLedgerFor(scenario),
				onFeed: (e) => {
					feed.push(e);
					if (feed.length > FEED_KEEP) feed.shift();
				}
			});
			const city = scenario.city;
			const nodes = new Float32Array(city.nodes.length * 2);
			city.nodes.forEach((n, i) => {
				nodes[2 * i] = n.x;
				nodes[2 * i + 1] = n.y;
			});
			const streets = new Uint16Array(city.streets.length * 2);
			city.streets.forEach(([a, b], i) => {
				streets[2 * i] = a;
				streets[2 * i + 1] = b;
			});
			post({
				type: 'layout',
				layout: {
					sizeKm: city.sizeKm,
					nodes,
					streets,
					stations: scenario.stations.map((s) => ({ id: s.id, x: city.nodes[s.node]!.x, y: city.nodes[s.node]!.y, connectors: s.connectors, limitKw: s.siteLimitKw })),
					endSeconds: sim.endSeconds,
					startMs: scenario.options.startMs
				}
			});
			const f = frame(sim);
			post({ type: 'frame', frame: f }, [f.positions.buffer, f.phases.buffer]);
		} else if (m.type === 'play') {
			playing = true;
			if (!timer && !busy) void step();
		} else if (m.type === 'pause') {
			playing = false;
		} else if (m.type === 'speed') {
			if (Number.isFinite(m.value) && m.value > 0) speed = m.value;
		}
	} catch (error) {
		post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
	}
};
