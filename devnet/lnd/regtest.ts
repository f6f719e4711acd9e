// A real Lightning network on regtest in one call: btcd + one LND per node (hub first), loopback
// only, wallets created without interaction (--noseedbackup), coins mined to the hub, the hub funds
// the spokes, channels spoke→hub / hub→station opened and announced, the graph synced until the
// vehicle can route to the station through the hub. Every process it starts is stopped by `stop()`,
// also when the start fails half way; a crashed earlier run's processes (pids in <dir>/pids.json)
// are stopped before a new start. Node only; the binaries come from scripts/build-lnd.sh.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import { bech32 } from '@scure/base';
import { ensurePortFree, waitForPort } from '../ports';
import { binaryPath, LND_BIN_DIR, requireBinaries } from './binaries';
import { pinnedFetch } from './pinned-fetch';
import { PIDS_TEXT, startProcessGroup } from './processes';

/** What each app's macaroon may do: the least each one needs (lncli bakemacaroon entity:action). */
export const APP_PERMISSIONS: Record<'invoice' | 'pay' | 'read', string[]> = {
	/** The kiosk: create, look up and watch invoices, read the node's info and channel balances. Cannot pay. */
	invoice: ['info:read', 'invoices:read', 'invoices:write', 'offchain:read'],
	/** The wallet: pay, track, decode, read balances and channels, read the node's info. Cannot invoice. */
	pay: ['info:read', 'offchain:read', 'offchain:write'],
	/** Anything else (the hub): look, never move money. */
	read: ['info:read', 'offchain:read', 'onchain:read']
};

export interface LndRegtestOptions {
	/** Working folder; wiped at each start. */
	dir: string;
	/** btcd RPC on `portBase`; node i listens on portBase+1+3i (p2p), +2 (gRPC), +3 (REST). */
	portBase: number;
	/** Default ['hub', 'station-1', 'vehicle-1']; the first is the hub. */
	nodes?: string[];
	/** The hub's routing fees; LND's defaults (and the simnet's): 1000 msat + 1 ppm. */
	hubBaseFeeMsat?: bigint;
	hubFeePpm?: bigint;
	/** Capacity of each spoke's channel with the hub; half is pushed to the other side (as in the simnet). */
	channelSat?: bigint;
	/** Which macaroon each node's app gets; default station-* invoice, vehicle-* pay, others read. */
	appPermissions?: (name: string) => keyof typeof APP_PERMISSIONS;
	/** Nodes started with --rpcmiddleware.enable (Lightning Terminal in front of them: `--lnc`). */
	rpcMiddlewareNodes?: string[];
	binDir?: string;
	log?: (line: string) => void;
	/** Whole start limit. Default 180 s. */
	timeoutMs?: number;
}

export interface LndRegtestNode {
	name: string;
	pubkey: string;
	/** https://127.0.0.1:<rest> */
	restUrl: string;
	/** host:port of gRPC (for lncli). */
	rpcHost: string;
	p2pHost: string;
	tlsCertPem: string;
	adminMacaroonHex: string;
	adminMacaroonPath: string;
	/** Baked with lncli bakemacaroon for this node's app (see APP_PERMISSIONS). */
	appMacaroonHex: string;
	appPermissions: string[];
	lndDir: string;
}

export interface LndRegtest {
	nodes: LndRegtestNode[];
	node(name: string): LndRegtestNode;
	/** Mines `count` blocks to the hub and waits until every running node has seen them. */
	mine(count: number): Promise<void>;
	/** Calls one node's REST API with its admin macaroon. */
	call<T = unknown>(
		name: string,
		method: 'GET' | 'POST' | 'DELETE',
		urlPath: string,
		body?: unknown
	): Promise<T>;
	/** Stops one node's LND (SIGTERM, then SIGKILL after 10 s). */
	stopNode(name: string): Promise<void>;
	/** Starts a stopped node again and waits until it is SERVER_ACTIVE with its channels active. */
	startNode(name: string): Promise<void>;
	/** Stops every process this started; safe to call twice. */
	stop(): Promise<void>;
	/** Milliseconds the start took. */
	startMs: number;
}

const RPC_USER = 'lightcharge';
const RPC_PASS = 'lightcharge-devnet';
const REGTEST_TAPROOT_HEIGHT = 432;
const PIDS_FILE = 'pids.json';

function sleep(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}

/** A regtest address nobody holds coins for: btcd refuses to start mining without one. */
function placeholderAddress(): string {
	return bech32.encode('bcrt', [0, ...bech32.toWords(new Uint8Array(20).fill(0x11))]);
}

function hexToBase64(hex: string): string {
	return Buffer.from(hex, 'hex').toString('base64');
}

/** Stops processes an earlier run left behind (only the pids it recorded, only if still ours). */
async function stopStale(dir: string, log: (line: string) => void): Promise<void> {
	const file = path.join(dir, PIDS_FILE);
	if (!existsSync(file)) return;
	let pids: { pid: number; bin: string }[] = [];
	try {
		pids = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; bin: string }[];
	} catch {
		return;
	}
	for (const { pid, bin } of pids) {
		let cmdline = '';
		try {
			cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
		} catch {
			continue; // gone
		}
		if (!cmdline.startsWith(bin)) continue; // the pid was reused by something else
		log(`stopping ${path.basename(bin)} (pid ${pid}) left over from an earlier run`);
		try {
			process.kill(pid, 'SIGKILL');
		} catch {
			continue; // already gone
		}
		for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await sleep(50);
	}
	rmSync(file, { force: true });
}

export async function startLndRegtest(options: LndRegtestOptions): Promise<LndRegtest> {
	const started = Date.now();
	const log = options.log ?? (() => {});
	const binDir = options.binDir ?? LND_BIN_DIR;
	requireBinaries(binDir);
	const names = options.nodes ?? ['hub', 'station-1', 'vehicle-1'];
	const hubName = names[0];
	if (!hubName || new Set(names).size !== names.length)
		throw new Error('the LND regtest needs distinct node names, the hub first');
	const channelSat = options.channelSat ?? 2_000_000n;
	const deadline = started + (options.timeoutMs ?? 180_000);
	const dir = path.resolve(options.dir);
	const host = '127.0.0.1';
	const base = options.portBase;
	const btcdRpcPort = base;
	const nodePorts = (i: number) => ({
		p2p: base + 1 + 3 * i,
		rpc: base + 2 + 3 * i,
		rest: base + 3 + 3 * i
	});
	const permissionsOf =
		options.appPermissions ??
		((name: string) =>
			name.startsWith('station') ? 'invoice' : name.startsWith('vehicle') ? 'pay' : 'read');

	mkdirSync(dir, { recursive: true });
	await stopStale(dir, log);
	await ensurePortFree(btcdRpcPort, host, 'btcd RPC (regtest)', '--lnd-port-base');
	for (let i = 0; i < names.length; i++) {
		const p = nodePorts(i);
		for (const [what, port] of [
			['p2p', p.p2p],
			['gRPC', p.rpc],
			['REST', p.rest]
		] as const) {
			await ensurePortFree(port, host, `LND ${names[i]} ${what}`, '--lnd-port-base');
		}
	}
	for (const entry of ['btcd', ...names, PIDS_FILE, PIDS_TEXT])
		rmSync(path.join(dir, entry), { recursive: true, force: true });

	const {
		procs,
		spawn: spawnProc,
		stop: stopProc,
		died,
		endSentinel
	} = startProcessGroup({
		dir,
		sentinelName: 'lnd-sentinel',
		pidsJsonFile: path.join(dir, PIDS_FILE)
	});
	const remaining = () => {
		const left = deadline - Date.now();
		if (left <= 0)
			throw new Error(
				`the LND regtest did not come up within ${(options.timeoutMs ?? 180_000) / 1000} s`
			);
		return left;
	};
	/** Polls `check` until it returns a value (not undefined); fails on a dead process or the deadline. */
	const until = async <T>(
		what: string,
		procName: string | null,
		check: () => Promise<T | undefined>,
		everyMs = 100
	): Promise<T> => {
		let lastError = '';
		for (;;) {
			const reason = procName ? died(procName) : null;
			if (reason) throw new Error(`${what}: ${reason}`);
			try {
				const v = await check();
				if (v !== undefined) return v;
			} catch (e) {
				lastError = e instanceof Error ? e.message : String(e);
			}
			if (Date.now() > deadline)
				throw new Error(
					`timed out waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`
				);
			await sleep(everyMs);
		}
	};

	// --- btcd ---------------------------------------------------------------------------------
	const btcdDir = path.join(dir, 'btcd');
	const btcdCert = path.join(btcdDir, 'rpc.cert');
	let btcdCertPem = '';
	const btcdArgs = (miningAddr: string) => [
		'--regtest',
		`--datadir=${path.join(btcdDir, 'data')}`,
		`--logdir=${path.join(btcdDir, 'logs')}`,
		`--rpcuser=${RPC_USER}`,
		`--rpcpass=${RPC_PASS}`,
		`--rpclisten=${host}:${btcdRpcPort}`,
		`--rpccert=${btcdCert}`,
		`--rpckey=${path.join(btcdDir, 'rpc.key')}`,
		'--nolisten',
		'--txindex',
		'--debuglevel=info',
		`--miningaddr=${miningAddr}`
	];
	const startBtcd = async (miningAddr: string) => {
		spawnProc(
			'btcd',
			binaryPath('btcd', binDir),
			btcdArgs(miningAddr),
			path.join(btcdDir, 'btcd.out')
		);
		await waitForPort(btcdRpcPort, host, remaining(), () => died('btcd'));
		btcdCertPem = await until('btcd RPC certificate', 'btcd', async () =>
			existsSync(btcdCert) ? readFileSync(btcdCert, 'utf8') : undefined
		);
		await until('btcd RPC', 'btcd', async () => (await btcdRpc('getblockcount', [])) as number);
	};
	const btcdRpc = (method: string, params: unknown[]): Promise<unknown> =>
		new Promise((resolve, reject) => {
			const body = JSON.stringify({ jsonrpc: '1.0', id: 1, method, params });
			const req = httpsRequest(
				{
					host,
					port: btcdRpcPort,
					method: 'POST',
					path: '/',
					ca: btcdCertPem,
					auth: `${RPC_USER}:${RPC_PASS}`,
					headers: {
						'content-type': 'application/json',
						'content-length': Buffer.byteLength(body)
					},
					timeout: 60_000
				},
				(res) => {
					let text = '';
					res.setEncoding('utf8');
					res.on('data', (c: string) => (text += c));
					res.on('end', () => {
						try {
							const j = JSON.parse(text) as { result: unknown; error: { message: string } | null };
							if (j.error) reject(new Error(`btcd ${method}: ${j.error.message}`));
							else resolve(j.result);
						} catch {
							reject(new Error(`btcd ${method}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
						}
					});
				}
			);
			req.on('timeout', () => req.destroy(new Error(`btcd ${method} timed out`)));
			req.on('error', reject);
			req.end(body);
		});

	// --- LND ----------------------------------------------------------------------------------
	interface NodeState {
		name: string;
		index: number;
		lndDir: string;
		args: string[];
		tlsCertPem: string;
		adminMacaroonHex: string;
		fetch: typeof fetch | null;
	}
	const nodeStates = new Map<string, NodeState>();
	names.forEach((name, index) => {
		const p = nodePorts(index);
		const lndDir = path.join(dir, name);
		const isHub = name === hubName;
		const args = [
			`--lnddir=${lndDir}`,
			`--alias=${name}`,
			'--bitcoin.regtest',
			'--bitcoin.node=btcd',
			`--btcd.rpchost=${host}:${btcdRpcPort}`,
			`--btcd.rpcuser=${RPC_USER}`,
			`--btcd.rpcpass=${RPC_PASS}`,
			`--btcd.rpccert=${btcdCert}`,
			'--noseedbackup',
			'--nobootstrap',
			'--bitcoin.defaultchanconfs=1',
			'--trickledelay=50',
			`--listen=${host}:${p.p2p}`,
			`--rpclisten=${host}:${p.rpc}`,
			`--restlisten=${host}:${p.rest}`,
			'--tlsextraip=127.0.0.1',
			'--tlsextradomain=localhost',
			'--healthcheck.diskspace.attempts=0',
			'--debuglevel=info',
			'--maxpendingchannels=10',
			'--accept-keysend',
			// LND's mission control avoids a hop that failed for about an hour by default (half-life 1 h):
			// one payment that meets the station's node restarting would leave the session with "no
			// route" to its only payee. A charging wallet pays one station through one hub, so the hop is
			// tried again within seconds (docs/lightning.md says the same for a driver's own LND).
			'--routerrpc.apriori.penaltyhalflife=30s',
			// LND sends no HTLC under 1,000 msat by default (bitcoin.minhtlcout), so a session's last
			// increment under 1 sat (e.g. 2 Wh at 250 sat/kWh = 500 msat) had "no route" for ever and the
			// session never settled. A charging hub and wallet forward what the meter bills, to the msat.
			'--bitcoin.minhtlcout=1',
			// Lightning Terminal's LNC sessions check each call through LND's RPC middleware.
			...(options.rpcMiddlewareNodes?.includes(name) ? ['--rpcmiddleware.enable'] : []),
			...(isHub
				? [
						`--bitcoin.basefee=${options.hubBaseFeeMsat ?? 1000n}`,
						`--bitcoin.feerate=${options.hubFeePpm ?? 1n}`
					]
				: [])
		];
		nodeStates.set(name, {
			name,
			index,
			lndDir,
			args,
			tlsCertPem: '',
			adminMacaroonHex: '',
			fetch: null
		});
	});
	const stateOf = (name: string): NodeState => {
		const s = nodeStates.get(name);
		if (!s) throw new Error(`there is no LND node named "${name}" (nodes: ${names.join(', ')})`);
		return s;
	};
	const restUrlOf = (name: string) => `https://${host}:${nodePorts(stateOf(name).index).rest}`;
	const macaroonPath = (s: NodeState) =>
		path.join(s.lndDir, 'data', 'chain', 'bitcoin', 'regtest', 'admin.macaroon');

	const call = async <T = unknown>(
		name: string,
		method: 'GET' | 'POST' | 'DELETE',
		urlPath: string,
		body?: unknown,
		macaroon = true
	): Promise<T> => {
		const s = stateOf(name);
		if (!s.fetch) throw new Error(`${name}: no TLS certificate yet`);
		const headers: Record<string, string> = {};
		if (macaroon) headers['Grpc-Metadata-macaroon'] = s.adminMacaroonHex;
		if (body !== undefined) headers['content-type'] = 'application/json';
		const res = await s.fetch(`${restUrlOf(name)}${urlPath}`, {
			method,
			headers,
			signal: AbortSignal.timeout(60_000),
			...(body !== undefined ? { body: JSON.stringify(body) } : {})
		});
		const text = await res.text();
		if (!res.ok)
			throw new Error(`${name} ${method} ${urlPath}: HTTP ${res.status} ${text.slice(0, 300)}`);
		return (text ? JSON.parse(text) : {}) as T;
	};

	const startLnd = async (name: string): Promise<void> => {
		const s = stateOf(name);
		mkdirSync(s.lndDir, { recursive: true });
		spawnProc(name, binaryPath('lnd', binDir), s.args, path.join(s.lndDir, 'lnd.out'));
		const certFile = path.join(s.lndDir, 'tls.cert');
		s.tlsCertPem = await until(`${name}'s TLS certificate`, name, async () =>
			existsSync(certFile) ? readFileSync(certFile, 'utf8') : undefined
		);
		s.fetch = pinnedFetch(s.tlsCertPem);
		await until(`${name}'s wallet`, name, async () => {
			const st = await call<{ state?: string }>(name, 'GET', '/v1/state', undefined, false);
			return st.state === 'RPC_ACTIVE' || st.state === 'SERVER_ACTIVE' ? true : undefined;
		});
		s.adminMacaroonHex = await until(`${name}'s admin macaroon`, name, async () =>
			existsSync(macaroonPath(s)) ? readFileSync(macaroonPath(s)).toString('hex') : undefined
		);
	};
	const waitServerActive = (name: string) =>
		until(`${name} to reach SERVER_ACTIVE`, name, async () => {
			const st = await call<{ state?: string }>(name, 'GET', '/v1/state', undefined, false);
			return st.state === 'SERVER_ACTIVE' ? true : undefined;
		});
	const waitSynced = (name: string, height: number) =>
		until(
			`${name} to sync to block ${height}`,
			name,
			async () => {
				const info = await call<{ synced_to_chain?: boolean; block_height?: number }>(
					name,
					'GET',
					'/v1/getinfo'
				);
				return info.synced_to_chain === true && (info.block_height ?? 0) >= height
					? true
					: undefined;
			},
			200
		);
	const running = () => names.filter((n) => procs.get(n)?.exitReason === null);
	const mine = async (count: number) => {
		let left = count;
		while (left > 0) {
			const n = Math.min(left, 100);
			await btcdRpc('generate', [n]);
			left -= n;
		}
		const height = (await btcdRpc('getblockcount', [])) as number;
		await Promise.all(running().map((n) => waitSynced(n, height)));
	};

	let stopping: Promise<void> | null = null;
	const stopAll = () => {
		stopping ??= (async () => {
			await Promise.all(names.map((n) => stopProc(n)));
			await stopProc('btcd');
			rmSync(path.join(dir, PIDS_FILE), { force: true });
			rmSync(path.join(dir, PIDS_TEXT), { force: true });
			endSentinel();
		})();
		return stopping;
	};

	try {
		// btcd first, with nowhere to mine to yet: the hub's wallet gives the address once LND runs.
		await startBtcd(placeholderAddress());
		log(`btcd         regtest RPC ${host}:${btcdRpcPort}`);
		// --miningaddr is fixed at start: the hub's wallet is created first to give an address, then
		// btcd restarts mining to it. LND's wallet keeps a stale chain tip across a btcd restart
		// (its coin selection then finds no mature coins), so the hub restarts too.
		await startLnd(hubName);
		const hubAddress = (
			await call<{ address: string }>(hubName, 'GET', '/v1/newaddress?type=WITNESS_PUBKEY_HASH')
		).address;
		await stopProc(hubName);
		await stopProc('btcd');
		await startBtcd(hubAddress);
		await Promise.all(names.map((n) => startLnd(n)));
		// Past taproot activation, and 100 more so the coinbases are spendable.
		await mine(REGTEST_TAPROOT_HEIGHT + 100 + 8);
		await Promise.all(names.map(waitServerActive));
		log(
			`lnd          ${names.length} nodes SERVER_ACTIVE at block ${(await btcdRpc('getblockcount', [])) as number}`
		);

		const pubkeys = new Map<string, string>();
		for (const n of names)
			pubkeys.set(
				n,
				(await call<{ identity_pubkey: string }>(n, 'GET', '/v1/getinfo')).identity_pubkey
			);
		const pub = (n: string) => pubkeys.get(n)!;
		const spokes = names.filter((n) => n !== hubName);
		// Spokes that pay (vehicles) open their own channel to the hub; the hub opens to stations.
		const opensOwn = (n: string) => !n.startsWith('station');
		const fundSat = channelSat + 1_000_000n;
		// The hub's wallet sees its mature coinbases a moment after it reports the chain synced.
		const needSat = fundSat * BigInt(spokes.length) + channelSat * BigInt(spokes.length);
		await until(
			"the hub's mined coins",
			hubName,
			async () => {
				const b = await call<{ confirmed_balance?: string }>(
					hubName,
					'GET',
					'/v1/balance/blockchain'
				);
				return BigInt(b.confirmed_balance ?? '0') >= needSat ? true : undefined;
			},
			200
		);
		for (const n of spokes.filter(opensOwn)) {
			const addr = (
				await call<{ address: string }>(n, 'GET', '/v1/newaddress?type=WITNESS_PUBKEY_HASH')
			).address;
			// Right after a sync the wallet may still count its coinbases as immature: retry a while.
			await until(
				`the hub to fund ${n}`,
				hubName,
				async () => {
					await call(hubName, 'POST', '/v1/transactions', {
						addr,
						amount: fundSat.toString(),
						sat_per_vbyte: '2'
					});
					return true;
				},
				500
			);
		}
		await mine(1);
		for (const n of spokes.filter(opensOwn)) {
			await until(`${n}'s confirmed coins`, n, async () => {
				const b = await call<{ confirmed_balance?: string }>(n, 'GET', '/v1/balance/blockchain');
				return BigInt(b.confirmed_balance ?? '0') >= fundSat ? true : undefined;
			});
		}
		const hubP2p = `${host}:${nodePorts(0).p2p}`;
		for (const n of spokes) {
			await call(n, 'POST', '/v1/peers', {
				addr: { pubkey: pub(hubName), host: hubP2p },
				perm: false
			});
		}
		await until('peers connected to the hub', hubName, async () => {
			const peers = await call<{ peers?: { pub_key: string }[] }>(hubName, 'GET', '/v1/peers');
			const have = new Set((peers.peers ?? []).map((p) => p.pub_key));
			return spokes.every((n) => have.has(pub(n))) ? true : undefined;
		});
		for (const n of spokes) {
			const [from, to] = opensOwn(n) ? [n, hubName] : [hubName, n];
			await call(from, 'POST', '/v1/channels', {
				node_pubkey: hexToBase64(pub(to)),
				local_funding_amount: channelSat.toString(),
				push_sat: (channelSat / 2n).toString(),
				sat_per_vbyte: '2'
			});
		}
		// 6 confirmations: the channels get announced, and the graph learns both edges.
		await mine(6);
		for (const n of names) {
			const expected = n === hubName ? spokes.length : 1;
			await until(
				`${n}'s channels to become active`,
				n,
				async () => {
					const ch = await call<{ channels?: { active?: boolean }[] }>(
						n,
						'GET',
						'/v1/channels?active_only=true'
					);
					return (ch.channels ?? []).length >= expected ? true : undefined;
				},
				200
			);
		}
		// Every payer can route to every station through the hub.
		for (const payer of spokes.filter((n) => !n.startsWith('station'))) {
			for (const station of spokes.filter((n) => n.startsWith('station'))) {
				await until(
					`a route ${payer} → ${hubName} → ${station}`,
					payer,
					async () => {
						const r = await call<{ routes?: unknown[] }>(
							payer,
							'GET',
							`/v1/graph/routes/${pub(station)}/1000`
						).catch(() => ({ routes: [] }));
						return (r.routes ?? []).length > 0 ? true : undefined;
					},
					250
				);
			}
		}

		// Narrow macaroons for the apps, baked by lncli.
		const nodes: LndRegtestNode[] = [];
		for (const n of names) {
			const s = stateOf(n);
			const perms = APP_PERMISSIONS[permissionsOf(n)];
			const p = nodePorts(s.index);
			const baked = spawnSync(
				binaryPath('lncli', binDir),
				[
					`--lnddir=${s.lndDir}`,
					'--network=regtest',
					`--rpcserver=${host}:${p.rpc}`,
					'bakemacaroon',
					...perms
				],
				{ encoding: 'utf8', timeout: 30_000 }
			);
			const hex = baked.stdout.trim();
			if (baked.status !== 0 || !/^[0-9a-f]+$/.test(hex)) {
				throw new Error(
					`lncli bakemacaroon for ${n} failed: ${(baked.stderr || baked.stdout || String(baked.error)).trim()}`
				);
			}
			nodes.push({
				name: n,
				pubkey: pub(n),
				restUrl: restUrlOf(n),
				rpcHost: `${host}:${p.rpc}`,
				p2pHost: `${host}:${p.p2p}`,
				tlsCertPem: s.tlsCertPem,
				adminMacaroonHex: s.adminMacaroonHex,
				adminMacaroonPath: macaroonPath(s),
				appMacaroonHex: hex,
				appPermissions: perms,
				lndDir: s.lndDir
			});
		}
		const startMs = Date.now() - started;
		log(
			`lnd          channels open, routes ${spokes.join(', ')} via ${hubName} in ${(startMs / 1000).toFixed(1)} s`
		);

		return {
			nodes,
			startMs,
			node: (name) => {
				const found = nodes.find((x) => x.name === name);
				if (!found)
					throw new Error(`there is no LND node named "${name}" (nodes: ${names.join(', ')})`);
				return found;
			},
			mine,
			call: (name, method, urlPath, body) => call(name, method, urlPath, body),
			stopNode: (name) => {
				stateOf(name);
				return stopProc(name);
			},
			async startNode(name) {
				const s = stateOf(name);
				if (procs.get(name)?.exitReason === null) return;
				// A fresh tip: LND waits for one younger than 2 hours before it serves.
				await btcdRpc('generate', [1]);
				const local = Date.now() + 120_000;
				const saved = s.tlsCertPem;
				spawnProc(name, binaryPath('lnd', binDir), s.args, path.join(s.lndDir, 'lnd.out'));
				s.tlsCertPem = saved;
				for (;;) {
					if (died(name)) throw new Error(`${name} did not restart: ${died(name)}`);
					try {
						const st = await call<{ state?: string }>(name, 'GET', '/v1/state', undefined, false);
						if (st.state === 'SERVER_ACTIVE') break;
					} catch {
						// still starting
					}
					if (Date.now() > local)
						throw new Error(`${name} did not reach SERVER_ACTIVE within 120 s of a restart`);
					await sleep(200);
				}
				const expected = name === hubName ? names.length - 1 : 1;
				for (;;) {
					const ch = await call<{ channels?: unknown[] }>(
						name,
						'GET',
						'/v1/channels?active_only=true'
					).catch(() => ({ channels: [] }));
					if ((ch.channels ?? []).length >= expected) break;
					if (Date.now() > local)
						throw new Error(`${name}'s channels did not become active within 120 s of a restart`);
					await sleep(200);
				}
			},
			stop: stopAll
		};
	} catch (err) {
		await stopAll();
		throw err;
	}
}
