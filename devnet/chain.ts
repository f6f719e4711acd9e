// The devnet's local Ethereum JSON-RPC node: Hardhat 2 (EDR) in-process, configured like a QBFT
// network (chainId 1337, berlin: no base fee, zero gas price, blocks on an interval). Node only.
// Its HTTP server answers only to this machine's own names (no DNS rebinding).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HDNodeWallet, Mnemonic } from 'ethers';
import { createHostCheck } from './guard.js';

export interface ChainOptions {
	/** Interface to listen on. Default 127.0.0.1. */
	host?: string;
	/** TCP port; 0 picks a free one (rpcUrl then carries the real port). */
	port: number;
	/** Milliseconds between blocks, like a QBFT block period. Default 1000; 0 = mine every transaction at once. */
	blockIntervalMs?: number;
	/**
	 * A folder that keeps the chain across restarts (and kill -9): every transaction the node accepts
	 * is appended to `journal.ndjson` before it is answered, and a new start replays them in order on
	 * the same genesis (`genesis.json`), so the contracts, stations and sessions are all there again.
	 * Without it each start is a fresh chain.
	 */
	stateDir?: string;
}

export interface DevAccount {
	address: string;
	privateKey: string;
}

export interface RunningChain {
	rpcUrl: string;
	chainId: number;
	/** Transactions replayed from the journal at this start (0 for a new chain; absent on chains made elsewhere). */
	replayed?: number;
	accounts: DevAccount[];
	stop(): Promise<void>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const hardhatConfigPath = resolve(repoRoot, 'hardhat.config.cjs');
const requireFromHere = createRequire(import.meta.url);

interface Eip1193 {
	request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}
interface JsonRpcServerLike {
	listen(): Promise<{ address: string; port: number }>;
	close(): Promise<void>;
	_httpServer?: HttpServer;
}
interface HdAccountsConfig {
	mnemonic: string;
	passphrase: string;
	path: string;
	initialIndex: number;
	count: number;
}
interface HardhatRuntime {
	config: { networks: { hardhat: { chainId: number; accounts: HdAccountsConfig | unknown[] } } };
	artifacts: unknown;
	run(task: string, args: Record<string, unknown>): Promise<unknown>;
}

let hardhatRuntime: HardhatRuntime | undefined;

/**
 * Set by scripts/contract-coverage.ts: a folder holding solidity-coverage's instrumentation data.
 * Each chain then counts the instrumentation hashes its EVM steps over and writes the hits there
 * when it stops (or the process exits), for the script to merge into a report.
 */
const COVERAGE_DIR_ENV = 'LIGHTCHARGE_CONTRACT_COVERAGE_DIR';
let coverageChains = 0;

interface CoverageHits {
	instrumentationData: Record<string, { hits: number }>;
	step(info: unknown): void;
}

function attachCoverageCollector(provider: Eip1193, dir: string): () => void {
	const instrumentationData = JSON.parse(
		readFileSync(resolve(dir, 'instrumentation.json'), 'utf8')
	) as Record<string, { hits: number }>;
	for (const entry of Object.values(instrumentationData)) entry.hits = 0;
	const DataCollector = requireFromHere('solidity-coverage/lib/collector') as new (
		data: unknown
	) => CoverageHits;
	const collector = new DataCollector(instrumentationData);
	// Down to Hardhat's EDR provider wrapper, which replays EVM steps as 'step' events to listeners.
	type Layer = Record<string, unknown> & {
		_node?: { _vm: { evm: { events: { on(e: string, f: (i: unknown) => void): void } } } };
	};
	let core = provider as unknown as Layer;
	for (let depth = 0; !core._node && depth < 20; depth++) {
		const inner = core._wrapped ?? core._wrappedProvider ?? core._provider;
		if (!inner || typeof inner !== 'object') break;
		core = inner as Layer;
	}
	if (!core._node) throw new Error('coverage: this Hardhat version exposes no EVM step events');
	core._node._vm.evm.events.on('step', (info) => collector.step(info));
	const file = resolve(dir, `hits-${process.pid}-${++coverageChains}.json`);
	const flush = () => {
		const hits: Record<string, number> = {};
		for (const [hash, entry] of Object.entries(instrumentationData))
			if (entry.hits > 0) hits[hash] = entry.hits;
		writeFileSync(file, JSON.stringify(hits));
	};
	process.on('exit', flush);
	return flush;
}

/** Loads Hardhat once per process with the repo's hardhat.config.cjs (the package is ESM, so the config is .cjs). */
function loadHardhat(): HardhatRuntime {
	if (!hardhatRuntime) {
		process.env.HARDHAT_CONFIG ??= hardhatConfigPath;
		hardhatRuntime = requireFromHere('hardhat') as HardhatRuntime;
	}
	return hardhatRuntime;
}

function portInUseError(port: number, host: string): Error {
	const where = host === '127.0.0.1' ? '' : ` (on ${host})`;
	return new Error(`port ${port} is already in use${where} — pass --chain-port`);
}

/** Binds and releases the port first: Hardhat's server emits an unhandled 'error' instead of rejecting. */
async function assertPortFree(port: number, host: string): Promise<void> {
	if (port === 0) return;
	await new Promise<void>((resolvePromise, reject) => {
		const probe = createServer();
		probe.once('error', (error: NodeJS.ErrnoException) => {
			reject(error.code === 'EADDRINUSE' ? portInUseError(port, host) : error);
		});
		probe.listen(port, host, () => probe.close(() => resolvePromise()));
	});
}

function deriveAccounts(config: HdAccountsConfig | unknown[]): DevAccount[] {
	if (Array.isArray(config))
		throw new Error('hardhat.config.cjs must configure HD accounts (mnemonic) for the devnet');
	const seed = Mnemonic.fromPhrase(config.mnemonic, config.passphrase).computeSeed();
	const root = HDNodeWallet.fromSeed(seed);
	const accounts: DevAccount[] = [];
	for (let i = config.initialIndex; i < config.initialIndex + config.count; i++) {
		const wallet = root.derivePath(`${config.path}/${i}`);
		accounts.push({ address: wallet.address, privateKey: wallet.privateKey });
	}
	return accounts;
}

/**
 * Puts a Host check in front of Hardhat's own request and WebSocket handlers: a page that re-points
 * its DNS name at 127.0.0.1 still names itself in Host and is refused. A browser page's Origin must
 * also be one of this machine's names (the apps on loopback call the chain directly).
 */
function guardHosts(httpServer: HttpServer): void {
	const hostAllowed = createHostCheck();
	const allowed = (req: IncomingMessage): boolean => {
		if (!hostAllowed(req.headers.host)) return false;
		const origin = req.headers.origin;
		if (typeof origin !== 'string' || origin === 'null') return origin === undefined;
		try {
			return hostAllowed(new URL(origin).host);
		} catch {
			return false;
		}
	};
	const requestListeners = httpServer.listeners('request') as ((
		req: IncomingMessage,
		res: ServerResponse
	) => void)[];
	httpServer.removeAllListeners('request');
	httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
		if (!allowed(req)) {
			res
				.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8' })
				.end('this chain answers only to its own host names\n');
			return;
		}
		for (const listener of requestListeners) listener.call(httpServer, req, res);
	});
	const upgradeListeners = httpServer.listeners('upgrade') as ((
		req: IncomingMessage,
		socket: import('node:stream').Duplex,
		head: Buffer
	) => void)[];
	httpServer.removeAllListeners('upgrade');
	httpServer.on(
		'upgrade',
		(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
			if (!allowed(req)) {
				socket.end(
					'HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
				);
				return;
			}
			for (const listener of upgradeListeners) listener.call(httpServer, req, socket, head);
		}
	);
}

interface JournalEntry {
	/** The signed transaction, as sent to eth_sendRawTransaction. */
	raw: string;
	/** Unix ms it was accepted. */
	at: number;
}

/** The journal of `dir`: its genesis date (made on first use) and the transactions so far. */
function openJournal(dir: string): { file: string; initialDate: string; entries: JournalEntry[] } {
	mkdirSync(dir, { recursive: true, mode: 0o700 });
	const genesisFile = resolve(dir, 'genesis.json');
	const file = resolve(dir, 'journal.ndjson');
	let initialDate: string;
	if (existsSync(genesisFile)) {
		const g = JSON.parse(readFileSync(genesisFile, 'utf8')) as { initialDate?: unknown };
		if (typeof g.initialDate !== 'string' || Number.isNaN(Date.parse(g.initialDate))) {
			throw new Error(
				`${genesisFile} names no genesis date — remove the chain folder (${dir}) for a new chain`
			);
		}
		initialDate = g.initialDate;
	} else {
		// A journal without its genesis cannot be replayed onto the same chain.
		if (existsSync(file) && readFileSync(file, 'utf8').trim() !== '') {
			throw new Error(
				`${file} has no ${genesisFile} beside it — remove the chain folder (${dir}) for a new chain`
			);
		}
		initialDate = new Date(Date.now() - 1000).toISOString();
		writeFileSync(genesisFile, `${JSON.stringify({ initialDate })}\n`, { mode: 0o600 });
	}
	const entries: JournalEntry[] = [];
	if (existsSync(file)) {
		const lines = readFileSync(file, 'utf8').split('\n');
		lines.forEach((line, i) => {
			if (line.trim() === '') return;
			try {
				const e = JSON.parse(line) as JournalEntry;
				if (
					typeof e.raw !== 'string' ||
					!/^0x[0-9a-fA-F]+$/.test(e.raw) ||
					typeof e.at !== 'number'
				)
					throw new Error('not a journal entry');
				entries.push(e);
			} catch (err) {
				// The last line may be cut short by a kill -9 mid-write: that transaction was never answered.
				if (lines.slice(i + 1).every((l) => l.trim() === '')) return;
				throw new Error(
					`${file} line ${i + 1} is not a journal entry (${err instanceof Error ? err.message : String(err)}) — remove the chain folder (${dir}) for a new chain`
				);
			}
		});
	}
	return { file, initialDate, entries };
}

/** Mines the journal's transactions again, in order, each at (about) the time it was first accepted. */
async function replay(provider: Eip1193, entries: JournalEntry[]): Promise<number> {
	if (entries.length === 0) return 0;
	await provider.request({ method: 'evm_setIntervalMining', params: [0] });
	await provider.request({ method: 'evm_setAutomine', params: [true] });
	const latest = async () =>
		Number(
			BigInt(
				(
					(await provider.request({
						method: 'eth_getBlockByNumber',
						params: ['latest', false]
					})) as { timestamp: string }
				).timestamp
			)
		);
	let last = await latest();
	for (const e of entries) {
		const at = Math.max(last + 1, Math.floor(e.at / 1000));
		await provider.request({ method: 'evm_setNextBlockTimestamp', params: [at] });
		await provider.request({ method: 'eth_sendRawTransaction', params: [e.raw] });
		last = await latest();
	}
	// Back to the wall clock for the blocks after the replay.
	await provider.request({
		method: 'evm_setNextBlockTimestamp',
		params: [Math.max(last + 1, Math.floor(Date.now() / 1000))]
	});
	return entries.length;
}

/** The provider, with every accepted eth_sendRawTransaction appended to `file` before it is answered. */
function journaling(provider: Eip1193, file: string): Eip1193 {
	const record = (raw: unknown) => {
		if (typeof raw === 'string')
			appendFileSync(file, `${JSON.stringify({ raw, at: Date.now() })}\n`, { mode: 0o600 });
	};
	return new Proxy(provider, {
		get(target, prop, receiver) {
			if (prop !== 'request') {
				const v = Reflect.get(target, prop, receiver) as unknown;
				return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
			}
			return async (args: { method: string; params?: unknown[] }) => {
				const result = await target.request(args);
				if (args.method === 'eth_sendRawTransaction') record(args.params?.[0]);
				return result;
			};
		}
	});
}

/**
 * Starts a fresh chain (its own state) and serves it over HTTP and WebSocket JSON-RPC.
 * Throws "port N is already in use — pass --chain-port" when the port is taken.
 */
export async function startChain(opts: ChainOptions): Promise<RunningChain> {
	const host = opts.host ?? '127.0.0.1';
	const blockIntervalMs = opts.blockIntervalMs ?? 1000;
	if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
		throw new Error(`chain port must be an integer 0..65535, got ${opts.port}`);
	}
	if (!Number.isInteger(blockIntervalMs) || blockIntervalMs < 0) {
		throw new Error(`blockIntervalMs must be a non-negative integer, got ${blockIntervalMs}`);
	}
	await assertPortFree(opts.port, host);

	const hre = loadHardhat();
	const { createProvider } = requireFromHere('hardhat/internal/core/providers/construction') as {
		createProvider(config: unknown, network: string, artifacts: unknown): Promise<Eip1193>;
	};
	const coverageDir = process.env[COVERAGE_DIR_ENV];
	// Instrumented contracts are larger and use more gas: lift the limits only for a coverage run
	// (the block gas limit is the value Hardhat recognises as solidity-coverage's).
	const config = coverageDir
		? {
				...hre.config,
				networks: {
					...hre.config.networks,
					hardhat: {
						...hre.config.networks.hardhat,
						allowUnlimitedContractSize: true,
						blockGasLimit: 0x1fffffffffffff
					}
				}
			}
		: hre.config;
	const journal = opts.stateDir ? openJournal(opts.stateDir) : null;
	// A kept chain starts from the same genesis date each time (Hardhat's genesis depends on it).
	const chainConfig = journal
		? {
				...config,
				networks: {
					...config.networks,
					hardhat: { ...config.networks.hardhat, initialDate: journal.initialDate }
				}
			}
		: config;
	// A provider of our own (not hre.network.provider) so each startChain gets a fresh chain.
	const provider = await createProvider(chainConfig, 'hardhat', hre.artifacts);
	const flushCoverage = coverageDir
		? attachCoverageCollector(provider, coverageDir)
		: () => undefined;
	const replayed = journal ? await replay(provider, journal.entries) : 0;
	if (blockIntervalMs === 0) {
		await provider.request({ method: 'evm_setIntervalMining', params: [0] });
		await provider.request({ method: 'evm_setAutomine', params: [true] });
	} else {
		await provider.request({ method: 'evm_setAutomine', params: [false] });
		await provider.request({ method: 'evm_setIntervalMining', params: [blockIntervalMs] });
	}

	const { TASK_NODE_CREATE_SERVER } = requireFromHere('hardhat/builtin-tasks/task-names') as {
		TASK_NODE_CREATE_SERVER: string;
	};
	// What the node serves: every transaction it accepts is journaled before the answer goes out.
	const served = journal ? journaling(provider, journal.file) : provider;
	const server = (await hre.run(TASK_NODE_CREATE_SERVER, {
		hostname: host,
		port: opts.port,
		provider: served
	})) as JsonRpcServerLike;
	if (server._httpServer) guardHosts(server._httpServer);
	const listening = await new Promise<{ address: string; port: number }>(
		(resolvePromise, reject) => {
			server._httpServer?.once('error', (error: NodeJS.ErrnoException) => {
				reject(error.code === 'EADDRINUSE' ? portInUseError(opts.port, host) : error);
			});
			server.listen().then(resolvePromise, reject);
		}
	);

	const urlHost =
		host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
	let stopped: Promise<void> | undefined;
	return {
		rpcUrl: `http://${urlHost}:${listening.port}`,
		chainId: hre.config.networks.hardhat.chainId,
		replayed,
		accounts: deriveAccounts(hre.config.networks.hardhat.accounts),
		stop() {
			// Interval mining keeps a timer alive: turn it off so the process can exit.
			stopped ??= provider
				.request({ method: 'evm_setIntervalMining', params: [0] })
				.catch(() => undefined)
				.then(() => server.close())
				.finally(flushCoverage);
			return stopped;
		}
	};
}
