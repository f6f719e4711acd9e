// Headless fleet simulator: every chosen policy on every seed (the same trips for each), then the
// comparison — means with 95 % intervals over seeds, differences paired by seed against a
// baseline, pooled distributions — as a table, a JSON report and, with --report DIR, CSV and SVG
// files. `--ledger devnet` puts one seed on a real chain (an in-process one unless --rpc).
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { startChain, type RunningChain } from '../devnet/chain.js';
import {
	allErrands,
	buildScenario,
	compare,
	deploySimChain,
	formatComparison,
	reportFiles,
	resolveOptions,
	runExperiment,
	runPolicySim,
	policyConfig,
	type RunResult,
	type SimChain
} from '../src/lib/sim/index.js';
import { fail, parseSimArgs } from './sim-args.js';
import { economicsStudy, optionStudies, scalingStudy } from './sim-studies.js';
import { simWorkerPool } from './sim-workers.js';

const args = parseSimArgs(process.argv.slice(2));
if (args.economics) {
	await economicsStudy(args);
	process.exit(0);
}
if (args.studies) {
	await optionStudies(args, args.studies);
	process.exit(0);
}
if (args.scale) {
	await scalingStudy(args);
	process.exit(0);
}
let resolved;
try {
	resolved = resolveOptions({ ...args.base, seed: args.seeds[0]! });
} catch (error) {
	fail(error instanceof Error ? error.message : String(error));
}
const records = args.report !== undefined;
const header = `scenario: ${resolved.vehicles} vehicles, ${resolved.stations} stations, ${resolved.hours} h, grid ${resolved.gridSize}, seeds ${args.seeds[0]}..${args.seeds.at(-1)} (${args.seeds.length}), reading sample ${resolved.readingSample}, ledger ${args.ledger}`;
console.log(header);

const started = performance.now();
let results: RunResult[] = [];
if (args.ledger === 'memory') {
	const runs = args.seeds.length * args.policies.length;
	const pool =
		runs > 1 && args.parallel !== 1
			? simWorkerPool(Math.min(runs, args.parallel ?? availableParallelism()))
			: null;
	try {
		results = await runExperiment(args.base, args.seeds, args.policies, {
			...(pool ? { runner: pool.runner, parallel: pool.size } : {}),
			records,
			...(args.power ? { power: args.power } : {}),
			onResult: (r) =>
				console.log(
					`  ${r.report.policy.padEnd(8)} seed ${r.report.seed}: ${r.report.summary.errandsStarted} errands, mean wait ${r.report.wait.mean.toFixed(2)} min, ${r.report.wallSeconds!.toFixed(1)} s`
				)
		});
	} finally {
		await pool?.close();
	}
} else {
	if (resolved.vehicles * resolved.hours > 2000) {
		console.warn(
			`sim: warning: --ledger devnet sends every reservation and per-minute anchor as a real transaction; ${resolved.vehicles} vehicles × ${resolved.hours} h will take a long time (try --vehicles 30 --stations 4 --hours 14).`
		);
	}
	let chain: RunningChain | null = null;
	const chains: SimChain[] = [];
	try {
		let rpcUrl = args.rpc;
		let key = args.key;
		if (rpcUrl === undefined) {
			console.log('starting an in-process chain (as the devnet does, instant mining)…');
			chain = await startChain({ port: 0, blockIntervalMs: 0 });
			rpcUrl = chain.rpcUrl;
			key ??= chain.accounts[0]!.privateKey;
		}
		if (key === undefined)
			fail('--rpc needs --key (a funded private key, 0x + 64 hex) to deploy and write');
		const scenario = buildScenario({ ...args.base, seed: args.seeds[0]! });
		for (const policy of args.policies) {
			const { sim, report } = await runPolicySim(scenario, policyConfig(policy, args.power), {
				keepSessionRecords: records,
				ledgerFor: async ({ stationIds, lightningPubkeys }) => {
					const c = await deploySimChain({
						rpcUrl: rpcUrl!,
						key: key!,
						startMs: scenario.options.startMs,
						stationIds,
						lightningPubkeys
					});
					chains.push(c);
					return c.ledger;
				}
			});
			results.push({
				request: { options: { ...args.base, seed: args.seeds[0]! }, policy },
				report,
				...(records
					? {
							errands: allErrands(sim),
							sessions: sim.metrics.sessionRecords ?? [],
							loadKw: sim.metrics.loadKw,
							feederPeakRatio: sim.metrics.feederPeakRatio
						}
					: {})
			});
			console.log(
				`  ${policy.padEnd(8)}: ${report.summary.errandsStarted} errands, ${report.ledger.transactions} transactions, ${report.ledger.errors} errors, ${report.wallSeconds!.toFixed(1)} s`
			);
		}
	} finally {
		for (const c of chains) c.close();
		await chain?.stop();
	}
}
const comparison = compare(
	results,
	args.policies.includes(args.baseline) ? args.baseline : args.policies[0]!
);
console.log('');
console.log(formatComparison(comparison));
console.log(
	`\n${results.length} runs in ${((performance.now() - started) / 1000).toFixed(1)} s wall`
);
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(
	args.out,
	JSON.stringify(
		{
			scenario: { ...resolved, seeds: args.seeds, ledger: args.ledger },
			comparison,
			runs: results.map((r) => r.report)
		},
		null,
		2
	) + '\n'
);
console.log(`report written to ${args.out}`);
if (args.report !== undefined) {
	mkdirSync(args.report, { recursive: true });
	for (const f of reportFiles(results, comparison, header))
		writeFileSync(join(args.report, f.name), f.content);
	console.log(`CSV, comparison table and SVG plots written to ${args.report}/`);
}
