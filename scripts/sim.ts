// Headless fleet simulator: runs a scenario with one or all policies and prints a table and a JSON
// report. `--ledger devnet` starts an in-process chain (Hardhat, as the devnet does) unless --rpc
// points at a running one; it sends real transactions, so keep such runs small.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startChain, type RunningChain } from '../devnet/chain.js';
import {
	POLICIES,
	buildScenario,
	deploySimChain,
	formatReportTable,
	runPolicy,
	type Policy,
	type PolicyReport,
	type SimChain
} from '../src/lib/sim/index.js';

const USAGE = `usage: npm run sim -- [--vehicles N] [--stations N] [--hours H] [--seed S]
       [--policy optimal|nearest|random|all] [--ledger memory|devnet] [--rpc URL] [--key 0x…]
       [--reading-sample F] [--grid N] [--out FILE]`;

function fail(message: string): never {
	console.error(`sim: ${message}\n${USAGE}`);
	process.exit(2);
}

function int(name: string, value: string | undefined, fallback: number): number {
	if (value === undefined) return fallback;
	const n = Number(value);
	if (!Number.isInteger(n)) fail(`--${name} must be a whole number, got "${value}"`);
	return n;
}

function num(name: string, value: string | undefined, fallback: number): number {
	if (value === undefined) return fallback;
	const n = Number(value);
	if (!Number.isFinite(n)) fail(`--${name} must be a number, got "${value}"`);
	return n;
}

let args: ReturnType<typeof parse>;
function parse() {
	return parseArgs({
		options: {
			vehicles: { type: 'string' },
			stations: { type: 'string' },
			hours: { type: 'string' },
			seed: { type: 'string' },
			policy: { type: 'string' },
			ledger: { type: 'string' },
			rpc: { type: 'string' },
			key: { type: 'string' },
			'reading-sample': { type: 'string' },
			grid: { type: 'string' },
			out: { type: 'string' },
			help: { type: 'boolean', short: 'h' }
		},
		strict: true
	});
}
try {
	args = parse();
} catch (error) {
	fail(error instanceof Error ? error.message : String(error));
}
const v = args.values;
if (v.help) {
	console.log(USAGE);
	process.exit(0);
}
const policyArg = v.policy ?? 'all';
const policies: Policy[] = policyArg === 'all' ? [...POLICIES] : POLICIES.includes(policyArg as Policy) ? [policyArg as Policy] : fail(`--policy must be optimal, nearest, random or all, got "${policyArg}"`);
const ledgerKind = v.ledger ?? 'memory';
if (ledgerKind !== 'memory' && ledgerKind !== 'devnet') fail(`--ledger must be memory or devnet, got "${ledgerKind}"`);
if (v.rpc !== undefined && ledgerKind !== 'devnet') fail('--rpc only applies with --ledger devnet');

let scenario;
try {
	scenario = buildScenario({
		vehicles: int('vehicles', v.vehicles, 1000),
		stations: int('stations', v.stations, 50),
		hours: num('hours', v.hours, 24),
		seed: int('seed', v.seed, 1),
		readingSample: num('reading-sample', v['reading-sample'], 0.05),
		gridSize: int('grid', v.grid, 20)
	});
} catch (error) {
	fail(error instanceof Error ? error.message : String(error));
}
const out = v.out ?? 'sim-report.json';
const o = scenario.options;
if (ledgerKind === 'devnet' && o.vehicles * o.hours > 2000) {
	console.warn(`sim: warning: --ledger devnet sends every reservation and per-minute anchor as a real transaction; ${o.vehicles} vehicles × ${o.hours} h will take a long time (try --vehicles 30 --stations 5 --hours 4).`);
}

let chain: RunningChain | null = null;
const chains: SimChain[] = [];
const reports: PolicyReport[] = [];
try {
	let rpcUrl = v.rpc;
	// Hardhat's first development account (the devnet's operator): funded on the devnet chain.
	let key = v.key;
	if (ledgerKind === 'devnet' && rpcUrl === undefined) {
		console.log('starting an in-process chain (Hardhat, instant mining)…');
		chain = await startChain({ port: 0, blockIntervalMs: 0 });
		rpcUrl = chain.rpcUrl;
		key ??= chain.accounts[0]!.privateKey;
	}
	if (ledgerKind === 'devnet' && key === undefined) fail('--rpc needs --key (a funded private key, 0x + 64 hex) to deploy and write');
	console.log(`scenario: ${o.vehicles} vehicles, ${o.stations} stations, ${o.hours} h, seed ${o.seed}, ledger ${ledgerKind}${rpcUrl ? ` (${rpcUrl})` : ''}`);
	for (const policy of policies) {
		const report = await runPolicy(scenario, policy, {
			...(ledgerKind === 'devnet'
				? {
						ledgerFor: async ({ stationIds, lightningPubkeys }) => {
							const c = await deploySimChain({ rpcUrl: rpcUrl!, key: key!, startMs: o.startMs, stationIds, lightningPubkeys });
							chains.push(c);
							return c.ledger;
						}
					}
				: {})
		});
		reports.push(report);
		console.log(`${policy}: ${report.sessionsFinished} sessions, mean wait ${report.meanWaitMin.toFixed(1)} min, ${report.wallSeconds?.toFixed(1)} s`);
	}
	console.log('');
	console.log(formatReportTable(reports));
	const file = { scenario: { ...o, ledger: ledgerKind, rpcUrl: rpcUrl ?? null }, reports };
	writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
	console.log(`\nreport written to ${out}`);
} catch (error) {
	console.error(`sim: ${error instanceof Error ? error.message : String(error)}`);
	process.exitCode = 1;
} finally {
	for (const c of chains) c.close();
	await chain?.stop();
}
