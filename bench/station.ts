// Station capacity benchmark: how many stations polling at 1 Hz one broker carries on this machine
// while every reading is verified within 100 ms (p95) and none is lost.
//
// Full path (the JSON lines): headless stations — the kiosk's StationRuntime with a simulated car
// behind a simulated meter and charger — sign every reading (OCMF, secp256k1) and publish it through
// their outbox; the ledger is ON: every station is registered on the devnet chain (Hardhat in a
// process of its own, a block every 1 s as on the devnet), opens its session there and anchors its
// readings' Merkle root every 60 s (the kiosk's default) through its own StationLedger. One driver
// per station runs the wallet's DriverRuntime: it checks the station against the registry on the
// chain, joins with the QR code's secret, verifies every reading (MAC, signature, pagination,
// energy, time) and pays every 100 Wh invoice through the wallet's payment guard over an in-process
// Lightning simnet at the devnet's 50 ms settle delay. Each station and each driver has its own
// MQTT connection over WebSockets, as separate devices do. Latency: the meter sample's time →
// the driver's runtime holds the reading verified.
//
// The ramp adds stations (50, 100, 200, 400, 800, … : --levels) to those already running, arriving
// at --arrivals-per-second (each one connecting, opening its session, its driver checking it on the
// registry and joining; the broker path's pre-signed stations arrive 4× as fast); at each
// level, after the new ones have joined, it measures a --window-seconds window and stops at the
// first level whose p95 exceeds --p95-limit-ms, that lost a reading (signed in the window and not
// verified by --grace-seconds after it, or refused), or whose stations no longer kept their 1 Hz
// (fewer than 98 % of N × window readings taken: a late poll is a reading never taken). It prints
// the largest level that held. Other programs share this machine, so a failed level is measured
// once more with the same stations and fails only if the second window fails too (both printed).
// Anchors come once a minute per station, so in a short window only stations running for a minute
// anchor; each level line states how many anchors landed against the steady state (N × window / 60).
//
// Broker path (pre-signed): the same number of station and driver connections, but each reading
// is signed once beforehand and republished each second with its next seq; the driver side reads
// it as the wallet does before any elliptic-curve work (size, JSON, schema, session MAC). This
// measures what the broker and the wire carry when signing and verifying are taken out. It starts
// at the level where the full path failed and ramps on from there.
//
// Signing and verifying: their cost per reading is measured here (makeReading and the wallet's
// ReadingVerifier, 300 of each) and multiplied by the reading rate: the cores they need at a level.
//
//   npm run bench:station -- [--brokers aedes,mosquitto] [--levels 50,100,200,400,800,1600]
//                            [--window-seconds 5] [--grace-seconds 2] [--p95-limit-ms 100] [--threads <cores>]
//                            [--broker-path yes|no] [--connect-over ws|tcp] [--arrivals-per-second 50] [--port-base 25000]
// Last lines: {"broker":"aedes",…} then {"broker":"mosquitto","maxStations","p95MsAtMax","lost","duplicates",…}
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { Wallet } from 'ethers';
import { findMosquitto, startBroker, type BrokerKind } from '../devnet/broker.js';
import { DEFAULT_SETTLE_DELAY_MS } from '../devnet/lightning.js';
import type { LedgerAddresses } from '../src/lib/ledger/index.js';
import { buildHubTopology, Simnet, SimnetNode } from '../src/lib/lightning/simnet/index.js';
import { connectBus, type MessageBus } from '../src/lib/mqtt/index.js';
import {
	hasValidMac,
	makeReading,
	ocmfPublicKeyHex,
	parseMessageData,
	ReadingVerifier,
	readingsTopic,
	readRawMessage,
	sessionKeys,
	tagMessage,
	type ReadingMessage
} from '../src/lib/protocol/index.js';
import {
	createSimulatedStation,
	DEFAULT_TARIFF,
	DriverRuntime,
	MemoryJournal,
	type HeadlessStation
} from '../src/lib/session/index.js';
import { MemoryKioskStore } from '../src/lib/storage/index.js';
import { benchFlags, loadLine, percentile, round, wholeNumber } from './common.js';

// ---------- messages between the main thread and the fleet threads ----------
interface ChainInfo {
	rpcUrl: string;
	chainId: number;
	addresses: LedgerAddresses;
}
interface FleetInput {
	mode: 'full' | 'wire';
	wsUrl: string;
	protocolVersion: 4 | 5;
	chain: ChainInfo | null;
	thread: number;
}
type StationSpec = { stationId: string; key: string };
type ToFleet =
	| { prepare: StationSpec[] }
	| { start: StationSpec[]; spreadMs: number }
	| { mark: 'from' | 'to' }
	| { report: true }
	| { stop: true };
interface LevelReport {
	latencies: number[];
	signed: number;
	lost: number;
	duplicates: number;
	refused: number;
	invoicesPaid: number;
	invoicesOther: number;
	anchorsInWindow: number;
	ledgerPending: number;
	problems: string[];
}
type FromFleet =
	| { ready: true }
	| { prepared: { stationId: string; lightningPubkey: string }[] }
	| { started: number; failed: number; problems: string[] }
	| { report: LevelReport }
	| { stopped: true }
	| { error: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * A fresh station key. Not ethers' Wallet.createRandom(): that derives an HD wallet from a new
 * mnemonic (PBKDF2, 2,048 rounds), ~20-60 ms a key here, which at 1,600 stations was most of the
 * set-up time between levels.
 */
const randomKey = () => `0x${bytesToHex(secp256k1.utils.randomSecretKey())}`;

// ---------- a fleet thread: its share of the stations and their drivers ----------
interface Pair {
	stationId: string;
	bus: MessageBus;
	driverBus: MessageBus;
	station?: HeadlessStation;
	driver?: DriverRuntime;
	/** Wire mode: the publishing timer. */
	timer?: ReturnType<typeof setInterval>;
	/** seq → ms from the reading's time to "verified" (or read, wire mode), for readings after the 'from' mark. */
	seen: Map<number, number>;
	duplicates: number;
	seqAtFrom: number;
	seqAtTo: number;
	/** Wire mode: seq published last. */
	published: number;
	anchorsAtFrom: number;
	anchorsAtTo: number;
}

async function runFleet(input: FleetInput): Promise<void> {
	const port = parentPort!;
	const simnet = new Simnet({ settleDelayMs: DEFAULT_SETTLE_DELAY_MS });
	const pairs: Pair[] = [];
	let marking = false;
	const latestSeq = (p: Pair) =>
		input.mode === 'full' ? (p.station!.runtime.view().readings.at(-1)?.seq ?? 0) : p.published;
	const anchorCount = (p: Pair) =>
		input.mode === 'full' ? p.station!.runtime.view().anchors.length : 0;
	const { checkStationIdentity } = await import('../src/lib/session/index.js');
	const { createStationLedger } = await import('../src/lib/ledger/index.js');
	const connect = (clientId: string) =>
		connectBus(input.wsUrl, { protocolVersion: input.protocolVersion, clientId });

	async function startFull(spec: StationSpec, problems: string[]): Promise<Pair> {
		const chain = input.chain!;
		const bus = await connect(`st-${spec.stationId}`);
		const driverBus = await connect(`drv-${spec.stationId}`);
		const pair: Pair = {
			stationId: spec.stationId,
			bus,
			driverBus,
			seen: new Map(),
			duplicates: 0,
			seqAtFrom: 0,
			seqAtTo: 0,
			published: 0,
			anchorsAtFrom: 0,
			anchorsAtTo: 0
		};
		const ledger = await createStationLedger({
			rpcUrl: chain.rpcUrl,
			chainId: chain.chainId,
			addresses: chain.addresses,
			stationId: spec.stationId,
			signerKey: spec.key
		});
		pair.station = await createSimulatedStation({
			stationId: spec.stationId,
			signingKeyHex: spec.key.replace(/^0x/, ''),
			lightning: new SimnetNode(simnet, spec.stationId),
			tariff: DEFAULT_TARIFF,
			bus,
			ledger,
			store: new MemoryKioskStore(),
			pollMs: 1000,
			anchorIntervalMs: 60_000,
			onLog: (line) =>
				problems.length < 5 &&
				/fail|refus|alarm/i.test(line) &&
				problems.push(`${spec.stationId}: ${line}`)
		});
		await pair.station.runtime.start();
		const offer = pair.station.runtime.offer();
		if (!offer) throw new Error(`${spec.stationId} offers no session after start`);
		// Duplicates: a reading whose seq this driver's connection already delivered.
		const delivered = new Set<number>();
		const countingBus: MessageBus = {
			get state() {
				return driverBus.state;
			},
			publish: (t, p, o) => driverBus.publish(t, p, o),
			onState: (l) => driverBus.onState(l),
			close: () => driverBus.close(),
			subscribe: (filter, handler) =>
				driverBus.subscribe(filter, (topic, payload) => {
					if (topic.endsWith('/readings')) {
						const seq = Number(/"seq":(\d+)/.exec(Buffer.from(payload).toString('utf8'))?.[1]);
						if (delivered.has(seq)) {
							if (marking) pair.duplicates++;
						} else delivered.add(seq);
					}
					handler(topic, payload);
				})
		};
		const driver = new DriverRuntime({
			link: { v: 2, network: '0000aaaa', ...offer },
			bus: countingBus,
			lightning: new SimnetNode(simnet, `car-${spec.stationId}`),
			journal: new MemoryJournal(),
			checkIdentity: (status) =>
				checkStationIdentity({
					rpcUrl: chain.rpcUrl,
					chainId: chain.chainId,
					registry: chain.addresses.registry,
					status
				}),
			feeLimitMsat: 10_000n
		});
		pair.driver = driver;
		let known = 0;
		driver.subscribe((v) => {
			const now = Date.now();
			for (; known < v.readings.length; known++) {
				const r = v.readings[known]!;
				if (marking) pair.seen.set(r.seq, now - r.at);
			}
		});
		await driver.start(15_000);
		if (driver.view().phase !== 'ready')
			throw new Error(`${spec.stationId}: the driver cannot join: ${driver.view().lastError}`);
		await driver.join(10_000_000_000n);
		return pair;
	}

	async function startWire(spec: StationSpec, spreadOffsetMs: number): Promise<Pair> {
		const bus = await connect(`st-${spec.stationId}`);
		const driverBus = await connect(`drv-${spec.stationId}`);
		const pair: Pair = {
			stationId: spec.stationId,
			bus,
			driverBus,
			seen: new Map(),
			duplicates: 0,
			seqAtFrom: 0,
			seqAtTo: 0,
			published: 0,
			anchorsAtFrom: 0,
			anchorsAtTo: 0
		};
		const sessionId = `wire-${spec.stationId}`;
		const secret = bytesToHex(secp256k1.utils.randomSecretKey());
		const keys = sessionKeys(secret, spec.stationId, sessionId);
		const key = spec.key.replace(/^0x/, '');
		// Signed once: the same OCMF record goes out every second under the next seq.
		const { ocmf } = makeReading(
			{
				seq: 1,
				tx: 'T',
				energyWh: 1000,
				at: Date.now(),
				meter: { vendor: 'Lightcharge', model: 'SIM-1', serial: `SIM-${spec.stationId}` },
				stationId: spec.stationId,
				sessionId
			},
			key
		);
		const topic = readingsTopic(spec.stationId, sessionId);
		const firstAt = Date.now() + spreadOffsetMs;
		await driverBus.subscribe(topic, (t, payload) => {
			const raw = readRawMessage(t, payload);
			if (
				!raw.ok ||
				typeof raw.data !== 'object' ||
				raw.data === null ||
				!hasValidMac(raw.data as Record<string, unknown>, keys.station)
			)
				return;
			const parsed = parseMessageData(raw.where, raw.data);
			if (!parsed.ok || parsed.kind !== 'readings') return;
			const seq = parsed.message.seq;
			const sentAt = firstAt + (seq - 1) * 1000;
			if (!marking) return;
			if (pair.seen.has(seq)) pair.duplicates++;
			else pair.seen.set(seq, Date.now() - sentAt);
		});
		const publishNext = () => {
			const seq = ++pair.published;
			const msg: ReadingMessage = tagMessage(
				{ v: 1, type: 'reading', sessionId, seq, ocmf },
				keys.station
			);
			void bus.publish(topic, JSON.stringify(msg), { qos: 1 }).catch(() => undefined);
		};
		setTimeout(
			() => {
				publishNext();
				// Scheduled from the first time, so a late timer does not shift every later reading.
				const tick = () => {
					publishNext();
					pair.timer = setTimeout(
						tick,
						Math.max(0, firstAt + pair.published * 1000 - Date.now())
					) as never;
				};
				pair.timer = setTimeout(tick, Math.max(0, firstAt + 1000 - Date.now())) as never;
			},
			Math.max(0, firstAt - Date.now())
		);
		return pair;
	}

	port.on('message', (msg: ToFleet) => {
		void (async () => {
			if ('prepare' in msg) {
				buildHubTopology(
					simnet,
					msg.prepare.flatMap((s) => [s.stationId, `car-${s.stationId}`]),
					{ channelSat: 5_000_000n }
				);
				port.postMessage({
					prepared: msg.prepare.map((s) => ({
						stationId: s.stationId,
						lightningPubkey: simnet.node(s.stationId).pubkey
					}))
				} satisfies FromFleet);
			} else if ('start' in msg) {
				const problems: string[] = [];
				const gap = msg.spreadMs / Math.max(1, msg.start.length);
				// Connections spread over the start, as stations coming up one after another.
				const started = await Promise.allSettled(
					msg.start.map(async (spec, i) => {
						await sleep(i * gap);
						return input.mode === 'wire' ? startWire(spec, 0) : startFull(spec, problems);
					})
				);
				let failed = 0;
				for (const r of started) {
					if (r.status === 'fulfilled') pairs.push(r.value);
					else if (failed++ < 3) problems.push(`could not start: ${(r.reason as Error).message}`);
				}
				port.postMessage({
					started: started.length - failed,
					failed,
					problems
				} satisfies FromFleet);
			} else if ('mark' in msg) {
				if (msg.mark === 'from') {
					for (const p of pairs) {
						p.seen.clear();
						p.duplicates = 0;
						p.seqAtFrom = latestSeq(p);
						p.anchorsAtFrom = anchorCount(p);
					}
					marking = true;
				} else
					for (const p of pairs) {
						p.seqAtTo = latestSeq(p);
						p.anchorsAtTo = anchorCount(p);
					}
			} else if ('report' in msg) {
				marking = false;
				const report: LevelReport = {
					latencies: [],
					signed: 0,
					lost: 0,
					duplicates: 0,
					refused: 0,
					invoicesPaid: 0,
					invoicesOther: 0,
					anchorsInWindow: 0,
					ledgerPending: 0,
					problems: []
				};
				for (const p of pairs) {
					// The readings taken in the window: seqs after the one at 'from', up to the one at 'to'.
					for (let seq = p.seqAtFrom + 1; seq <= p.seqAtTo; seq++) {
						report.signed++;
						const ms = p.seen.get(seq);
						if (ms === undefined) report.lost++;
						else report.latencies.push(ms);
					}
					report.duplicates += p.duplicates;
					report.anchorsInWindow += p.anchorsAtTo - p.anchorsAtFrom;
					if (p.driver) {
						const v = p.driver.view();
						report.refused += v.rejectedReadingCount;
						for (const i of v.invoices) {
							if (i.state === 'paid') report.invoicesPaid++;
							else if (i.state !== 'waiting' && i.state !== 'paying') report.invoicesOther++;
						}
						if (v.lastError && report.problems.length < 5)
							report.problems.push(`${p.stationId} driver: ${v.lastError}`);
					}
					if (p.station) {
						const v = p.station.runtime.view();
						report.ledgerPending += v.ledgerPending;
						if (v.lastError && report.problems.length < 5)
							report.problems.push(`${p.stationId} station: ${v.lastError}`);
					}
				}
				port.postMessage({ report } satisfies FromFleet);
			} else if ('stop' in msg) {
				for (const p of pairs) {
					if (p.timer) clearTimeout(p.timer);
					p.driver?.close();
				}
				await Promise.all(pairs.map(async (p) => p.station?.runtime.stop()));
				await Promise.all(
					pairs.flatMap((p) => [
						p.bus.close().catch(() => undefined),
						p.driverBus.close().catch(() => undefined)
					])
				);
				port.postMessage({ stopped: true } satisfies FromFleet);
			}
		})().catch((e: unknown) =>
			port.postMessage({
				error: e instanceof Error ? (e.stack ?? e.message) : String(e)
			} satisfies FromFleet)
		);
	});
	port.postMessage({ ready: true } satisfies FromFleet);
}

// ---------- main ----------
/** CPU seconds of another process so far (/proc/<pid>/stat: utime + stime in clock ticks). */
function processCpuSeconds(pid: number | undefined): number | null {
	if (!pid) return null;
	try {
		const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
		return (Number(fields[11]) + Number(fields[12])) / 100;
	} catch {
		return null;
	}
}

class Fleet {
	private inbox: FromFleet[] = [];
	private waiting: ((m: FromFleet) => void) | null = null;
	constructor(readonly worker: Worker) {
		worker.on('message', (m: FromFleet) => {
			if ('error' in m) console.error(`fleet thread: ${m.error}`);
			if (this.waiting) {
				const w = this.waiting;
				this.waiting = null;
				w(m);
			} else this.inbox.push(m);
		});
		worker.on('error', (e) => {
			const m = { error: e.stack ?? String(e) };
			console.error(`fleet thread died: ${m.error}`);
			if (this.waiting) this.waiting(m);
			else this.inbox.push(m);
		});
	}
	next<K extends string>(key: K): Promise<Extract<FromFleet, Record<K, unknown>>> {
		const take = (m: FromFleet) => {
			if ('error' in m) throw new Error(`a fleet thread failed: ${m.error.split('\n')[0]}`);
			if (!(key in m))
				throw new Error(`a fleet thread answered ${Object.keys(m)[0]} where ${key} was expected`);
			return m as never;
		};
		const m = this.inbox.shift();
		if (m) return Promise.resolve().then(() => take(m));
		return new Promise((resolve, reject) => {
			this.waiting = (x) => {
				try {
					resolve(take(x));
				} catch (e) {
					reject(e);
				}
			};
		});
	}
	send(m: ToFleet) {
		this.worker.postMessage(m);
	}
}

interface LevelFigures {
	stations: number;
	readingsPerSecond: number;
	p50Ms: number;
	p95Ms: number;
	maxMs: number;
	signed: number;
	lost: number;
	duplicates: number;
	refused: number;
	held: boolean;
}

async function main(): Promise<void> {
	const flags = benchFlags({
		brokers: { list: findMosquitto() ? ['aedes', 'mosquitto'] : ['aedes'] },
		levels: { list: ['50', '100', '200', '400', '800', '1600'] },
		'window-seconds': { number: 5 },
		'grace-seconds': { number: 2 },
		'connect-over': { text: 'ws' },
		'p95-limit-ms': { number: 100 },
		threads: { number: os.cpus().length },
		'broker-path': { text: 'yes' },
		'port-base': { number: 25000 },
		'arrivals-per-second': { number: 50 }
	});
	const brokers = flags.brokers.map((b) => {
		if (b !== 'aedes' && b !== 'mosquitto')
			throw new Error(`--brokers takes aedes and mosquitto, not "${b}".`);
		return b as BrokerKind;
	});
	if (brokers.includes('mosquitto') && !findMosquitto())
		throw new Error(
			'--brokers names mosquitto, but it is not installed (apt-get install mosquitto).'
		);
	// aedes first, Mosquitto last: its line is the last line.
	brokers.sort((a, b) => (a === 'aedes' ? -1 : 0) - (b === 'aedes' ? -1 : 0));
	const levels = flags.levels.map((x) => wholeNumber('levels', Number(x)));
	for (let i = 1; i < levels.length; i++)
		if (levels[i]! <= levels[i - 1]!)
			throw new Error('--levels must rise: each level adds stations to those running.');
	const windowSeconds = wholeNumber('window-seconds', flags['window-seconds']);
	const graceSeconds = wholeNumber('grace-seconds', flags['grace-seconds']);
	const p95Limit = flags['p95-limit-ms'];
	const threads = wholeNumber('threads', flags.threads);
	if (flags['broker-path'] !== 'yes' && flags['broker-path'] !== 'no')
		throw new Error('--broker-path must be yes or no.');
	const portBase = wholeNumber('port-base', flags['port-base'], 1024);
	const arrivals = wholeNumber('arrivals-per-second', flags['arrivals-per-second']);
	const connectOver = flags['connect-over'];
	if (connectOver !== 'ws' && connectOver !== 'tcp')
		throw new Error(
			'--connect-over must be ws (WebSockets, as the kiosk and the wallet connect) or tcp.'
		);

	const benchStarted = performance.now();
	console.log(loadLine('start'));
	console.log(
		`station capacity: levels ${levels.join(', ')} stations at 1 Hz over ${connectOver === 'ws' ? 'WebSockets' : 'TCP'}, window ${windowSeconds} s (+${graceSeconds} s grace), limit p95 ≤ ${p95Limit} ms and nothing lost; ${threads} fleet threads; brokers ${brokers.join(', ')}`
	);

	// Signing and verifying one reading, as the station and the wallet do it.
	const perOp = (() => {
		const key = bytesToHex(secp256k1.utils.randomSecretKey());
		const publicKey = ocmfPublicKeyHex(key);
		const meter = { vendor: 'Lightcharge', model: 'SIM-1', serial: 'SIM-X' };
		const n = 300;
		const t0 = performance.now();
		const msgs = Array.from(
			{ length: n },
			(_, i) =>
				makeReading(
					{
						seq: i + 1,
						tx: i === 0 ? 'B' : 'T',
						energyWh: i * 3,
						at: 1_800_000_000_000 + i * 1000,
						meter,
						stationId: 'st-x',
						sessionId: 'sx'
					},
					key
				).reading
		);
		const signMs = (performance.now() - t0) / n;
		const v = new ReadingVerifier({ stationId: 'st-x', sessionId: 'sx', publicKey });
		const t1 = performance.now();
		for (const m of msgs)
			if (!v.accept(m).ok) throw new Error('a benchmark reading does not verify');
		const verifyMs = (performance.now() - t1) / n;
		return { signMs, verifyMs };
	})();
	console.log(
		`per reading on this machine: signing ${round(perOp.signMs, 2)} ms (makeReading), verifying ${round(perOp.verifyMs, 2)} ms (ReadingVerifier.accept); at N stations they need N × ${round(perOp.signMs / 1000, 5)} and N × ${round(perOp.verifyMs / 1000, 5)} cores`
	);

	// The devnet chain in a process of its own, a block every second.
	const chainProcess: ChildProcess = spawn(
		process.execPath,
		['--import', 'tsx', new URL('./ledger-chain.ts', import.meta.url).pathname],
		{
			env: { ...process.env, BENCH_BLOCK_INTERVAL_MS: '1000' },
			stdio: ['pipe', 'pipe', 'inherit']
		}
	);
	const chainLine = await new Promise<string>((resolve, reject) => {
		createInterface({ input: chainProcess.stdout! }).once('line', resolve);
		chainProcess.once('exit', (code) =>
			reject(new Error(`the chain process exited (code ${code}) before it listened`))
		);
	});
	const chainInfo = JSON.parse(chainLine) as {
		rpcUrl: string;
		chainId: number;
		accounts: { privateKey: string }[];
	};
	const { deployLedger, connectLedger } = await import('../src/lib/ledger/index.js');
	const operatorKey = chainInfo.accounts[0]!.privateKey;
	const addresses = await deployLedger(chainInfo.rpcUrl, operatorKey);
	const operator = await connectLedger({
		rpcUrl: chainInfo.rpcUrl,
		addresses,
		expectedChainId: chainInfo.chainId,
		signerKey: operatorKey
	});
	const chain: ChainInfo = { rpcUrl: chainInfo.rpcUrl, chainId: chainInfo.chainId, addresses };

	const results: { broker: BrokerKind; full: LevelFigures[]; wire: LevelFigures[] }[] = [];
	try {
		for (const [b, kind] of brokers.entries()) {
			const entry = { broker: kind, full: [] as LevelFigures[], wire: [] as LevelFigures[] };
			results.push(entry);
			for (const mode of flags['broker-path'] === 'yes'
				? (['full', 'wire'] as const)
				: (['full'] as const)) {
				console.log(
					`\n--- ${kind}, ${mode === 'full' ? 'full path (signing, ledger on, wallet verifying and paying)' : 'broker path (pre-signed readings, wallet reads them up to the MAC)'} ---`
				);
				const dir = path.join(
					os.tmpdir(),
					`lightcharge-bench-station-${process.pid}-${kind}-${mode}`
				);
				const broker = await startBroker({
					kind,
					tcpPort: portBase + 10 * b + (mode === 'full' ? 1 : 3),
					wsPort: portBase + 10 * b + (mode === 'full' ? 2 : 4),
					dir
				});
				const brokerPid =
					kind === 'mosquitto' && existsSync(path.join(dir, 'mosquitto.pid'))
						? Number(readFileSync(path.join(dir, 'mosquitto.pid'), 'utf8').trim())
						: undefined;
				const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
				const fleets = Array.from(
					{ length: threads },
					(_, thread) =>
						new Fleet(
							new Worker(bootstrap, {
								eval: true,
								workerData: {
									mode,
									wsUrl: connectOver === 'tcp' ? broker.tcpUrl : broker.wsUrl,
									protocolVersion: broker.protocolVersion,
									chain: mode === 'full' ? chain : null,
									thread
								} satisfies FleetInput
							})
						)
				);
				try {
					await Promise.all(fleets.map((f) => f.next('ready')));
					let running = 0;
					// The broker path starts where the full path stopped: the question is how far beyond it the broker alone goes.
					const fullFailedAt = entry.full.find((l) => !l.held)?.stations ?? levels.at(-1)!;
					for (const level of mode === 'full' ? levels : levels.filter((l) => l >= fullFailedAt)) {
						const added = Array.from({ length: level - running }, (_, i) => ({
							stationId: `${kind}-${mode}-${running + i + 1}`,
							key: randomKey()
						}));
						const shares = fleets.map((_, t) => added.filter((_, i) => i % threads === t));
						const t0 = performance.now();
						if (mode === 'full') {
							fleets.forEach((f, t) => f.send({ prepare: shares[t]! }));
							const prepared = (await Promise.all(fleets.map((f) => f.next('prepared')))).flatMap(
								(p) => p.prepared
							);
							const keyOf = new Map(added.map((s) => [s.stationId, s.key]));
							await Promise.all(
								prepared.map((p) =>
									operator.registerStation({
										stationId: p.stationId,
										signer: new Wallet(keyOf.get(p.stationId)!).address,
										lightningPubkey: p.lightningPubkey,
										tariffRef: `0x${'00'.repeat(32)}`,
										location: 'benchmark'
									})
								)
							);
						}
						// New stations and their drivers arrive spread out (--arrivals-per-second), as in the field,
						// not as one burst of connections and registry checks.
						fleets.forEach((f, t) =>
							f.send({
								start: shares[t]!,
								spreadMs: Math.max(
									1000,
									(1000 * added.length) / (mode === 'full' ? arrivals : 4 * arrivals)
								)
							})
						);
						const starts = await Promise.all(fleets.map((f) => f.next('started')));
						const problems = starts.flatMap((s) => s.problems);
						const failedStarts = starts.reduce((n, s) => n + s.failed, 0);
						running = level;
						if (failedStarts > 0) {
							console.log(
								`${String(level).padStart(5)} stations: ${failedStarts} of the ${added.length} new stations could not start (${problems[0] ?? 'no reason given'}) → FAILED`
							);
							(mode === 'full' ? entry.full : entry.wire).push({
								stations: level,
								readingsPerSecond: NaN,
								p50Ms: NaN,
								p95Ms: NaN,
								maxMs: NaN,
								signed: 0,
								lost: failedStarts,
								duplicates: 0,
								refused: 0,
								held: false
							});
							break;
						}
						const setupSeconds = (performance.now() - t0) / 1000;
						await sleep(1500); // the new sessions settle
						const measure = async (attempt: string): Promise<LevelFigures> => {
							const cpu0 = process.cpuUsage();
							const chainCpu0 = processCpuSeconds(chainProcess.pid);
							const brokerCpu0 = processCpuSeconds(brokerPid);
							const w0 = performance.now();
							fleets.forEach((f) => f.send({ mark: 'from' }));
							await sleep(windowSeconds * 1000);
							fleets.forEach((f) => f.send({ mark: 'to' }));
							const wallSeconds = (performance.now() - w0) / 1000;
							const cpu = process.cpuUsage(cpu0);
							const chainCpu =
								chainCpu0 === null ? null : processCpuSeconds(chainProcess.pid)! - chainCpu0;
							const brokerCpu =
								brokerCpu0 === null ? null : processCpuSeconds(brokerPid)! - brokerCpu0;
							await sleep(graceSeconds * 1000);
							fleets.forEach((f) => f.send({ report: true }));
							const reports = (await Promise.all(fleets.map((f) => f.next('report')))).map(
								(r) => r.report
							);
							const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
							const sum = (k: keyof Omit<LevelReport, 'latencies' | 'problems'>) =>
								reports.reduce((n, r) => n + r[k], 0);
							const f: LevelFigures = {
								stations: level,
								readingsPerSecond: round(latencies.length / windowSeconds, 1),
								p50Ms: percentile(latencies, 50),
								p95Ms: percentile(latencies, 95),
								maxMs: latencies.at(-1) ?? NaN,
								signed: sum('signed'),
								lost: sum('lost') + sum('refused'),
								duplicates: sum('duplicates'),
								refused: sum('refused'),
								held: false
							};
							// Held: every reading verified in time, and the stations kept their 1 Hz (a late poll is a reading not taken).
							f.held =
								f.signed >= 0.98 * level * windowSeconds && f.lost === 0 && f.p95Ms <= p95Limit;
							const cores = (x: number | null) =>
								x === null ? 'n/a' : `${round(x / wallSeconds, 2)}`;
							const rate = f.signed / windowSeconds;
							console.log(
								`${String(level).padStart(5)} stations${attempt}: ${f.readingsPerSecond} readings/s verified of ${round(rate, 1)}/s taken, p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, max ${f.maxMs} ms; lost ${f.lost} (refused ${f.refused}), duplicates ${f.duplicates} → ${f.held ? 'held' : 'FAILED'}` +
									`\n        set-up of the new stations ${round(setupSeconds, 1)} s; cores used in the window: bench process ${cores((cpu.user + cpu.system) / 1e6)}, chain ${cores(chainCpu)}, broker ${kind === 'aedes' ? '(in the bench process)' : cores(brokerCpu)}; load ${os.loadavg()[0]!.toFixed(2)}` +
									(mode === 'full'
										? `\n        signing ${round((perOp.signMs * rate) / 1000, 2)} + verifying ${round((perOp.verifyMs * rate) / 1000, 2)} cores (per-reading cost × ${round(rate, 1)}/s); anchors in the window ${sum('anchorsInWindow')} (steady state ${round((level * windowSeconds) / 60, 1)}), ledger jobs pending ${sum('ledgerPending')}; invoices paid so far ${sum('invoicesPaid')}, refused or failed ${sum('invoicesOther')}`
										: '')
							);
							for (const p of [...problems, ...reports.flatMap((r) => r.problems)].slice(0, 3))
								console.log(`        ${p}`);
							return f;
						};
						let f = await measure('');
						// Other programs share this machine: a failed level gets one more window with the same
						// stations, and counts as failed only if that one fails too (both are printed).
						if (!f.held) f = await measure(' (again)');
						(mode === 'full' ? entry.full : entry.wire).push(f);
						if (!f.held) break;
					}
				} finally {
					fleets.forEach((f) => f.send({ stop: true }));
					await Promise.race([
						Promise.all(fleets.map((f) => f.next('stopped').catch(() => undefined))),
						sleep(15_000)
					]);
					await Promise.all(fleets.map((f) => f.worker.terminate()));
					await broker.stop();
					rmSync(dir, { recursive: true, force: true });
				}
			}
		}
	} finally {
		operator.close();
		chainProcess.stdin!.end();
		await new Promise((r) => chainProcess.once('exit', r));
	}

	console.log('\nlargest level that held (p95 ≤ limit, nothing lost):');
	const lines: string[] = [];
	for (const r of results) {
		const summary = (levels: LevelFigures[]) => {
			const held = levels.filter((l) => l.held).at(-1);
			const shown = held ?? levels[0];
			return {
				maxStations: held?.stations ?? 0,
				p95MsAtMax: held ? held.p95Ms : null,
				lost: shown?.lost ?? null,
				duplicates: shown?.duplicates ?? null,
				failedAt: levels.find((l) => !l.held)?.stations ?? null
			};
		};
		const full = summary(r.full);
		const wire = r.wire.length ? summary(r.wire) : null;
		console.log(
			`  ${r.broker}: full path ${full.maxStations} stations (p95 ${full.p95MsAtMax} ms${full.failedAt ? `; failed at ${full.failedAt}` : '; every level held'})` +
				(wire
					? `; broker path ${wire.maxStations} stations (p95 ${wire.p95MsAtMax} ms${wire.failedAt ? `; failed at ${wire.failedAt}` : '; every level held'})`
					: '')
		);
		lines.push(
			JSON.stringify({
				broker: r.broker,
				maxStations: full.maxStations,
				p95MsAtMax: full.p95MsAtMax,
				lost: full.lost,
				duplicates: full.duplicates,
				...(wire && {
					brokerPathMaxStations: wire.maxStations,
					brokerPathP95MsAtMax: wire.p95MsAtMax
				})
			})
		);
	}
	console.log(`whole bench ${round((performance.now() - benchStarted) / 1000, 1)} s`);
	console.log(loadLine('end'));
	for (const l of lines) console.log(l);
	process.exit(0);
}

if (isMainThread) {
	await main().catch((e) => {
		console.error(`bench:station: ${(e as Error).stack ?? e}`);
		process.exit(1);
	});
} else {
	await runFleet(workerData as FleetInput);
}
