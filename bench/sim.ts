// Fleet simulator benchmark. High-load scenario: 1,000 vehicles working 8-12 h shifts that start
// between 05:00 and 12:00, 50 stations (2-6 connectors of 50/75/150 kW, site limits at 50-80 % of
// the connectors' sum, 70 % of them placed without regard to demand), a 20×20 km city with three
// demand hotspots and rush-hour traffic, 24 simulated hours, seed 1, the in-memory ledger, and 2 %
// of sessions with every reading signed and verified (every bill's begin/end readings always are).
// Each policy runs on the identical scenario. Prints a table, then as its LAST line:
// {"vehicles","simHours","wallSeconds","speedup","meanWaitOptimalMin","meanWaitNearestMin","waitReduction"}
// wallSeconds is the slowest single policy run (one 1,000-vehicle × 24 h simulation, setup included);
// speedup = simulated seconds / wallSeconds. Targets: wallSeconds ≤ 60, waitReduction ≥ 0.30.
import { POLICIES, buildScenario, formatReportTable, runPolicy, type PolicyReport } from '../src/lib/sim/index.js';

const VEHICLES = 1000;
const STATIONS = 50;
const HOURS = 24;

const cpuStart = process.cpuUsage();
const scenario = buildScenario({ vehicles: VEHICLES, stations: STATIONS, hours: HOURS, seed: 1, readingSample: 0.02 });
const reports: PolicyReport[] = [];
for (const policy of POLICIES) {
	const report = await runPolicy(scenario, policy);
	reports.push(report);
	console.log(`${policy}: ${report.wallSeconds!.toFixed(1)} s wall, mean wait ${report.meanWaitMin.toFixed(2)} min, ${report.sessionsFinished} sessions`);
}
const cpu = process.cpuUsage(cpuStart);
console.log('');
console.log(formatReportTable(reports));
console.log(`\nCPU time for all policies: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (the machine may be shared: wall time includes waiting for a core)`);

const byPolicy = (p: string) => reports.find((r) => r.policy === p)!;
const wallSeconds = Math.max(...reports.map((r) => r.wallSeconds!));
const optimal = byPolicy('optimal').meanWaitMin;
const nearest = byPolicy('nearest').meanWaitMin;
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
console.log(
	JSON.stringify({
		vehicles: VEHICLES,
		simHours: HOURS,
		wallSeconds: round(wallSeconds, 2),
		speedup: round((HOURS * 3600) / wallSeconds, 0),
		meanWaitOptimalMin: round(optimal, 2),
		meanWaitNearestMin: round(nearest, 2),
		waitReduction: round(nearest > 0 ? 1 - optimal / nearest : 0, 3)
	})
);
