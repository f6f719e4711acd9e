// The devnet's Lightning network: a Simnet served over HTTP in LND's REST dialect, one base URL
// per node (`${url}/nodes/${name}`), so the LND REST backend (and any LND REST client) can talk to
// it unchanged. Node only. Routes, admin API, views and the state file live beside this file.
// It answers only to this machine's own Host names (no DNS rebinding), and its unauthenticated
// /admin API never to a browser page (a request naming an Origin) and never with CORS headers.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { buildHubTopology, Simnet } from '../../src/lib/lightning/simnet/index.js';
import { createHostCheck } from '../guard.js';
import { simnetAdmin } from './admin.js';
import { ADMIN_OPS, allows, bake, MacaroonError, verify, type MacaroonOp } from './macaroon.js';
import { CORS_HEADERS, GRPC, HttpError, sendError, Streams, toHttpError } from './http.js';
import { simnetRoutes } from './routes.js';
import { autosave, loadState } from './state-file.js';

/** How long the devnet's simnet keeps a payment in flight before it settles, unless told otherwise. */
export const DEFAULT_SETTLE_DELAY_MS = 50;

/**
 * How long an idle kept-alive connection stays open: as LND's Go server (65 s, past clients' own idle
 * timeouts), not Node's 5 s, which closed sockets clients were about to reuse ("cannot be reached" under load).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Above the keep-alive timeout, as Node requires, so a reused socket is not cut mid-headers. */
export const HEADERS_TIMEOUT_MS = 66_000;

export interface LightningSimnetOptions {
	host?: string;
	port: number;
	stateFile?: string;
	/** Default ['hub', 'station-1', 'vehicle-1']; the first is the hub. */
	nodes?: string[];
	/** Size of each spoke's channel with the hub (default 2,000,000 sat). */
	channelSat?: bigint;
	/** How long a payment stays in flight (default DEFAULT_SETTLE_DELAY_MS). */
	settleDelayMs?: number;
}

export interface LightningSimnetNodeInfo {
	name: string;
	restUrl: string;
	macaroonHex: string;
	pubkey: string;
}

export interface LightningSimnet {
	url: string;
	nodes: LightningSimnetNodeInfo[];
	network: Simnet;
	/** The admin macaroon of a node (also one created later through the admin API). */
	macaroonFor(name: string): string;
	/** A new macaroon for node `name` that allows `ops` only (LND's `bakemacaroon`). */
	bakeMacaroon(name: string, ops: readonly MacaroonOp[]): string;
	/** Creates node `name` with a funded channel to the hub (as the admin API's POST /admin/nodes). */
	addSpoke(name: string): LightningSimnetNodeInfo;
	stop(): Promise<void>;
}

export async function startLightningSimnet(
	options: LightningSimnetOptions
): Promise<LightningSimnet> {
	const host = options.host ?? '127.0.0.1';
	const nodeNames = options.nodes ?? ['hub', 'station-1', 'vehicle-1'];
	const hubName = nodeNames[0] ?? 'hub';
	const simnetOptions = { settleDelayMs: options.settleDelayMs ?? DEFAULT_SETTLE_DELAY_MS };

	let network: Simnet;
	/** Each node's admin macaroon, kept so the manifest names the same one across restarts. */
	const macaroons = new Map<string, string>();
	/** Each node's own macaroon root key: a macaroon baked for one node fails on every other. */
	const rootKeys = new Map<string, Buffer>();
	const saved = options.stateFile ? await loadState(options.stateFile) : undefined;
	if (saved) {
		network = Simnet.fromJSON(saved.simnet, simnetOptions);
		// A state file from before scoped macaroons has no root keys: its old macaroons are dropped, new ones made.
		if (saved.rootKeys) {
			for (const [name, key] of Object.entries(saved.rootKeys))
				if (/^[0-9a-f]{64}$/.test(key)) rootKeys.set(name, Buffer.from(key, 'hex'));
			for (const [name, mac] of Object.entries(saved.macaroons))
				if (rootKeys.has(name)) macaroons.set(name, mac);
		}
	} else {
		network = new Simnet(simnetOptions);
	}
	buildHubTopology(
		network,
		nodeNames.filter((n) => n !== hubName),
		{
			hub: hubName,
			...(options.channelSat !== undefined ? { channelSat: options.channelSat } : {})
		}
	);
	const hasNode = (name: string): boolean => network.listNodes().some((n) => n.name === name);
	const rootKeyFor = (name: string): Buffer => {
		network.node(name);
		let key = rootKeys.get(name);
		if (!key) {
			key = randomBytes(32);
			rootKeys.set(name, key);
		}
		return key;
	};
	const macaroonFor = (name: string): string => {
		let mac = macaroons.get(name);
		if (!mac) {
			mac = bake(rootKeyFor(name), ADMIN_OPS);
			macaroons.set(name, mac);
		}
		return mac;
	};
	for (const n of network.listNodes()) macaroonFor(n.name);
	const saver = options.stateFile
		? autosave(network, macaroons, rootKeys, options.stateFile)
		: undefined;

	const streams = new Streams();
	const routes = simnetRoutes(network, host, streams);
	const nodeInfo = (name: string): LightningSimnetNodeInfo => ({
		name,
		restUrl: `${baseUrl}/nodes/${name}`,
		macaroonHex: macaroonFor(name),
		pubkey: network.node(name).pubkey
	});
	const admin = simnetAdmin(network, { hubName, channelSat: options.channelSat, nodeInfo });

	const hostAllowed = createHostCheck();
	const server = createServer((req, res) => {
		void (async () => {
			if (!hostAllowed(req.headers.host)) {
				res.writeHead(421, { 'Content-Type': 'application/json' });
				res.end(
					JSON.stringify({
						code: GRPC.UNAUTHENTICATED[0],
						message: 'this simnet answers only to its own host names',
						details: []
					})
				);
				return;
			}
			const url = new URL(req.url ?? '/', 'http://localhost');
			const method = req.method ?? 'GET';
			if (url.pathname.startsWith('/admin/') && req.headers.origin !== undefined) {
				res.writeHead(403, { 'Content-Type': 'application/json' });
				res.end(
					JSON.stringify({
						code: GRPC.UNAUTHENTICATED[0],
						message: 'the simnet admin API is for local tools, not for web pages',
						details: []
					})
				);
				return;
			}
			if (method === 'OPTIONS') {
				res.writeHead(204, CORS_HEADERS);
				res.end();
				return;
			}
			let streaming = false;
			try {
				if (url.pathname.startsWith('/admin/')) {
					const result = await admin(method, url.pathname, req);
					res.writeHead(200, { 'Content-Type': 'application/json' });
					res.end(JSON.stringify(result));
					return;
				}
				// A person opening a base URL in a browser gets directions, not a bare 404 (no secrets here).
				const bare = /^\/(?:nodes\/([^/]+)\/?)?$/.exec(url.pathname);
				if (method === 'GET' && bare && (!bare[1] || hasNode(decodeURIComponent(bare[1])))) {
					res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json' });
					res.end(
						JSON.stringify({
							service: 'Lightcharge Lightning simnet (LND REST dialect)',
							node: bare[1] ? decodeURIComponent(bare[1]) : undefined,
							nodes: network.listNodes().map((n) => n.name),
							usage:
								'GET /nodes/{name}/v1/getinfo with the header Grpc-Metadata-macaroon: <hex from devnet.json>'
						})
					);
					return;
				}
				const m = /^\/nodes\/([^/]+)(\/.*)$/.exec(url.pathname);
				if (!m)
					throw new HttpError(
						GRPC.NOT_FOUND,
						`Not Found: ${url.pathname} (node APIs live under /nodes/{name}/)`
					);
				const node = decodeURIComponent(m[1] ?? '');
				const path = m[2] ?? '';
				if (!hasNode(node)) throw new HttpError(GRPC.NOT_FOUND, `there is no node named "${node}"`);
				const route = routes.find((r) => r.method === method && r.pattern.test(path));
				if (!route) throw new HttpError(GRPC.NOT_FOUND, `Not Found: ${method} ${path}`);
				streaming = route.stream === true;
				// Real LND (0.21) answers macaroon failures with gRPC code 2 (UNKNOWN, HTTP 500), not 16.
				const given = req.headers['grpc-metadata-macaroon'];
				if (typeof given !== 'string')
					throw new HttpError(GRPC.UNKNOWN, 'expected 1 macaroon, got 0');
				if (given === '') throw new HttpError(GRPC.UNKNOWN, 'empty macaroon data');
				let granted: MacaroonOp[];
				try {
					granted = verify(rootKeyFor(node), given);
				} catch (e) {
					throw new HttpError(
						GRPC.UNKNOWN,
						e instanceof MacaroonError
							? e.message
							: 'verification failed: signature mismatch after caveat verification'
					);
				}
				if (!allows(granted, route.perms)) throw new HttpError(GRPC.UNKNOWN, 'permission denied');
				const params = (route.pattern.exec(path) ?? []).slice(1);
				const result = await route.handler({ node, req, res, url, params });
				if (!route.stream) {
					res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json' });
					res.end(JSON.stringify(result));
				}
			} catch (e) {
				sendError(res, toHttpError(e), streaming);
			}
		})();
	});
	server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
	server.headersTimeout = HEADERS_TIMEOUT_MS;

	await new Promise<void>((resolve, reject) => {
		const onError = (e: NodeJS.ErrnoException) => {
			reject(
				e.code === 'EADDRINUSE'
					? new Error(
							`Port ${options.port} on ${host} is already in use, so the Lightning simnet cannot start there. Stop the other program or choose another port.`
						)
					: new Error(
							`The Lightning simnet could not listen on ${host}:${options.port}: ${e.message}`
						)
			);
		};
		server.once('error', onError);
		server.listen(options.port, host, () => {
			server.off('error', onError);
			resolve();
		});
	});
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : options.port;
	const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

	return {
		url: baseUrl,
		nodes: nodeNames.map(nodeInfo),
		network,
		macaroonFor,
		bakeMacaroon: (name, ops) => bake(rootKeyFor(name), ops),
		addSpoke(name) {
			network.createNode(name);
			buildHubTopology(network, [name], {
				hub: hubName,
				...(options.channelSat !== undefined ? { channelSat: options.channelSat } : {})
			});
			return nodeInfo(name);
		},
		async stop() {
			streams.endAll();
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
			await saver?.stop();
		}
	};
}
