// npm run bench — every benchmark, one after another, each in a process of its own, with what they
// share done once: the contracts compiled and both apps built before the first bench starts (run
// on their own, bench:ledger/station/sim compile the contracts and bench:wallet builds the apps
// itself). The wallet bench's one-hour receipt (a real session: 3,600 readings signed and
// verified, tens of seconds of CPU, never timed) is made while the apps build, since neither is a
// measured figure; no bench runs beside anything else.
// Each bench's output passes through as it comes; at the end this prints how long each step took,
// the load average at the start and the end, and every bench's JSON line(s) again, in order.
// A bench that fails does not stop the others; the run then exits 1 and names it.
//
//   npm run bench [-- --only ledger,lightning,lightning-lnd,station,wallet,sim]
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { benchFlags, loadLine, round } from './common.js';

const BENCHES = ['ledger', 'lightning', 'lightning-lnd', 'station', 'wallet', 'sim'] as const;

const flags = benchFlags({ only: { list: [...BENCHES] } });
for (const b of flags.only)
	if (!(BENCHES as readonly string[]).includes(b))
		throw new Error(`--only takes ${BENCHES.join(', ')}, not "${b}".`);
const chosen = BENCHES.filter((b) => flags.only.includes(b));

interface Step {
	name: string;
	command: string;
	args: string[];
	env?: Record<string, string>;
}
interface Done {
	name: string;
	seconds: number;
	code: number;
	json: string[];
}
const tsx = (name: string, file: string, ...args: string[]): Step => ({
	name,
	command: process.execPath,
	args: ['--import', 'tsx', file, ...args]
});
const vite = (app: 'wallet' | 'kiosk'): Step => ({
	name: `build ${app}`,
	command: 'node_modules/.bin/vite',
	args: ['build'],
	env: { APP: app }
});
const clock = () => new Date().toISOString().slice(11, 19);

/** Runs one step with its output passed through (prefixed when it runs beside another); its exit code, time and JSON lines. */
function run(step: Step, prefix = ''): Promise<Done> {
	const t = performance.now();
	return new Promise((resolve) => {
		const child = spawn(step.command, step.args, {
			env: { ...process.env, ...step.env },
			stdio: ['ignore', 'pipe', 'inherit']
		});
		const json: string[] = [];
		createInterface({ input: child.stdout! }).on('line', (line) => {
			console.log(prefix + line);
			if (line.startsWith('{"')) json.push(line);
		});
		const finish = (code: number) =>
			resolve({ name: step.name, seconds: round((performance.now() - t) / 1000, 1), code, json });
		child.once('error', (e) => {
			console.error(`${step.name}: ${e.message}`);
			finish(1);
		});
		child.once('close', (code) => finish(code ?? 1));
	});
}

const receiptFile = path.join(tmpdir(), `lightcharge-bench-receipt-${process.pid}.json`);
const startLoad = loadLine('start');
console.log(startLoad);
const started = performance.now();
const done: Done[] = [];
let ready = true;

console.log(`\n=== contracts (${clock()} UTC) ===`);
done.push(await run(tsx('contracts', 'contracts/compile.ts')));
ready = done.at(-1)!.code === 0;

if (ready && chosen.includes('wallet')) {
	console.log(
		`\n=== both apps built, the wallet bench's receipt made beside them (${clock()} UTC) ===`
	);
	const receipt = run(
		tsx('wallet receipt', 'bench/wallet.ts', '--make-receipt', receiptFile),
		'[receipt] '
	);
	for (const app of ['wallet', 'kiosk'] as const) {
		done.push(await run(vite(app)));
		if (done.at(-1)!.code !== 0) ready = false;
	}
	done.push(await receipt);
	if (done.at(-1)!.code !== 0) ready = false;
}

if (ready) {
	for (const b of chosen) {
		console.log(`\n=== ${b} (${clock()} UTC) ===`);
		done.push(
			await run(
				b === 'wallet'
					? tsx(b, `bench/${b}.ts`, '--receipt-file', receiptFile)
					: tsx(b, `bench/${b}.ts`)
			)
		);
	}
}
rmSync(receiptFile, { force: true });
const total = round((performance.now() - started) / 1000, 1);
const failed = done.filter((d) => d.code !== 0).map((d) => d.name);

console.log('\n=== all benches ===');
console.log(startLoad);
console.log(loadLine('end'));
console.log(
	`time: ${done.map((d) => `${d.name} ${d.seconds} s${d.code !== 0 ? ' (FAILED)' : ''}`).join(', ')}; whole run ${total} s (goal: under 600 s)`
);
if (!ready) console.log('the benches did not run: the contracts, a build or the receipt failed');
for (const d of done) for (const line of d.json) console.log(line);
if (failed.length || !ready) {
	console.error(`bench: ${failed.join(', ')} failed.`);
	process.exit(1);
}
