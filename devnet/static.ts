// Serves the built wallet and kiosk: HTTP on the devnet host, HTTPS (self-signed, cached) on every
// interface so phones on the LAN can open them, `/devnet.json` live from memory (rewritten per
// origin), and the same-origin gateways `/mqtt`, `/rpc` and `/ln/…` (devnet/proxy.ts).
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { generate as generateCertificate } from 'selfsigned';
import sirv from 'sirv';
import type { DevnetBrokerLogin, DevnetManifest } from '../src/lib/config';
import { connectHost } from './broker';
import { DeviceError, fromLoopback, publicManifest, type DeviceRegistry } from './devices';
import {
	clientAddress,
	createClientLimits,
	createHostCheck,
	isLoopbackHostname,
	refuseHost,
	type ClientLimitOptions
} from './guard';
import { listen } from './ports';
import {
	createDevnetProxy,
	manifestForOrigin,
	needsRewrite,
	requestOrigin,
	targetsFromManifest,
	type AppPorts,
	type DevnetProxy,
	type ProxyOptions
} from './proxy';

export type AppName = 'wallet' | 'kiosk';

export interface AppServeOptions {
	/** A static build (adapter-static output) with `200.html` as the SPA fallback. */
	dir: string;
	port: number;
	/** HTTPS port; null serves HTTP only. */
	httpsPort: number | null;
}

export interface StaticOptions {
	/** HTTP bind address; default 127.0.0.1. */
	host?: string;
	/** HTTPS bind address; default 0.0.0.0 so phones on the LAN reach it. */
	httpsHost?: string;
	apps: Record<AppName, AppServeOptions>;
	/** Where the self-signed certificate and key are cached (e.g. `.devnet/tls`). */
	tlsDir: string;
	/**
	 * The current manifest (with the devnet's direct, loopback URLs); null answers 503 (still starting).
	 * `/devnet.json` serves it as is to loopback HTTP requests and rewritten to the gateways of any
	 * other origin; the gateways forward to the broker, chain and simnet it names.
	 */
	getManifest: () => DevnetManifest | null;
	/** Limits of the `/mqtt`, `/rpc` and `/ln` gateways. */
	proxy?: ProxyOptions;
	/** Names the servers answer to besides localhost and this machine's addresses and host name. */
	extraHostNames?: string[];
	/** Per-client caps on connections and requests (loopback exempt). */
	clientLimits?: ClientLimitOptions;
	/**
	 * LAN devices (phones' car nodes, kiosk enrolment). Without it a non-loopback client still gets no
	 * secret: the manifest without station keys and macaroons.
	 */
	devices?: DeviceRegistry;
	/** With --secure-broker: the broker login this machine's own page of `app` gets in its manifest. */
	loopbackBrokerLogin?: (app: AppName) => DevnetBrokerLogin | undefined;
	/** Log lines (enrolment requests) */
	log?: (line: string) => void;
}

export interface AppUrls {
	/** `http://host:port/` */
	url: string;
	/** HTTPS on the first LAN address (phones), or on localhost when there is none; null without HTTPS. */
	httpsUrl: string | null;
	/** HTTPS on localhost (this machine's browser). */
	httpsLocalUrl: string | null;
	/** HTTPS on every LAN IPv4 address. */
	httpsLanUrls: string[];
}

export interface RunningStatic {
	wallet: AppUrls;
	kiosk: AppUrls;
	/** SHA-256 fingerprint of the certificate (to compare on a phone), or null without HTTPS. */
	tlsFingerprint: string | null;
	stop(): Promise<void>;
}

const FALLBACK = '200.html';
const FLAGS: Record<AppName, { http: string; https: string }> = {
	wallet: { http: '--wallet-port', https: '--https-wallet-port' },
	kiosk: { http: '--kiosk-port', https: '--https-kiosk-port' }
};

/** Non-internal IPv4 addresses of this machine, in interface order. */
export function lanIPv4Addresses(): string[] {
	const found: string[] = [];
	for (const infos of Object.values(os.networkInterfaces())) {
		for (const info of infos ?? []) {
			// Node 18.0-18.3 reported family as a number.
			const isV4 = info.family === 'IPv4' || (info.family as unknown) === 4;
			if (isV4 && !info.internal && !found.includes(info.address)) found.push(info.address);
		}
	}
	return found;
}

export interface TlsMaterial {
	key: string;
	cert: string;
	fingerprint256: string;
}

function certCovers(certPem: string, dnsNames: string[], ips: string[]): boolean {
	try {
		const cert = new X509Certificate(certPem);
		const weekFromNow = Date.now() + 7 * 24 * 3600 * 1000;
		if (Date.parse(cert.validTo) < weekFromNow) return false;
		const sans = (cert.subjectAltName ?? '').split(',').map((s) => s.trim());
		return (
			dnsNames.every((d) => sans.includes(`DNS:${d}`)) &&
			ips.every((ip) => sans.includes(`IP Address:${ip}`))
		);
	} catch {
		return false;
	}
}

/**
 * The devnet's self-signed certificate for localhost, 127.0.0.1 and `lanAddresses`, cached in `tlsDir`.
 * A cached certificate is reused while it covers every name and stays valid for a week more, so a phone
 * that accepted it once keeps working; otherwise a new one is made.
 */
export async function loadOrCreateTls(
	tlsDir: string,
	lanAddresses: string[]
): Promise<TlsMaterial> {
	const certFile = path.join(tlsDir, 'cert.pem');
	const keyFile = path.join(tlsDir, 'key.pem');
	const dnsNames = ['localhost'];
	const ips = ['127.0.0.1', ...lanAddresses.filter((a) => a !== '127.0.0.1')];
	if (existsSync(certFile) && existsSync(keyFile)) {
		const cert = readFileSync(certFile, 'utf8');
		const key = readFileSync(keyFile, 'utf8');
		if (certCovers(cert, dnsNames, ips))
			return { cert, key, fingerprint256: new X509Certificate(cert).fingerprint256 };
	}
	const notBeforeDate = new Date(Date.now() - 60_000);
	const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 24 * 3600 * 1000);
	const generated = await generateCertificate(
		[{ name: 'commonName', value: 'Lightcharge devnet' }],
		{
			keyType: 'ec',
			curve: 'P-256',
			algorithm: 'sha256',
			notBeforeDate,
			notAfterDate,
			extensions: [
				{ name: 'basicConstraints', cA: false },
				{ name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
				{ name: 'extKeyUsage', serverAuth: true },
				{
					name: 'subjectAltName',
					altNames: [
						...dnsNames.map((value) => ({ type: 2 as const, value })),
						...ips.map((ip) => ({ type: 7 as const, ip }))
					]
				}
			]
		}
	);
	mkdirSync(tlsDir, { recursive: true });
	writeFileSync(certFile, generated.cert);
	writeFileSync(keyFile, generated.private, { mode: 0o600 });
	return {
		cert: generated.cert,
		key: generated.private,
		fingerprint256: new X509Certificate(generated.cert).fingerprint256
	};
}

export interface AppHandlerOptions {
	/** Serves `/rpc` and `/ln/…` (and refuses plain requests to `/mqtt`); without it those paths are files. */
	proxy?: DevnetProxy;
	/** The apps' ports: with them, `/devnet.json` is rewritten for non-loopback and HTTPS origins. */
	apps?: AppPorts;
	/** The Host check (DNS rebinding); without it every Host is served. */
	hostAllowed?: (host: string | undefined) => boolean;
	/** Takes one request from the client's allowance; false answers 429. */
	takeRequest?: (req: http.IncomingMessage) => boolean;
	/** Which app this server serves (what a LAN device's manifest holds differs). Default wallet. */
	app?: AppName;
	/** LAN devices; see StaticOptions.devices. */
	devices?: DeviceRegistry;
	/** See StaticOptions.loopbackBrokerLogin. */
	loopbackBrokerLogin?: (app: AppName) => DevnetBrokerLogin | undefined;
}

/**
 * Request handler for one app: `/devnet.json`, the gateways, then the build with `200.html` as SPA
 * fallback. (WebSocket upgrades to `/mqtt` arrive on the server's `upgrade` event, not here.)
 */
export function appHandler(
	dir: string,
	getManifest: () => DevnetManifest | null,
	options: AppHandlerOptions = {}
): http.RequestListener {
	const files = sirv(dir, {
		// dev: look files up per request, so a rebuild while the devnet runs is served without a restart.
		dev: true,
		etag: true,
		// The builds put a .br and a .gz beside each script and style (svelte.config.js); a browser that
		// accepts them gets those: about a third of the bytes of the JavaScript, which on a phone's
		// slow link is most of the first load.
		brotli: true,
		gzip: true,
		single: FALLBACK,
		setHeaders(res, pathname) {
			if (pathname === '/service-worker.js') {
				// The browser must check for a new worker on every load.
				res.setHeader('Cache-Control', 'no-cache');
				res.setHeader('Service-Worker-Allowed', '/');
			} else if (pathname.startsWith('/_app/immutable/')) {
				res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
			}
		}
	});
	return (req, res) => {
		if (options.hostAllowed && !options.hostAllowed(req.headers.host)) return refuseHost(res);
		if (options.takeRequest && !options.takeRequest(req)) {
			res.writeHead(429, {
				'Retry-After': '1',
				'Content-Type': 'text/plain; charset=utf-8',
				'Cache-Control': 'no-store'
			});
			res.end('too many requests from this device; wait a moment\n');
			return;
		}
		const pathname = (req.url ?? '/').split('?')[0] ?? '/';
		if (pathname === '/devnet.json') {
			if (!sameOrigin(req)) {
				res.writeHead(403, {
					'Content-Type': 'text/plain; charset=utf-8',
					'Cache-Control': 'no-store'
				});
				res.end('the devnet manifest is served to its own origin only\n');
				return;
			}
			const full = manifestFor(req, getManifest(), options.apps);
			// Secrets go to this machine only: any other device gets the public part, and what is its own.
			if (full === null || full === 'bad-host') return serveManifest(req, res, full);
			if (fromLoopback(req)) {
				const login = options.loopbackBrokerLogin?.(options.app ?? 'wallet');
				if (!login) return serveManifest(req, res, full);
				// A secured broker's wss:// listener has the devnet's own certificate, which this machine's
				// browser does not trust: its pages use their origin's /mqtt gateway, which does.
				const origin = requestOrigin(req);
				const wsUrl =
					origin && !origin.secure && full.broker.wsUrl.startsWith('wss:')
						? `ws://${origin.host}/mqtt`
						: full.broker.wsUrl;
				return serveManifest(req, res, { ...full, broker: { ...full.broker, wsUrl, login } });
			}
			if (!options.devices) return serveManifest(req, res, publicManifest(full));
			const { device, setCookie } = options.devices.identify(req);
			if (setCookie) res.setHeader('Set-Cookie', setCookie);
			options.devices
				.manifestFor(device, options.app ?? 'wallet', full, clientAddress(req.socket))
				.then(
					(m) => serveManifest(req, res, m),
					(err: unknown) =>
						sendText(
							res,
							err instanceof DeviceError ? err.status : 500,
							err instanceof Error ? err.message : String(err)
						)
				);
			return;
		}
		if (pathname.startsWith('/devnet/')) return enrolRoutes(req, res, pathname, options);
		if (options.proxy?.handleRequest(req, res)) return;
		if (req.method !== 'GET' && req.method !== 'HEAD') {
			res.writeHead(405, { Allow: 'GET, HEAD' }).end();
			return;
		}
		files(req, res, () => {
			res
				.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
				.end(`not found: ${pathname}\n`);
		});
	};
}

/** The manifest as the requesting origin should see it (see `manifestForOrigin`); 'bad-host' for an unusable Host on HTTPS. */
function manifestFor(
	req: http.IncomingMessage,
	manifest: DevnetManifest | null,
	apps: AppPorts | undefined
): DevnetManifest | null | 'bad-host' {
	if (manifest === null || apps === undefined) return manifest;
	const origin = requestOrigin(req);
	if (origin === null) {
		// Plain HTTP without a usable Host is a local tool: it gets the direct URLs, as before.
		const secure = 'encrypted' in req.socket;
		return secure ? 'bad-host' : manifest;
	}
	return needsRewrite(origin) ? manifestForOrigin(manifest, origin, apps) : manifest;
}

/** True unless the request names an Origin other than the one it came to (a page elsewhere asking). */
function sameOrigin(req: http.IncomingMessage): boolean {
	const origin = req.headers.origin;
	if (origin === undefined) return true;
	const secure =
		'encrypted' in req.socket && (req.socket as { encrypted?: boolean }).encrypted === true;
	try {
		const o = new URL(origin);
		return (
			o.protocol === (secure ? 'https:' : 'http:') &&
			o.host === new URL(`${o.protocol}//${req.headers.host ?? ''}`).host
		);
	} catch {
		return false;
	}
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
	res.writeHead(status, {
		'Content-Type': 'text/plain; charset=utf-8',
		'Cache-Control': 'no-store'
	});
	res.end(`${text}\n`);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
	const body = JSON.stringify(value);
	res.writeHead(status, {
		'Content-Type': 'application/json; charset=utf-8',
		'Cache-Control': 'no-store',
		'Content-Length': Buffer.byteLength(body)
	});
	res.end(body);
}

async function readSmallJson(req: http.IncomingMessage, limit = 4096): Promise<unknown> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req as AsyncIterable<Buffer>) {
		size += chunk.length;
		if (size > limit) throw new DeviceError(413, `The request body is larger than ${limit} bytes.`);
		chunks.push(chunk);
	}
	try {
		return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
	} catch {
		throw new DeviceError(400, 'The request body is not valid JSON.');
	}
}

/** The operator's side: this machine's loopback, asked by a loopback name and no page of another origin. */
function operatorRequest(req: http.IncomingMessage): boolean {
	if (!fromLoopback(req)) return false;
	const host = req.headers.host ?? '';
	try {
		if (!isLoopbackHostname(new URL(`http://${host}`).hostname)) return false;
	} catch {
		return false;
	}
	return req.headers.origin === undefined || sameOrigin(req);
}

const OPERATOR_PAGE = `<!doctype html><meta charset="utf-8"><title>Enrol a kiosk</title>
<meta name="viewport" content="width=device-width">
<style>body{font:16px system-ui;max-width:36rem;margin:2rem auto;padding:0 1rem}input,button{font:inherit;padding:.4rem}li{margin:.3rem 0}</style>
<h1>Enrol a kiosk</h1>
<p>Type the code the kiosk tablet shows. Only a code from a screen you can see: whoever's kiosk you enrol may sign as a station on this devnet's ledger.</p>
<form id="f"><input id="code" autocomplete="off" placeholder="ABCD-EFGH" aria-label="Code" required> <button>Enrol</button></form>
<p id="out" role="status"></p><h2>Waiting</h2><ul id="list"></ul>
<script>
const out=document.getElementById('out'),list=document.getElementById('list');
async function refresh(){const r=await fetch('/devnet/enrol/pending');const p=await r.json();list.replaceChildren(...p.map(e=>{const li=document.createElement('li');li.textContent=e.name+' — signer '+e.signerAddress+' (until '+new Date(e.expiresAt).toLocaleTimeString()+')';return li}));if(!p.length)list.textContent='No kiosk is waiting.'}
document.getElementById('f').onsubmit=async(e)=>{e.preventDefault();const r=await fetch('/devnet/enrol/confirm',{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify({code:document.getElementById('code').value})});const b=await r.json();out.textContent=r.ok?'Enrolled as '+b.stationId+'.':b.message;refresh()};
refresh();setInterval(refresh,3000);
</script>`;

/**
 * Kiosk enrolment: GET/POST /devnet/enrol (the kiosk's own device), and for the operator on this
 * machine only /devnet/operator (a page), GET /devnet/enrol/pending and POST /devnet/enrol/confirm.
 */
function enrolRoutes(
	req: http.IncomingMessage,
	res: http.ServerResponse,
	pathname: string,
	options: AppHandlerOptions
): void {
	const devices = options.devices;
	if (!devices) return sendText(res, 404, `not found: ${pathname}`);
	if (!sameOrigin(req)) return sendText(res, 403, 'enrolment is answered to its own origin only');
	void (async () => {
		try {
			if (pathname === '/devnet/enrol') {
				if ((options.app ?? 'wallet') !== 'kiosk')
					throw new DeviceError(404, 'Kiosks enrol at the kiosk’s own address.');
				const { device, setCookie } = devices.identify(req);
				if (setCookie) res.setHeader('Set-Cookie', setCookie);
				if (req.method === 'GET') return sendJson(res, 200, devices.enrolment(device));
				if (req.method === 'POST')
					return sendJson(
						res,
						200,
						devices.requestEnrolment(device, await readSmallJson(req), clientAddress(req.socket))
					);
				res.writeHead(405, { Allow: 'GET, POST' }).end();
				return;
			}
			if (pathname === '/devnet/broker/grant') {
				// A phone shows it holds a session's secret; its own broker login (by its cookie) gets the session's topics.
				if ((options.app ?? 'wallet') !== 'wallet')
					throw new DeviceError(
						404,
						'Phones ask for a session’s topics at the wallet’s own address.'
					);
				if (req.method !== 'POST') {
					res.writeHead(405, { Allow: 'POST' }).end();
					return;
				}
				const { device, setCookie } = devices.identify(req);
				if (setCookie) res.setHeader('Set-Cookie', setCookie);
				return sendJson(
					res,
					200,
					await devices.grantSession(device, await readSmallJson(req), clientAddress(req.socket))
				);
			}
			if (
				pathname === '/devnet/operator' ||
				pathname === '/devnet/enrol/pending' ||
				pathname === '/devnet/enrol/confirm' ||
				pathname === '/devnet/counts'
			) {
				if (!operatorRequest(req))
					throw new DeviceError(
						403,
						'Only the operator, on the devnet’s own machine (a loopback address), may enrol kiosks.'
					);
				if (pathname === '/devnet/operator' && req.method === 'GET') {
					res.writeHead(200, {
						'Content-Type': 'text/html; charset=utf-8',
						'Cache-Control': 'no-store',
						'Content-Security-Policy':
							"default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
						'X-Frame-Options': 'DENY'
					});
					res.end(OPERATOR_PAGE);
					return;
				}
				if (pathname === '/devnet/enrol/pending' && req.method === 'GET')
					return sendJson(res, 200, devices.pending());
				// Devices and what the secured broker refused (grant requests, publishes), for the operator.
				if (pathname === '/devnet/counts' && req.method === 'GET')
					return sendJson(res, 200, devices.counts());
				if (pathname === '/devnet/enrol/confirm' && req.method === 'POST') {
					const body = (await readSmallJson(req)) as { code?: unknown };
					if (typeof body?.code !== 'string')
						throw new DeviceError(400, 'code (the one-time code the kiosk shows) is required.');
					return sendJson(res, 200, await devices.confirm(body.code));
				}
				res.writeHead(405).end();
				return;
			}
			throw new DeviceError(404, `not found: ${pathname}`);
		} catch (err) {
			const status = err instanceof DeviceError ? err.status : 500;
			if (!res.headersSent)
				sendJson(res, status, {
					error: status === 500 ? 'internal' : 'refused',
					message: err instanceof Error ? err.message : String(err)
				});
		}
	})();
}

function serveManifest(
	req: http.IncomingMessage,
	res: http.ServerResponse,
	manifest: DevnetManifest | null | 'bad-host'
): void {
	// No CORS headers: only pages of this very origin may read the manifest.
	if (req.method !== 'GET' && req.method !== 'HEAD') {
		res.writeHead(405, { Allow: 'GET, HEAD' }).end();
		return;
	}
	if (manifest === 'bad-host') {
		res.writeHead(400, {
			'Cache-Control': 'no-store',
			'Content-Type': 'text/plain; charset=utf-8'
		});
		res.end('the Host header is missing or is not a host name with an optional port\n');
		return;
	}
	if (manifest === null) {
		res.writeHead(503, {
			'Cache-Control': 'no-store',
			'Retry-After': '1',
			'Content-Type': 'text/plain; charset=utf-8'
		});
		res.end('the devnet is still starting\n');
		return;
	}
	const body = JSON.stringify(manifest);
	res.writeHead(200, {
		'Cache-Control': 'no-store',
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(body)
	});
	res.end(req.method === 'HEAD' ? undefined : body);
}

function close(server: http.Server): Promise<void> {
	return new Promise((resolve) => {
		if (!server.listening) return resolve();
		server.close(() => resolve());
		// Browsers hold keep-alive connections open; without this, close() waits for them.
		server.closeAllConnections();
	});
}

function checkBuild(name: AppName, dir: string): void {
	const fallback = path.join(dir, FALLBACK);
	let ok = false;
	try {
		ok = statSync(fallback).isFile();
	} catch {
		ok = false;
	}
	if (!ok)
		throw new Error(
			`the ${name} build is missing (${fallback} not found) — run "npm run build" first`
		);
}

export async function startStaticServers(opts: StaticOptions): Promise<RunningStatic> {
	const host = opts.host ?? '127.0.0.1';
	const httpsHost = opts.httpsHost ?? '0.0.0.0';
	const names: AppName[] = ['wallet', 'kiosk'];
	for (const name of names) checkBuild(name, opts.apps[name].dir);

	const wantHttps = names.some((n) => opts.apps[n].httpsPort !== null);
	const lan = lanIPv4Addresses();
	const tls = wantHttps ? await loadOrCreateTls(opts.tlsDir, lan) : null;

	const servers: http.Server[] = [];
	// A --secure-broker Mosquitto serves wss:// with the devnet's own certificate: the gateway trusts it.
	const proxy = createDevnetProxy(() => targetsFromManifest(opts.getManifest()), {
		...opts.proxy,
		upstreamCa: opts.proxy?.upstreamCa ?? tls?.cert
	});
	const hostAllowed = createHostCheck({ extraNames: opts.extraHostNames });
	const limits = createClientLimits(opts.clientLimits);
	/** WebSocket upgrades: the same Host check, and a browser's Origin must be one of ours too. */
	const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
		let originOk = true;
		if (typeof req.headers.origin === 'string') {
			try {
				originOk = hostAllowed(new URL(req.headers.origin).host);
			} catch {
				originOk = false;
			}
		}
		if (!hostAllowed(req.headers.host) || !originOk) {
			socket.on('error', () => socket.destroy());
			socket.end(
				'HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
			);
			return;
		}
		proxy.handleUpgrade(req, socket, head);
	};
	const appPorts: AppPorts = {
		wallet: { port: opts.apps.wallet.port, httpsPort: tls ? opts.apps.wallet.httpsPort : null },
		kiosk: { port: opts.apps.kiosk.port, httpsPort: tls ? opts.apps.kiosk.httpsPort : null }
	};
	const stop = async () => {
		proxy.close();
		await Promise.all(servers.map(close));
	};
	const urls = {} as Record<AppName, AppUrls>;
	try {
		for (const name of names) {
			const app = opts.apps[name];
			const handler = appHandler(app.dir, opts.getManifest, {
				proxy,
				apps: appPorts,
				hostAllowed,
				takeRequest: limits.takeRequest,
				app: name,
				devices: opts.devices,
				loopbackBrokerLogin: opts.loopbackBrokerLogin
			});
			const plain = http.createServer(handler);
			limits.attach(plain);
			plain.on('upgrade', onUpgrade);
			servers.push(plain);
			await listen(plain, app.port, host, `${name} HTTP`, FLAGS[name].http);
			let httpsLocalUrl: string | null = null;
			let httpsLanUrls: string[] = [];
			if (app.httpsPort !== null && tls !== null) {
				const secure = https.createServer({ key: tls.key, cert: tls.cert }, handler);
				limits.attach(secure);
				secure.on('upgrade', onUpgrade);
				servers.push(secure);
				await listen(secure, app.httpsPort, httpsHost, `${name} HTTPS`, FLAGS[name].https);
				httpsLocalUrl = `https://localhost:${app.httpsPort}/`;
				const wildcard = httpsHost === '0.0.0.0' || httpsHost === '::';
				httpsLanUrls = wildcard
					? lan.map((ip) => `https://${ip}:${app.httpsPort}/`)
					: [`https://${connectHost(httpsHost)}:${app.httpsPort}/`];
			}
			urls[name] = {
				url: `http://${connectHost(host)}:${app.port}/`,
				httpsUrl: httpsLanUrls[0] ?? httpsLocalUrl,
				httpsLocalUrl,
				httpsLanUrls
			};
		}
	} catch (err) {
		await stop();
		throw err;
	}
	let stopped: Promise<void> | null = null;
	return {
		wallet: urls.wallet,
		kiosk: urls.kiosk,
		tlsFingerprint: tls?.fingerprint256 ?? null,
		stop() {
			stopped ??= stop();
			return stopped;
		}
	};
}
