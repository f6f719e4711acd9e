// Station benchmark: many headless stations (the kiosk's StationRuntime with simulated cars) poll
// at 1 Hz, sign every reading and publish it through their outbox to a broker started in-process;
// subscribers in worker threads verify every reading with the wallet's ReadingVerifier (signature,
// pagination, energy, time). Latency is reading taken (meter sample time) → verified by a
// subscriber. Drivers join every session and pay every invoice over an in-process Lightning simnet
// (SimnetNode); the ledger is left out (its own benchmark is bench:ledger).
//
//   npm run bench:station -- [--stations 200] [--seconds 30] [--brokers aedes,mosquitto] [--verifiers 2]
//                            [--station-threads 2] [--subscribe-over ws|tcp]
//
// Subscribers connect over WebSockets like the wallet (--subscribe-over tcp for plain MQTT).
// Runs once per broker (aedes always; Mosquitto when installed), prints each run's figures, and as
// its last line the JSON object {"stations","readingsPerSecond","p50Ms","p95Ms"} of the aedes run
// (the devnet's default broker).
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { findMosquitto, startBroker, type BrokerKind } from '../devnet/broker.js';
import { buildHubTopology, Simnet, SimnetNode } from '../src/lib/lightning/simnet/index.js';
import { connectBus, type MessageBus } from '../src/lib/mqtt/bus.js';
import { parseMessage } from '../src/lib/protocol/messages.js';
import { ocmfPublicKeyHex } from '../src/lib/protocol/ocmf.js';
import { ReadingVerifier } from '../src/lib/protocol/readings.js';
import { TOPIC_ROOT } from '../src/lib/protocol/topics.js';
import { DriverChannel } from '../src/lib/session/driver-channel.js';
import { createSimulatedStation, DEFAULT_TARIFF, type HeadlessStation } from '../src/lib/session/headless-station.js';
import { MemoryKioskStore } from '../src/lib/storage/kiosk-db.js';

interface VerifierInput {
	role: 'verifier';
	wsUrl: string;
	protocolVersion: 4 | 5;
	stations: { stationId: string; publicKey: string }[];
}
interface StationsInput {
	role: 'stations';
	wsUrl: string;
	protocolVersion: 4 | 5;
	stations: { stationId: string; key: string }[];
	/** Spread the stations' start (and so their 1 Hz polls) over this many ms. */
	spreadMs: number;
}
type StationsReport = { invoicesPaid: number; phases: Record<string, number> };
type VerifierReport = { latencies: number[]; verified: number; duplicates: number; refused: string[]; gaps: number };

// ---------- subscriber (worker thread) ----------
async function runVerifier(input: VerifierInput): Promise<void> {
	const bus = await connectBus(input.wsUrl, { protocolVersion: input.protocolVersion, clientId: `bench-verifier-${process.pid}-${Math.random().toString(16).slice(2, 8)}` });
	const keys = new Map(input.stations.map((s) => [s.stationId, s.publicKey]));
	const verifiers = new Map<string, ReadingVerifier>();
	let measureFrom = Infinity;
	let measureTo = Infinity;
	const report: VerifierReport = { latencies: [], verified: 0, duplicates: 0, refused: [], gaps: 0 };
	for (const s of input.stations) {
		await bus.subscribe(`${TOPIC_ROOT}/stations/${s.stationId}/sessions/+/readings`, (topic, payload) => {
			const parsed = parseMessage(topic, payload);
			if (!parsed.ok || parsed.kind !== 'readings') return void report.refused.push(parsed.ok ? 'not a reading' : parsed.error);
			const stationId = topic.split('/')[3]!;
			const m = parsed.message;
			const key = `${stationId}/${m.sessionId}`;
			let v = verifiers.get(key);
			if (!v) verifiers.set(key, (v = new ReadingVerifier({ stationId, sessionId: m.sessionId, publicKey: keys.get(stationId)! })));
			const r = v.accept(m);
			const now = Date.now();
			if (!r.ok) return void report.refused.push(r.reason);
			if (r.duplicate) return void report.duplicates++;
			if (r.gap) report.gaps++;
			if (r.reading.at >= measureFrom && r.reading.at < measureTo) {
				report.verified++;
				report.latencies.push(now - r.reading.at);
			}
		});
	}
	parentPort!.on('message', (msg: { measureFrom?: number; measureTo?: number; report?: boolean }) => {
		if (msg.measureFrom !== undefined) measureFrom = msg.measureFrom;
		if (msg.measureTo !== undefined) measureTo = msg.measureTo;
		if (msg.report) {
			parentPort!.postMessage(report);
			void bus.close().then(() => process.exit(0));
		}
	});
	parentPort!.postMessage('ready');
}

// ---------- stations (worker thread) ----------
// Each station thread runs its share of stations with their own Lightning simnet (station, hub and
// one car per station) and plays their drivers: join every session, pay every invoice.
async function runStations(input: StationsInput): Promise<void> {
	const simnet = new Simnet();
	buildHubTopology(simnet, input.stations.flatMap((s) => [s.stationId, `car-${s.stationId}`]), { channelSat: 5_000_000n });
	const buses: MessageBus[] = [];
	const stations: { id: string; station: HeadlessStation }[] = [];
	for (const s of input.stations) {
		const bus = await connectBus(input.wsUrl, { protocolVersion: input.protocolVersion, clientId: `bench-station-${s.stationId}` });
		buses.push(bus);
		const station = await createSimulatedStation({
			stationId: s.stationId,
			signingKeyHex: s.key,
			lightning: new SimnetNode(simnet, s.stationId),
			// An invoice every ~16 s at 11 kW, so payments run during the measurement.
			tariff: { ...DEFAULT_TARIFF, incrementWh: 50 },
			bus,
			store: new MemoryKioskStore(),
			pollMs: 1000,
			anchorIntervalMs: 0
		});
		stations.push({ id: s.stationId, station });
	}
	const drivers = await connectBus(input.wsUrl, { protocolVersion: input.protocolVersion, clientId: `bench-drivers-${input.stations[0]?.stationId}` });
	buses.push(drivers);
	let invoicesPaid = 0;
	for (const s of stations) {
		await drivers.subscribe(`${TOPIC_ROOT}/stations/${s.id}/sessions/+/invoices`, (topic, payload) => {
			const parsed = parseMessage(topic, payload);
			if (!parsed.ok || parsed.kind !== 'invoices') return;
			void new SimnetNode(simnet, `car-${s.id}`)
				.pay({ paymentRequest: parsed.message.bolt11, feeLimitMsat: 100_000n, timeoutSeconds: 30 })
				.then((u) => u.status === 'succeeded' && invoicesPaid++);
		});
	}
	for (const [i, s] of stations.entries()) {
		await sleep(input.spreadMs / stations.length);
		await s.station.runtime.start();
		// The driver scanned the station's QR code: it knows the session's join secret.
		const channel = new DriverChannel(s.station.runtime.offer()!);
		await drivers.publish(channel.topic, channel.join(1_000_000_000_000n, `car-${i + 1}`, Date.now()));
	}
	parentPort!.on('message', async (msg: { report?: boolean }) => {
		if (!msg.report) return;
		const phases: Record<string, number> = {};
		for (const s of stations) {
			const p = s.station.runtime.view().session.phase;
			phases[p] = (phases[p] ?? 0) + 1;
		}
		for (const s of stations) await s.station.runtime.stop();
		for (const b of buses) await b.close().catch(() => undefined);
		parentPort!.postMessage({ invoicesPaid, phases } satisfies StationsReport);
	});
	parentPort!.postMessage('ready');
}

// ---------- main ----------
async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	await new Promise((resolve) => server.close(resolve));
	return port;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface RunFigures {
	broker: BrokerKind;
	stations: number;
	readingsPerSecond: number;
	p50Ms: number;
	p95Ms: number;
	p99Ms: number;
	maxMs: number;
	verified: number;
	duplicates: number;
	gaps: number;
	refused: number;
	invoicesPaid: number;
	/** Session phases at the end (all should be charging). */
	phases: Record<string, number>;
}

async function run(kind: BrokerKind, stationCount: number, seconds: number, verifierCount: number, stationThreadCount: number, subscribeOver: 'ws' | 'tcp'): Promise<RunFigures> {
	const broker = await startBroker({ kind, tcpPort: await freePort(), wsPort: await freePort(), dir: path.join(os.tmpdir(), `lightcharge-bench-${process.pid}`) });
	const workers: Worker[] = [];
	const spawn = (input: VerifierInput | StationsInput) => {
		// Workers run this same file, compiled on the fly like the main thread (tsx).
		const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
		const worker = new Worker(bootstrap, { eval: true, workerData: input });
		workers.push(worker);
		const ready = new Promise<void>((resolve, reject) => {
			worker.once('message', () => resolve());
			worker.once('error', reject);
		});
		const report = new Promise<unknown>((resolve) => worker.on('message', (m) => typeof m === 'object' && resolve(m)));
		return { worker, ready, report };
	};
	try {
		const stations = Array.from({ length: stationCount }, (_, i) => ({ stationId: `bench-${i + 1}`, key: bytesToHex(secp256k1.utils.randomSecretKey()) }));
		const share = <T>(list: T[], parts: number, i: number) => list.slice(Math.floor((i * list.length) / parts), Math.floor(((i + 1) * list.length) / parts));

		// Subscribers first, so they hold every reading from the first.
		const verifiers = Array.from({ length: verifierCount }, (_, i) =>
			spawn({ role: 'verifier', wsUrl: subscribeOver === 'tcp' ? broker.tcpUrl : broker.wsUrl, protocolVersion: broker.protocolVersion, stations: share(stations, verifierCount, i).map((s) => ({ stationId: s.stationId, publicKey: ocmfPublicKeyHex(s.key) })) })
		);
		await Promise.all(verifiers.map((v) => v.ready));
		const stationThreads = Array.from({ length: stationThreadCount }, (_, i) =>
			spawn({ role: 'stations', wsUrl: broker.wsUrl, protocolVersion: broker.protocolVersion, stations: share(stations, stationThreadCount, i), spreadMs: 1000 })
		);
		await Promise.all(stationThreads.map((t) => t.ready));

		await sleep(3000); // warm-up
		const measureFrom = Date.now();
		const measureTo = measureFrom + seconds * 1000;
		for (const v of verifiers) v.worker.postMessage({ measureFrom, measureTo });
		await sleep(seconds * 1000 + 2000); // the window, plus time for the last readings to arrive
		for (const w of workers) w.postMessage({ report: true });
		const all = (await Promise.all(verifiers.map((v) => v.report))) as VerifierReport[];
		const threads = (await Promise.all(stationThreads.map((t) => t.report))) as StationsReport[];
		const latencies = all.flatMap((r) => r.latencies).sort((a, b) => a - b);
		const refused = all.flatMap((r) => r.refused);
		if (refused.length) console.log(`  ${refused.length} readings refused, e.g. ${refused[0]}`);
		const phases: Record<string, number> = {};
		for (const t of threads) for (const [p, n] of Object.entries(t.phases)) phases[p] = (phases[p] ?? 0) + n;
		return {
			broker: kind,
			stations: stationCount,
			readingsPerSecond: Math.round((latencies.length / seconds) * 10) / 10,
			p50Ms: percentile(latencies, 50),
			p95Ms: percentile(latencies, 95),
			p99Ms: percentile(latencies, 99),
			maxMs: latencies.at(-1) ?? NaN,
			verified: latencies.length,
			duplicates: all.reduce((n, r) => n + r.duplicates, 0),
			gaps: all.reduce((n, r) => n + r.gaps, 0),
			refused: refused.length,
			invoicesPaid: threads.reduce((n, t) => n + t.invoicesPaid, 0),
			phases
		};
	} finally {
		await Promise.all(workers.map((w) => w.terminate()));
		await broker.stop();
	}
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: { stations: { type: 'string' }, seconds: { type: 'string' }, brokers: { type: 'string' }, verifiers: { type: 'string' }, 'station-threads': { type: 'string' }, 'subscribe-over': { type: 'string' } },
		strict: true
	});
	const stations = Number(values.stations ?? 200);
	const seconds = Number(values.seconds ?? 30);
	const subscribeOver = values['subscribe-over'] ?? 'ws';
	if (subscribeOver !== 'ws' && subscribeOver !== 'tcp') throw new Error('--subscribe-over must be ws or tcp');
	const verifiers = Number(values.verifiers ?? 2);
	const stationThreads = Number(values['station-threads'] ?? 2);
	for (const [name, n] of [['stations', stations], ['seconds', seconds], ['verifiers', verifiers], ['station-threads', stationThreads]] as const) {
		if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1`);
	}
	const brokers = (values.brokers ?? (findMosquitto() ? 'mosquitto,aedes' : 'aedes')).split(',') as BrokerKind[];
	if (!brokers.includes('aedes')) brokers.push('aedes');
	// aedes last, so its JSON is the last line.
	brokers.sort((a, b) => (a === 'aedes' ? 1 : 0) - (b === 'aedes' ? 1 : 0));
	console.log(`station benchmark: ${stations} stations at 1 Hz for ${seconds} s in ${stationThreads} threads, ${verifiers} verifier threads, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
	let last: RunFigures | null = null;
	for (const kind of brokers) {
		const f = await run(kind, stations, seconds, verifiers, stationThreads, subscribeOver);
		console.log(
			`${kind.padEnd(9)} ${f.readingsPerSecond} readings/s verified, p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms; ` +
				`${f.verified} verified, ${f.duplicates} duplicates, ${f.gaps} gaps, ${f.refused} refused, ${f.invoicesPaid} invoices paid; ` +
				`sessions at the end: ${Object.entries(f.phases).map(([p, n]) => `${n} ${p}`).join(', ')}`
		);
		last = f;
	}
	console.log(JSON.stringify({ stations: last!.stations, readingsPerSecond: last!.readingsPerSecond, p50Ms: last!.p50Ms, p95Ms: last!.p95Ms }));
	process.exit(0);
}

if (isMainThread) {
	await main().catch((e) => {
		console.error(`bench:station: ${(e as Error).stack ?? e}`);
		process.exit(1);
	});
} else {
	const input = workerData as VerifierInput | StationsInput;
	if (input.role === 'verifier') await runVerifier(input);
	else await runStations(input);
}
