// The attacks of issue 11, each reproduced from this machine's LAN address (not loopback) against the
// real devnet parts (Hardhat chain, aedes, the Lightning simnet) behind the real HTTPS servers, and
// each refused or survived, leaving the devnet serving the next request. Bounded in count and time.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleManifest } from '../src/lib/config/devnet-manifest.fixture';
import type { DevnetManifest } from '../src/lib/config';
import { startBroker, type RunningBroker } from './broker';
import { startChain, type RunningChain } from './chain';
import { startLightningSimnet, type LightningSimnet } from './lightning';
import { freePort } from './ports';
import {
	lanIPv4Addresses,
	loadOrCreateTls,
	startStaticServers,
	type RunningStatic
} from './static';
import { withStartRetry } from './start-retry.testing.js';
import { rawRequest, type Answer, type RawInit } from './raw-request.testing.js';

const LAN = lanIPv4Addresses()[0];
const root = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-attacks-'));
let chain: RunningChain;
let broker: RunningBroker;
let lightning: LightningSimnet;
let servers: RunningStatic;
let manifest: DevnetManifest;
let ca: string;
let lanBase: string;
const WS_PER_CLIENT = 16;
const WS_IDLE_MS = 1500;

function fakeBuild(name: string): string {
	const dir = path.join(root, 'build', name);
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, '200.html'), `<!doctype html><title>${name}</title>`);
	return dir;
}

/** One request with the path sent exactly as given (no client-side normalisation). */
const request = (base: string, rawPath: string, init: RawInit = {}): Promise<Answer> =>
	rawRequest(base, rawPath, init, ca);

const rpcBody = (method: string, params: unknown[] = [], id = 1) =>
	JSON.stringify({ jsonrpc: '2.0', id, method, params });
const rpc = (body: string) =>
	request(lanBase, '/rpc', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body
	});

async function startAll(): Promise<void> {
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
		httpsHost: '0.0.0.0',
		tlsDir: path.join(root, 'tls'),
		getManifest: () => manifest,
		proxy: { maxWebSocketsPerClient: WS_PER_CLIENT, webSocketIdleMs: WS_IDLE_MS },
		clientLimits: { requestsPerSecond: 20, burst: 200 }
	});
	ca = (await loadOrCreateTls(path.join(root, 'tls'), lanIPv4Addresses())).cert;
	lanBase = `https://${LAN}:${new URL(servers.wallet.httpsLanUrls[0]!).port}`;
}

async function stopAll(): Promise<void> {
	await servers?.stop();
	await lightning?.stop();
	await broker?.stop();
	await chain?.stop();
}

beforeAll(async () => {
	if (!LAN) return;
	await withStartRetry('the chain, broker, simnet and app servers', async () => {
		try {
			await startAll();
		} catch (err) {
			await stopAll().catch(() => {});
			throw err;
		}
	});
	// A cold start under load (six agents on two cores) has taken over a minute; two tries fit in this.
}, 240_000);

afterAll(async () => {
	await stopAll();
	rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!LAN)('from the LAN address', () => {
	it('never reaches the simnet admin API through /ln, whatever the spelling of the path', async () => {
		const adminDirect = await fetch(`${lightning.url}/admin/state`);
		expect(adminDirect.status).toBe(200);
		const nodesBefore = Object.keys(
			((await adminDirect.json()) as { nodes: Record<string, unknown> }).nodes ?? {}
		).sort();
		const tricks = [
			'/ln/admin/state',
			'/ln//admin/state',
			'/ln/nodes/../admin/state',
			'/ln/nodes/hub/../../admin/state',
			'/ln/nodes/%2e%2e/admin/state',
			'/ln/nodes/%2E%2E/admin/state',
			'/ln/nodes/.%2e/admin/state',
			'/ln/nodes/%2e./admin/state',
			'/ln/nodes/..\\admin/state',
			'/ln/nodes/hub/..\\..\\admin/state',
			'/ln/nodes/%5c..%5cadmin/state',
			'/ln/nodes/%252e%252e/admin/state',
			'/ln/nodes/hub%2f..%2f..%2fadmin/state',
			'/ln/nodes/hub/%2e%2e/%2e%2e/admin/state',
			'/ln/nodes/./../admin/state',
			'/ln/nodes/%00/../admin/state',
			'/%6cn/nodes/%2e%2e/admin/state'
		];
		for (const trick of tricks) {
			for (const method of ['GET', 'POST']) {
				const path = method === 'POST' ? trick.replace(/state$/, 'nodes') : trick;
				const res = await request(lanBase, path, {
					method,
					headers: { 'Content-Type': 'application/json' },
					body: method === 'POST' ? JSON.stringify({ name: 'intruder' }) : undefined
				});
				expect(
					res.status,
					`${method} ${path} → ${res.status} ${res.body.slice(0, 120)}`
				).toBeGreaterThanOrEqual(400);
				expect(res.body, `${method} ${path}`).not.toMatch(/"nodes"\s*:\s*\{|intruder/);
			}
		}
		const after = (await (await fetch(`${lightning.url}/admin/state`)).json()) as {
			nodes: Record<string, unknown>;
		};
		expect(Object.keys(after.nodes ?? {}).sort()).toEqual(nodesBefore);
		// …and the node APIs still answer through the gateway.
		const hub = manifest.lightning.nodes.hub!;
		const info = await request(lanBase, '/ln/nodes/hub/v1/getinfo', {
			headers: { 'Grpc-Metadata-macaroon': hub.macaroonHex }
		});
		expect(info.status).toBe(200);
	});

	it('serves /devnet.json only to its own origin and its own Host names (no DNS rebinding)', async () => {
		const port = new URL(lanBase).port;
		const rebound = await request(lanBase, '/devnet.json', {
			headers: { Host: `attacker.example:${port}` }
		});
		expect(rebound.status).toBe(421);
		expect(rebound.body).not.toContain('macaroon');
		const foreign = await request(lanBase, '/devnet.json', {
			headers: { Origin: 'https://attacker.example' }
		});
		expect(foreign.status).toBe(403);
		expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
		const own = await request(lanBase, '/devnet.json', { headers: { Origin: lanBase } });
		expect(own.status).toBe(200);
		expect(own.headers['access-control-allow-origin']).toBeUndefined();
		// The loopback chain and simnet refuse a rebound Host too, and the simnet admin any web page.
		const chainPort = new URL(chain.rpcUrl).port;
		const chainRebound = await request(chain.rpcUrl, '/', {
			method: 'POST',
			headers: { Host: `attacker.example:${chainPort}`, 'Content-Type': 'application/json' },
			body: rpcBody('eth_chainId')
		});
		expect(chainRebound.status).toBe(421);
		const chainPage = await request(chain.rpcUrl, '/', {
			method: 'POST',
			headers: { Origin: 'https://attacker.example', 'Content-Type': 'application/json' },
			body: rpcBody('eth_chainId')
		});
		expect(chainPage.status).toBe(421);
		const simRebound = await request(lightning.url, '/admin/state', {
			headers: { Host: 'attacker.example' }
		});
		expect(simRebound.status).toBe(421);
		const simPage = await request(lightning.url, '/admin/nodes', {
			method: 'POST',
			headers: { Origin: 'http://127.0.0.1:5173' },
			body: JSON.stringify({ name: 'from-a-page' })
		});
		expect(simPage.status).toBe(403);
	});

	it('answers a looping eth_call within its gas and time, and keeps serving', async () => {
		const rssBefore = process.memoryUsage().rss;
		const started = Date.now();
		// JUMPDEST PUSH1 0 JUMP: creation code that loops until the gas is gone (the 86-byte request of the issue).
		const res = await rpc(
			rpcBody('eth_call', [{ data: '0x5b600056', gas: '0xffffffffffff' }, 'latest'])
		);
		const tookMs = Date.now() - started;
		expect(res.status).toBe(200);
		expect(JSON.parse(res.body).error.message).toMatch(/out of gas/i);
		expect(tookMs).toBeLessThan(10_000);
		expect(process.memoryUsage().rss - rssBefore).toBeLessThan(600 * 1024 * 1024);
		const estimate = await rpc(rpcBody('eth_estimateGas', [{ data: '0x5b600056' }]));
		expect(estimate.status).toBe(200);
		const next = await rpc(rpcBody('eth_chainId'));
		expect(JSON.parse(next.body).result).toBe('0x539');
	}, 30_000);

	it('refuses state overrides, big batches, big calldata, a transaction asking for lots of gas and the node’s accounts', async () => {
		const override = await rpc(
			rpcBody('eth_call', [
				{ data: '0x' },
				'latest',
				{ '0x0000000000000000000000000000000000000001': { code: '0x5b600056' } }
			])
		);
		expect(override.status).toBe(400);
		const batch = await rpc(
			JSON.stringify(
				Array.from({ length: 21 }, (_, i) => JSON.parse(rpcBody('eth_chainId', [], i)))
			)
		);
		expect(batch.status).toBe(413);
		expect(JSON.parse(batch.body).message).toMatch(/at most 20/);
		const calldata = await rpc(
			rpcBody('eth_call', [{ data: `0x${'00'.repeat(200 * 1024)}` }, 'latest'])
		);
		expect(calldata.status).toBe(413);
		const wallet = Wallet.createRandom();
		const greedy = await wallet.signTransaction({
			to: wallet.address,
			gasLimit: 30_000_000n,
			gasPrice: 0n,
			nonce: 0,
			chainId: 1337n,
			type: 0
		});
		const tx = await rpc(rpcBody('eth_sendRawTransaction', [greedy]));
		expect(tx.status).toBe(413);
		expect(JSON.parse(tx.body).message).toMatch(/at most 1000000 per transaction/);
		for (const method of [
			'eth_accounts',
			'eth_sendTransaction',
			'personal_sign',
			'hardhat_impersonateAccount',
			'evm_mine',
			'debug_traceCall',
			'eth_sign'
		]) {
			const res = await rpc(rpcBody(method, []));
			expect(res.status, method).toBe(403);
		}
		const notJson = await rpc('{"jsonrpc":"2.0",');
		expect(notJson.status).toBe(400);
	});

	it('keeps gas price 0 writes going after five 1 MB transactions fill blocks (no base fee to raise)', async () => {
		// Straight at the chain (the gateway refuses such sizes): the chain itself must not price zero-gas writes out.
		const provider = new JsonRpcProvider(chain.rpcUrl, 1337, {
			staticNetwork: true,
			pollingInterval: 50
		});
		try {
			const filler = Wallet.createRandom().connect(provider);
			const big = `0x${'ff'.repeat(1024 * 1024)}`;
			let mined = 0;
			for (let nonce = 0; nonce < 5; nonce++) {
				const sent = await filler.sendTransaction({
					to: filler.address,
					data: big,
					gasPrice: 0n,
					gasLimit: 17_000_000n,
					nonce,
					type: 0
				});
				if ((await sent.wait())?.status === 1) mined++;
			}
			expect(mined).toBe(5);
			const block = (await provider.send('eth_getBlockByNumber', ['latest', false])) as {
				baseFeePerGas?: string;
			};
			expect(block.baseFeePerGas).toBeUndefined();
			const writer = Wallet.createRandom().connect(provider);
			const receipt = await (
				await writer.sendTransaction({ to: writer.address, gasPrice: 0n, type: 0 })
			).wait();
			expect(receipt?.status).toBe(1);
		} finally {
			provider.destroy();
		}
		// 52 s measured on the shared 2-core machine under load (2026-12-03), against 60 s before.
	}, 150_000);

	it('refuses a 10 MB retained message sent through the LAN /mqtt gateway, keeps none of it, and serves the next client', async () => {
		const url = `wss://${LAN}:${new URL(lanBase).port}/mqtt`;
		const connect = (clientId: string) =>
			mqtt.connectAsync(url, {
				protocolVersion: 4,
				clientId,
				ca,
				reconnectPeriod: 0,
				connectTimeout: 10_000
			});
		const clients: mqtt.MqttClient[] = [];
		try {
			const attacker = await connect(`big-${Date.now()}`);
			clients.push(attacker);
			const outcome = new Promise<string>((resolve) => {
				attacker.on('error', () => undefined);
				attacker.once('close', () => resolve('disconnected'));
				attacker.publish(
					'lightcharge/v1/test/huge',
					Buffer.alloc(10 * 1024 * 1024, 0x41),
					{ qos: 1, retain: true },
					(err) => err && resolve('refused')
				);
			});
			expect(['disconnected', 'refused']).toContain(await outcome);
			const late = await connect(`late-${Date.now()}`);
			clients.push(late);
			const topics: string[] = [];
			late.on('message', (t) => topics.push(t));
			await late.publishAsync('lightcharge/v1/test/ok', 'fine', { qos: 1, retain: true });
			await late.subscribeAsync(['lightcharge/v1/test/ok', 'lightcharge/v1/test/huge'], { qos: 1 });
			await expect.poll(() => topics, { timeout: 5000 }).toContain('lightcharge/v1/test/ok');
			expect(topics).not.toContain('lightcharge/v1/test/huge');
		} finally {
			await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
		}
	}, 30_000);

	it('lets one client hold only a few /mqtt WebSockets, closes idle ones, and leaves room for everyone else', async () => {
		const url = `wss://${LAN}:${new URL(lanBase).port}/mqtt`;
		// While the cap is counted the open ones ping (traffic), so none is let go as idle meanwhile: on a
		// busy machine 300 TLS handshakes take longer than the idle timeout, and a slot freed by an idle
		// close would let a 17th in (it did: 32 opened under load).
		const pingers: NodeJS.Timeout[] = [];
		const open = (target: string) =>
			new Promise<{ ws: WebSocket | null; status: number }>((resolve) => {
				const ws = new WebSocket(target, 'mqtt', { ca, handshakeTimeout: 5000 });
				ws.on('open', () => {
					pingers.push(setInterval(() => ws.ping(), 200));
					resolve({ ws, status: 101 });
				});
				ws.on('unexpected-response', (_req, res) =>
					resolve({ ws: null, status: res.statusCode ?? 0 })
				);
				ws.on('error', () => resolve({ ws: null, status: 0 }));
			});
		const attempts = await Promise.all(Array.from({ length: 300 }, () => open(url)));
		const opened = attempts.filter((a) => a.status === 101);
		expect(opened.length).toBe(WS_PER_CLIENT);
		expect(attempts.filter((a) => a.status !== 101).length).toBe(300 - WS_PER_CLIENT);
		expect(attempts.some((a) => a.status === 429)).toBe(true);
		// Another device (here: this machine over loopback) still gets in while those are held.
		const other = await open(`wss://127.0.0.1:${new URL(lanBase).port}/mqtt`);
		expect(other.status).toBe(101);
		other.ws?.close();
		for (const t of pingers.splice(0)) clearInterval(t);
		// The idle ones are let go, and the client can connect again.
		const closed = await Promise.all(
			opened.map(
				(a) => new Promise<number>((resolve) => a.ws!.on('close', () => resolve(Date.now())))
			)
		);
		expect(closed.length).toBe(WS_PER_CLIENT);
		const again = await open(url);
		expect(again.status).toBe(101);
		for (const t of pingers.splice(0)) clearInterval(t);
		again.ws?.close();
	}, 30_000);

	it('answers 429 to a client that floods requests, and serves it again after a pause', async () => {
		// Ten at a time, up to 1,000: the bucket (200, then 20/s) must run dry however slowly a loaded
		// machine answers (260 one by one at 55/s never emptied it: 200 + 20/s × 4.7 s > 260).
		let sent = 0;
		let limited = 0;
		while (sent < 1000 && limited === 0) {
			const batch = await Promise.all(
				Array.from({ length: 10 }, () =>
					request(lanBase, '/rpc', {
						method: 'POST',
						headers: { 'Content-Type': 'application/json' },
						body: rpcBody('eth_chainId')
					})
				)
			);
			const first = batch.findIndex((res) => res.status === 429);
			if (first >= 0) limited = sent + first + 1;
			sent += batch.length;
		}
		// Not before the burst allowance was spent.
		expect(limited).toBeGreaterThan(200);
		await new Promise((r) => setTimeout(r, 600));
		const after = await rpc(rpcBody('eth_chainId'));
		expect(after.status).toBe(200);
	}, 30_000);
});
