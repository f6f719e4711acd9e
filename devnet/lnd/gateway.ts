// The devnet's Lightning URL when it runs real LND: `/nodes/<name>/…` forwarded to that node's REST
// listener over TLS pinned to its own certificate, so the apps (and the `/ln` gateway of the app
// servers) reach real LND exactly as they reach the simnet, with no certificate to accept and no
// `--restcors` on LND. The macaroon travels as the app sent it; LND checks it. NDJSON streams pass
// through line by line. Bounded: request bodies, open streams, upstream time to answer. Node only.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CORS_HEADERS } from '../simnet/http';
import { listen } from '../ports';

export interface GatewayNode {
	name: string;
	/** https://127.0.0.1:<rest> */
	restUrl: string;
	tlsCertPem: string;
}

export interface LndGatewayOptions {
	host: string;
	port: number;
	nodes: () => GatewayNode[];
	/** Largest request body forwarded (bytes). Default 1 MiB. */
	maxBodyBytes?: number;
	/** Most requests forwarded at once (streams included). Default 256. */
	maxOpen?: number;
	/** How long LND may take to start answering. Default 30 s. */
	answerTimeoutMs?: number;
	/**
	 * `POST /admin/nodes/<name>/restart` (for tests: restart a node mid-session). Like the simnet's
	 * admin API it has no authentication: it is served on the gateway's loopback port only, and the
	 * apps' `/ln` proxy forwards `/nodes/…` alone.
	 */
	restartNode?: (name: string) => Promise<void>;
	/**
	 * With `--lnc` (for tests, loopback port only, like restart): `POST /admin/lnc/sessions` makes a
	 * new pairing phrase; `POST /admin/lnc/mailbox/stop` and `/start` stop and start the mailbox.
	 */
	lnc?: () => LncAdmin | null;
}

export interface LncAdmin {
	newSession(): Promise<{ pairingPhrase: string }>;
	stopMailbox(): Promise<void>;
	startMailbox(): Promise<void>;
}

export interface LndGateway {
	url: string;
	/** Requests refused (too large, too many, unknown node, node down), by reason. */
	dropped: Record<string, number>;
	stop(): Promise<void>;
}

/** grpc-gateway's error shape, so the LND REST backend reads the gateway's own errors like LND's. */
function sendStatus(res: ServerResponse, http: number, grpc: number, message: string): void {
	if (res.headersSent) {
		res.destroy();
		return;
	}
	res.writeHead(http, { ...CORS_HEADERS, 'Content-Type': 'application/json' });
	res.end(JSON.stringify({ code: grpc, message, details: [] }));
}

const FORWARDED_HEADERS = ['grpc-metadata-macaroon', 'content-type', 'accept'];

export async function startLndGateway(options: LndGatewayOptions): Promise<LndGateway> {
	const maxBody = options.maxBodyBytes ?? 1 << 20;
	const maxOpen = options.maxOpen ?? 256;
	const answerTimeoutMs = options.answerTimeoutMs ?? 30_000;
	const dropped: Record<string, number> = {};
	const drop = (reason: string) => (dropped[reason] = (dropped[reason] ?? 0) + 1);
	let open = 0;
	const live = new Set<ServerResponse>();

	const handle = (req: IncomingMessage, res: ServerResponse) => {
		const method = req.method ?? 'GET';
		if (method === 'OPTIONS') {
			res.writeHead(204, CORS_HEADERS);
			res.end();
			return;
		}
		const raw = req.url ?? '/';
		const nodes = options.nodes();
		const restart = /^\/admin\/nodes\/([^/?]+)\/restart$/.exec(raw);
		if (restart && method === 'POST' && options.restartNode) {
			const name = decodeURIComponent(restart[1] ?? '');
			if (!nodes.some((n) => n.name === name)) {
				sendStatus(res, 404, 5, `there is no node named "${name}"`);
				return;
			}
			const t0 = Date.now();
			options.restartNode(name).then(
				() => {
					res.writeHead(200, { 'Content-Type': 'application/json' });
					res.end(JSON.stringify({ node: name, restartedInMs: Date.now() - t0 }));
				},
				(e: unknown) =>
					sendStatus(
						res,
						500,
						2,
						`restarting ${name} failed: ${e instanceof Error ? e.message : String(e)}`
					)
			);
			return;
		}
		const lncRoute = /^\/admin\/lnc\/(sessions|mailbox\/stop|mailbox\/start)$/.exec(raw);
		if (lncRoute && method === 'POST') {
			const lnc = options.lnc?.();
			if (!lnc) {
				sendStatus(
					res,
					404,
					5,
					'Lightning Node Connect is not running on this devnet (start it with --lnc)'
				);
				return;
			}
			const what = lncRoute[1];
			const work: Promise<unknown> =
				what === 'sessions'
					? Promise.resolve().then(() => lnc.newSession())
					: what === 'mailbox/stop'
						? lnc.stopMailbox().then(() => ({ mailbox: 'stopped' }))
						: lnc.startMailbox().then(() => ({ mailbox: 'started' }));
			work.then(
				(body) => {
					res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
					res.end(JSON.stringify(body));
				},
				(e: unknown) =>
					sendStatus(res, 500, 2, `${what} failed: ${e instanceof Error ? e.message : String(e)}`)
			);
			return;
		}
		const m = /^\/nodes\/([^/?]+)(\/[^?]*)?(\?.*)?$/.exec(raw);
		if (!m) {
			if (method === 'GET' && (raw === '/' || raw === '')) {
				res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json' });
				res.end(
					JSON.stringify({
						service:
							'Lightcharge devnet: gateway to real LND nodes on regtest (LND REST, TLS pinned per node)',
						nodes: nodes.map((n) => n.name),
						usage:
							'GET /nodes/{name}/v1/getinfo with the header Grpc-Metadata-macaroon: <hex from devnet.json>'
					})
				);
				return;
			}
			drop('bad_path');
			sendStatus(
				res,
				404,
				5,
				`Not Found: ${raw.split('?')[0]} (node APIs live under /nodes/{name}/)`
			);
			return;
		}
		const name = decodeURIComponent(m[1] ?? '');
		const node = nodes.find((n) => n.name === name);
		if (!node) {
			drop('unknown_node');
			sendStatus(res, 404, 5, `there is no node named "${name}"`);
			return;
		}
		if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
			drop('method');
			sendStatus(res, 405, 12, `method ${method} is not served`);
			return;
		}
		if (open >= maxOpen) {
			drop('too_many');
			sendStatus(
				res,
				503,
				14,
				`the gateway already carries ${maxOpen} requests; try again shortly`
			);
			return;
		}
		const declared = Number(req.headers['content-length'] ?? 0);
		if (declared > maxBody) {
			drop('too_large');
			sendStatus(res, 413, 3, `request body larger than ${maxBody} bytes`);
			req.resume();
			return;
		}
		open++;
		live.add(res);
		let done = false;
		const finish = () => {
			if (done) return;
			done = true;
			open--;
			live.delete(res);
		};
		res.on('close', finish);

		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (c: Buffer) => {
			size += c.length;
			if (size > maxBody) {
				drop('too_large');
				sendStatus(res, 413, 3, `request body larger than ${maxBody} bytes`);
				req.destroy();
				return;
			}
			chunks.push(c);
		});
		req.on('end', () => {
			if (res.writableEnded) return;
			const target = new URL(`${node.restUrl}${m[2] ?? '/'}${m[3] ?? ''}`);
			const headers: Record<string, string> = {};
			for (const h of FORWARDED_HEADERS) {
				const v = req.headers[h];
				if (typeof v === 'string') headers[h] = v;
			}
			const body = Buffer.concat(chunks);
			if (body.length > 0) headers['content-length'] = String(body.length);
			const upstream = httpsRequest(
				target,
				{ method, headers, ca: node.tlsCertPem, agent: false },
				(up) => {
					clearTimeout(timer);
					const out: Record<string, string> = { ...CORS_HEADERS };
					const type = up.headers['content-type'];
					if (typeof type === 'string') out['Content-Type'] = type;
					out['Cache-Control'] = 'no-cache';
					res.writeHead(up.statusCode ?? 502, out);
					res.flushHeaders();
					up.on('data', (c: Buffer) => res.write(c));
					up.on('end', () => res.end());
					up.on('error', () => res.destroy());
					up.on('aborted', () => res.destroy());
				}
			);
			const timer = setTimeout(() => upstream.destroy(new Error('timeout')), answerTimeoutMs);
			res.on('close', () => {
				clearTimeout(timer);
				upstream.destroy();
			});
			upstream.on('error', (e: NodeJS.ErrnoException) => {
				clearTimeout(timer);
				if (res.headersSent) {
					res.destroy();
					return;
				}
				drop('node_down');
				const why =
					e.message === 'timeout'
						? `did not answer within ${answerTimeoutMs / 1000} s`
						: `cannot be reached (${e.code ?? e.message})`;
				sendStatus(res, 503, 14, `the LND node "${name}" ${why}`);
			});
			upstream.end(body.length > 0 ? body : undefined);
		});
	};

	const server = createServer(handle);
	await listen(server, options.port, options.host, 'Lightning gateway (real LND)', '--ln-port');
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : options.port;
	return {
		url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
		dropped,
		async stop() {
			for (const res of live) res.destroy();
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
		}
	};
}
