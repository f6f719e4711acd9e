// One simulation run in a process of its own, so its wall time and peak memory are its own:
// `node --max-semi-space-size=64 --import tsx scripts/sim-city.ts '{"vehicles":50000,"stations":2500,"hours":24,"seed":1,"gridSize":40}' [policy]`.
// Prints one JSON line: the run's figures, its wall seconds and the process's peak RSS.
import { getHeapStatistics } from 'node:v8';
import {
	buildScenario,
	runPolicySim,
	type Policy,
	type ScenarioOptions
} from '../src/lib/sim/index.js';

const options = JSON.parse(process.argv[2] ?? '{}') as ScenarioOptions;
const policy = (process.argv[3] ?? 'optimal') as Policy;
const started = performance.now();
const cpuStart = process.cpuUsage();
const { sim, report } = await runPolicySim(buildScenario(options), policy);
const wallSeconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
// What the finished run still holds (its ledger, Lightning records, errand records, the sessions
// still open), after a full collection when the process allows one (--expose-gc, as
// runInOwnProcess starts it); `sim` is kept alive until measured.
(globalThis as { gc?: () => void }).gc?.();
const heapAfterMb = Math.round(getHeapStatistics().used_heap_size / 2 ** 20);
if (!sim.finished) throw new Error('the run did not reach its horizon');
console.log(
	JSON.stringify({
		vehicles: report.vehicles,
		stations: report.stations,
		simHours: report.simHours,
		policy,
		readingSample: options.readingSample,
		wallSeconds: Math.round(wallSeconds * 100) / 100,
		// CPU of this process (all threads): on a machine shared with other jobs, wall time is not the run's own.
		cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
		peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
		heapAfterMb,
		errands: report.summary.errandsStarted,
		unfinished: report.summary.errandsUnfinished,
		meanWaitMin: Math.round(report.wait.mean * 100) / 100,
		readings: report.readings.made,
		signed: report.readings.signed,
		ledgerTransactions: report.ledger.transactions,
		payments: report.payments.succeeded
	})
);
