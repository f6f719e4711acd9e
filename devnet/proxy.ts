// Same-origin gateways on every app server, so a phone that opened an app over HTTPS reaches the
// loopback-only broker, chain and Lightning simnet through the page's own origin (no mixed content,
// one certificate): `/mqtt` (WebSocket upgrade piped to the broker), `/rpc` (JSON-RPC to the chain),
// `/ln/…` (the simnet's LND REST dialect, NDJSON streams passed through as they arrive).
// Also rewrites the manifest per origin so the apps pick those gateways up unchanged.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { DevnetManifest } from '../src/lib/config';
import {
	clientAddress,
	decodePath,
	encodePath,
	isLoopbackHostname,
	vetRpcBody,
	type RpcLimits
} from './guard';

export { isLoopbackHostname } from './guard';

export const PROXY_PATHS = { mqtt: '/mqtt', rpc: '/rpc', lightning: '/ln' } as const;

/** Where the gateways forward to: the devnet's own (loopback) endpoints. */
export interface ProxyTargets {
	/** `ws://…` of the broker's WebSocket listener. */
	brokerWsUrl: string;
	/** `http://…` JSON-RPC of the chain. */
	rpcUrl: string;
	/** Base URL of the Lightning simnet (node APIs live under `/nodes/{name}/`). */
	lightningUrl: string;
}

export interface ProxyOptions {
	/** Largest request body forwarded to `/rpc` or `/ln` (bytes). Default 1 MiB. */
	maxBodyBytes?: number;
	/** How long the upstream may take to answer with headers (a stream counts once it has started). Default 30 s. */
	upstreamTimeoutMs?: number;
	/** Most WebSocket connections open through `/mqtt` at once. Default 256. */
	maxWebSockets?: number;
	/** Most WebSocket connections one client address holds through `/mqtt` (loopback exempt). Default 16. */
	maxWebSocketsPerClient?: number;
	/** A `/mqtt` WebSocket with no traffic either way for this long is closed (MQTT keep-alive pings count). Default 120 s. */
	webSocketIdleMs?: number;
	/** How long an `eth_call` / `eth_estimateGas` may take before the gateway answers 504. Default 5 s. */
	callTimeoutMs?: number;
	/** Batch size, calldata and call gas of `/rpc` (see guard.ts). */
	rpc?: RpcLimits;
	/** Certificate the upstreams' TLS is checked against (the devnet's own, for a wss:// secure broker). */
	upstreamCa?: string;
}

export interface DevnetProxy {
	/** Handles `/rpc` and `/ln/…`; returns false for any other path (the caller serves it). */
	handleRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean;
	/** The server's `upgrade` listener: `/mqtt` is piped to the broker, anything else refused. */
	handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
	/** Closes every open WebSocket pipe and stream (the servers' own connections close separately). */
	close(): void;
}

/** The gateways' targets from the devnet's own manifest; null while it is still starting. */
export function targetsFromManifest(manifest: DevnetManifest | null): ProxyTargets | null {
	if (manifest === null) return null;
	return {
		brokerWsUrl: manifest.broker.wsUrl,
		rpcUrl: manifest.chain.rpcUrl,
		lightningUrl: manifest.lightning.url
	};
}

// Hop-by-hop headers (RFC 9110 §7.6.1) never cross a proxy.
const HOP_BY_HOP = new Set([
	'connection',
	'keep-alive',
	'proxy-connection',
	'proxy-authenticate',
	'proxy-authorization',
	'te',
	'trailer',
	'transfer-encoding',
	'upgrade',
	'host',
	'content-length'
]);

function forwardableHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
	const out: http.OutgoingHttpHeaders = {};
	const listedInConnection = new Set(
		String(headers.connection ?? '')
			.split(',')
			.map((h) => h.trim().toLowerCase())
			.filter(Boolean)
	);
	for (const [name, value] of Object.entries(headers)) {
		if (value === undefined || HOP_BY_HOP.has(name) || listedInConnection.has(name)) continue;
		out[name] = value;
	}
	return out;
}

function sendJsonError(
	res: http.ServerResponse,
	status: number,
	error: string,
	message: string
): void {
	if (res.headersSent) {
		res.destroy();
		return;
	}
	const body = JSON.stringify({ error, message });
	res.writeHead(status, {
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(body),
		'Cache-Control': 'no-store',
		'Access-Control-Allow-Origin': '*'
	});
	res.end(body);
}

function describeUpstreamError(err: unknown): string {
	const code = (err as NodeJS.ErrnoException | undefined)?.code;
	if (code === 'ECONNREFUSED') return 'refused the connection (is it running?)';
	if (code === 'ECONNRESET') return 'closed the connection';
	return err instanceof Error ? err.message : String(err);
}

/** Reads a request body up to `limit` bytes; null (and the request drained) when it is larger. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
	return new Promise((resolve, reject) => {
		const declared = Number(req.headers['content-length'] ?? 0);
		if (Number.isFinite(declared) && declared > limit) {
			req.resume();
			resolve(null);
			return;
		}
		const chunks: Buffer[] = [];
		let size = 0;
		let tooLarge = false;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > limit) tooLarge = true;
			else chunks.push(chunk);
		});
		req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

function clientFor(url: URL): typeof http | typeof https {
	return url.protocol === 'https:' || url.protocol === 'wss:' ? https : http;
}

export function createDevnetProxy(
	getTargets: () => ProxyTargets | null,
	opts: ProxyOptions = {}
): DevnetProxy {
	const maxBodyBytes = opts.maxBodyBytes ?? 1024 * 1024;
	const upstreamTimeoutMs = opts.upstreamTimeoutMs ?? 30_000;
	const maxWebSockets = opts.maxWebSockets ?? 256;
	const maxWebSocketsPerClient = opts.maxWebSocketsPerClient ?? 16;
	const webSocketIdleMs = opts.webSocketIdleMs ?? 120_000;
	const callTimeoutMs = opts.callTimeoutMs ?? 5_000;
	const socketsPerClient = new Map<string, number>();
	const openSockets = new Set<Duplex>();
	const openRequests = new Set<http.ClientRequest>();

	async function forward(
		req: http.IncomingMessage,
		res: http.ServerResponse,
		upstream: URL,
		what: string
	): Promise<void> {
		const method = req.method ?? 'GET';
		let body: Buffer | null = Buffer.alloc(0);
		if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') {
			body = await readBody(req, maxBodyBytes);
			if (body === null) {
				sendJsonError(
					res,
					413,
					'request_too_large',
					`The request body is larger than ${maxBodyBytes} bytes, the limit of the devnet's ${what} gateway.`
				);
				return;
			}
		}
		let headTimeoutMs = upstreamTimeoutMs;
		if (what === 'chain RPC' && method === 'POST') {
			const vetted = vetRpcBody(body, opts.rpc);
			if (!vetted.ok) {
				sendJsonError(res, vetted.status, vetted.error, vetted.message);
				return;
			}
			body = vetted.body;
			if (vetted.executes) headTimeoutMs = Math.min(upstreamTimeoutMs, callTimeoutMs);
		}
		const headers = forwardableHeaders(req.headers);
		headers.host = upstream.host;
		// The gateway has checked the page's origin (its Host); the loopback upstream's own Origin rule is for pages that call it directly.
		delete headers.origin;
		delete headers.referer;
		if (
			body.length > 0 ||
			method === 'POST' ||
			method === 'PUT' ||
			method === 'PATCH' ||
			method === 'DELETE'
		)
			headers['content-length'] = body.length;
		const forwardedProto = req.socket && 'encrypted' in req.socket ? 'https' : 'http';
		headers['x-forwarded-proto'] = forwardedProto;
		if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;

		const upstreamReq = clientFor(upstream).request(upstream, { method, headers, agent: false });
		openRequests.add(upstreamReq);
		upstreamReq.on('close', () => openRequests.delete(upstreamReq));
		// Only the wait for the response head is bounded; an NDJSON stream may then stay open for long.
		let timedOut = false;
		const headTimer = setTimeout(() => {
			timedOut = true;
			upstreamReq.destroy(new Error(`gave no answer within ${headTimeoutMs} ms`));
		}, headTimeoutMs);
		// The browser went away: end the upstream call too (a Lightning stream subscription ends with it).
		res.on('close', () => {
			if (!res.writableFinished) upstreamReq.destroy();
		});
		upstreamReq.on('error', (err) => {
			clearTimeout(headTimer);
			if (timedOut)
				sendJsonError(
					res,
					504,
					'gateway_timeout',
					`The devnet's ${what} ${describeUpstreamError(err)}; the call was given up.`
				);
			else
				sendJsonError(
					res,
					502,
					'bad_gateway',
					`The devnet's ${what} at ${upstream.origin} ${describeUpstreamError(err)}.`
				);
		});
		upstreamReq.on('response', (upstreamRes) => {
			clearTimeout(headTimer);
			res.writeHead(
				upstreamRes.statusCode ?? 502,
				upstreamRes.statusMessage,
				forwardableHeaders(upstreamRes.headers)
			);
			// Send the head now: a stream's first line may be a while away, and the client waits on it.
			res.flushHeaders();
			upstreamRes.on('data', (chunk: Buffer) => {
				// No buffering: each chunk is written as it arrives, so NDJSON lines flow one by one.
				if (!res.write(chunk)) {
					upstreamRes.pause();
					res.once('drain', () => upstreamRes.resume());
				}
			});
			upstreamRes.on('end', () => res.end());
			upstreamRes.on('error', () => res.destroy());
			upstreamRes.on('aborted', () => res.destroy());
		});
		upstreamReq.end(body.length > 0 ? body : undefined);
	}

	function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
		const raw = req.url ?? '/';
		const queryAt = raw.indexOf('?');
		const rawPath = queryAt >= 0 ? raw.slice(0, queryAt) : raw;
		const query = queryAt >= 0 ? raw.slice(queryAt) : '';
		// Decoded and normalised once, before any rule: what is checked is what goes upstream.
		const decoded = decodePath(rawPath);
		if (!decoded.ok) {
			sendJsonError(res, 400, 'bad_path', decoded.message);
			return true;
		}
		const segments = decoded.segments;
		const first = segments[0] ?? '';
		const isRpc = first === 'rpc';
		const isLightning = first === 'ln';
		if (!isRpc && !isLightning && first !== 'mqtt') return false;

		const targets = getTargets();
		if (targets === null) {
			sendJsonError(res, 503, 'starting', 'The devnet is still starting; try again in a moment.');
			return true;
		}
		if (first === 'mqtt') {
			sendJsonError(
				res,
				426,
				'upgrade_required',
				`${PROXY_PATHS.mqtt} carries MQTT over WebSocket only: connect with a WebSocket client (wss:// on HTTPS).`
			);
			return true;
		}
		let upstream: URL;
		let what: string;
		if (isRpc) {
			const method = req.method ?? 'GET';
			if (segments.length !== 1) {
				sendJsonError(res, 404, 'not_found', `${PROXY_PATHS.rpc} has no sub-paths.`);
				return true;
			}
			if (method !== 'POST' && method !== 'OPTIONS') {
				res.setHeader('Allow', 'POST, OPTIONS');
				sendJsonError(
					res,
					405,
					'method_not_allowed',
					`${PROXY_PATHS.rpc} takes JSON-RPC requests by POST.`
				);
				return true;
			}
			upstream = new URL(targets.rpcUrl);
			if (query) upstream.search = query;
			what = 'chain RPC';
		} else {
			// Only the nodes' LND APIs: the simnet's /admin API has no authentication and stays on loopback.
			const node = segments[2] ?? '';
			if (
				segments[1] !== 'nodes' ||
				!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(node) ||
				segments.length < 4
			) {
				sendJsonError(
					res,
					404,
					'not_found',
					`${PROXY_PATHS.lightning} serves the Lightning nodes' APIs only (${PROXY_PATHS.lightning}/nodes/<name>/…).`
				);
				return true;
			}
			const base = new URL(targets.lightningUrl);
			upstream = new URL(
				`${base.origin}${base.pathname.replace(/\/$/, '')}${encodePath(segments.slice(1))}${query}`
			);
			what = 'Lightning simnet';
		}
		forward(req, res, upstream, what).catch((err: unknown) => {
			sendJsonError(
				res,
				400,
				'bad_request',
				`The request could not be read: ${err instanceof Error ? err.message : String(err)}`
			);
		});
		return true;
	}

	function refuseUpgrade(socket: Duplex, status: number, reason: string, message: string): void {
		const body = JSON.stringify({ error: reason, message });
		socket.end(
			`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
				`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
		);
	}

	function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
		socket.on('error', () => socket.destroy());
		const decoded = decodePath((req.url ?? '/').split('?')[0] ?? '/');
		if (!decoded.ok || decoded.segments.length !== 1 || decoded.segments[0] !== 'mqtt') {
			refuseUpgrade(
				socket,
				404,
				'not_found',
				`Only ${PROXY_PATHS.mqtt} accepts WebSocket connections here.`
			);
			return;
		}
		if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
			refuseUpgrade(socket, 400, 'bad_request', `${PROXY_PATHS.mqtt} upgrades to WebSocket only.`);
			return;
		}
		const targets = getTargets();
		if (targets === null) {
			refuseUpgrade(
				socket,
				503,
				'starting',
				'The devnet is still starting; try again in a moment.'
			);
			return;
		}
		if (openSockets.size >= maxWebSockets) {
			refuseUpgrade(
				socket,
				503,
				'too_many_connections',
				`The devnet's MQTT gateway already carries ${maxWebSockets} connections.`
			);
			return;
		}
		const client = clientAddress(req.socket);
		const perClient = isLoopbackHostname(client) ? 0 : (socketsPerClient.get(client) ?? 0);
		if (perClient >= maxWebSocketsPerClient) {
			refuseUpgrade(
				socket,
				429,
				'too_many_connections',
				`This device already has ${maxWebSocketsPerClient} connections open to the devnet's MQTT gateway; close one first.`
			);
			return;
		}
		if (!isLoopbackHostname(client)) socketsPerClient.set(client, perClient + 1);
		// No traffic either way for this long (MQTT keep-alive pings count): the connection is let go.
		(socket as Partial<net.Socket>).setTimeout?.(webSocketIdleMs, () => socket.destroy());
		const upstream = new URL(targets.brokerWsUrl);
		const headers = forwardableHeaders(req.headers);
		headers.host = upstream.host;
		delete headers.origin;
		headers.connection = 'Upgrade';
		headers.upgrade = 'websocket';
		const upstreamReq = clientFor(upstream).request({
			protocol: upstream.protocol === 'wss:' ? 'https:' : 'http:',
			hostname: upstream.hostname.replace(/^\[|\]$/g, ''),
			port: upstream.port,
			path: `${upstream.pathname}${upstream.search}`,
			method: 'GET',
			headers,
			agent: false,
			...(opts.upstreamCa !== undefined && { ca: opts.upstreamCa })
		});
		openSockets.add(socket);
		socket.on('close', () => {
			openSockets.delete(socket);
			if (!isLoopbackHostname(client)) {
				const left = (socketsPerClient.get(client) ?? 1) - 1;
				if (left <= 0) socketsPerClient.delete(client);
				else socketsPerClient.set(client, left);
			}
			upstreamReq.destroy();
		});
		const headTimer = setTimeout(
			() => upstreamReq.destroy(new Error(`no answer within ${upstreamTimeoutMs} ms`)),
			upstreamTimeoutMs
		);
		upstreamReq.on('error', (err) => {
			clearTimeout(headTimer);
			if (socket.writable)
				refuseUpgrade(
					socket,
					502,
					'bad_gateway',
					`The devnet's MQTT broker at ${upstream.origin.replace(/^http/, 'ws')} ${describeUpstreamError(err)}.`
				);
		});
		upstreamReq.on('response', (res) => {
			clearTimeout(headTimer);
			res.resume();
			refuseUpgrade(
				socket,
				502,
				'bad_gateway',
				`The devnet's MQTT broker refused the WebSocket upgrade (${res.statusCode ?? '?'} ${res.statusMessage ?? ''}).`
			);
		});
		upstreamReq.on('upgrade', (upstreamRes, upstreamSocket: net.Socket, upstreamHead: Buffer) => {
			clearTimeout(headTimer);
			upstreamSocket.on('error', () => socket.destroy());
			socket.on('close', () => upstreamSocket.destroy());
			upstreamSocket.on('close', () => socket.destroy());
			if (!socket.writable) {
				upstreamSocket.destroy();
				return;
			}
			// MQTT is many small frames: no Nagle delay on either leg.
			upstreamSocket.setNoDelay(true);
			if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function')
				(socket as net.Socket).setNoDelay(true);
			const lines = [`HTTP/1.1 101 ${upstreamRes.statusMessage ?? 'Switching Protocols'}`];
			const raw = upstreamRes.rawHeaders;
			for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
			socket.write(`${lines.join('\r\n')}\r\n\r\n`);
			if (upstreamHead.length > 0) socket.write(upstreamHead);
			if (head.length > 0) upstreamSocket.write(head);
			upstreamSocket.pipe(socket);
			socket.pipe(upstreamSocket);
		});
		upstreamReq.end();
	}

	return {
		handleRequest,
		handleUpgrade,
		close() {
			for (const socket of openSockets) socket.destroy();
			for (const req of openRequests) req.destroy();
		}
	};
}

// ---- per-origin manifest ----

/** Where each app listens, to name the wallet and kiosk URLs on the origin a request came to. */
export interface AppPorts {
	wallet: { port: number; httpsPort: number | null };
	kiosk: { port: number; httpsPort: number | null };
}

/** The origin a request arrived on: its scheme and the Host it named. */
export interface RequestOrigin {
	secure: boolean;
	/** `hostname[:port]`, as in the Host header. */
	host: string;
}

/**
 * The request's origin from its Host header, or null when there is none or it is not a bare
 * `host[:port]` (so a forged Host cannot smuggle a path or credentials into the manifest).
 */
export function requestOrigin(req: http.IncomingMessage): RequestOrigin | null {
	const secure =
		'encrypted' in req.socket && (req.socket as { encrypted?: boolean }).encrypted === true;
	const host = req.headers.host;
	if (typeof host !== 'string' || host === '' || host.length > 255) return null;
	let parsed: URL;
	try {
		parsed = new URL(`${secure ? 'https' : 'http'}://${host}`);
	} catch {
		return null;
	}
	if (parsed.username || parsed.password || parsed.pathname !== '/' || parsed.search || parsed.hash)
		return null;
	if (
		parsed.host !== host.toLowerCase() &&
		`${parsed.host}:${secure ? 443 : 80}` !== host.toLowerCase()
	)
		return null;
	return { secure, host: parsed.host };
}

/** Loopback plain-HTTP requests (desktop browser, tests) keep the direct URLs; every other origin gets its gateways. */
export function needsRewrite(origin: RequestOrigin): boolean {
	return origin.secure || !isLoopbackHostname(new URL(`http://${origin.host}`).hostname);
}

/**
 * The manifest as seen from `origin`: broker, chain RPC and Lightning URLs point at that origin's
 * gateways (wss/https on HTTPS), and the wallet and kiosk URLs at the same host name on their own
 * ports, so a phone that reached this server by its LAN address gets links it can open too.
 * Lightning nodes outside the devnet's simnet keep their own URLs.
 */
export function manifestForOrigin(
	manifest: DevnetManifest,
	origin: RequestOrigin,
	apps: AppPorts
): DevnetManifest {
	const scheme = origin.secure ? 'https' : 'http';
	const base = `${scheme}://${origin.host}`;
	const hostname = new URL(base).hostname; // keeps IPv6 brackets
	const appUrls = (
		app: AppPorts['wallet'],
		current: DevnetManifest['wallet']
	): DevnetManifest['wallet'] => {
		const httpsUrl = app.httpsPort !== null ? `https://${hostname}:${app.httpsPort}/` : null;
		return {
			url: origin.secure ? (httpsUrl ?? current.url) : `http://${hostname}:${app.port}/`,
			httpsUrl
		};
	};
	const simnetBase = manifest.lightning.url.replace(/\/$/, '');
	const lightningBase = `${base}${PROXY_PATHS.lightning}`;
	const viaGateway = (restUrl: string): string =>
		restUrl === simnetBase || restUrl.startsWith(`${simnetBase}/`)
			? `${lightningBase}${restUrl.slice(simnetBase.length)}`
			: restUrl;
	return {
		...manifest,
		wallet: appUrls(apps.wallet, manifest.wallet),
		kiosk: appUrls(apps.kiosk, manifest.kiosk),
		chain: { ...manifest.chain, rpcUrl: `${base}${PROXY_PATHS.rpc}` },
		broker: {
			...manifest.broker,
			wsUrl: `${origin.secure ? 'wss' : 'ws'}://${origin.host}${PROXY_PATHS.mqtt}`
		},
		lightning: {
			...manifest.lightning,
			url: lightningBase,
			nodes: Object.fromEntries(
				Object.entries(manifest.lightning.nodes).map(([name, node]) => [
					name,
					{ ...node, restUrl: viaGateway(node.restUrl) }
				])
			)
		}
	};
}
