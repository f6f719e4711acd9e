// Fleet simulator benchmark, in two parts. Flags (bench/common.ts style):
//   npm run bench:sim -- [--seeds 10] [--city-reading-sample 0.001] [--reading-sample 0.02] [--city 1]
// 1. City scale: 50,000 vehicles, 2,500 stations, 24 h, one seed, the optimiser, on a 40 × 40
//    street grid (39 km), in a process of its own; prints
//    {"scale":"city","vehicles","stations","simHours","wallSeconds","peakRssMb","readingSample","cpuSeconds","heapAfterMb"}
//    (heapAfterMb: what the finished run still holds after a full collection).
//    Goal: wallSeconds ≤ 60 with memory bounded. Every session's readings are made and anchored;
//    --city-reading-sample (default 0.001) is the share of sessions whose every reading is signed
//    by the station and verified by the vehicle and whose bill is a BOLT11 invoice checked by the
//    wallet's guard. The city signs at 0.001, not the CLI's 0.02: at 0.02 a city run signs and
//    verifies ~34,000 readings (≈ 2.8 ms each here), 1.5 min of ECDSA that measures the curve
//    library rather than the simulator. Pass --city-reading-sample 0.02 to see it.
// 2. Benchmark load: 1,000 vehicles working 8-12 h shifts from 05:00-12:00, 50 stations (2-6
//    connectors of 50/75/150 kW, site limits 50-80 % of the connectors' sum), a 20 × 20 km city with
//    three demand hotspots and rush hours, 24 h, the in-memory ledger, at the CLI's default reading
//    sample (--reading-sample to change); the optimiser, the look-ahead policy, the fair baselines (live, reserve) and
//    nearest on --seeds seeds, every policy on the same trips; statistics over seeds (mean, 95 % t
//    interval, differences paired by seed). LAST line:
//    {"vehicles","stations","simHours","seeds","wallSeconds","peakRssMb","meanWaitMin":{"optimal","live","reserve","nearest","lookahead"},
//     "waitReductionVsLive":{"mean","lo","hi"},"totalTimeReductionVsLive":{"mean","lo","hi"},
//     "lookaheadWaitReductionVsLive":{…},"lookaheadTotalTimeReductionVsLive":{…}}  (the reductions without a prefix are the optimiser's)
//    wallSeconds: the whole comparison (all runs, on worker threads); peakRssMb: this process's peak
//    (the worker threads' runs included: they share the process).
import { availableParallelism } from 'node:os';
import {
	DEFAULT_READING_SAMPLE,
	compare,
	formatComparison,
	runExperiment,
	type Policy
} from '../src/lib/sim/index.js';
import { runInOwnProcess } from '../scripts/sim-studies.js';
import { simWorkerPool } from '../scripts/sim-workers.js';
import { benchFlags, loadLine, wholeNumber } from './common.js';

let flags;
try {
	flags = benchFlags({
		seeds: { number: 10 },
		'city-reading-sample': { number: 0.001 },
		'reading-sample': { number: DEFAULT_READING_SAMPLE },
		city: { number: 1 }
	});
	wholeNumber('seeds', flags.seeds, 2);
	for (const name of ['city-reading-sample', 'reading-sample'] as const)
		if (flags[name] > 1)
			throw new Error(`--${name} must be a share from 0 to 1, not ${flags[name]}.`);
	if (flags.city !== 0 && flags.city !== 1)
		throw new Error(`--city must be 1 (run the city line) or 0 (skip it), not ${flags.city}.`);
} catch (e) {
	console.error(`bench:sim: ${(e as Error).message}`);
	process.exit(2);
}
const SEEDS = flags.seeds;
const CITY = {
	vehicles: 50_000,
	stations: 2_500,
	hours: 24,
	seed: 1,
	gridSize: 40,
	readingSample: flags['city-reading-sample']
};
const LOAD = { vehicles: 1000, stations: 50, hours: 24, readingSample: flags['reading-sample'] };
const POLICIES: Policy[] = ['optimal', 'lookahead', 'reserve', 'live', 'nearest'];
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

const benchStarted = performance.now();
console.log(loadLine('start'));

if (flags.city === 1) {
	console.log(
		`\ncity scale: ${CITY.vehicles} vehicles, ${CITY.stations} stations, ${CITY.hours} h, grid ${CITY.gridSize}, seed 1, optimiser, reading sample ${CITY.readingSample} (that share of sessions signs and verifies every reading and pays a BOLT11 invoice checked by the wallet's guard; every bill's readings are anchored either way)`
	);
	const city = runInOwnProcess(CITY);
	console.log(
		`  ${city.errands} errands, ${city.readings} readings (${city.signed} signed), ${city.ledgerTransactions} ledger transactions, ${city.payments} payments, mean wait ${city.meanWaitMin} min`
	);
	console.log(
		JSON.stringify({
			scale: 'city',
			vehicles: city.vehicles,
			stations: city.stations,
			simHours: city.simHours,
			wallSeconds: city.wallSeconds,
			peakRssMb: city.peakRssMb,
			readingSample: CITY.readingSample,
			cpuSeconds: city.cpuSeconds,
			heapAfterMb: city.heapAfterMb
		})
	);
}

console.log(
	`\nbenchmark load: ${LOAD.vehicles} vehicles, ${LOAD.stations} stations, ${LOAD.hours} h, seeds 1..${SEEDS}, reading sample ${LOAD.readingSample}${LOAD.readingSample === DEFAULT_READING_SAMPLE ? " (the CLI's default)" : ''}, policies ${POLICIES.join(', ')}`
);
const pool = simWorkerPool(Math.min(availableParallelism(), SEEDS * POLICIES.length));
const started = performance.now();
const cpuStart = process.cpuUsage();
let results;
try {
	results = await runExperiment(
		LOAD,
		Array.from({ length: SEEDS }, (_, i) => i + 1),
		POLICIES,
		{ runner: pool.runner, parallel: pool.size }
	);
} finally {
	await pool.close();
}
const wallSeconds = (performance.now() - started) / 1000;
const c = compare(results, 'live');
console.log(formatComparison(c));
const runWall = results.map((r) => r.report.wallSeconds!);
console.log(
	`\n${results.length} runs on ${pool.size} worker threads in ${wallSeconds.toFixed(1)} s wall; one run ${Math.min(...runWall).toFixed(1)}-${Math.max(...runWall).toFixed(1)} s; main-thread CPU ${((process.cpuUsage(cpuStart).user + process.cpuUsage(cpuStart).system) / 1e6).toFixed(1)} s`
);
console.log(`whole benchmark ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
console.log(loadLine('end'));

const mean = (p: Policy) => round(c.policies.find((x) => x.policy === p)!.meanWaitMin.mean, 2);
const vsLive = c.paired.find((p) => p.policy === 'optimal')!;
const lookaheadVsLive = c.paired.find((p) => p.policy === 'lookahead')!;
const interval = (i: { mean: number; lo: number; hi: number }) => ({
	mean: round(i.mean, 3),
	lo: round(i.lo, 3),
	hi: round(i.hi, 3)
});
console.log(
	JSON.stringify({
		vehicles: LOAD.vehicles,
		stations: LOAD.stations,
		simHours: LOAD.hours,
		seeds: SEEDS,
		wallSeconds: round(wallSeconds, 1),
		peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
		meanWaitMin: {
			optimal: mean('optimal'),
			live: mean('live'),
			reserve: mean('reserve'),
			nearest: mean('nearest'),
			lookahead: mean('lookahead')
		},
		waitReductionVsLive: interval(vsLive.waitReduction),
		totalTimeReductionVsLive: interval(vsLive.totalTimeReduction),
		// The look-ahead policy (policy.ts) on the same trips, against the same live baseline.
		lookaheadWaitReductionVsLive: interval(lookaheadVsLive.waitReduction),
		lookaheadTotalTimeReductionVsLive: interval(lookaheadVsLive.totalTimeReduction)
	})
);
