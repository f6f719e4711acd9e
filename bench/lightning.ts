// Lightning benchmark: many increment-sized payments vehicle → hub → station on the simnet, each
// one going through the path a real charging session takes.
//
// The measured path: the devnet's simnet REST server (devnet/lightning.ts) in its own process on
// loopback (this file started again with --serve, as `npm start` runs it) with the devnet's own
// settle delay (a payment stays in flight 50 ms, DEFAULT_SETTLE_DELAY_MS), and the LND REST backend
// (LndRestNode) on both sides, as the wallet and the kiosk use it. Per payment (one 100 Wh increment):
//   station  builds the billing record of the increment from the session's readings, creates the
//            invoice with the record's hash as description hash (POST /v1/invoices), watches it
//            (GET /v2/invoices/subscribe/…, NDJSON), signs the invoice message with its key and tags
//            it with the session's MAC, and encodes it for the broker;
//   wallet   reads the message (size and schema), checks the session MAC and the station's
//            signature, and runs the wallet's payment guard (decideInvoice: rebuilds the record from
//            the readings it holds, decodes the BOLT11 and checks its signature, network, payee,
//            amount, description hash and expiry, the journal of paid hashes, the budget), reserves
//            the hash in the journal and pays (POST /v2/router/send, NDJSON).
// Latency runs from just before the station builds the record to the moment its watch reports the
// invoice settled. The readings themselves are verified as they arrive (bench:station measures
// that); here the wallet holds them already verified. Several sessions pay in parallel (--pairs).
// A refused invoice or a failed payment counts in `failed`.
//
// The same kind of payments are also run in-process (SimnetNode, no HTTP) for comparison, fewer of
// them (--compare-payments, 500): the line says what HTTP and JSON add; the JSON line carries the
// REST figures.
//
// Usage: npm run bench:lightning [-- --payments 2000 --pairs 16 --settle-delay-ms 50 --compare-payments 500]
// Prints as its LAST line: {"backend":"simnet","settleDelayMs","payments","failed","p50Ms","p95Ms","paymentsPerSecond"}.
// Targets: p95Ms < 50, paymentsPerSecond ≥ 200.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { DEFAULT_SETTLE_DELAY_MS, startLightningSimnet } from '../devnet/lightning.js';
import { LndRestNode, type LightningNode, type Network } from '../src/lib/lightning/index.js';
import { buildHubTopology, Simnet, SimnetNode } from '../src/lib/lightning/simnet/index.js';
import {
	hasValidMac,
	sessionKeys,
	signStationMessage,
	verifyStationSignature,
	billingRecordHash,
	buildBillingRecord,
	base64UrlEncode,
	bytesToHex,
	encodeMessage,
	parseMessageData,
	readRawMessage,
	invoicesTopic,
	type VerifiedReading,
	type InvoiceMessage
} from '../src/lib/protocol/index.js';
import { decideInvoice, DEFAULT_TARIFF } from '../src/lib/session/index.js';
import { benchFlags, loadLine, percentile, round, wholeNumber } from './common.js';

const flags = benchFlags({
	payments: { number: 2000 },
	pairs: { number: 16 },
	'settle-delay-ms': { number: DEFAULT_SETTLE_DELAY_MS },
	'compare-payments': { number: 500 },
	serve: { text: '' }
});
const PAYMENTS = wholeNumber('payments', flags.payments);
const COMPARE_PAYMENTS = wholeNumber('compare-payments', flags['compare-payments']);
const PAIRS = wholeNumber('pairs', flags.pairs);
const SETTLE_DELAY_MS = wholeNumber('settle-delay-ms', flags['settle-delay-ms'], 0);
const WARMUP = Math.min(100, Math.floor(PAYMENTS / 10));
const TARIFF = DEFAULT_TARIFF;
/** Readings per 100 Wh increment at 11 kW and 1 Hz (≈ 32.7 s). */
const READINGS_PER_INCREMENT = 33;
const FEE_LIMIT_MSAT = 10_000n;

/** One charging session: the station's node and key, the driver's node, what the wallet knows. */
interface Pair {
	vehicle: LightningNode;
	station: LightningNode;
	stationId: string;
	sessionId: string;
	stationKey: string;
	stationSigningKey: string;
	stationPubkey: string;
	network: Network;
	mac: ReturnType<typeof sessionKeys>;
	/** The wallet's state for this session. */
	readings: Map<number, VerifiedReading>;
	previous: { seq: number; toReading: number } | null;
	committedMsat: bigint;
	journal: Set<string>;
	nextSeq: number;
}

interface RunResult {
	latenciesMs: number[];
	wallMs: number;
	failures: string[];
}

/** The meter's verified readings up to `seq` (11 kW, 1 Hz), as the wallet holds them. */
function addReadings(pair: Pair, upTo: number): void {
	for (let n = pair.readings.size + 1; n <= upTo; n++) {
		const energyWh = Math.round(((n - 1) * 11_000) / 3600);
		pair.readings.set(n, {
			seq: n,
			energyWh,
			at: Date.now(),
			tx: n === 1 ? 'B' : 'T',
			meterSerial: `BENCH-${pair.stationId}`,
			ocmf: ''
		});
	}
}

/** Time spent in the two synchronous steps this bench adds to a bare payment (both are CPU only). */
const stepMs = { stationSign: 0, walletGuard: 0 };

/** One increment billed, invoiced, checked, paid and seen settled. */
async function payOnce(pair: Pair): Promise<number> {
	const t0 = performance.now();
	const seq = pair.nextSeq++;
	// ---- the station ----
	const fromReading = (seq - 1) * READINGS_PER_INCREMENT + 1;
	const toReading = seq * READINGS_PER_INCREMENT + 1;
	addReadings(pair, toReading);
	const record = buildBillingRecord({
		stationId: pair.stationId,
		sessionId: pair.sessionId,
		seq,
		from: { seq: fromReading, energyWh: pair.readings.get(fromReading)!.energyWh },
		to: { seq: toReading, energyWh: pair.readings.get(toReading)!.energyWh },
		tariff: TARIFF
	});
	const recordHash = billingRecordHash(record);
	const created = await pair.station.createInvoice({
		amountMsat: BigInt(record.amountMsat),
		descriptionHash: recordHash,
		expirySeconds: TARIFF.invoiceExpirySeconds
	});
	const settled = new Promise<number>((resolve, reject) => {
		const sub = pair.station.watchInvoice(
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
	settled.catch(() => undefined);
	const signStart = performance.now();
	const message: InvoiceMessage = {
		v: 1,
		type: 'invoice',
		sessionId: pair.sessionId,
		seq,
		record,
		recordHash,
		bolt11: created.paymentRequest
	};
	const wire = encodeMessage(
		signStationMessage(message, pair.stationId, pair.stationSigningKey, pair.mac.station)
	);
	const guardStart = performance.now();
	stepMs.stationSign += guardStart - signStart;

	// ---- the wallet (driver-runtime.ts's route, reconsider and pay) ----
	const topic = invoicesTopic(pair.stationId, pair.sessionId);
	const raw = readRawMessage(topic, wire);
	if (!raw.ok) throw new Error(`invoice ${seq} unreadable: ${raw.error}`);
	if (typeof raw.data !== 'object' || raw.data === null || !hasValidMac(raw.data, pair.mac.station))
		throw new Error(`invoice ${seq} without the session's MAC`);
	const parsed = parseMessageData(raw.where, raw.data);
	if (!parsed.ok || parsed.kind !== 'invoices')
		throw new Error(
			`invoice ${seq} refused by the schema: ${parsed.ok ? parsed.kind : parsed.error}`
		);
	if (!verifyStationSignature(parsed.message, pair.stationId, pair.stationKey))
		throw new Error(`invoice ${seq} not signed by the station`);
	const m = parsed.message as InvoiceMessage;
	const decision = decideInvoice(m, {
		stationId: pair.stationId,
		sessionId: pair.sessionId,
		tariff: TARIFF,
		payee: pair.stationPubkey,
		network: pair.network,
		budgetMsat: 1_000_000_000_000n,
		committedMsat: pair.committedMsat,
		readings: pair.readings,
		firstReadingSeq: 1,
		previous: pair.previous,
		isPaymentHashUsed: (h) => pair.journal.has(h),
		nowSeconds: Math.floor(Date.now() / 1000)
	});
	if (decision.action !== 'pay')
		throw new Error(
			`invoice ${seq} not paid by the guard: ${decision.action === 'refuse' ? `${decision.reason}: ${decision.message}` : decision.why}`
		);
	pair.previous = { seq: m.seq, toReading: m.record.toReading };
	pair.committedMsat += decision.amountMsat;
	pair.journal.add(decision.invoice.paymentHash);
	stepMs.walletGuard += performance.now() - guardStart;
	const paid = await pair.vehicle.pay({
		paymentRequest: m.bolt11,
		feeLimitMsat: FEE_LIMIT_MSAT,
		timeoutSeconds: 30
	});
	if (paid.status !== 'succeeded')
		throw new Error(
			`payment ${seq} ${paid.status}: ${paid.failureReason ?? ''} ${paid.message ?? ''}`
		);
	return (await settled) - t0;
}

async function makePair(
	vehicle: LightningNode,
	station: LightningNode,
	stationId: string
): Promise<Pair> {
	const info = await station.getInfo();
	const signing = secp256k1.utils.randomSecretKey();
	const sessionId = `${stationId}-bench-${bytesToHex(randomBytes(4))}`;
	return {
		vehicle,
		station,
		stationId,
		sessionId,
		stationSigningKey: bytesToHex(signing),
		stationKey: bytesToHex(secp256k1.getPublicKey(signing, true)),
		stationPubkey: info.pubkey,
		network: info.network,
		mac: sessionKeys(base64UrlEncode(randomBytes(32)), stationId, sessionId),
		readings: new Map(),
		previous: null,
		committedMsat: 0n,
		journal: new Set(),
		nextSeq: 1
	};
}

/** `count` payments spread over the pairs, each pair (session) paying one after another. */
async function run(pairs: Pair[], count: number): Promise<RunResult> {
	const latenciesMs: number[] = [];
	const failures: string[] = [];
	let next = 0;
	const start = performance.now();
	await Promise.all(
		pairs.map(async (pair) => {
			for (;;) {
				const i = next++;
				if (i >= count) return;
				try {
					latenciesMs.push(await payOnce(pair));
				} catch (e) {
					failures.push((e as Error).message);
				}
			}
		})
	);
	return { latenciesMs, wallMs: performance.now() - start, failures };
}

function summarise(label: string, r: RunResult) {
	const sorted = [...r.latenciesMs].sort((a, b) => a - b);
	const figures = {
		payments: r.latenciesMs.length,
		failed: r.failures.length,
		p50Ms: round(percentile(sorted, 50)),
		p95Ms: round(percentile(sorted, 95)),
		paymentsPerSecond: round((r.latenciesMs.length / r.wallMs) * 1000, 1)
	};
	console.log(
		`${label}: ${figures.payments} payments in ${round(r.wallMs / 1000)} s → ${figures.paymentsPerSecond}/s; ` +
			`latency p50 ${figures.p50Ms} ms, p95 ${figures.p95Ms} ms, p99 ${round(percentile(sorted, 99))} ms, max ${round(sorted.at(-1) ?? NaN)} ms` +
			(r.failures.length
				? `; ${r.failures.length} FAILED (first: ${r.failures[0]})`
				: '; none failed')
	);
	return figures;
}

/**
 * Starts this file again as the devnet's simnet server (`--serve`), like `npm start` runs it: in
 * its own process, so the server's work (signing invoices, routing) and the clients' (HTTP, JSON)
 * can use different cores, as they would with the devnet and the apps' browsers.
 */
async function startServerProcess() {
	const child = spawn(
		process.execPath,
		[
			...process.execArgv,
			fileURLToPath(import.meta.url),
			'--serve',
			'yes',
			'--pairs',
			String(PAIRS),
			'--settle-delay-ms',
			String(SETTLE_DELAY_MS)
		],
		{
			stdio: ['pipe', 'pipe', 'inherit']
		}
	);
	const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
	const nextLine = async (): Promise<string> => {
		const r = await lines.next();
		if (r.done) throw new Error('the simnet server process ended early');
		return r.value;
	};
	const ready = JSON.parse(await nextLine()) as {
		nodes: { name: string; restUrl: string; macaroonHex: string }[];
	};
	return {
		nodes: ready.nodes,
		cpuMs: async () => {
			child.stdin!.write('cpu\n');
			return Number(await nextLine());
		},
		stop: async () => {
			child.stdin!.end('stop\n');
			await new Promise((r) => child.once('exit', r));
		}
	};
}

/** Runs and measures the CPU this process used (for the REST run the server process's CPU is added). */
async function measured(fn: () => Promise<RunResult>): Promise<RunResult & { cpuMs: number }> {
	const start = process.cpuUsage();
	const r = await fn();
	const used = process.cpuUsage(start);
	return { ...r, cpuMs: (used.user + used.system) / 1000 };
}

function cpuLine(r: RunResult & { cpuMs: number }, steps: typeof stepMs) {
	const n = Math.max(1, r.latenciesMs.length + r.failures.length);
	const perPayment = r.cpuMs / n;
	console.log(
		`  CPU: ${round(perPayment)} ms per payment (payer, hub and payee together), ${round(r.cpuMs / r.wallMs, 2)} cores used on average; ` +
			`one whole core would allow about ${Math.round(1000 / perPayment)} payments/s`
	);
	console.log(
		`  of which the station signing and MAC-tagging the invoice message ${round(steps.stationSign / n)} ms, ` +
			`the wallet's checks (size, schema, MAC, signature, decideInvoice with BOLT11 decode and signature check, journal) ${round(steps.walletGuard / n)} ms`
	);
}

const vehicles = Array.from({ length: PAIRS }, (_, i) => `vehicle-${i + 1}`);
const stations = Array.from({ length: PAIRS }, (_, i) => `station-${i + 1}`);
const channelSat = 20_000_000n; // room for every payment of the run

if (flags.serve === 'yes') {
	// The server process: start the simnet, say where it is, answer CPU queries, stop on request.
	const sim = await startLightningSimnet({
		port: 0,
		nodes: ['hub', ...stations, ...vehicles],
		channelSat,
		settleDelayMs: SETTLE_DELAY_MS
	});
	console.log(JSON.stringify({ nodes: sim.nodes }));
	for await (const line of createInterface({ input: process.stdin })) {
		if (line === 'cpu') {
			const u = process.cpuUsage();
			console.log(String((u.user + u.system) / 1000));
		} else if (line === 'stop') break;
	}
	await sim.stop();
	process.exit(0);
}

console.log(loadLine('start'));
console.log(
	`Lightning benchmark: ${PAYMENTS} payments of one 100 Wh increment (${Number(BigInt(TARIFF.pricePerKwhMsat) / 10n) / 1000} sat at the default tariff) ` +
		`in ${PAIRS} sessions in parallel, vehicle → hub → station, each invoice signed by the station and passed through the wallet's payment guard`
);
console.log(
	`Simnet in-flight time per payment (settleDelayMs): ${SETTLE_DELAY_MS} ms (the devnet server's default is ${DEFAULT_SETTLE_DELAY_MS} ms)`
);

// ---- over LND REST against the devnet simnet server, in its own process as `npm start` runs it ----
const server = await startServerProcess();
const rest = (name: string) => {
	const n = server.nodes.find((x) => x.name === name)!;
	return new LndRestNode({ restUrl: n.restUrl, macaroonHex: n.macaroonHex, timeoutMs: 10_000 });
};
const restPairs = await Promise.all(
	vehicles.map((v, i) => makePair(rest(v), rest(stations[i]!), stations[i]!))
);
await run(restPairs, WARMUP);
const serverCpuBefore = await server.cpuMs();
stepMs.stationSign = stepMs.walletGuard = 0;
const restResult = await measured(() => run(restPairs, PAYMENTS));
const restSteps = { ...stepMs };
restResult.cpuMs += (await server.cpuMs()) - serverCpuBefore;
await server.stop();
const restFigures = summarise(
	'LND REST (devnet simnet server in its own process, loopback HTTP)',
	restResult
);
cpuLine(restResult, restSteps);

// ---- in-process, for comparison ----
const net = new Simnet({ settleDelayMs: SETTLE_DELAY_MS });
buildHubTopology(net, [...stations, ...vehicles], { channelSat });
const localPairs = await Promise.all(
	vehicles.map((v, i) =>
		makePair(new SimnetNode(net, v), new SimnetNode(net, stations[i]!), stations[i]!)
	)
);
await run(localPairs, WARMUP);
stepMs.stationSign = stepMs.walletGuard = 0;
const localResult = await measured(() => run(localPairs, COMPARE_PAYMENTS));
summarise('in-process SimnetNode (no HTTP, for comparison)', localResult);
cpuLine(localResult, stepMs);

const gaps: string[] = [];
if (restFigures.p95Ms >= 50)
	gaps.push(
		`p95 ${restFigures.p95Ms} ms is ${round(restFigures.p95Ms - 50)} ms over 50 ms (${SETTLE_DELAY_MS} ms of it is the simnet holding each payment in flight)`
	);
if (restFigures.paymentsPerSecond < 200)
	gaps.push(
		`${restFigures.paymentsPerSecond} payments/s is ${round(200 - restFigures.paymentsPerSecond, 1)}/s short of 200`
	);
if (restFigures.failed > 0) gaps.push(`${restFigures.failed} failed`);
console.log(
	`Targets (REST path): p95 < 50 ms and ≥ 200 payments/s with none failed — ${gaps.length ? `NOT met: ${gaps.join('; ')}` : 'met'}.`
);
console.log(loadLine('end'));
console.log(JSON.stringify({ backend: 'simnet', settleDelayMs: SETTLE_DELAY_MS, ...restFigures }));
