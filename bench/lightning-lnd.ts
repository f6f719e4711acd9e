// Lightning benchmark on real LND: btcd + hub, station-1, vehicle-1 on regtest (devnet/lnd, binaries
// from scripts/build-lnd.sh), the LND REST backend on both sides with the apps' own narrow
// macaroons and TLS pinned to each node's certificate, exactly as the devnet's gateway and Node
// tools reach them. Per payment, as one driver's increments: the station's LND creates the
// invoice (description hash = the billing record's hash) and the station watches it (NDJSON
// subscribe); the wallet's guard decodes and checks it (BOLT11 signature, network, payee, amount,
// description hash, expiry: invoice-check.ts) and decides (the session budget); the vehicle's LND
// pays it through the hub (POST /v2/router/send, fee limit 10 sat). Latency runs from just before
// the invoice is created to the station's watch reporting it settled.
//
// Runs one driver (payments one after another) and then --parallel drivers' worth of payments
// at once for throughput; the JSON line carries the one-driver figures (the goal: p95 < 1 s).
// Outside anchor: a 2021 regtest benchmark of lnd paying over one direct channel with 100 workers
// averaged 3.0 s per payment.
//
// Usage: npm run bench:lightning:lnd [-- --payments 100 --parallel 4 --port-base 25200]
// Prints as its LAST line: {"backend":"lnd","payments","failed","p50Ms","p95Ms","paymentsPerSecond"}.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { lndBinariesPresent, missingBinaries } from '../devnet/lnd/binaries.js';
import { pinnedFetch } from '../devnet/lnd/pinned-fetch.js';
import { startLndRegtest } from '../devnet/lnd/regtest.js';
import { ensurePortFree } from '../devnet/ports.js';
import { checkInvoice, LndRestNode } from '../src/lib/lightning/index.js';
import { benchFlags, loadLine, percentile, round, wholeNumber } from './common.js';

const flags = benchFlags({
	payments: { number: 100 },
	parallel: { number: 4 },
	'port-base': { number: 25200 }
});
const PAYMENTS = wholeNumber('payments', flags.payments);
const PARALLEL = wholeNumber('parallel', flags.parallel);
/** btcd and the three LND nodes take the ten ports from here. */
const PORT_BASE = wholeNumber('port-base', flags['port-base'], 1024);
/** One 100 Wh increment at 250,000 msat/kWh. */
const AMOUNT_MSAT = 25_000n;
const FEE_LIMIT_MSAT = 10_000n;

if (!lndBinariesPresent()) {
	console.error(
		`bench:lightning:lnd needs real LND (${missingBinaries().join(', ')} missing): run scripts/build-lnd.sh first.`
	);
	process.exit(1);
}

console.log(loadLine('start'));
for (let p = PORT_BASE; p < PORT_BASE + 10; p++)
	await ensurePortFree(p, '127.0.0.1', 'btcd or LND', '--port-base');

const dir = mkdtempSync(path.join(tmpdir(), 'bench-lnd-'));
const started = performance.now();
const net = await startLndRegtest({ dir, portBase: PORT_BASE });
console.log(
	`Real LND on regtest up in ${round((performance.now() - started) / 1000, 1)} s (btcd + hub, station-1, vehicle-1; channels vehicle→hub, hub→station)`
);
const node = (name: string) => {
	const n = net.node(name);
	return new LndRestNode({
		restUrl: n.restUrl,
		macaroonHex: n.appMacaroonHex,
		timeoutMs: 30_000,
		fetch: pinnedFetch(n.tlsCertPem)
	});
};
const station = node('station-1');
const vehicle = node('vehicle-1');
const stationPubkey = net.node('station-1').pubkey;
let budgetLeftMsat = 1_000_000_000n;

/** One increment, timed from invoice creation to the station seeing it settled. */
async function payOnce(seq: number): Promise<number> {
	const recordHash = bytesToHex(sha256(new TextEncoder().encode(`{"seq":${seq},"bench":"lnd"}`)));
	const t0 = performance.now();
	const created = await station.createInvoice({
		amountMsat: AMOUNT_MSAT,
		descriptionHash: recordHash,
		expirySeconds: 600
	});
	const settled = new Promise<number>((resolve, reject) => {
		const sub = station.watchInvoice(
			created.paymentHash,
			(s) => {
				if (s.state === 'settled') {
					sub.close();
					resolve(performance.now());
				} else if (s.state === 'canceled') reject(new Error(`invoice ${seq} was canceled`));
			},
			reject
		);
	});
	// The wallet's guard: decode and verify against what it expects, then decide.
	const verdict = checkInvoice(created.paymentRequest, {
		amountMsat: AMOUNT_MSAT,
		descriptionHash: recordHash,
		payee: stationPubkey,
		network: 'regtest',
		nowSeconds: Math.floor(Date.now() / 1000)
	});
	if (!verdict.ok) throw new Error(`the guard refused invoice ${seq}: ${verdict.message}`);
	if (AMOUNT_MSAT + FEE_LIMIT_MSAT > budgetLeftMsat) throw new Error('over budget');
	budgetLeftMsat -= AMOUNT_MSAT + FEE_LIMIT_MSAT;
	const paid = await vehicle.pay({
		paymentRequest: created.paymentRequest,
		feeLimitMsat: FEE_LIMIT_MSAT,
		timeoutSeconds: 30
	});
	if (paid.status !== 'succeeded')
		throw new Error(
			`payment ${seq} ${paid.status}: ${paid.failureReason ?? ''} ${paid.message ?? ''}`
		);
	return (await settled) - t0;
}

async function run(count: number, workers: number, offset: number) {
	const latenciesMs: number[] = [];
	const failures: string[] = [];
	let next = 0;
	const t0 = performance.now();
	await Promise.all(
		Array.from({ length: workers }, async () => {
			for (;;) {
				const i = next++;
				if (i >= count) return;
				try {
					latenciesMs.push(await payOnce(offset + i));
				} catch (e) {
					failures.push((e as Error).message);
				}
			}
		})
	);
	return { latenciesMs, failures, wallMs: performance.now() - t0 };
}

function summarise(label: string, r: Awaited<ReturnType<typeof run>>) {
	const sorted = [...r.latenciesMs].sort((a, b) => a - b);
	const pct = (p: number) => percentile(sorted, p);
	const figures = {
		backend: 'lnd',
		payments: r.latenciesMs.length,
		failed: r.failures.length,
		p50Ms: round(pct(50)),
		p95Ms: round(pct(95)),
		paymentsPerSecond: round((r.latenciesMs.length / r.wallMs) * 1000, 1)
	};
	console.log(
		`${label}: ${figures.payments} payments in ${round(r.wallMs / 1000)} s → ${figures.paymentsPerSecond}/s; latency p50 ${figures.p50Ms} ms, p95 ${figures.p95Ms} ms, max ${round(sorted.at(-1) ?? NaN)} ms` +
			(r.failures.length ? `; ${r.failures.length} FAILED (first: ${r.failures[0]})` : '')
	);
	return figures;
}

let oneDriver;
try {
	await run(Math.min(10, PAYMENTS), 1, 0); // warm-up: first payments learn the route
	oneDriver = summarise('one driver (sequential increments)', await run(PAYMENTS, 1, 1000));
	summarise(
		`${PARALLEL} payments at once (same vehicle, same route)`,
		await run(PAYMENTS, PARALLEL, 100_000)
	);
} finally {
	await net.stop();
	rmSync(dir, { recursive: true, force: true });
}
console.log(loadLine('end'));
console.log(
	`Goal (one driver): p95 < 1000 ms with no failures — ${oneDriver.p95Ms < 1000 && oneDriver.failed === 0 ? 'met' : 'NOT met'}.`
);
console.log(JSON.stringify(oneDriver));
