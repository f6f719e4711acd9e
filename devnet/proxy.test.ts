// The same-origin gateways against the real devnet parts (chain, aedes, Lightning simnet) behind the
// real static servers, over HTTPS with the devnet's certificate; plus the per-origin manifest rules.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDevnetManifest, type DevnetManifest } from '../src/lib/config';
import { sampleManifest } from '../src/lib/config/devnet-manifest.fixture';
import { hexToBase64Url, LndRestNode } from '../src/lib/lightning';
import { startBroker, type RunningBroker } from './broker';
import { startChain, type RunningChain } from './chain';
import { startLightningSimnet, type LightningSimnet } from './lightning';
import { freePort } from './ports';
import {
	createDevnetProxy,
	isLoopbackHostname,
	manifestForOrigin,
	needsRewrite,
	type AppPorts
} from './proxy';
import {
	loadOrCreateTls,
	lanIPv4Addresses,
	startStaticServers,
	type RunningStatic
} from './static';

const root = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-proxy-'));
let chain: RunningChain;
let broker: RunningBroker;
let lightning: LightningSimnet;
let servers: RunningStatic;
let manifest: DevnetManifest;
let ca: string;
let httpsBase: string;
let httpBase: string;

function fakeBuild(name: string): string {
	const dir = path.join(root, 'build', name);
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, '200.html'), `<!doctype html><title>${name} fallback</title>`);
	return dir;
}

interface Answer {
	status: number;
	headers: http.IncomingHttpHeaders;
	body: string;
}

/** One HTTP(S) request trusting only the devnet certificate. */
function request(
	url: string,
	init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}
): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const client = url.startsWith('https:') ? https : http;
		// A forged Host header is also what Node checks the certificate against: check the real address instead.
		const checkServerIdentity = (
			_host: string,
			cert: Parameters<typeof tls.checkServerIdentity>[1]
		) => tls.checkServerIdentity(new URL(url).hostname, cert);
		const req = client.request(
			url,
			{ method: init.method ?? 'GET', headers: init.headers, ca, checkServerIdentity },
			(res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (c: string) => (body += c));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
			}
		);
		req.on('error', reject);
		req.end(init.body);
	});
}

/** Opens a streaming GET and hands back its lines as they arrive. */
function openLineStream(url: string, headers: Record<string, string>) {
	const lines: string[] = [];
	let ended = false;
	let waiter: (() => void) | null = null;
	const wake = () => {
		waiter?.();
		waiter = null;
	};
	let status = 0;
	const req = https.get(url, { headers, ca }, (res) => {
		status = res.statusCode ?? 0;
		let pending = '';
		res.setEncoding('utf8');
		res.on('data', (chunk: string) => {
			pending += chunk;
			let at: number;
			while ((at = pending.indexOf('\n')) >= 0) {
				lines.push(pending.slice(0, at));
				pending = pending.slice(at + 1);
			}
			wake();
		});
		res.on('end', () => {
			ended = true;
			wake();
		});
	});
	req.on('error', () => {
		ended = true;
		wake();
	});
	return {
		lines,
		get status() {
			return status;
		},
		get ended() {
			return ended;
		},
		/** Resolves once at least `n` lines have arrived (or the stream ended). */
		async waitForLines(n: number): Promise<void> {
			while (lines.length < n && !ended) await new Promise<void>((r) => (waiter = r));
		},
		close: () => req.destroy()
	};
}

beforeAll(async () => {
	chain = await startChain({ port: 0, blockIntervalMs: 0 });
	broker = await startBroker({
		kind: 'aedes',
		tcpPort: await freePort(),
		wsPort: await freePort(),
		dir: path.join(root, 'mosquitto')
	});
	lightning = await startLightningSimnet({ port: await freePort(), settleDelayMs: 10 });
	const base = sampleManifest();
	manifest = {
		...base,
		chain: { ...base.chain, rpcUrl: chain.rpcUrl },
		broker: {
			...base.broker,
			wsUrl: broker.wsUrl,
			tcpUrl: broker.tcpUrl,
			protocolVersion: broker.protocolVersion
		},
		lightning: {
			network: 'regtest',
			backend: 'simnet',
			url: lightning.url,
			nodes: Object.fromEntries(
				lightning.nodes.map((n) => [
					n.name,
					{ restUrl: n.restUrl, macaroonHex: n.macaroonHex, pubkey: n.pubkey }
				])
			)
		}
	};
	servers = await startStaticServers({
		apps: {
			wallet: { dir: fakeBuild('wallet'), port: await freePort(), httpsPort: await freePort() },
			kiosk: { dir: fakeBuild('kiosk'), port: await freePort(), httpsPort: await freePort() }
		},
		httpsHost: '127.0.0.1',
		tlsDir: path.join(root, 'tls'),
		getManifest: () => manifest,
		proxy: { maxBodyBytes: 64 * 1024 },
		// A LAN name this machine does not have, to see the rewrite for it.
		extraHostNames: ['192.168.1.20']
	});
	ca = (await loadOrCreateTls(path.join(root, 'tls'), lanIPv4Addresses())).cert;
	// 127.0.0.1 rather than localhost: the HTTPS servers listen on IPv4 only here.
	httpsBase = `https://127.0.0.1:${new URL(servers.wallet.httpsLocalUrl!).port}`;
	httpBase = servers.wallet.url.replace(/\/$/, '');
}, 60_000);

afterAll(async () => {
	await servers?.stop();
	await lightning?.stop();
	await broker?.stop();
	await chain?.stop();
	rmSync(root, { recursive: true, force: true });
});

describe('/mqtt gateway', () => {
	it('carries MQTT over wss:// to the broker, both ways', async () => {
		const viaGateway = await mqtt.connectAsync(`wss://127.0.0.1:${new URL(httpsBase).port}/mqtt`, {
			protocolVersion: broker.protocolVersion,
			rejectUnauthorized: false,
			reconnectPeriod: 0,
			connectTimeout: 5000
		});
		const direct = await mqtt.connectAsync(broker.wsUrl, {
			protocolVersion: broker.protocolVersion,
			reconnectPeriod: 0
		});
		try {
			const topic = `lightcharge/v1/test/${Math.random().toString(16).slice(2)}`;
			const received = (client: mqtt.MqttClient) =>
				new Promise<string>((resolve) =>
					client.on('message', (t, payload) => t === topic && resolve(payload.toString('utf8')))
				);
			await viaGateway.subscribeAsync(topic, { qos: 1 });
			await direct.subscribeAsync(topic, { qos: 1 });
			const atGateway = received(viaGateway);
			await direct.publishAsync(topic, 'from the broker side', { qos: 1 });
			expect(await atGateway).toBe('from the broker side');
			const atDirect = received(direct);
			await viaGateway.publishAsync(topic, 'from the phone side', { qos: 1 });
			expect(await atDirect).toBe('from the phone side');
		} finally {
			await viaGateway.endAsync();
			await direct.endAsync();
		}
	});

	it('also works over plain ws:// on the HTTP server', async () => {
		const client = await mqtt.connectAsync(`ws://127.0.0.1:${new URL(httpBase).port}/mqtt`, {
			protocolVersion: 4,
			reconnectPeriod: 0
		});
		expect(client.connected).toBe(true);
		await client.endAsync();
	});

	it('refuses a WebSocket upgrade on any other path, and a plain GET of /mqtt', async () => {
		const refused = await new Promise<number>((resolve, reject) => {
			const req = http.request(`${httpBase}/elsewhere`, {
				headers: {
					Connection: 'Upgrade',
					Upgrade: 'websocket',
					'Sec-WebSocket-Version': '13',
					'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ=='
				}
			});
			req.on('response', (res) => resolve(res.statusCode ?? 0));
			req.on('upgrade', () => reject(new Error('upgraded')));
			req.on('error', reject);
			req.end();
		});
		expect(refused).toBe(404);
		const plain = await request(`${httpsBase}/mqtt`);
		expect(plain.status).toBe(426);
		expect(JSON.parse(plain.body)).toMatchObject({ error: 'upgrade_required' });
	});
});

describe('/rpc gateway', () => {
	const call = (url: string, body: string) =>
		request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });

	it('answers eth_chainId over HTTPS', async () => {
		const res = await call(
			`${httpsBase}/rpc`,
			JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'eth_chainId', params: [] })
		);
		expect(res.status).toBe(200);
		expect(JSON.parse(res.body)).toEqual({ jsonrpc: '2.0', id: 7, result: '0x539' });
	});

	it('passes CORS preflights through', async () => {
		const res = await request(`${httpsBase}/rpc`, {
			method: 'OPTIONS',
			headers: {
				Origin: 'https://192.168.1.20:5444',
				'Access-Control-Request-Method': 'POST',
				'Access-Control-Request-Headers': 'content-type'
			}
		});
		expect(res.status).toBeLessThan(300);
		expect(res.headers['access-control-allow-origin']).toBe('*');
	});

	it('refuses methods that act with the node’s own accounts or drive the dev chain, even inside a batch', async () => {
		const accounts = await call(
			`${httpsBase}/rpc`,
			JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_accounts', params: [] })
		);
		expect(accounts.status).toBe(403);
		const batch = JSON.stringify([
			{ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] },
			{
				jsonrpc: '2.0',
				id: 2,
				method: 'hardhat_setBalance',
				params: ['0x0000000000000000000000000000000000000001', '0x1']
			}
		]);
		const res = await call(`${httpsBase}/rpc`, batch);
		expect(res.status).toBe(403);
		expect(JSON.parse(res.body).message).toMatch(
			/^hardhat_setBalance is not available through the devnet's \/rpc gateway/
		);
		const send = await call(
			`${httpsBase}/rpc`,
			JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'eth_sendTransaction', params: [{}] })
		);
		expect(send.status).toBe(403);
	});

	it('refuses a body over the limit with 413 and other methods with 405', async () => {
		const big = await call(
			`${httpsBase}/rpc`,
			JSON.stringify({
				jsonrpc: '2.0',
				id: 1,
				method: 'eth_chainId',
				params: ['x'.repeat(70 * 1024)]
			})
		);
		expect(big.status).toBe(413);
		expect(JSON.parse(big.body).message).toMatch(/larger than 65536 bytes/);
		const get = await request(`${httpsBase}/rpc`);
		expect(get.status).toBe(405);
	});
});

describe('/ln gateway', () => {
	it('proxies a node call with its macaroon', async () => {
		const station = manifest.lightning.nodes['station-1']!;
		const res = await request(`${httpsBase}/ln/nodes/station-1/v1/getinfo`, {
			headers: { 'Grpc-Metadata-macaroon': station.macaroonHex }
		});
		expect(res.status).toBe(200);
		expect(JSON.parse(res.body).identity_pubkey).toBe(station.pubkey);
		// Without a macaroon the node's own refusal comes through (LND's: HTTP 500, code 2).
		const denied = await request(`${httpsBase}/ln/nodes/station-1/v1/getinfo`);
		expect(denied.status).toBe(500);
		expect(JSON.parse(denied.body)).toMatchObject({
			code: 2,
			message: 'expected 1 macaroon, got 0'
		});
		// The simnet's unauthenticated admin API stays on loopback.
		const admin = await request(`${httpsBase}/ln/admin/state`);
		expect(admin.status).toBe(404);
		expect(JSON.parse(admin.body).error).toBe('not_found');
	});

	it('passes an NDJSON invoice subscription through line by line, as it happens', async () => {
		const station = manifest.lightning.nodes['station-1']!;
		const vehicle = manifest.lightning.nodes['vehicle-1']!;
		const auth = { 'Grpc-Metadata-macaroon': station.macaroonHex };
		const added = await request(`${httpsBase}/ln/nodes/station-1/v1/invoices`, {
			method: 'POST',
			headers: { ...auth, 'Content-Type': 'application/json' },
			body: JSON.stringify({ value_msat: '21000', expiry: '600', memo: 'through the gateway' })
		});
		expect(added.status).toBe(200);
		const { r_hash: rHash, payment_request: bolt11 } = JSON.parse(added.body) as {
			r_hash: string;
			payment_request: string;
		};
		const hashHex = Buffer.from(rHash, 'base64').toString('hex');

		const stream = openLineStream(
			`${httpsBase}/ln/nodes/station-1/v2/invoices/subscribe/${hexToBase64Url(hashHex)}`,
			auth
		);
		try {
			// The first line (the invoice still open) must arrive while the stream is still open:
			// a buffering proxy would hold it until the end.
			await stream.waitForLines(1);
			expect(stream.status, stream.lines.join()).toBe(200);
			expect(stream.ended).toBe(false);
			expect(JSON.parse(stream.lines[0]!).result.state).toBe('OPEN');

			const payer = new LndRestNode({ restUrl: vehicle.restUrl, macaroonHex: vehicle.macaroonHex });
			const paid = await payer.pay({
				paymentRequest: bolt11,
				timeoutSeconds: 30,
				feeLimitMsat: 10_000n
			});
			expect(paid.status).toBe('succeeded');
			await stream.waitForLines(2);
			expect(JSON.parse(stream.lines.at(-1)!).result.state).toBe('SETTLED');
		} finally {
			stream.close();
		}
	});

	it('answers 502 with a clear JSON message when the upstream is down', async () => {
		const deadPort = await freePort();
		const proxy = createDevnetProxy(() => ({
			brokerWsUrl: `ws://127.0.0.1:${deadPort}/mqtt`,
			rpcUrl: `http://127.0.0.1:${deadPort}`,
			lightningUrl: `http://127.0.0.1:${deadPort}`
		}));
		const server = http.createServer((req, res) => {
			if (!proxy.handleRequest(req, res)) res.writeHead(404).end();
		});
		server.on('upgrade', proxy.handleUpgrade);
		await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
		const port = (server.address() as { port: number }).port;
		try {
			const ln = await request(`http://127.0.0.1:${port}/ln/nodes/hub/v1/getinfo`);
			expect(ln.status).toBe(502);
			expect(ln.headers['content-type']).toMatch(/application\/json/);
			expect(JSON.parse(ln.body)).toEqual({
				error: 'bad_gateway',
				message: `The devnet's Lightning simnet at http://127.0.0.1:${deadPort} refused the connection (is it running?).`
			});
			const rpc = await request(`http://127.0.0.1:${port}/rpc`, {
				method: 'POST',
				body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] })
			});
			expect(rpc.status).toBe(502);
			expect(JSON.parse(rpc.body).message).toMatch(/chain RPC .* refused the connection/);
			const upgrade = await new Promise<{ status: number; body: string }>((resolve, reject) => {
				const socket = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, 'mqtt');
				socket.on('open', () => reject(new Error('the upgrade went through')));
				socket.on('unexpected-response', (_req, res) => {
					let body = '';
					res.on('data', (c: Buffer) => (body += c.toString('utf8')));
					res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
				});
				socket.on('error', () => {});
			});
			expect(upgrade.status).toBe(502);
			expect(JSON.parse(upgrade.body).message).toMatch(
				/MQTT broker at ws:\/\/127\.0\.0\.1:\d+ refused the connection/
			);
		} finally {
			proxy.close();
			server.closeAllConnections();
			await new Promise<void>((r) => server.close(() => r()));
		}
	});
});

describe('/devnet.json per origin', () => {
	it('keeps the direct URLs for loopback HTTP', async () => {
		const res = await request(`${httpBase}/devnet.json`);
		expect(JSON.parse(res.body)).toEqual(manifest);
	});

	it('points HTTPS requests at that origin’s gateways, and the apps at their HTTPS URLs on the same host', async () => {
		const res = await request(`${httpsBase}/devnet.json`);
		const seen = parseDevnetManifest(res.body);
		const host = new URL(httpsBase).host;
		expect(seen.broker.wsUrl).toBe(`wss://${host}/mqtt`);
		expect(seen.chain.rpcUrl).toBe(`https://${host}/rpc`);
		expect(seen.lightning.url).toBe(`https://${host}/ln`);
		expect(seen.lightning.nodes['station-1']!.restUrl).toBe(`https://${host}/ln/nodes/station-1`);
		expect(seen.wallet).toEqual({
			url: `https://127.0.0.1:${new URL(httpsBase).port}/`,
			httpsUrl: `https://127.0.0.1:${new URL(httpsBase).port}/`
		});
		expect(seen.kiosk.httpsUrl).toBe(
			`https://127.0.0.1:${new URL(servers.kiosk.httpsLocalUrl!).port}/`
		);
		// Everything else is unchanged.
		expect({
			...seen,
			wallet: 0,
			kiosk: 0,
			broker: { ...seen.broker, wsUrl: 0 },
			chain: { ...seen.chain, rpcUrl: 0 },
			lightning: 0
		}).toEqual({
			...manifest,
			wallet: 0,
			kiosk: 0,
			broker: { ...manifest.broker, wsUrl: 0 },
			chain: { ...manifest.chain, rpcUrl: 0 },
			lightning: 0
		});
	});

	it('rewrites for a LAN host name over plain HTTP too (ws://, http://)', async () => {
		const res = await request(`${httpBase}/devnet.json`, {
			headers: { Host: `192.168.1.20:${new URL(httpBase).port}` }
		});
		const seen = parseDevnetManifest(res.body);
		expect(seen.broker.wsUrl).toBe(`ws://192.168.1.20:${new URL(httpBase).port}/mqtt`);
		expect(seen.chain.rpcUrl).toBe(`http://192.168.1.20:${new URL(httpBase).port}/rpc`);
		expect(seen.wallet.url).toBe(`http://192.168.1.20:${new URL(httpBase).port}/`);
		expect(seen.wallet.httpsUrl).toBe(`https://192.168.1.20:${new URL(httpsBase).port}/`);
	});

	it('refuses an HTTPS request whose Host is not a host name, or not one of the devnet’s names', async () => {
		const res = await request(`${httpsBase}/devnet.json`, {
			headers: { Host: 'evil.test/path?x' }
		});
		expect(res.status).toBe(421);
		const rebound = await request(`${httpsBase}/devnet.json`, {
			headers: { Host: `evil.test:${new URL(httpsBase).port}` }
		});
		expect(rebound.status).toBe(421);
		expect(JSON.parse(rebound.body)).toMatchObject({ error: 'unknown_host' });
	});
});

describe('manifestForOrigin', () => {
	const apps: AppPorts = {
		wallet: { port: 5173, httpsPort: 5443 },
		kiosk: { port: 5174, httpsPort: 5444 }
	};

	it('gives a phone on the LAN the wallet and kiosk at their HTTPS LAN URLs and the gateways of the origin it used', () => {
		const m = manifestForOrigin(
			sampleManifest(),
			{ secure: true, host: '192.168.1.20:5444' },
			apps
		);
		expect(parseDevnetManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
		expect(m.wallet).toEqual({
			url: 'https://192.168.1.20:5443/',
			httpsUrl: 'https://192.168.1.20:5443/'
		});
		expect(m.kiosk).toEqual({
			url: 'https://192.168.1.20:5444/',
			httpsUrl: 'https://192.168.1.20:5444/'
		});
		expect(m.broker.wsUrl).toBe('wss://192.168.1.20:5444/mqtt');
		expect(m.chain.rpcUrl).toBe('https://192.168.1.20:5444/rpc');
		expect(m.lightning.nodes['station-1']!.restUrl).toBe(
			'https://192.168.1.20:5444/ln/nodes/station-1'
		);
		expect(m.broker.tcpUrl).toBe('mqtt://127.0.0.1:1883');
	});

	it('leaves Lightning nodes outside the simnet alone and keeps IPv6 hosts bracketed', () => {
		const base = sampleManifest();
		base.lightning.nodes['elsewhere'] = {
			restUrl: 'https://lnd.example:8080',
			macaroonHex: 'ab',
			pubkey: `03${'cd'.repeat(32)}`
		};
		const m = manifestForOrigin(base, { secure: true, host: '[fd00::5]:5443' }, apps);
		expect(m.lightning.nodes['elsewhere']!.restUrl).toBe('https://lnd.example:8080');
		expect(m.wallet.url).toBe('https://[fd00::5]:5443/');
		expect(m.broker.wsUrl).toBe('wss://[fd00::5]:5443/mqtt');
	});

	it('has no HTTPS URLs when HTTPS is off', () => {
		const m = manifestForOrigin(
			sampleManifest(),
			{ secure: false, host: 'devbox.lan:5173' },
			{ wallet: { port: 5173, httpsPort: null }, kiosk: { port: 5174, httpsPort: null } }
		);
		expect(m.wallet).toEqual({ url: 'http://devbox.lan:5173/', httpsUrl: null });
		expect(m.kiosk).toEqual({ url: 'http://devbox.lan:5174/', httpsUrl: null });
	});

	it('rewrites every origin but loopback HTTP', () => {
		expect(needsRewrite({ secure: false, host: '127.0.0.1:5173' })).toBe(false);
		expect(needsRewrite({ secure: false, host: 'localhost:5173' })).toBe(false);
		expect(needsRewrite({ secure: false, host: '[::1]:5173' })).toBe(false);
		expect(needsRewrite({ secure: true, host: 'localhost:5443' })).toBe(true);
		expect(needsRewrite({ secure: false, host: '192.168.1.20:5173' })).toBe(true);
		expect(isLoopbackHostname('app.localhost')).toBe(true);
		expect(isLoopbackHostname('127.1.2.3')).toBe(true);
		expect(isLoopbackHostname('128.0.0.1')).toBe(false);
	});
});
