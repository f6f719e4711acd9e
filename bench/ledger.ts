// npm run bench:ledger — what it costs to put one hour of 1 Hz signed meter readings on chain,
// three ways, on the devnet's Hardhat chain (devnet/chain.ts: london, gas price 0, automine):
//   naive    one transaction per reading that stores the reading's hash (contracts/bench/NaiveReadings.sol)
//   events   one transaction per reading that only logs the reading's hash
//   batched  Lightcharge: the kiosk's own StationLedger (src/lib/ledger/station-ledger.ts) opens the
//            session, anchors the Merkle root of each 60 s batch of OCMF records (60 readings), and
//            closes it with the payments root; open and close are counted in its gas too.
// Gas is per record. Per-reading gas of the naive ways does not depend on how many readings there
// are (each one is the same transaction), so they run on the first BENCH_NAIVE_READINGS readings
// of one session; the batched way runs every session's full hour.
//
// recordsPerSecondBatched = records anchored / wall seconds of the batched run, all stations
// anchoring concurrently, each with its own signing key; that time includes hashing every record,
// building every Merkle tree, signing and sending every transaction and waiting for its receipt
// (each anchor is mined and its success checked before that station sends its next one).
// It does NOT include signing the OCMF records: a meter signs each reading when it is taken (once
// a second), long before anchoring, so the records are signed beforehand (with OpenSSL through
// node:crypto, for speed; the bench checks a sample with the protocol's verifyOcmf).
//
// Topology, as in the field: the chain runs in a process of its own (bench/ledger-chain.ts; a
// ledger node never runs inside a station), and the stations run on as many worker threads as the
// machine has cores (bench/ledger-stations.ts; real stations are separate devices), so hashing
// and signing overlap with the EVM. BENCH_CHAIN_IN_PROCESS=1 and BENCH_STATION_THREADS=1 give the
// old single-process run for comparison.
//
// Wall-clock figures depend on what else the machine runs, so the bench also prints the load
// average and the records anchored per CPU second (stations and chain together).
//
// Environment: BENCH_SESSIONS (default 10), BENCH_NAIVE_READINGS (default 600),
// BENCH_STATION_THREADS (default: the number of cores), BENCH_CHAIN_IN_PROCESS (default 0),
// BENCH_BLOCK_INTERVAL_MS (default 0 = automine; e.g. 1000 mines a block a second like QBFT, and
// then every anchor waits for its block).
// Last line of output: one JSON object with the figures.
import { spawn } from 'node:child_process';
import { createPrivateKey, sign as signWithOpenSsl, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { cpus, loadavg } from 'node:os';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ContractFactory, Interface, JsonRpcProvider, Network, Wallet, type InterfaceAbi } from 'ethers';
import { compileContracts, runSolc } from '../contracts/compile.js';
import { startChain, type RunningChain } from '../devnet/chain.js';
import { buildOcmfPayloadText, ocmfPublicKeyHex, verifyOcmf } from '../src/lib/protocol/ocmf.js';
import { GATEWAY_VERSION } from '../src/lib/protocol/readings.js';
import type { StationsJob, StationsMessage } from './ledger-stations.js';

await compileContracts();
const { connectLedger } = await import('../src/lib/ledger/client.js');
const { deployLedger } = await import('../src/lib/ledger/deploy.js');
const { readingHash } = await import('../src/lib/ledger/merkle.js');
const { sessionIdToBytes32 } = await import('../src/lib/ledger/ids.js');

function positiveIntFromEnv(name: string, fallback: number, min = 1): number {
	const raw = process.env[name];
	if (raw === undefined || raw === '') return fallback;
	const value = Number(raw);
	if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
	return value;
}

const SESSIONS = positiveIntFromEnv('BENCH_SESSIONS', 10);
const STATION_THREADS = positiveIntFromEnv('BENCH_STATION_THREADS', cpus().length);
const READINGS_PER_SESSION = 3600; // one hour at 1 Hz
const ANCHOR_INTERVAL = 60; // readings per anchor: the kiosk's default 60 s at 1 Hz
const NAIVE_READINGS = Math.min(READINGS_PER_SESSION, positiveIntFromEnv('BENCH_NAIVE_READINGS', 600));
const POWER_W = 11_000;
const secondsSince = (t: number) => (performance.now() - t) / 1000;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// --- OCMF records, signed before anything is timed ----------------------------------------

const CURVE_ORDER = secp256k1.Point.CURVE().n;

/** OpenSSL signs high-S half the time; OCMF verifiers (and noble) want low-S, so mirror s. */
function lowSDer(der: Buffer): string {
	// SEQUENCE { INTEGER r, INTEGER s } with short lengths (secp256k1 signatures are < 128 bytes).
	const rLength = der[3]!;
	const r = der.subarray(4, 4 + rLength);
	const sLength = der[5 + rLength]!;
	let s = BigInt(`0x${der.subarray(6 + rLength, 6 + rLength + sLength).toString('hex')}`);
	if (s > CURVE_ORDER / 2n) s = CURVE_ORDER - s;
	let sHex = s.toString(16);
	if (sHex.length % 2) sHex = `0${sHex}`;
	if (parseInt(sHex.slice(0, 2), 16) >= 0x80) sHex = `00${sHex}`;
	const rHex = r.toString('hex');
	const body = `02${(rHex.length / 2).toString(16).padStart(2, '0')}${rHex}02${(sHex.length / 2).toString(16).padStart(2, '0')}${sHex}`;
	return `30${(body.length / 2).toString(16).padStart(2, '0')}${body}`.toUpperCase();
}

function openSslKey(privateKeyHex: string): KeyObject {
	const d = Buffer.from(privateKeyHex.replace(/^0x/, ''), 'hex');
	const point = secp256k1.getPublicKey(d, false);
	const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
	return createPrivateKey({
		key: { kty: 'EC', crv: 'secp256k1', d: b64(d), x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)) },
		format: 'jwk'
	});
}

interface BenchSession {
	stationId: string;
	sessionId: string;
	key: string;
	records: string[];
	energyWh: number[];
}

function signSessionRecords(stationId: string, sessionId: string, key: string, startMs: number): BenchSession {
	const keyObject = openSslKey(key);
	const records: string[] = [];
	const energyWh: number[] = [];
	for (let n = 1; n <= READINGS_PER_SESSION; n++) {
		const wh = Math.round((n - 1) * (POWER_W / 3600));
		const payload = buildOcmfPayloadText({
			stationId,
			gatewayVersion: GATEWAY_VERSION,
			pagination: n,
			meter: { vendor: 'Lightcharge', model: 'bench-meter', serial: `BM-${stationId}` },
			identification: { type: 'CENTRAL', data: sessionId },
			reading: { at: startMs + (n - 1) * 1000, tx: n === 1 ? 'B' : n === READINGS_PER_SESSION ? 'E' : 'T', energyWh: wh }
		});
		const der = signWithOpenSsl('sha256', Buffer.from(payload, 'utf8'), { key: keyObject, dsaEncoding: 'der' });
		records.push(`OCMF|${payload}|${JSON.stringify({ SA: 'ECDSA-secp256k1-SHA256', SD: lowSDer(der) })}`);
		energyWh.push(wh);
	}
	return { stationId, sessionId, key, records, energyWh };
}

// --- chain and contracts --------------------------------------------------------------------

console.log(`ledger benchmark: ${SESSIONS} sessions × ${READINGS_PER_SESSION} readings (1 Hz, one hour), anchors every ${ANCHOR_INTERVAL} readings`);

interface BenchChain extends RunningChain {
	/** CPU seconds the chain has used so far (null when it runs in this process and is counted with it). */
	cpuSeconds(): number | null;
}

/** The devnet chain (devnet/chain.ts) in a child process: bench/ledger-chain.ts. */
async function startChainProcess(blockIntervalMs: number): Promise<BenchChain> {
	const child = spawn(process.execPath, ['--import', 'tsx', new URL('./ledger-chain.ts', import.meta.url).pathname], {
		env: { ...process.env, BENCH_BLOCK_INTERVAL_MS: String(blockIntervalMs) },
		stdio: ['pipe', 'pipe', 'inherit']
	});
	const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
	const first = await new Promise<string>((resolvePromise, reject) => {
		const lines = createInterface({ input: child.stdout! });
		lines.once('line', (line) => resolvePromise(line));
		child.once('exit', (code) => reject(new Error(`the chain process exited (code ${code}) before it listened`)));
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

const CHAIN_IN_PROCESS = process.env.BENCH_CHAIN_IN_PROCESS === '1';
const BLOCK_INTERVAL_MS = positiveIntFromEnv('BENCH_BLOCK_INTERVAL_MS', 0, 0);
const chain: BenchChain = CHAIN_IN_PROCESS
	? { ...(await startChain({ port: 0, blockIntervalMs: BLOCK_INTERVAL_MS })), cpuSeconds: () => null }
	: await startChainProcess(BLOCK_INTERVAL_MS);
try {
	const operatorKey = chain.accounts[0]!.privateKey;
	const addresses = await deployLedger(chain.rpcUrl, operatorKey);
	const operator = await connectLedger({ rpcUrl: chain.rpcUrl, addresses, expectedChainId: chain.chainId, signerKey: operatorKey });

	const sessions: BenchSession[] = [];
	let started = performance.now();
	const startMs = Date.UTC(2026, 10, 22, 8, 0, 0);
	for (let i = 0; i < SESSIONS; i++) {
		const stationId = `BENCH-${String(i + 1).padStart(4, '0')}`;
		// Fresh keys with no ether at all: gas price 0, as on a QBFT network.
		sessions.push(signSessionRecords(stationId, `${stationId}-session-1`, Wallet.createRandom().privateKey, startMs));
	}
	const signedRecords = SESSIONS * READINGS_PER_SESSION;
	const signSeconds = secondsSince(started);
	for (const s of sessions) {
		const publicKey = ocmfPublicKeyHex(s.key.slice(2));
		for (const index of [0, 1, 1799, READINGS_PER_SESSION - 1]) {
			const verdict = verifyOcmf(s.records[index]!, publicKey);
			if (!verdict.ok) throw new Error(`bench record ${s.stationId} #${index + 1} does not verify: ${JSON.stringify(verdict)}`);
		}
	}
	const recordBytes = sessions[0]!.records[1]!.length;
	console.log(`signed ${fmt(signedRecords)} OCMF records (~${recordBytes} bytes each) in ${signSeconds.toFixed(1)} s (not timed below; a sample verified with verifyOcmf)`);

	for (const s of sessions) {
		await operator.registerStation({
			stationId: s.stationId,
			signer: new Wallet(s.key).address,
			lightningPubkey: `02${'ab'.repeat(32)}`,
			tariffRef: `0x${'00'.repeat(32)}`,
			location: 'benchmark'
		});
	}

	// --- naive: one transaction per reading -------------------------------------------------
	const naiveSource = await readFile(new URL('../contracts/bench/NaiveReadings.sol', import.meta.url), 'utf8');
	const { contracts } = await runSolc(
		{ 'NaiveReadings.sol': { content: naiveSource } },
		{ evmVersion: 'london', optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
		['NaiveReadings']
	);
	const naive = contracts.NaiveReadings!;
	const provider = new JsonRpcProvider(chain.rpcUrl, Network.from(chain.chainId), { staticNetwork: true, cacheTimeout: -1, batchStallTime: 0 });
	const first = sessions[0]!;
	const naiveWallet = new Wallet(first.key, provider);
	const naiveDeploy = await new ContractFactory(naive.abi as InterfaceAbi, `0x${naive.bytecode}`, naiveWallet).deploy({ gasPrice: 0n });
	await naiveDeploy.waitForDeployment();
	const naiveAddress = await naiveDeploy.getAddress();
	const naiveInterface = new Interface(naive.abi as InterfaceAbi);

	/** One legacy transaction with gas price 0 per reading, each mined before the next. */
	async function perReading(method: 'store' | 'log'): Promise<{ gasPerRecord: number; seconds: number }> {
		const t = performance.now();
		const sessionKey = sessionIdToBytes32(first.sessionId);
		let nonce = await provider.getTransactionCount(naiveWallet.address, 'pending');
		let gas = 0n;
		for (let n = 1; n <= NAIVE_READINGS; n++) {
			const raw = await naiveWallet.signTransaction({
				type: 0,
				chainId: chain.chainId,
				to: naiveAddress,
				data: naiveInterface.encodeFunctionData(method, [sessionKey, n, readingHash(first.records[n - 1]!)]),
				nonce: nonce++,
				gasLimit: 200_000n,
				gasPrice: 0n
			});
			const hash = await provider.send('eth_sendRawTransaction', [raw]);
			const receipt = (await provider.getTransactionReceipt(hash)) ?? (await provider.waitForTransaction(hash));
			if (receipt?.status !== 1) throw new Error(`${method} #${n} failed`);
			gas += receipt.gasUsed;
		}
		return { gasPerRecord: Number(gas) / NAIVE_READINGS, seconds: secondsSince(t) };
	}
	const naiveRun = await perReading('store');
	console.log(`naive    ${fmt(NAIVE_READINGS)} readings, one tx each storing its hash:  ${fmt(naiveRun.gasPerRecord)} gas/record (${naiveRun.seconds.toFixed(1)} s)`);
	const eventsRun = await perReading('log');
	console.log(`events   ${fmt(NAIVE_READINGS)} readings, one tx each logging its hash:  ${fmt(eventsRun.gasPerRecord)} gas/record (${eventsRun.seconds.toFixed(1)} s)`);
	provider.destroy();

	// --- batched: Lightcharge's StationLedger, every station at once --------------------------
	// Stations split round-robin over STATION_THREADS worker threads (bench/ledger-stations.ts).
	const groups = Array.from({ length: Math.min(STATION_THREADS, SESSIONS) }, (_, t) => sessions.filter((_, i) => i % STATION_THREADS === t));
	const workers = groups.map(
		(group) =>
			// A worker does not inherit tsx's loader: it registers it before loading the TypeScript module.
			new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./ledger-stations.ts', import.meta.url).href)}); })`, {
				eval: true,
				workerData: { rpcUrl: chain.rpcUrl, chainId: chain.chainId, addresses, anchorInterval: ANCHOR_INTERVAL, sessions: group } satisfies StationsJob
			})
	);
	const nextMessage = (worker: Worker) =>
		new Promise<StationsMessage>((resolvePromise, reject) => {
			worker.once('message', resolvePromise);
			worker.once('error', reject);
		});
	const ready = await Promise.all(workers.map(nextMessage));
	if (!ready.every((m) => m === 'ready')) throw new Error(`a station thread failed to connect: ${JSON.stringify(ready)}`);
	const cpuBefore = process.cpuUsage();
	const chainCpuBefore = chain.cpuSeconds();
	started = performance.now();
	const finished = await Promise.all(
		workers.map((worker) => {
			const done = nextMessage(worker);
			worker.postMessage('go');
			return done;
		})
	);
	const batchedSeconds = secondsSince(started);
	const cpu = process.cpuUsage(cpuBefore);
	const chainCpuAfter = chain.cpuSeconds();
	await Promise.all(workers.map((worker) => worker.terminate()));
	const txHashes: string[] = [];
	for (const message of finished) {
		if (typeof message === 'object' && 'done' in message) txHashes.push(...message.done);
		else throw new Error(`a station thread failed: ${typeof message === 'object' ? message.error : message}`);
	}
	const cpuSeconds = (cpu.user + cpu.system) / 1e6;
	const chainCpuSeconds = chainCpuBefore === null || chainCpuAfter === null ? null : chainCpuAfter - chainCpuBefore;
	const anchoredRecords = SESSIONS * READINGS_PER_SESSION;

	let batchedGas = 0n;
	for (const hash of txHashes) {
		const receipt = await operator.provider.getTransactionReceipt(hash);
		if (receipt?.status !== 1) throw new Error(`batched transaction ${hash} failed`);
		batchedGas += receipt.gasUsed;
	}
	// The ledger must agree: every session closed with all of its anchors.
	for (const s of sessions) {
		const state = await operator.getSession(s.stationId, s.sessionId);
		if (state?.state !== 'closed' || state.lastReading !== READINGS_PER_SESSION) throw new Error(`session ${s.sessionId} is not complete on chain`);
	}
	const anchorsPerSession = Math.ceil(READINGS_PER_SESSION / ANCHOR_INTERVAL);
	const gasPerRecordBatched = Number(batchedGas) / anchoredRecords;
	const recordsPerSecondBatched = anchoredRecords / batchedSeconds;
	console.log(
		`batched  ${fmt(anchoredRecords)} readings in ${SESSIONS} sessions, ${anchorsPerSession} anchors + open + close each (${fmt(txHashes.length)} txs): ` +
			`${fmt(gasPerRecordBatched)} gas/record, ${fmt(Number(batchedGas) / (txHashes.length))} gas/tx, ` +
			`${batchedSeconds.toFixed(1)} s → ${fmt(recordsPerSecondBatched)} records/s`
	);
	const totalCpuSeconds = cpuSeconds + (chainCpuSeconds ?? 0);
	console.log(
		`         CPU time in the batched run: ${cpuSeconds.toFixed(1)} s stations (${groups.length} thread${groups.length === 1 ? '' : 's'})` +
			(chainCpuSeconds === null ? ' and chain (same process)' : ` + ${chainCpuSeconds.toFixed(1)} s chain (own process)`) +
			` → ${fmt(anchoredRecords / totalCpuSeconds)} records per CPU second; ` +
			`chain ${CHAIN_IN_PROCESS ? 'in process' : 'in its own process'}, ${BLOCK_INTERVAL_MS === 0 ? 'automine' : `a block every ${BLOCK_INTERVAL_MS} ms`}; ` +
			`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`
	);
	operator.close();

	const ratioNaiveToBatched = naiveRun.gasPerRecord / gasPerRecordBatched;
	console.log(`naive / batched gas per record: ${ratioNaiveToBatched.toFixed(1)}× (target ≥ 50); records/s batched target ≥ 10,000`);
	console.log(
		JSON.stringify({
			gasPerRecordNaive: Math.round(naiveRun.gasPerRecord),
			gasPerRecordEvents: Math.round(eventsRun.gasPerRecord),
			gasPerRecordBatched: Math.round(gasPerRecordBatched * 10) / 10,
			ratioNaiveToBatched: Math.round(ratioNaiveToBatched * 10) / 10,
			recordsPerSecondBatched: Math.round(recordsPerSecondBatched)
		})
	);
} finally {
	await chain.stop();
}
process.exit(0);
