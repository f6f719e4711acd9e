// Station benchmark: many headless stations (the kiosk's StationRuntime with simulated cars) poll
// at 1 Hz, sign every reading and publish it through their outbox to a broker started in-process;
// subscribers in worker threads verify every reading with the wallet's ReadingVerifier (signature,
// pagination, energy, time). Latency is reading taken (meter sample time) → verified by a
// subscriber. Drivers join every session and pay every invoice over an in-process Lightning simnet
// (SimnetNode); the ledger is left out (its own benchmark is bench:ledger).
//
//   npm run bench:station -- [--stations 200] [--seconds 30] [--brokers aedes,mosquitto] [--verifiers 2]
//
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
import { encodeMessage, parseMessage } from '../src/lib/protocol/messages.js';
import { ocmfPublicKeyHex } from '../src/lib/protocol/ocmf.js';
import { ReadingVerifier } from '../src/lib/protocol/readings.js';
import { driverTopic, TOPIC_ROOT } from '../src/lib/protocol/topics.js';
import { createSimulatedStation, DEFAULT_TARIFF, type HeadlessStation } from '../src/lib/session/headless-station.js';
import { MemoryKioskStore } from '../src/lib/storage/kiosk-db.js';

interface VerifierInput {
	wsUrl: string;
	protocolVersion: 4 | 5;
	stations: { stationId: string; publicKey: string }[];
}
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
}

async function run(kind: BrokerKind, stationCount: number, seconds: number, verifierCount: number): Promise<RunFigures> {
	const broker = await startBroker({ kind, tcpPort: await freePort(), wsPort: await freePort(), dir: path.join(os.tmpdir(), `lightcharge-bench-${process.pid}`) });
	const buses: MessageBus[] = [];
	const stations: { id: string; key: string; station: HeadlessStation }[] = [];
	const workers: Worker[] = [];
	try {
		const simnet = new Simnet();
		const ids = Array.from({ length: stationCount }, (_, i) => `bench-${i + 1}`);
		buildHubTopology(simnet, ids.flatMap((id) => [id, `car-${id}`]), { channelSat: 5_000_000n });

		for (const id of ids) {
			const key = bytesToHex(secp256k1.utils.randomSecretKey());
			const bus = await connectBus(broker.wsUrl, { protocolVersion: broker.protocolVersion, clientId: `bench-station-${id}` });
			buses.push(bus);
			const station = await createSimulatedStation({
				stationId: id,
				signingKeyHex: key,
				tariff: { ...DEFAULT_TARIFF, incrementWh: 20, graceWh: 40 },
				lightning: new SimnetNode(simnet, id),
				bus,
				store: new MemoryKioskStore(),
				pollMs: 1000,
				anchorIntervalMs: 0
			});
			stations.push({ id, key, station });
		}

		// Subscribers: stations split across worker threads, each verifying its share.
		const perWorker = Math.ceil(stationCount / verifierCount);
		const reports: Promise<VerifierReport>[] = [];
		for (let w = 0; w < verifierCount; w++) {
			const share = stations.slice(w * perWorker, (w + 1) * perWorker);
			if (share.length === 0) continue;
			const input: VerifierInput = { wsUrl: broker.wsUrl, protocolVersion: broker.protocolVersion, stations: share.map((s) => ({ stationId: s.id, publicKey: ocmfPublicKeyHex(s.key) })) };
			// The worker runs this same file, compiled on the fly like the main thread (tsx).
			const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
			const worker = new Worker(bootstrap, { eval: true, workerData: input });
			workers.push(worker);
			await new Promise<void>((resolve, reject) => {
				worker.once('message', () => resolve());
				worker.once('error', reject);
			});
			reports.push(new Promise((resolve) => worker.on('message', (m) => typeof m === 'object' && resolve(m as VerifierReport))));
		}

		// Drivers: join every session and pay every invoice from the car's node.
		const drivers = await connectBus(broker.wsUrl, { protocolVersion: broker.protocolVersion, clientId: 'bench-drivers' });
		buses.push(drivers);
		let invoicesPaid = 0;
		await drivers.subscribe(`${TOPIC_ROOT}/stations/+/sessions/+/invoices`, (topic, payload) => {
			const parsed = parseMessage(topic, payload);
			if (!parsed.ok || parsed.kind !== 'invoices') return;
			const stationId = topic.split('/')[3]!;
			void new SimnetNode(simnet, `car-${stationId}`)
				.pay({ paymentRequest: parsed.message.bolt11, feeLimitMsat: 100_000n, timeoutSeconds: 30 })
				.then((u) => u.status === 'succeeded' && invoicesPaid++);
		});

		// Stations start spread over one second, so their 1 Hz polls do not all land at once.
		for (const [i, s] of stations.entries()) {
			await sleep(1000 / stationCount);
			await s.station.runtime.start();
			const sessionId = s.station.runtime.view().session.sessionId;
			await drivers.publish(driverTopic(s.id, sessionId), encodeMessage({ v: 1, type: 'join', sessionId, budgetMsat: '1000000000000', driverRef: `car-${i + 1}`, at: Date.now() }));
		}
		await sleep(3000); // warm-up
		const measureFrom = Date.now();
		const measureTo = measureFrom + seconds * 1000;
		for (const w of workers) w.postMessage({ measureFrom, measureTo });
		await sleep(seconds * 1000 + 2000); // the window, plus time for the last readings to arrive
		for (const w of workers) w.postMessage({ report: true });
		const all = await Promise.all(reports);
		const latencies = all.flatMap((r) => r.latencies).sort((a, b) => a - b);
		const refused = all.flatMap((r) => r.refused);
		if (refused.length) console.log(`  ${refused.length} readings refused, e.g. ${refused[0]}`);
		const notCharging = stations.filter((s) => s.station.runtime.view().session.phase !== 'charging').length;
		if (notCharging) console.log(`  ${notCharging} stations were not charging at the end (${stations.map((s) => s.station.runtime.view().session.phase).find((p) => p !== 'charging')})`);
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
			invoicesPaid
		};
	} finally {
		for (const s of stations) await s.station.runtime.stop();
		for (const b of buses) await b.close().catch(() => undefined);
		for (const w of workers) await w.terminate();
		await broker.stop();
	}
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: { stations: { type: 'string' }, seconds: { type: 'string' }, brokers: { type: 'string' }, verifiers: { type: 'string' } },
		strict: true
	});
	const stations = Number(values.stations ?? 200);
	const seconds = Number(values.seconds ?? 30);
	const verifiers = Number(values.verifiers ?? 2);
	for (const [name, n] of [['stations', stations], ['seconds', seconds], ['verifiers', verifiers]] as const) {
		if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1`);
	}
	const brokers = (values.brokers ?? (findMosquitto() ? 'mosquitto,aedes' : 'aedes')).split(',') as BrokerKind[];
	if (!brokers.includes('aedes')) brokers.push('aedes');
	// aedes last, so its JSON is the last line.
	brokers.sort((a, b) => (a === 'aedes' ? 1 : 0) - (b === 'aedes' ? 1 : 0));
	console.log(`station benchmark: ${stations} stations at 1 Hz for ${seconds} s, ${verifiers} verifier threads, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
	let last: RunFigures | null = null;
	for (const kind of brokers) {
		const f = await run(kind, stations, seconds, verifiers);
		console.log(
			`${kind.padEnd(9)} ${f.readingsPerSecond} readings/s verified, p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms; ` +
				`${f.verified} verified, ${f.duplicates} duplicates, ${f.gaps} gaps, ${f.refused} refused, ${f.invoicesPaid} invoices paid`
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
	await runVerifier(workerData as VerifierInput);
}
