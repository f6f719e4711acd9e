// Least privilege per device, against the whole devnet (startDevnet: Hardhat chain with the
// contracts, aedes, the Lightning simnet, the HTTPS app servers) from this machine's LAN address,
// which the devnet treats as any other device on the network: no secret in /devnet.json, a car node
// of its own per phone, kiosks enrolled only by the operator's confirmation on loopback, and all of
// it kept across a restart with the same state dir.
import http from 'node:http';
import https from 'node:https';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Interface, Wallet, ZeroHash } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDevnetManifest, type DevnetManifest } from './manifest';
import { connectLedger, stationIdToBytes32 } from '../src/lib/ledger/index';
import { LndCalls } from './simnet/rest-client';
import { startDevnet, type RunningDevnet } from './devnet';
import { createDeviceRegistry, DEVICE_COOKIE } from './devices';
import { startLightningSimnet } from './lightning';
import { freePort } from './ports';
import { lanIPv4Addresses } from './static';
import { rawRequest, type Answer, type RawInit } from './raw-request.testing.js';
import { withStartRetry } from './start-retry.testing.js';

const LAN = lanIPv4Addresses()[0];
const root = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-devices-'));
const stateDir = path.join(root, 'state');
let devnet: RunningDevnet;
let ca: string;
let walletLan: string;
let kioskLan: string;
let kioskLoopback: string;

/** One request with the path sent exactly as given (no client-side normalisation). */
const request = (base: string, rawPath: string, init: RawInit = {}): Promise<Answer> =>
	rawRequest(base, rawPath, init, ca);

/** A device: the cookie the devnet gave it on its first visit, sent back on each request. */
class Device {
	cookie: string | null = null;
	async get(base: string, p: string, headers: Record<string, string> = {}): Promise<Answer> {
		return this.remember(
			await request(base, p, {
				headers: { ...headers, ...(this.cookie ? { Cookie: this.cookie } : {}) }
			})
		);
	}
	async post(
		base: string,
		p: string,
		body: unknown,
		headers: Record<string, string> = {}
	): Promise<Answer> {
		return this.remember(
			await request(base, p, {
				method: 'POST',
				body: JSON.stringify(body),
				headers: {
					'Content-Type': 'application/json',
					...headers,
					...(this.cookie ? { Cookie: this.cookie } : {})
				}
			})
		);
	}
	async manifest(base: string): Promise<DevnetManifest> {
		const res = await this.get(base, '/devnet.json');
		expect(res.status, res.body).toBe(200);
		return parseDevnetManifest(JSON.parse(res.body));
	}
	private remember(res: Answer): Answer {
		const set = res.headers['set-cookie']?.[0];
		if (set) this.cookie = set.split(';')[0]!;
		return res;
	}
}

/** Every secret the devnet holds, as text, to look for in what a LAN device was served. */
function secrets(d: RunningDevnet): string[] {
	const operator = JSON.parse(
		readFileSync(path.join(stateDir, 'chain', 'operator.json'), 'utf8')
	) as { privateKey: string };
	return [
		operator.privateKey.slice(2),
		...d.manifest.stations.map((s) => s.signingKeyHex),
		...Object.values(d.manifest.lightning.nodes).map((n) => n.macaroonHex)
	].filter((s) => s.length > 0);
}

function start(): Promise<RunningDevnet> {
	return withStartRetry('the devnet', startOnce);
}

async function startOnce(): Promise<RunningDevnet> {
	const ports = {
		chain: await freePort(),
		mqtt: await freePort(),
		ws: await freePort(),
		lightning: await freePort(),
		wallet: await freePort(),
		kiosk: await freePort(),
		httpsWallet: await freePort(),
		httpsKiosk: await freePort()
	};
	const d = await startDevnet({
		stateDir,
		buildDir: path.join(root, 'build'),
		ports,
		blockIntervalMs: 0,
		httpsHost: '0.0.0.0'
	});
	ca = readFileSync(path.join(stateDir, 'tls', 'cert.pem'), 'utf8');
	walletLan = `https://${LAN}:${ports.httpsWallet}`;
	kioskLan = `https://${LAN}:${ports.httpsKiosk}`;
	kioskLoopback = `http://127.0.0.1:${ports.kiosk}`;
	return d;
}

beforeAll(async () => {
	if (!LAN) return;
	for (const app of ['wallet', 'kiosk']) {
		mkdirSync(path.join(root, 'build', app), { recursive: true });
		writeFileSync(
			path.join(root, 'build', app, '200.html'),
			`<!doctype html><title>${app}</title>`
		);
	}
	devnet = await start();
	// A cold start under load (six agents on two cores) has taken over a minute; two tries fit in this.
}, 240_000);

afterAll(async () => {
	await devnet?.stop();
	rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!LAN)('devices on the LAN', () => {
	const phoneA = new Device();
	const phoneB = new Device();
	const kiosk = new Device();

	it('serves a phone no secret: no station key, no hub or station macaroon, nothing of the operator', async () => {
		const res = await phoneA.get(walletLan, '/devnet.json');
		expect(res.status).toBe(200);
		for (const secret of secrets(devnet)) expect(res.body).not.toContain(secret);
		expect(res.headers['set-cookie']?.[0]).toMatch(
			new RegExp(
				`^${DEVICE_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; Max-Age=\\d+; HttpOnly; SameSite=Strict; Secure$`
			)
		);
		const m = parseDevnetManifest(JSON.parse(res.body));
		expect(m.stations.every((s) => s.signingKeyHex === '')).toBe(true);
		expect(m.lightning.nodes.hub!.macaroonHex).toBe('');
		expect(m.lightning.nodes['station-1']!.macaroonHex).toBe('');
		// Its own car node, under the wallet's default entry, through the LAN gateway.
		const car = m.lightning.nodes['vehicle-1']!;
		expect(car.restUrl).toMatch(new RegExp(`^${walletLan}/ln/nodes/phone-[0-9a-f]{8}$`));
		expect(car.macaroonHex).not.toBe(devnet.manifest.lightning.nodes['vehicle-1']!.macaroonHex);
		// The kiosk's origin serves no more (the manifest to any other origin: 403, as before).
		const viaKiosk = await new Device().get(kioskLan, '/devnet.json');
		for (const secret of secrets(devnet)) expect(viaKiosk.body).not.toContain(secret);
		expect(
			(await phoneA.get(walletLan, '/devnet.json', { Origin: 'https://attacker.example' })).status
		).toBe(403);
		// This machine (loopback) still gets everything, as the one-click demo needs.
		const local = JSON.parse(
			(await request(`http://127.0.0.1:${new URL(devnet.wallet.url).port}`, '/devnet.json')).body
		) as DevnetManifest;
		expect(local.stations[0]!.signingKeyHex).toMatch(/^[0-9a-f]{64}$/);
	});

	it('remembers a phone’s car node, gives another phone another, and refuses a payment with one phone’s macaroon on the other’s node', async () => {
		const a = await phoneA.manifest(walletLan);
		const again = await phoneA.manifest(walletLan);
		expect(again.lightning.nodes['vehicle-1']!.restUrl).toBe(
			a.lightning.nodes['vehicle-1']!.restUrl
		);
		const b = await phoneB.manifest(walletLan);
		expect(b.lightning.nodes['vehicle-1']!.restUrl).not.toBe(
			a.lightning.nodes['vehicle-1']!.restUrl
		);

		// The station (on this machine) bills 2 sat; phone A's macaroon is tried on phone B's node through the LAN gateway.
		const local = devnet.manifest.lightning.nodes['station-1']!;
		const station = new LndCalls({ restUrl: local.restUrl, macaroonHex: local.macaroonHex });
		const invoice = await station.createInvoice({
			amountMsat: 2000n,
			memo: 'cross-phone',
			expirySeconds: 600
		});
		const body = JSON.stringify({
			payment_request: invoice.paymentRequest,
			timeout_seconds: 10,
			fee_limit_msat: '1000'
		});
		const bNode = new URL(b.lightning.nodes['vehicle-1']!.restUrl).pathname;
		const crossed = await request(walletLan, `${bNode}/v2/router/send`, {
			method: 'POST',
			body,
			headers: {
				'Content-Type': 'application/json',
				'Grpc-Metadata-macaroon': a.lightning.nodes['vehicle-1']!.macaroonHex
			}
		});
		expect(crossed.status).toBe(500);
		expect(crossed.body).toContain(
			'verification failed: signature mismatch after caveat verification'
		);
		expect((await station.lookupInvoice(invoice.paymentHash)).state).toBe('open');
		// Neither can make the station's node do anything: its macaroon was never served.
		const stationPath = new URL(a.lightning.nodes['station-1']!.restUrl).pathname;
		const asStation = await request(walletLan, `${stationPath}/v1/invoices`, {
			method: 'POST',
			body: '{"value":"1"}',
			headers: {
				'Content-Type': 'application/json',
				'Grpc-Metadata-macaroon': a.lightning.nodes['vehicle-1']!.macaroonHex
			}
		});
		expect(asStation.status).toBe(500);
		// Phone A pays from its own node.
		const payer = new LndCalls({
			restUrl: a.lightning.nodes['vehicle-1']!.restUrl,
			macaroonHex: a.lightning.nodes['vehicle-1']!.macaroonHex,
			fetch: insecureFetch
		});
		const paid = await payer.pay({
			paymentRequest: invoice.paymentRequest,
			feeLimitMsat: 1000n,
			timeoutSeconds: 10
		});
		expect(paid.status).toBe('succeeded');
		// …but cannot invoice on it (pay + read only).
		const own = new URL(a.lightning.nodes['vehicle-1']!.restUrl).pathname;
		const makeInvoice = await request(walletLan, `${own}/v1/invoices`, {
			method: 'POST',
			body: '{"value":"1"}',
			headers: {
				'Content-Type': 'application/json',
				'Grpc-Metadata-macaroon': a.lightning.nodes['vehicle-1']!.macaroonHex
			}
		});
		expect(JSON.parse(makeInvoice.body)).toMatchObject({ code: 2, message: 'permission denied' });
	});

	it('enrols a kiosk only when the operator confirms its one-time code on this machine, and registers its own key on the ledger', async () => {
		const first = await kiosk.manifest(kioskLan);
		expect(first.enrolment).toEqual({ state: 'none' });
		const key = Wallet.createRandom();
		// Bad requests get a sentence.
		const bad = await kiosk.post(kioskLan, '/devnet/enrol', { signerAddress: 'not an address' });
		expect(bad.status).toBe(400);
		expect(JSON.parse(bad.body).message).toMatch(/signerAddress must be the Ethereum address/);
		const asked = await kiosk.post(kioskLan, '/devnet/enrol', {
			signerAddress: key.address,
			name: 'Tablet at the door'
		});
		expect(asked.status, asked.body).toBe(200);
		const { code } = JSON.parse(asked.body) as { code: string };
		expect(code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
		expect((await kiosk.manifest(kioskLan)).enrolment).toMatchObject({ state: 'pending', code });

		// Nobody on the LAN can confirm it — not the kiosk itself, not with the right code.
		for (const p of ['/devnet/enrol/confirm', '/devnet/enrol/pending', '/devnet/operator']) {
			const res = p.endsWith('confirm')
				? await kiosk.post(kioskLan, p, { code })
				: await kiosk.get(kioskLan, p);
			expect(res.status, p).toBe(403);
			expect(res.body).toMatch(/Only the operator/);
		}
		// Nor a web page the operator has open (another origin), on loopback.
		const page = await request(kioskLoopback, '/devnet/enrol/confirm', {
			method: 'POST',
			body: JSON.stringify({ code }),
			headers: { 'Content-Type': 'application/json', Origin: 'https://attacker.example' }
		});
		expect(page.status).toBe(403);
		const wrong = await request(kioskLoopback, '/devnet/enrol/confirm', {
			method: 'POST',
			body: '{"code":"ZZZZ-ZZZZ"}',
			headers: { 'Content-Type': 'application/json' }
		});
		expect(wrong.status).toBe(404);
		expect(JSON.parse(wrong.body).message).toMatch(/No kiosk is waiting with the code ZZZZ-ZZZZ/);
		const listed = JSON.parse((await request(kioskLoopback, '/devnet/enrol/pending')).body) as {
			code: string;
			name: string;
		}[];
		expect(listed).toEqual([expect.objectContaining({ code, name: 'Tablet at the door' })]);
		expect((await request(kioskLoopback, '/devnet/operator')).body).toContain('Enrol a kiosk');

		// The operator types it (lower case, no dash: forgiven).
		const confirmed = await request(kioskLoopback, '/devnet/enrol/confirm', {
			method: 'POST',
			body: JSON.stringify({ code: code.replace('-', '').toLowerCase() }),
			headers: { 'Content-Type': 'application/json' }
		});
		expect(confirmed.status, confirmed.body).toBe(200);
		const { stationId } = JSON.parse(confirmed.body) as { stationId: string };
		expect(stationId).toMatch(/^kiosk-[0-9a-f]{6}$/);
		const ledger = await connectLedger({
			rpcUrl: devnet.manifest.chain.rpcUrl,
			addresses: devnet.manifest.chain.contracts,
			expectedChainId: devnet.manifest.chain.chainId
		});
		try {
			const record = await ledger.getStation(stationId);
			expect(record?.signer).toBe(key.address);
			expect(record?.location).toBe('Tablet at the door');
		} finally {
			ledger.close();
		}
		// Its manifest now names its station first, with its own node and an invoice-only macaroon; still no key.
		const enrolled = await kiosk.manifest(kioskLan);
		expect(enrolled.enrolment).toEqual({ state: 'enrolled', stationId });
		const mine = enrolled.stations[0]!;
		expect(mine).toMatchObject({
			stationId,
			signerAddress: key.address,
			signingKeyHex: '',
			lightningNode: stationId
		});
		for (const secret of secrets(devnet)) expect(JSON.stringify(enrolled)).not.toContain(secret);
		const node = new LndCalls({
			restUrl: enrolled.lightning.nodes[stationId]!.restUrl,
			macaroonHex: enrolled.lightning.nodes[stationId]!.macaroonHex,
			fetch: insecureFetch
		});
		expect((await node.getInfo()).pubkey).toBe(record(enrolled, stationId));
		const invoice = await node.createInvoice({ amountMsat: 1000n, expirySeconds: 600 });
		await expect(
			node.pay({ paymentRequest: invoice.paymentRequest, feeLimitMsat: 0n, timeoutSeconds: 5 })
		).rejects.toThrow(/verification failed|permission denied/);
		// A code is good once.
		const reused = await request(kioskLoopback, '/devnet/enrol/confirm', {
			method: 'POST',
			body: JSON.stringify({ code }),
			headers: { 'Content-Type': 'application/json' }
		});
		expect(reused.status).toBe(404);
		// One address may keep at most two kiosks waiting (a visitor cannot fill the operator's queue).
		const extra = [new Device(), new Device(), new Device()];
		const answers = [];
		for (const d of extra)
			answers.push(
				await d.post(kioskLan, '/devnet/enrol', { signerAddress: Wallet.createRandom().address })
			);
		expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
		expect(JSON.parse(answers[2]!.body).message).toMatch(
			/Two kiosks at this address are already waiting/
		);
		// The phones' app server does not enrol kiosks.
		expect(
			(await phoneA.post(walletLan, '/devnet/enrol', { signerAddress: key.address })).status
		).toBe(404);
	}, 30_000);

	it('refuses station registration and station updates through the LAN /rpc from any key but the operator’s (Hardhat’s well-known account 0 included)', async () => {
		const rpc = async (method: string, params: unknown[]) => {
			const res = await request(kioskLan, '/rpc', {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
			});
			expect(res.status, res.body).toBe(200);
			return JSON.parse(res.body) as {
				result?: unknown;
				error?: { message: string; data?: string };
			};
		};
		const registry = new Interface([
			'function registerStation(bytes32 stationId, address signer, bytes lightningPubkey, bytes32 tariffRef, string location)',
			'function updateStation(bytes32 stationId, address signer, bytes lightningPubkey, bytes32 tariffRef, string location)',
			'function getStation(bytes32 stationId) view returns (bool registered, address signer, bytes lightningPubkey, bytes32 tariffRef, string location, bool active)',
			'error NotOperator(address caller)'
		]);
		const to = devnet.manifest.chain.contracts.registry;
		const pubkey = `0x${devnet.manifest.lightning.nodes.hub!.pubkey}`;
		const wellKnown = new Wallet(
			'0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
		);
		for (const intruder of [wellKnown, Wallet.createRandom()]) {
			const calls = [
				registry.encodeFunctionData('registerStation', [
					stationIdToBytes32('intruder-1'),
					intruder.address,
					pubkey,
					ZeroHash,
					'x'
				]),
				registry.encodeFunctionData('updateStation', [
					stationIdToBytes32('station-1'),
					intruder.address,
					pubkey,
					ZeroHash,
					'x'
				])
			];
			for (const data of calls) {
				const nonce = Number(
					(await rpc('eth_getTransactionCount', [intruder.address, 'latest'])).result
				);
				const raw = await intruder.signTransaction({
					type: 0,
					chainId: devnet.manifest.chain.chainId,
					nonce,
					to,
					data,
					gasPrice: 0n,
					gasLimit: 500_000n
				});
				const sent = await rpc('eth_sendRawTransaction', [raw]);
				// Hardhat refuses it at once with the revert, or mines it reverted: either way nothing changes.
				if (sent.error) {
					expect(sent.error.message).toMatch(/NotOperator|reverted/);
				} else {
					const receipt = (await rpc('eth_getTransactionReceipt', [sent.result])).result as {
						status: string;
					} | null;
					expect(receipt?.status).toBe('0x0');
				}
			}
		}
		// station-1 still has its own signer; intruder-1 does not exist.
		const read = async (id: string) =>
			registry.decodeFunctionResult(
				'getStation',
				String(
					(
						await rpc('eth_call', [
							{ to, data: registry.encodeFunctionData('getStation', [stationIdToBytes32(id)]) },
							'latest'
						])
					).result
				)
			);
		const station1 = await read('station-1');
		expect([station1[0], station1[1]]).toEqual([true, devnet.manifest.stations[0]!.signerAddress]);
		expect((await read('intruder-1'))[0]).toBe(false);
	}, 60_000);

	it('keeps phones’ nodes and enrolled kiosks across a restart with the same state dir (on the kept chain, still registered)', async () => {
		const before = await phoneA.manifest(walletLan);
		const kioskBefore = await kiosk.manifest(kioskLan);
		const stationId = kioskBefore.stations[0]!.stationId;
		await devnet.stop();
		devnet = await start();
		const after = await phoneA.manifest(walletLan);
		expect(new URL(after.lightning.nodes['vehicle-1']!.restUrl).pathname).toBe(
			new URL(before.lightning.nodes['vehicle-1']!.restUrl).pathname
		);
		expect(after.lightning.nodes['vehicle-1']!.macaroonHex).toBe(
			before.lightning.nodes['vehicle-1']!.macaroonHex
		);
		const payer = new LndCalls({
			restUrl: after.lightning.nodes['vehicle-1']!.restUrl,
			macaroonHex: after.lightning.nodes['vehicle-1']!.macaroonHex,
			fetch: insecureFetch
		});
		expect((await payer.getInfo()).pubkey).toMatch(/^0[23]/);
		const kioskAfter = await kiosk.manifest(kioskLan);
		expect(kioskAfter.enrolment).toEqual({ state: 'enrolled', stationId });
		const ledger = await connectLedger({
			rpcUrl: devnet.manifest.chain.rpcUrl,
			addresses: devnet.manifest.chain.contracts,
			expectedChainId: devnet.manifest.chain.chainId
		});
		try {
			expect((await ledger.getStation(stationId))?.signer).toBe(
				kioskBefore.stations[0]!.signerAddress
			);
		} finally {
			ledger.close();
		}
	}, 90_000);
});

describe('the phone caps', () => {
	it('makes at most maxPhonesPerAddress car nodes for one client address (a visitor dropping its cookie cannot use up the rest)', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-cap-'));
		const sim = await startLightningSimnet({ port: await freePort() });
		try {
			const registry = createDeviceRegistry({
				stateDir: dir,
				maxPhonesPerAddress: 2,
				lightning: {
					addSpoke: (n) => sim.addSpoke(n),
					bakeMacaroon: (n, ops) => sim.bakeMacaroon(n, ops),
					pubkeyOf: (n) => sim.network.node(n).pubkey
				},
				registerStation: async () => {}
			});
			const m = {
				...(await import('../src/lib/config/devnet-manifest.fixture')).sampleManifest(),
				lightning: {
					network: 'regtest' as const,
					backend: 'simnet' as const,
					url: sim.url,
					nodes: {}
				},
				stations: []
			};
			await registry.manifestFor('x1', 'wallet', m, '192.0.2.66');
			await registry.manifestFor('x2', 'wallet', m, '192.0.2.66');
			await expect(registry.manifestFor('x3', 'wallet', m, '192.0.2.66')).rejects.toThrow(
				/This address already got 2 car nodes/
			);
			// Phones that have theirs keep getting it; another address still gets one.
			expect(
				(await registry.manifestFor('x1', 'wallet', m, '192.0.2.66')).lightning.nodes['vehicle-1']
			).toBeDefined();
			expect(
				(await registry.manifestFor('y1', 'wallet', m, '192.0.2.67')).lightning.nodes['vehicle-1']
			).toBeDefined();
		} finally {
			await sim.stop();
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('gives at most maxPhones phones a car node, then says so in a sentence', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-cap-'));
		const sim = await startLightningSimnet({ port: await freePort() });
		try {
			const registry = createDeviceRegistry({
				stateDir: dir,
				maxPhones: 2,
				lightning: {
					addSpoke: (n) => sim.addSpoke(n),
					bakeMacaroon: (n, ops) => sim.bakeMacaroon(n, ops),
					pubkeyOf: (n) => sim.network.node(n).pubkey
				},
				registerStation: async () => {}
			});
			const m = {
				...(await import('../src/lib/config/devnet-manifest.fixture')).sampleManifest(),
				lightning: {
					network: 'regtest' as const,
					backend: 'simnet' as const,
					url: sim.url,
					nodes: {}
				}
			};
			m.stations = [];
			await registry.manifestFor('a', 'wallet', m, '192.0.2.10');
			await registry.manifestFor('b', 'wallet', m, '192.0.2.11');
			await registry.manifestFor('a', 'wallet', m, '192.0.2.10');
			await expect(registry.manifestFor('c', 'wallet', m, '192.0.2.12')).rejects.toThrow(
				/already has a car node for each of 2 phones, its limit/
			);
			expect(registry.counts().phones).toBe(2);
			// The list is kept 0600, by the hash of each cookie only.
			const { statSync } = await import('node:fs');
			expect(statSync(path.join(dir, 'devices.json')).mode & 0o777).toBe(0o600);
			expect(
				Object.keys(JSON.parse(readFileSync(path.join(dir, 'devices.json'), 'utf8')).devices)
			).toEqual(['a', 'b']);
		} finally {
			await sim.stop();
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

function record(m: DevnetManifest, stationId: string): string {
	return m.lightning.nodes[stationId]!.pubkey;
}

/** fetch that trusts the devnet's own certificate (Node's fetch has no `ca` option; go through https). */
const insecureFetch: typeof fetch = async (input, init) => {
	const url = new URL(
		typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
	);
	const headers = Object.fromEntries(new Headers(init?.headers).entries());
	const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
		const req = https.request(
			{
				host: url.hostname,
				port: url.port,
				path: url.pathname + url.search,
				method: init?.method ?? 'GET',
				headers,
				ca,
				agent: false
			},
			resolve
		);
		req.on('error', reject);
		init?.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
		req.end(typeof init?.body === 'string' ? init.body : undefined);
	});
	const stream = new ReadableStream<Uint8Array>({
		start(controller) {
			res.on('data', (c: Buffer) => controller.enqueue(new Uint8Array(c)));
			res.on('end', () => controller.close());
			res.on('error', (e) => controller.error(e));
		}
	});
	return new Response(stream, {
		status: res.statusCode ?? 0,
		headers: res.headers as Record<string, string>
	});
};
