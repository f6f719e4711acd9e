// What every devnet HTTP server checks before it acts on a request from the network: the Host it was
// asked for (no DNS rebinding), how many connections and requests one client has open or sent, the
// path decoded and normalised once before any rule looks at it, and the JSON-RPC the /rpc gateway
// forwards (methods, batch size, calldata, the gas and time of calls). Node only, no framework.
import type http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import { Transaction } from 'ethers';

// ---- paths ----

export type DecodedPath = { ok: true; segments: string[] } | { ok: false; message: string };

/**
 * Splits a request path (no query) into segments decoded exactly once. Refused: backslashes, `.` and
 * `..` in any spelling (`%2e%2e`, `.%2E`, …), an encoded `/`, `\` or `%` (double encoding), control
 * characters, empty segments but a trailing one, and malformed escapes. A gateway checks the
 * segments and rebuilds the upstream path from them (`encodePath`), so what it checked is what the
 * upstream gets: nothing left for a URL parser on the far side to collapse.
 */
export function decodePath(rawPath: string): DecodedPath {
	if (!rawPath.startsWith('/')) return { ok: false, message: 'The path must start with "/".' };
	if (rawPath.includes('\\')) return { ok: false, message: 'The path contains a backslash.' };
	const raw = rawPath.slice(1).split('/');
	const segments: string[] = [];
	for (let i = 0; i < raw.length; i++) {
		const part = raw[i] ?? '';
		if (part === '') {
			if (i === raw.length - 1) break;
			return { ok: false, message: 'The path contains an empty segment ("//").' };
		}
		let decoded: string;
		try {
			decoded = decodeURIComponent(part);
		} catch {
			return { ok: false, message: 'The path contains a malformed %-escape.' };
		}
		if (decoded === '.' || decoded === '..')
			return { ok: false, message: 'The path contains a "." or ".." segment.' };
		if (/[/\\%]/.test(decoded))
			return { ok: false, message: 'The path contains an encoded "/", "\\" or "%".' };
		if (/[\u0000-\u001f\u007f]/.test(decoded))
			return { ok: false, message: 'The path contains a control character.' };
		segments.push(decoded);
	}
	return { ok: true, segments };
}

/**
 * The path of already-checked segments, each percent-encoded on its own; the characters RFC 3986
 * allows in a segment as they are (`=` of base64 padding, `:`, `@`, …), so an upstream that reads
 * its path raw sees what the client sent.
 */
export function encodePath(segments: readonly string[]): string {
	const encode = (s: string) =>
		encodeURIComponent(s).replace(/%(3A|40|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi, (_, hex: string) =>
			String.fromCharCode(parseInt(hex, 16))
		);
	return `/${segments.map(encode).join('/')}`;
}

// ---- Host names (DNS rebinding) ----

/** True for names that only ever reach this machine: localhost, *.localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHostname(hostname: string): boolean {
	const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
	return (
		h === 'localhost' || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h) || h === '::1'
	);
}

/** Every address of this machine's interfaces (IPv4 and IPv6, without zone ids). */
function interfaceAddresses(): string[] {
	const found: string[] = [];
	for (const infos of Object.values(os.networkInterfaces())) {
		for (const info of infos ?? []) found.push(info.address.replace(/%.*$/, '').toLowerCase());
	}
	return found;
}

export interface HostCheckOptions {
	/** More names the devnet answers to (e.g. a venue's DNS name); from LIGHTCHARGE_DEVNET_HOSTS too (comma separated). */
	extraNames?: string[];
	/** This machine's addresses; default read from its interfaces (refreshed every few seconds). */
	addresses?: () => string[];
}

/**
 * A check of the Host header against the names this machine really has: loopback names, its
 * interface addresses, its host name (and `<name>.local`). A page on `evil.example` that re-points its
 * DNS at this machine still sends `Host: evil.example`, and is refused.
 */
export function createHostCheck(
	opts: HostCheckOptions = {}
): (host: string | undefined) => boolean {
	const fromEnv = (process.env.LIGHTCHARGE_DEVNET_HOSTS ?? '')
		.split(',')
		.map((s) => s.trim().toLowerCase())
		.filter(Boolean);
	const names = new Set([...(opts.extraNames ?? []).map((s) => s.toLowerCase()), ...fromEnv]);
	const hostName = os.hostname().toLowerCase();
	if (hostName) {
		names.add(hostName);
		names.add(`${hostName}.local`);
	}
	const addresses = opts.addresses ?? interfaceAddresses;
	let cached: { at: number; set: Set<string> } | null = null;
	const current = (): Set<string> => {
		const now = Date.now();
		if (cached === null || now - cached.at > 5000)
			cached = { at: now, set: new Set(addresses().map((a) => a.toLowerCase())) };
		return cached.set;
	};
	return (host) => {
		if (typeof host !== 'string' || host === '' || host.length > 255) return false;
		let hostname: string;
		try {
			const parsed = new URL(`http://${host}`);
			if (
				parsed.username ||
				parsed.password ||
				parsed.pathname !== '/' ||
				parsed.search ||
				parsed.hash
			)
				return false;
			hostname = parsed.hostname.toLowerCase();
		} catch {
			return false;
		}
		const bare = hostname.replace(/^\[|\]$/g, '');
		return isLoopbackHostname(bare) || names.has(bare) || current().has(bare);
	};
}

/** Answers a refused Host with 421 and a sentence (the connection may be reused for a right name). */
export function refuseHost(res: http.ServerResponse): void {
	const body = JSON.stringify({
		error: 'unknown_host',
		message:
			'This devnet answers only to its own names (localhost, this machine’s addresses and host name); add others with LIGHTCHARGE_DEVNET_HOSTS.'
	});
	res.writeHead(421, {
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(body),
		'Cache-Control': 'no-store'
	});
	res.end(body);
}

// ---- per-client connections and requests ----

export interface ClientLimitOptions {
	/** Open TCP connections one client address may hold on a server. Default 64. */
	maxConnectionsPerClient?: number;
	/** Sustained requests per second per client address. Default 50. */
	requestsPerSecond?: number;
	/** Requests one client may send in a burst before the rate applies. Default 400. */
	burst?: number;
	/** Loopback clients (this machine: the operator, tests) are not limited. Default true. */
	exemptLoopback?: boolean;
}

export interface ClientLimits {
	/** Counts the server's connections per client, closing any over the cap at once. */
	attach(server: net.Server): void;
	/** Takes one request from the client's allowance; false (answer 429) when it is spent. */
	takeRequest(req: http.IncomingMessage): boolean;
	/** Counts of what was refused, for the tests and the console. */
	readonly refused: { connections: number; requests: number };
}

/** The client's address as a plain string (IPv4-mapped IPv6 unwrapped). */
export function clientAddress(socket: net.Socket | undefined): string {
	const a = socket?.remoteAddress ?? '';
	return a.startsWith('::ffff:') ? a.slice(7) : a;
}

const MAX_TRACKED_CLIENTS = 10_000;

export function createClientLimits(opts: ClientLimitOptions = {}): ClientLimits {
	const maxConnections = opts.maxConnectionsPerClient ?? 64;
	const rate = opts.requestsPerSecond ?? 50;
	const burst = opts.burst ?? 400;
	const exemptLoopback = opts.exemptLoopback ?? true;
	const connections = new Map<string, number>();
	const buckets = new Map<string, { tokens: number; at: number }>();
	const refused = { connections: 0, requests: 0 };
	const exempt = (addr: string) => exemptLoopback && isLoopbackHostname(addr);
	return {
		refused,
		attach(server) {
			server.on('connection', (socket: net.Socket) => {
				const addr = clientAddress(socket);
				if (exempt(addr)) return;
				const open = connections.get(addr) ?? 0;
				if (open >= maxConnections) {
					refused.connections++;
					socket.destroy();
					return;
				}
				connections.set(addr, open + 1);
				socket.once('close', () => {
					const left = (connections.get(addr) ?? 1) - 1;
					if (left <= 0) connections.delete(addr);
					else connections.set(addr, left);
				});
			});
		},
		takeRequest(req) {
			const addr = clientAddress(req.socket);
			if (exempt(addr)) return true;
			const now = Date.now();
			let bucket = buckets.get(addr);
			if (bucket === undefined) {
				if (buckets.size >= MAX_TRACKED_CLIENTS) {
					// Forget clients whose allowance has refilled: they lose nothing.
					for (const [key, b] of buckets)
						if (b.tokens + ((now - b.at) / 1000) * rate >= burst) buckets.delete(key);
					if (buckets.size >= MAX_TRACKED_CLIENTS) buckets.clear();
				}
				bucket = { tokens: burst, at: now };
				buckets.set(addr, bucket);
			}
			bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
			bucket.at = now;
			if (bucket.tokens < 1) {
				refused.requests++;
				return false;
			}
			bucket.tokens -= 1;
			return true;
		}
	};
}

// ---- JSON-RPC through /rpc ----

/**
 * The only methods the /rpc gateway forwards: reading the chain, estimating and calling, and sending
 * transactions the client signed itself. Nothing that uses the node's own accounts (eth_accounts,
 * eth_sendTransaction, eth_sign…) or drives the dev chain (hardhat_*, evm_*, debug_*…).
 */
export const RPC_ALLOWED = new Set([
	'eth_chainId',
	'net_version',
	'net_listening',
	'web3_clientVersion',
	'eth_syncing',
	'eth_blockNumber',
	'eth_gasPrice',
	'eth_maxPriorityFeePerGas',
	'eth_feeHistory',
	'eth_getBalance',
	'eth_getCode',
	'eth_getStorageAt',
	'eth_getTransactionCount',
	'eth_getBlockByNumber',
	'eth_getBlockByHash',
	'eth_getBlockTransactionCountByNumber',
	'eth_getTransactionByHash',
	'eth_getTransactionReceipt',
	'eth_getLogs',
	'eth_newFilter',
	'eth_newBlockFilter',
	'eth_getFilterChanges',
	'eth_getFilterLogs',
	'eth_uninstallFilter',
	'eth_call',
	'eth_estimateGas',
	'eth_sendRawTransaction'
]);

/** Methods that run contract code; their gas is clamped and their answer time bounded. */
export const RPC_EXECUTING = new Set(['eth_call', 'eth_estimateGas']);

export interface RpcLimits {
	/** Most calls in one batch. Default 20. */
	maxBatch?: number;
	/** Largest calldata of a call and largest signed transaction (bytes). Default 128 KiB. */
	maxCalldataBytes?: number;
	/**
	 * Gas an eth_call / eth_estimateGas may use at most (a larger or missing `gas` is clamped), and the
	 * largest gas limit of a signed transaction. Default 1,000,000: Hardhat's EVM keeps a trace of
	 * every step, so a looping call of 10M gas took 14 s and 2.5 GB (1M: 0.4 s, ~140 MB, reused);
	 * the apps' largest write needs well under 300k.
	 */
	maxCallGas?: bigint;
}

export type VettedRpc =
	| { ok: true; body: Buffer; executes: boolean }
	| { ok: false; status: number; error: string; message: string };

const HEX = /^0x[0-9a-fA-F]*$/;

function refuse(status: number, error: string, message: string): VettedRpc {
	return { ok: false, status, error, message };
}

/**
 * Checks one /rpc body and returns what to forward: a JSON-RPC request or batch of allowed methods
 * within the limits, with the gas of every eth_call / eth_estimateGas clamped (state overrides
 * refused). Anything else is refused with a sentence.
 */
export function vetRpcBody(body: Buffer, limits: RpcLimits = {}): VettedRpc {
	const maxBatch = limits.maxBatch ?? 20;
	const maxCalldata = limits.maxCalldataBytes ?? 128 * 1024;
	const maxGas = limits.maxCallGas ?? 1_000_000n;
	let parsed: unknown;
	try {
		parsed = JSON.parse(body.toString('utf8'));
	} catch {
		return refuse(
			400,
			'parse_error',
			'The request body is not JSON: the /rpc gateway takes JSON-RPC 2.0 requests.'
		);
	}
	const batch = Array.isArray(parsed);
	const calls: unknown[] = batch ? (parsed as unknown[]) : [parsed];
	if (calls.length === 0) return refuse(400, 'invalid_request', 'The JSON-RPC batch is empty.');
	if (calls.length > maxBatch)
		return refuse(
			413,
			'batch_too_large',
			`The JSON-RPC batch has ${calls.length} calls; the devnet's /rpc gateway takes at most ${maxBatch}.`
		);
	let changed = false;
	let executes = false;
	for (const call of calls) {
		if (typeof call !== 'object' || call === null || Array.isArray(call))
			return refuse(400, 'invalid_request', 'Each JSON-RPC call must be an object.');
		const c = call as { method?: unknown; params?: unknown };
		if (typeof c.method !== 'string')
			return refuse(400, 'invalid_request', 'A JSON-RPC call has no method name.');
		if (!RPC_ALLOWED.has(c.method)) {
			return refuse(
				403,
				'forbidden',
				`${c.method.slice(0, 64)} is not available through the devnet's /rpc gateway; local tools can use the chain's own URL.`
			);
		}
		if (c.params !== undefined && !Array.isArray(c.params))
			return refuse(400, 'invalid_request', `The params of ${c.method} must be an array.`);
		const params = (c.params ?? []) as unknown[];
		if (c.method === 'eth_sendRawTransaction') {
			const raw = params[0];
			if (typeof raw !== 'string' || !HEX.test(raw))
				return refuse(
					400,
					'invalid_params',
					'eth_sendRawTransaction takes one signed transaction as 0x-hex.'
				);
			if ((raw.length - 2) / 2 > maxCalldata)
				return refuse(
					413,
					'transaction_too_large',
					`The signed transaction is ${(raw.length - 2) / 2} bytes; the devnet takes at most ${maxCalldata}.`
				);
			let gasLimit: bigint;
			try {
				gasLimit = Transaction.from(raw).gasLimit;
			} catch {
				return refuse(
					400,
					'invalid_params',
					'eth_sendRawTransaction got bytes that are not a signed transaction.'
				);
			}
			if (gasLimit > maxGas)
				return refuse(
					413,
					'gas_too_high',
					`The transaction asks for ${gasLimit} gas; the devnet's gateway takes at most ${maxGas} per transaction.`
				);
		}
		if (RPC_EXECUTING.has(c.method)) {
			executes = true;
			if (params.length > 2)
				return refuse(
					400,
					'invalid_params',
					`${c.method} takes a transaction and a block; state overrides are not available through the gateway.`
				);
			const tx = params[0];
			if (typeof tx !== 'object' || tx === null || Array.isArray(tx))
				return refuse(400, 'invalid_params', `${c.method} needs a transaction object.`);
			const t = tx as Record<string, unknown>;
			for (const field of ['data', 'input'] as const) {
				const v = t[field];
				if (v === undefined || v === null) continue;
				if (typeof v !== 'string' || !HEX.test(v))
					return refuse(400, 'invalid_params', `The ${field} of ${c.method} must be 0x-hex.`);
				if ((v.length - 2) / 2 > maxCalldata)
					return refuse(
						413,
						'calldata_too_large',
						`The calldata is ${(v.length - 2) / 2} bytes; the devnet takes at most ${maxCalldata}.`
					);
			}
			let gas: bigint | null = null;
			if (t.gas !== undefined && t.gas !== null) {
				try {
					gas = typeof t.gas === 'string' || typeof t.gas === 'number' ? BigInt(t.gas) : null;
				} catch {
					gas = null;
				}
				if (gas === null || gas < 0n)
					return refuse(400, 'invalid_params', `The gas of ${c.method} must be a quantity.`);
			}
			if (gas === null || gas > maxGas) {
				t.gas = `0x${maxGas.toString(16)}`;
				changed = true;
			}
		}
	}
	return {
		ok: true,
		body: changed ? Buffer.from(JSON.stringify(batch ? calls : calls[0])) : body,
		executes
	};
}
