// Runs the live view's simulations off the main thread and streams frames: one policy, or two on
// the same scenario (the same trips) advancing in lockstep. Simulated time advances `speed` seconds
// per real second, in 100 ms steps; the in-memory ledger keeps it fast.
import {
	DEFAULT_READING_SAMPLE,
	FleetSim,
	buildScenario,
	liveView,
	memoryLedgerFor
} from '$lib/sim';
import type { Frame, FromWorker, PolicyFeedEvent, ToWorker } from './protocol';

const STEP_MS = 100;
const FEED_KEEP = 40;

let sims: FleetSim[] = [];
let playing = false;
let speed = 600;
let timer: ReturnType<typeof setTimeout> | null = null;
let feed: PolicyFeedEvent[] = [];
let busy = false;

function post(message: FromWorker, transfer: Transferable[] = []): void {
	(self as unknown as Worker).postMessage(message, transfer);
}

function postFrame(): void {
	const views = sims.map(liveView);
	const frame: Frame = { t: sims[0]!.now, views, feed, finished: sims.every((s) => s.finished) };
	feed = [];
	post(
		{ type: 'frame', frame },
		views.flatMap((v) => [v.positions.buffer, v.phases.buffer])
	);
}

async function step(): Promise<void> {
	timer = null;
	if (sims.length === 0 || !playing || busy) return;
	busy = true;
	const started = performance.now();
	try {
		const until = sims[0]!.now + (speed * STEP_MS) / 1000;
		for (const s of sims) await s.runUntil(until);
		postFrame();
		if (sims.every((s) => s.finished)) playing = false;
	} catch (error) {
		playing = false;
		post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
	} finally {
		busy = false;
	}
	if (playing)
		timer = setTimeout(() => void step(), Math.max(0, STEP_MS - (performance.now() - started)));
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
	const m = event.data;
	try {
		if (m.type === 'start') {
			playing = false;
			if (timer) clearTimeout(timer);
			feed = [];
			const { policies, ...options } = m.setup;
			const scenario = buildScenario({ ...options, readingSample: DEFAULT_READING_SAMPLE });
			sims = policies.map(
				(policy) =>
					new FleetSim({
						scenario,
						policy,
						ledger: memoryLedgerFor(scenario),
						onFeed: (e) => {
							feed.push({ ...e, policy });
							if (feed.length > FEED_KEEP) feed.shift();
						}
					})
			);
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
					stations: scenario.stations.map((s) => ({
						id: s.id,
						x: city.nodes[s.node]!.x,
						y: city.nodes[s.node]!.y,
						connectors: s.connectors,
						limitKw: s.siteLimitKw
					})),
					endSeconds: sims[0]!.endSeconds,
					startMs: scenario.options.startMs
				}
			});
			postFrame();
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
