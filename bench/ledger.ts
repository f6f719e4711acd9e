// npm run bench:ledger — what it costs to put 1 Hz signed meter readings on chain, three ways, on the
// devnet's Hardhat chain (devnet/chain.ts: london, gas price 0) mining a block at the devnet's
// interval (1 s, the devnet's default, and 250 ms):
//   naive    one transaction per reading that stores the reading's hash (contracts/bench/NaiveReadings.sol)
//   events   one transaction per reading that only logs the reading's hash
//   batched  Lightcharge: the kiosk's own StationLedger (src/lib/ledger/station-ledger.ts) opens the
//            session, anchors the Merkle root of each 60 s batch of OCMF records (batch = 60
//            readings), and closes it with the payments root; open and close are counted in its gas.
// Gas is per record. The naive ways' gas per reading does not depend on how many readings there are
// (each is the same transaction), so they run on the first --naive-readings readings of one
// session, all sent at once so they share blocks, and only at the first block interval (gas does not
// depend on the interval; both lines carry those figures); the batched way runs every session's full
// hour at every interval.
// The ratios naive/batched and events/batched come with the batch size beside them: most of the
// gain is one transaction per 60 readings instead of per reading.
//
// recordsPerSecondBatched = records anchored / wall seconds of the batched run: --sessions stations
// anchoring at once, each with its own key, each sending its next anchor as soon as the previous one
// is mined (an hour of anchors compressed into back-to-back blocks: every anchor waits for its block
// and for the client's receipt polling, 250 ms as in the kiosk). So it is "records per second with
// this many stations sharing each block". In the field a station anchors once a minute; the bench
// also prints the chain's CPU per anchor and how many stations anchoring once a minute that allows.
// It does NOT include signing the OCMF records: a meter signs each reading when it is taken, so the
// records are signed beforehand (OpenSSL through node:crypto; a sample checked with verifyOcmf).
//
// What would move the cost per record (contracts/bench/StationMinuteAnchors.sol, a benchmark-only
// design): one transaction per station per minute covering every connector, at 1, 10 and 100
// connectors (--connectors), either with each connector's session checked and chained on chain as
// now, or as one Merkle root for the whole station.
//
// Topology, as in the field: the chain runs in a process of its own (bench/ledger-chain.ts), the
// stations on as many worker threads as the machine has cores (bench/ledger-stations.ts).
//
//   npm run bench:ledger -- [--block-interval-ms 250,1000] [--sessions 20] [--naive-readings 600]
//                           [--connectors 1,10,100] [--station-threads <cores>] [--chain-in-process no|yes]
// Prints one JSON line per block interval, the devnet's 1 s last:
// {"blockIntervalMs","batch","gasPerRecordNaive","gasPerRecordEvents","gasPerRecordBatched","ratioNaiveToBatched","ratioEventsToBatched","recordsPerSecondBatched"}
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { cpus, loadavg } from 'node:os';
import { benchFlags, loadLine, wholeNumber } from './common.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
	ContractFactory,
	Interface,
	JsonRpcProvider,
	Network,
	Wallet,
	type InterfaceAbi
} from 'ethers';
import { compileContracts, runSolc } from '../contracts/compile.js';
import { startChain, type RunningChain } from '../devnet/chain.js';
import { ocmfPublicKeyHex, verifyOcmf } from '../src/lib/protocol/index.js';
import type { LedgerAddresses } from '../src/lib/ledger/index.js';
import type { StationsJob, StationsMessage } from './ledger-stations.js';
import { signInThreads, type BenchSession, type SignSpec } from './ledger-sign.js';

await compileContracts();
const { connectLedger } = await import('../src/lib/ledger/index.js');
const { deployLedger } = await import('../src/lib/ledger/index.js');
const { buildReadingsTree, readingHash } = await import('../src/lib/ledger/index.js');
const { sessionIdToBytes32 } = await import('../src/lib/ledger/index.js');

const flags = benchFlags({
	sessions: { number: 20 },
	'naive-readings': { number: 600 },
	'station-threads': { number: cpus().length },
	'chain-in-process': { text: 'no' },
	'block-interval-ms': { list: ['250', '1000'] },
	connectors: { list: ['1', '10', '100'] }
});
const SESSIONS = wholeNumber('sessions', flags.sessions);
const STATION_THREADS = wholeNumber('station-threads', flags['station-threads']);
const BLOCK_INTERVALS = flags['block-interval-ms'].map((x) =>
	wholeNumber('block-interval-ms', Number(x), 0)
);
const CONNECTORS = flags.connectors.map((x) => wholeNumber('connectors', Number(x)));
if (flags['chain-in-process'] !== 'no' && flags['chain-in-process'] !== 'yes')
	throw new Error('--chain-in-process must be yes or no.');
const CHAIN_IN_PROCESS = flags['chain-in-process'] === 'yes';
const READINGS_PER_SESSION = 3600; // one hour at 1 Hz
const ANCHOR_INTERVAL = 60; // readings per anchor: the kiosk's default 60 s at 1 Hz
const NAIVE_READINGS = Math.min(
	READINGS_PER_SESSION,
	wholeNumber('naive-readings', flags['naive-readings'])
);
const POWER_W = 11_000;
const secondsSince = (t: number) => (performance.now() - t) / 1000;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// --- chain and contracts --------------------------------------------------------------------

console.log(
	`ledger benchmark: ${SESSIONS} sessions × ${READINGS_PER_SESSION} readings (1 Hz, one hour), anchors every ${ANCHOR_INTERVAL} readings, blocks every ${BLOCK_INTERVALS.join(' and ')} ms`
);

interface BenchChain extends RunningChain {
	/** CPU seconds the chain has used so far (null when it runs in this process and is counted with it). */
	cpuSeconds(): number | null;
}

/** The devnet chain (devnet/chain.ts) in a child process: bench/ledger-chain.ts. */
async function startChainProcess(blockIntervalMs: number): Promise<BenchChain> {
	const child = spawn(
		process.execPath,
		['--import', 'tsx', new URL('./ledger-chain.ts', import.meta.url).pathname],
		{
			env: { ...process.env, BENCH_BLOCK_INTERVAL_MS: String(blockIntervalMs) },
			stdio: ['pipe', 'pipe', 'inherit']
		}
	);
	const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
	const first = await new Promise<string>((resolvePromise, reject) => {
		const lines = createInterface({ input: child.stdout! });
		lines.once('line', (line) => resolvePromise(line));
		child.once('exit', (code) =>
			reject(new Error(`the chain process exited (code ${code}) before it listened`))
		);
	});
	const info = JSON.parse(first) as Pick<RunningChain, 'rpcUrl' | 'chainId' | 'accounts'>;
	const ticksPerSecond = 100; // USER_HZ on Linux
	return {
		...info,
		cpuSeconds() {
			try {
				// /proc/<pid>/stat: fields 14 and 15 are user and system time in clock ticks (after the ")" of the name).
				const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
				return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
			} catch {
				return null;
			}
		},
		async stop() {
			child.stdin!.end();
			await exited;
		}
	};
}

const benchStarted = performance.now();
console.log(loadLine('start'));

// --- OCMF records of every session, signed once for every block interval -------------------
const sessions: BenchSession[] = [];
{
	const started = performance.now();
	const startMs = Date.UTC(2026, 10, 22, 8, 0, 0);
	const specs: SignSpec[] = Array.from({ length: SESSIONS }, (_, i) => {
		const stationId = `BENCH-${String(i + 1).padStart(4, '0')}`;
		// Fresh keys with no ether at all: gas price 0, as on a QBFT network.
		return {
			stationId,
			sessionId: `${stationId}-session-1`,
			key: `0x${bytesToHex(secp256k1.utils.randomSecretKey())}`,
			startMs,
			readings: READINGS_PER_SESSION,
			powerW: POWER_W
		};
	});
	// OpenSSL's secp256k1 signs in ~0.5-1.3 ms here, so 72,000 records take tens of seconds: on every core.
	sessions.push(...(await signInThreads(specs, STATION_THREADS)));
	const signSeconds = secondsSince(started);
	for (const s of sessions) {
		const publicKey = ocmfPublicKeyHex(s.key.slice(2));
		for (const index of [0, 1, 1799, READINGS_PER_SESSION - 1]) {
			const verdict = verifyOcmf(s.records[index]!, publicKey);
			if (!verdict.ok)
				throw new Error(
					`bench record ${s.stationId} #${index + 1} does not verify: ${JSON.stringify(verdict)}`
				);
		}
	}
	console.log(
		`signed ${fmt(SESSIONS * READINGS_PER_SESSION)} OCMF records (~${sessions[0]!.records[1]!.length} bytes each) in ${signSeconds.toFixed(1)} s on ${Math.min(STATION_THREADS, SESSIONS)} threads (not timed below; a sample verified with verifyOcmf)`
	);
}

const solcSettings = {
	evmVersion: 'london',
	optimizer: { enabled: true, runs: 200 },
	outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } }
};
const benchContracts = (
	await runSolc(
		{
			'NaiveReadings.sol': {
				content: await readFile(
					new URL('../contracts/bench/NaiveReadings.sol', import.meta.url),
					'utf8'
				)
			},
			'StationMinuteAnchors.sol': {
				content: await readFile(
					new URL('../contracts/bench/StationMinuteAnchors.sol', import.meta.url),
					'utf8'
				)
			}
		},
		solcSettings,
		['NaiveReadings', 'StationMinuteAnchors']
	)
).contracts;

interface IntervalFigures {
	blockIntervalMs: number;
	batch: number;
	gasPerRecordNaive: number;
	gasPerRecordEvents: number;
	gasPerRecordBatched: number;
	ratioNaiveToBatched: number;
	ratioEventsToBatched: number;
	recordsPerSecondBatched: number;
}

/** Gas per record of the two per-reading baselines. */
interface Baselines {
	naive: number;
	events: number;
	/** The block interval they were measured at. */
	blockIntervalMs: number;
}

/**
 * One block interval. The per-reading baselines are measured at the first interval only and reused:
 * a transaction's gas does not depend on how often blocks come (two runs gave the same gas to the unit).
 */
async function measureAt(
	blockIntervalMs: number,
	baselines: Baselines | null
): Promise<IntervalFigures & { baselines: Baselines }> {
	const withConnectors = baselines === null;
	console.log(
		`\n--- a block every ${blockIntervalMs} ms: ${SESSIONS} sessions × ${READINGS_PER_SESSION} readings (1 Hz, one hour), an anchor every ${ANCHOR_INTERVAL} readings ---`
	);
	const chain: BenchChain = CHAIN_IN_PROCESS
		? { ...(await startChain({ port: 0, blockIntervalMs })), cpuSeconds: () => null }
		: await startChainProcess(blockIntervalMs);
	try {
		const operatorKey = chain.accounts[0]!.privateKey;
		const addresses = await deployLedger(chain.rpcUrl, operatorKey);
		const operator = await connectLedger({
			rpcUrl: chain.rpcUrl,
			addresses,
			expectedChainId: chain.chainId,
			signerKey: operatorKey
		});
		// All at once, as an operator registering a fleet would: submissions go one after another (the
		// client keeps nonces in order) and share blocks, instead of one block per station.
		await Promise.all(
			sessions.map((s) =>
				operator.registerStation({
					stationId: s.stationId,
					signer: new Wallet(s.key).address,
					lightningPubkey: `02${'ab'.repeat(32)}`,
					tariffRef: `0x${'00'.repeat(32)}`,
					location: 'benchmark'
				})
			)
		);
		const provider = new JsonRpcProvider(chain.rpcUrl, Network.from(chain.chainId), {
			staticNetwork: true,
			cacheTimeout: -1,
			batchStallTime: 0,
			pollingInterval: 250
		});
		const first = sessions[0]!;
		const firstWallet = new Wallet(first.key, provider);
		let nonce = await provider.getTransactionCount(firstWallet.address, 'pending');

		/** Signs and sends every transaction at once (so they share blocks), then waits for all receipts. */
		async function sendAll(
			txs: { to: string; data: string; gasLimit: bigint }[]
		): Promise<{ gas: bigint[]; seconds: number }> {
			const t = performance.now();
			const hashes: string[] = [];
			for (const tx of txs) {
				const raw = await firstWallet.signTransaction({
					type: 0,
					chainId: chain.chainId,
					...tx,
					nonce: nonce++,
					gasPrice: 0n
				});
				hashes.push(await provider.send('eth_sendRawTransaction', [raw]));
			}
			const gas: bigint[] = [];
			for (const hash of hashes) {
				const receipt = await provider.waitForTransaction(hash);
				if (receipt?.status !== 1) throw new Error(`bench transaction ${hash} failed`);
				gas.push(receipt.gasUsed);
			}
			return { gas, seconds: secondsSince(t) };
		}
		async function deploy(name: 'NaiveReadings' | 'StationMinuteAnchors', args: unknown[]) {
			const c = benchContracts[name]!;
			const deployed = await new ContractFactory(
				c.abi as InterfaceAbi,
				`0x${c.bytecode}`,
				firstWallet
			).deploy(...args, { gasPrice: 0n, nonce: nonce++ });
			await deployed.waitForDeployment();
			return { address: await deployed.getAddress(), iface: new Interface(c.abi as InterfaceAbi) };
		}

		// --- naive and events: one transaction per reading ---------------------------------
		let measuredBaselines: Baselines;
		if (baselines) {
			measuredBaselines = baselines;
			console.log(
				`naive    ${fmt(baselines.naive)} gas/record, events ${fmt(baselines.events)} gas/record: as measured with a block every ${baselines.blockIntervalMs} ms ` +
					`(a transaction's gas does not depend on the block interval, so they are not sent again)`
			);
		} else {
			const naive = await deploy('NaiveReadings', []);
			const sessionKey = sessionIdToBytes32(first.sessionId);
			const perReading = async (method: 'store' | 'log') => {
				const r = await sendAll(
					Array.from({ length: NAIVE_READINGS }, (_, i) => ({
						to: naive.address,
						data: naive.iface.encodeFunctionData(method, [
							sessionKey,
							i + 1,
							readingHash(first.records[i]!)
						]),
						gasLimit: 200_000n
					}))
				);
				return {
					gasPerRecord: Number(r.gas.reduce((x, y) => x + y, 0n)) / NAIVE_READINGS,
					seconds: r.seconds
				};
			};
			const naiveRun = await perReading('store');
			console.log(
				`naive    ${fmt(NAIVE_READINGS)} readings, one tx each storing its hash:  ${fmt(naiveRun.gasPerRecord)} gas/record (sent at once: ${naiveRun.seconds.toFixed(1)} s, ${fmt(NAIVE_READINGS / naiveRun.seconds)} records/s)`
			);
			const eventsRun = await perReading('log');
			console.log(
				`events   ${fmt(NAIVE_READINGS)} readings, one tx each logging its hash:  ${fmt(eventsRun.gasPerRecord)} gas/record (sent at once: ${eventsRun.seconds.toFixed(1)} s, ${fmt(NAIVE_READINGS / eventsRun.seconds)} records/s)`
			);
			measuredBaselines = {
				naive: naiveRun.gasPerRecord,
				events: eventsRun.gasPerRecord,
				blockIntervalMs
			};
		}

		// --- batched: Lightcharge's StationLedger, every station at once ---------------------
		const batched = await runBatched(chain, addresses);
		const anchoredRecords = SESSIONS * READINGS_PER_SESSION;
		let batchedGas = 0n;
		let anchorGas = 0n;
		let anchorCount = 0;
		for (const hash of batched.txHashes) {
			const receipt = await operator.provider.getTransactionReceipt(hash);
			if (receipt?.status !== 1) throw new Error(`batched transaction ${hash} failed`);
			batchedGas += receipt.gasUsed;
			if (receipt.logs.some((l) => l.topics[0] === anchoredTopic)) {
				anchorGas += receipt.gasUsed;
				anchorCount++;
			}
		}
		for (const s of sessions) {
			const state = await operator.getSession(s.stationId, s.sessionId);
			if (state?.state !== 'closed' || state.lastReading !== READINGS_PER_SESSION)
				throw new Error(`session ${s.sessionId} is not complete on chain`);
		}
		const anchorsPerSession = Math.ceil(READINGS_PER_SESSION / ANCHOR_INTERVAL);
		const gasPerRecordBatched = Number(batchedGas) / anchoredRecords;
		const recordsPerSecondBatched = anchoredRecords / batched.seconds;
		console.log(
			`batched  ${fmt(anchoredRecords)} readings in ${SESSIONS} sessions, ${anchorsPerSession} anchors + open + close each (${fmt(batched.txHashes.length)} txs): ` +
				`${fmt(gasPerRecordBatched)} gas/record (an anchor alone ${fmt(Number(anchorGas) / anchorCount)} gas = ${fmt(Number(anchorGas) / anchorCount / ANCHOR_INTERVAL)} per record), ` +
				`${batched.seconds.toFixed(1)} s → ${fmt(recordsPerSecondBatched)} records/s with ${SESSIONS} stations sharing each block`
		);
		const chainPerTx =
			batched.chainCpuSeconds === null ? null : batched.chainCpuSeconds / batched.txHashes.length;
		console.log(
			`         CPU in the batched run: ${batched.cpuSeconds.toFixed(1)} s stations (${batched.threads} thread${batched.threads === 1 ? '' : 's'})` +
				(batched.chainCpuSeconds === null
					? ' and chain (same process)'
					: ` + ${batched.chainCpuSeconds.toFixed(1)} s chain (own process)`) +
				`; load average ${loadavg()
					.map((l) => l.toFixed(1))
					.join(' ')} on ${cpus().length} cores`
		);
		if (chainPerTx !== null)
			console.log(
				`         the chain spent ${(chainPerTx * 1000).toFixed(1)} ms of CPU per transaction (block production included): at that cost one chain core takes about ${fmt(1 / chainPerTx)} anchors/s, ` +
					`i.e. ${fmt(60 / chainPerTx)} stations anchoring once a minute (${fmt((60 / chainPerTx) * 1)} records/s at 1 Hz)`
			);

		// --- what would move it: one transaction per station per minute for every connector ---
		nonce = await provider.getTransactionCount(firstWallet.address, 'pending'); // the station's own anchors moved it
		if (withConnectors)
			await connectorCosts(
				chain,
				firstWallet,
				deploy,
				sendAll,
				addresses.registry,
				Number(anchorGas) / anchorCount / ANCHOR_INTERVAL
			);
		provider.destroy();
		operator.close();

		const ratioNaiveToBatched = measuredBaselines.naive / gasPerRecordBatched;
		const ratioEventsToBatched = measuredBaselines.events / gasPerRecordBatched;
		console.log(
			`naive / batched gas per record: ${ratioNaiveToBatched.toFixed(1)}×, events / batched ${ratioEventsToBatched.toFixed(1)}×, at a batch of ${ANCHOR_INTERVAL} readings per anchor ` +
				`(one transaction instead of ${ANCHOR_INTERVAL}; target ≥ 50×); records/s batched target ≥ 10,000`
		);
		return {
			blockIntervalMs,
			batch: ANCHOR_INTERVAL,
			gasPerRecordNaive: Math.round(measuredBaselines.naive),
			gasPerRecordEvents: Math.round(measuredBaselines.events),
			gasPerRecordBatched: Math.round(gasPerRecordBatched * 10) / 10,
			ratioNaiveToBatched: Math.round(ratioNaiveToBatched * 10) / 10,
			ratioEventsToBatched: Math.round(ratioEventsToBatched * 10) / 10,
			recordsPerSecondBatched: Math.round(recordsPerSecondBatched),
			baselines: measuredBaselines
		};
	} finally {
		await chain.stop();
	}
}

const anchoredTopic = new Interface([
	'event ReadingsAnchored(bytes32 indexed sessionKey, uint32 anchorIndex, bytes32 merkleRoot, uint64 fromReading, uint64 toReading, uint64 energyWh)'
]).getEvent('ReadingsAnchored')!.topicHash;

/** Every station's session through StationLedger, stations round-robin over STATION_THREADS worker threads. */
async function runBatched(chain: BenchChain, addresses: LedgerAddresses) {
	const groups = Array.from({ length: Math.min(STATION_THREADS, SESSIONS) }, (_, t) =>
		sessions.filter((_, i) => i % STATION_THREADS === t)
	);
	const workers = groups.map(
		(group) =>
			// A worker does not inherit tsx's loader: it registers it before loading the TypeScript module.
			new Worker(
				`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./ledger-stations.ts', import.meta.url).href)}); })`,
				{
					eval: true,
					workerData: {
						rpcUrl: chain.rpcUrl,
						chainId: chain.chainId,
						addresses,
						anchorInterval: ANCHOR_INTERVAL,
						sessions: group
					} satisfies StationsJob
				}
			)
	);
	const nextMessage = (worker: Worker) =>
		new Promise<StationsMessage>((resolvePromise, reject) => {
			worker.once('message', resolvePromise);
			worker.once('error', reject);
		});
	const ready = await Promise.all(workers.map(nextMessage));
	if (!ready.every((m) => m === 'ready'))
		throw new Error(`a station thread failed to connect: ${JSON.stringify(ready)}`);
	const cpuBefore = process.cpuUsage();
	const chainCpuBefore = chain.cpuSeconds();
	const started = performance.now();
	const finished = await Promise.all(
		workers.map((worker) => {
			const done = nextMessage(worker);
			worker.postMessage('go');
			return done;
		})
	);
	const seconds = secondsSince(started);
	const cpu = process.cpuUsage(cpuBefore);
	const chainCpuAfter = chain.cpuSeconds();
	await Promise.all(workers.map((worker) => worker.terminate()));
	const txHashes: string[] = [];
	for (const message of finished) {
		if (typeof message === 'object' && 'done' in message) txHashes.push(...message.done);
		else
			throw new Error(
				`a station thread failed: ${typeof message === 'object' ? message.error : message}`
			);
	}
	return {
		txHashes,
		seconds,
		threads: groups.length,
		cpuSeconds: (cpu.user + cpu.system) / 1e6,
		chainCpuSeconds:
			chainCpuBefore === null || chainCpuAfter === null ? null : chainCpuAfter - chainCpuBefore
	};
}

/**
 * Gas per record if a station anchored once a minute for all its connectors (StationMinuteAnchors,
 * benchmark only): `minutes` anchors of `n` connectors' 60 readings each, for each n in CONNECTORS.
 * The roots are real Merkle roots of the bench's signed records.
 */
async function connectorCosts(
	chain: BenchChain,
	wallet: Wallet,
	deploy: (
		name: 'StationMinuteAnchors',
		args: unknown[]
	) => Promise<{ address: string; iface: Interface }>,
	sendAll: (txs: { to: string; data: string; gasLimit: bigint }[]) => Promise<{ gas: bigint[] }>,
	registry: string,
	todayPerRecord: number
): Promise<void> {
	const minutes = 3;
	const contract = await deploy('StationMinuteAnchors', [registry]);
	const station = sessions[0]!;
	const stationKey = sessionIdToBytes32(station.stationId);
	const roots = Array.from(
		{ length: minutes },
		(_, m) =>
			buildReadingsTree(station.records.slice(m * ANCHOR_INTERVAL, (m + 1) * ANCHOR_INTERVAL)).root
	);
	console.log(
		`         one transaction per station per minute for all its connectors (contracts/bench/StationMinuteAnchors.sol, a design measured, not deployed), ${minutes} minutes each:`
	);
	for (const n of CONNECTORS) {
		const ids = Array.from({ length: n }, (_, c) =>
			sessionIdToBytes32(`${station.stationId}-c${c + 1}-${chain.chainId}-${n}`)
		);
		await sendAll(
			ids.map((id) => ({
				to: contract.address,
				data: contract.iface.encodeFunctionData('open', [stationKey, id]),
				gasLimit: 200_000n
			}))
		);
		const perConnector = await sendAll(
			roots.map((root, m) => ({
				to: contract.address,
				data: contract.iface.encodeFunctionData('anchorConnectors', [
					stationKey,
					ids.map((id, c) => ({
						sessionId: id,
						merkleRoot: root,
						fromReading: m * ANCHOR_INTERVAL + 1,
						toReading: (m + 1) * ANCHOR_INTERVAL,
						energyWh: station.energyWh[(m + 1) * ANCHOR_INTERVAL - 1]! + c
					}))
				]),
				gasLimit: 10_000_000n
			}))
		);
		const oneRoot = await sendAll(
			roots.map((root, m) => ({
				to: contract.address,
				data: contract.iface.encodeFunctionData('anchorStationRoot', [
					stationKey,
					root,
					n * ANCHOR_INTERVAL,
					m + 1
				]),
				gasLimit: 200_000n
			}))
		);
		const per = (g: bigint[]) =>
			Number(g.reduce((x, y) => x + y, 0n)) / (minutes * n * ANCHOR_INTERVAL);
		console.log(
			`           ${String(n).padStart(3)} connector${n === 1 ? ' ' : 's'}: each session checked and chained ${fmt(per(perConnector.gas))} gas/record, ` +
				`one root for the station ${fmt(per(oneRoot.gas))} gas/record (today, one anchor per session: ${fmt(todayPerRecord)} gas/record for the anchors alone)`
		);
	}
}

const results: IntervalFigures[] = [];
let baselines: Baselines | null = null;
for (const interval of BLOCK_INTERVALS) {
	const { baselines: measured, ...figures } = await measureAt(interval, baselines);
	baselines = measured;
	results.push(figures);
}
console.log('');
console.log(`whole bench ${secondsSince(benchStarted).toFixed(1)} s`);
console.log(loadLine('end'));
for (const r of results) console.log(JSON.stringify(r));
process.exit(0);
