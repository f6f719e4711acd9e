// `--secure-broker` end to end at the devnet, from this machine's LAN address (which the devnet treats
// as any device on the network): each phone gets its own broker login with its car node; the login
// reads stations' status and nothing of a session until the phone shows the devnet the session's
// station MAC key (derived from the join secret on the kiosk's screen); a second phone's login is
// refused the first one's session — its grant request with a wrong key, its subscription (nothing is
// delivered) and its publishes (Mosquitto's reason 135) — and the refusals are counted.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, sessionKeys, statusTopic, tagMessage } from '../src/lib/protocol';
import { findMosquitto, MOSQUITTO_MISSING } from './broker';
import { startDevnet, type RunningDevnet } from './devnet';
import { parseDevnetManifest, type DevnetManifest } from './manifest';
import { freePort } from './ports';
import { rawRequest, type Answer } from './raw-request.testing.js';
import { withStartRetry } from './start-retry.testing.js';
import { lanIPv4Addresses } from './static';

const LAN = lanIPv4Addresses()[0];
const installed = findMosquitto() !== null;
const requireAll = process.env.LIGHTCHARGE_REQUIRE_ALL === '1';
const root = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-secure-broker-'));
const R = 'lightcharge/v1/stations';
let devnet: RunningDevnet;
let ca: string;
let walletLan: string;
let walletLoopback: string;
let kioskLoopback: string;
const log: string[] = [];
const clients: mqtt.MqttClient[] = [];

class Phone {
	cookie: string | null = null;
	manifest!: DevnetManifest;
	async request(p: string, init: { method?: string; body?: unknown } = {}): Promise<Answer> {
		const headers: Record<string, string> = {
			...(this.cookie ? { Cookie: this.cookie } : {}),
			...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {})
		};
		const res = await rawRequest(
			walletLan,
			p,
			{
				method: init.method,
				headers,
				body: init.body === undefined ? undefined : JSON.stringify(init.body)
			},
			ca
		);
		const set = res.headers['set-cookie']?.[0];
		if (set) this.cookie = set.split(';')[0]!;
		return res;
	}
	async visit(): Promise<DevnetManifest> {
		const res = await this.request('/devnet.json');
		expect(res.status, res.body).toBe(200);
		return (this.manifest = parseDevnetManifest(JSON.parse(res.body)));
	}
	grant(stationId: string, sessionId: string, stationMac: string): Promise<Answer> {
		return this.request('/devnet/broker/grant', {
			method: 'POST',
			body: { stationId, sessionId, stationMac }
		});
	}
	/** Logs in to the broker through the LAN gateway, as the phone's browser does. */
	async connect(clientId: string): Promise<mqtt.MqttClient> {
		const login = this.manifest.broker.login!;
		const c = await mqtt.connectAsync(this.manifest.broker.wsUrl, {
			protocolVersion: 5,
			clientId,
			username: login.username,
			password: login.password,
			ca,
			reconnectPeriod: 0,
			connectTimeout: 10_000
		});
		clients.push(c);
		return c;
	}
}

/** The v5 reason code of a QoS 1 publish (0 = accepted, 135 = not authorized). */
function publishCode(c: mqtt.MqttClient, topic: string): Promise<number> {
	return new Promise((resolve, reject) =>
		c.publish(topic, '{}', { qos: 1 }, (err, packet) => {
			const code =
				(packet as { reasonCode?: number } | undefined)?.reasonCode ??
				(err as { code?: number } | undefined)?.code;
			if (err && code === undefined) return reject(err);
			resolve(code ?? 0);
		})
	);
}

beforeAll(async () => {
	if (!LAN || !installed) return;
	for (const app of ['wallet', 'kiosk']) {
		mkdirSync(path.join(root, 'build', app), { recursive: true });
		writeFileSync(
			path.join(root, 'build', app, '200.html'),
			`<!doctype html><title>${app}</title>`
		);
	}
	const stateDir = path.join(root, 'state');
	// Mosquitto started as root opens its files after dropping to user `mosquitto`: it must enter the folders.
	chmodSync(root, 0o755);
	mkdirSync(stateDir, { recursive: true, mode: 0o755 });
	let ports!: Record<
		'chain' | 'mqtt' | 'ws' | 'lightning' | 'wallet' | 'kiosk' | 'httpsWallet' | 'httpsKiosk',
		number
	>;
	devnet = await withStartRetry('the devnet', async () => {
		// Ports picked again on a retry: one found free may have been taken meanwhile.
		ports = {
			chain: await freePort(),
			mqtt: await freePort(),
			ws: await freePort(),
			lightning: await freePort(),
			wallet: await freePort(),
			kiosk: await freePort(),
			httpsWallet: await freePort(),
			httpsKiosk: await freePort()
		};
		return startDevnet({
			stateDir,
			buildDir: path.join(root, 'build'),
			ports,
			blockIntervalMs: 0,
			httpsHost: '0.0.0.0',
			secureBroker: true,
			log: (l) => log.push(l)
		});
	});
	ca = readFileSync(path.join(stateDir, 'tls', 'cert.pem'), 'utf8');
	walletLan = `https://${LAN}:${ports.httpsWallet}`;
	walletLoopback = `http://127.0.0.1:${ports.wallet}`;
	kioskLoopback = `http://127.0.0.1:${ports.kiosk}`;
}, 240_000);

afterAll(async () => {
	await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
	await devnet?.stop();
	rmSync(root, { recursive: true, force: true });
});

describe.skipIf((!LAN || !installed) && !requireAll)(
	'--secure-broker: a broker login per phone, a session’s topics only to who holds its secret',
	() => {
		const phoneA = new Phone();
		const phoneB = new Phone();
		const sessionId = 's-00112233aabbccdd';
		const secret = 'AAECAwQFBgcICQoLDA0ODw';
		const keys = sessionKeys(secret, 'station-1', sessionId);
		let station: mqtt.MqttClient;

		it('runs (Mosquitto and a LAN address are there)', () => {
			if (!installed) throw new Error(MOSQUITTO_MISSING);
			expect(LAN, 'this machine has no LAN address to test from').toBeTruthy();
		});

		it('gives each phone its own login with its car node; this machine’s apps get station-1’s and the broad driver login', async () => {
			const a = await phoneA.visit();
			const b = await phoneB.visit();
			expect(a.broker.login).toMatchObject({
				username: expect.stringMatching(/^driver-[0-9a-f]{8}$/),
				grants: true
			});
			expect(b.broker.login!.username).not.toBe(a.broker.login!.username);
			expect(b.broker.login!.password).not.toBe(a.broker.login!.password);
			// The same phone (cookie) gets the same login again.
			expect((await phoneA.visit()).broker.login).toEqual(a.broker.login);
			// No one else's password is in a phone's manifest.
			const text = JSON.stringify(a);
			for (const other of [
				devnet.secureBroker!.stationLogin.password,
				devnet.secureBroker!.driverLogin.password,
				b.broker.login!.password
			])
				expect(text).not.toContain(other);
			const loopWallet = parseDevnetManifest(
				JSON.parse((await rawRequest(walletLoopback, '/devnet.json', {}, undefined)).body)
			);
			const loopKiosk = parseDevnetManifest(
				JSON.parse((await rawRequest(kioskLoopback, '/devnet.json', {}, undefined)).body)
			);
			expect(loopWallet.broker.login).toEqual({
				username: 'driver',
				password: devnet.secureBroker!.driverLogin.password,
				grants: false
			});
			expect(loopKiosk.broker.login).toEqual({
				username: 'station-1',
				password: devnet.secureBroker!.stationLogin.password,
				grants: false
			});
			// …through their own origin's /mqtt gateway (the browser does not trust the broker's certificate; the gateway does).
			expect(loopWallet.broker.wsUrl).toBe(`${walletLoopback.replace('http:', 'ws:')}/mqtt`);
			expect(loopKiosk.broker.wsUrl).toBe(`${kioskLoopback.replace('http:', 'ws:')}/mqtt`);
			const desk = await mqtt.connectAsync(loopWallet.broker.wsUrl, {
				protocolVersion: 5,
				username: 'driver',
				password: loopWallet.broker.login!.password,
				reconnectPeriod: 0,
				connectTimeout: 10_000
			});
			await desk.endAsync(true);
			// The manifest file for Node tools holds no login.
			expect(devnet.manifest.broker.login).toBeUndefined();
		});

		it('lets station-1 offer a session: its retained status names it and carries the session tag', async () => {
			const login = devnet.secureBroker!.stationLogin;
			station = await mqtt.connectAsync(devnet.manifest.broker.tcpUrl, {
				protocolVersion: 5,
				clientId: 'kiosk-station-1',
				username: login.username,
				password: login.password,
				reconnectPeriod: 0
			});
			clients.push(station);
			const status = tagMessage(
				{
					v: 1,
					type: 'status',
					stationId: 'station-1',
					state: 'available',
					sessionId,
					updatedAt: Date.now()
				},
				keys.station
			);
			await station.publishAsync(statusTopic('station-1'), JSON.stringify(status), {
				qos: 1,
				retain: true
			});
			// The devnet's observer sees it (it checks grant requests against it).
			await expect
				.poll(async () => (await phoneB.grant('station-1', sessionId, '00'.repeat(32))).status, {
					timeout: 10_000
				})
				.toBe(403);
		});

		it('refuses a grant without the session’s key, for another session, or for a phone without a login — each with a sentence, each counted', async () => {
			const before = devnet.devices.counts().grantsRefused;
			const wrongKey = await phoneB.grant('station-1', sessionId, bytesToHex(keys.driver));
			expect(wrongKey.status).toBe(403);
			expect(JSON.parse(wrongKey.body).message).toBe(
				`That is not the key of session ${sessionId}: only the code on the station’s screen gives it. Scan it again.`
			);
			const otherSession = await phoneB.grant(
				'station-1',
				's-ffffffffffffffff',
				bytesToHex(keys.station)
			);
			expect(otherSession.status).toBe(409);
			expect(JSON.parse(otherSession.body).message).toMatch(
				/is not offering or running session s-ffffffffffffffff now/
			);
			expect((await phoneB.grant('station-9', sessionId, bytesToHex(keys.station))).status).toBe(
				404
			);
			expect((await phoneB.grant('station-1', 'a/b', bytesToHex(keys.station))).status).toBe(400);
			expect(
				(
					await phoneB.request('/devnet/broker/grant', {
						method: 'POST',
						body: { stationId: 'station-1', sessionId, stationMac: 'zz' }
					})
				).status
			).toBe(400);
			expect(
				(await new Phone().grant('station-1', sessionId, bytesToHex(keys.station))).status
			).toBe(403);
			expect((await phoneB.request('/devnet/broker/grant')).status).toBe(405);
			expect(devnet.devices.counts().grantsRefused).toBe(before + 6);
			expect(
				log.some((l) => l.includes('refused a broker grant') && l.includes('That is not the key'))
			).toBe(true);
		});

		it('opens the session to the phone that shows its key: it reads the station’s messages and writes its driver topic, through the LAN gateway', async () => {
			const a = await phoneA.connect('lcw-a-session');
			const got: string[] = [];
			a.on('message', (t, p) => got.push(`${t.split('/').pop()} ${p.toString()}`));
			await a.subscribeAsync(`${R}/station-1/sessions/${sessionId}/+`, { qos: 1 });
			// Before the grant: nothing of the session arrives.
			await station.publishAsync(`${R}/station-1/sessions/${sessionId}/readings`, 'before', {
				qos: 1
			});
			const res = await phoneA.grant('station-1', sessionId, bytesToHex(keys.station));
			expect(res.status, res.body).toBe(200);
			expect(JSON.parse(res.body)).toEqual({
				stationId: 'station-1',
				sessionId,
				username: phoneA.manifest.broker.login!.username
			});
			await station.publishAsync(`${R}/station-1/sessions/${sessionId}/readings`, 'after', {
				qos: 1
			});
			expect(await publishCode(a, `${R}/station-1/sessions/${sessionId}/driver`)).toBe(0);
			await expect.poll(() => got, { timeout: 5000 }).toEqual(['readings after', 'driver {}']);
			// Asking again is fine (a reload), and the grant is kept in devices.json for a restart.
			expect((await phoneA.grant('station-1', sessionId, bytesToHex(keys.station))).status).toBe(
				200
			);
			expect(readFileSync(path.join(root, 'state', 'devices.json'), 'utf8')).toContain(sessionId);
		});

		it('refuses the second phone’s login the first one’s session: nothing delivered, its publishes refused and counted', async () => {
			const b = await phoneB.connect('lcw-b-intruder');
			const got: string[] = [];
			b.on('message', (t) => got.push(t));
			await b.subscribeAsync(`${R}/station-1/sessions/${sessionId}/+`, { qos: 1 });
			await b.subscribeAsync(`${R}/+/sessions/+/+`, { qos: 1 });
			await b.subscribeAsync(`${R}/#`, { qos: 1 });
			await station.publishAsync(`${R}/station-1/sessions/${sessionId}/invoices`, 'invoice', {
				qos: 1
			});
			const denied = devnet.secureBroker!.control.deniedPublishes();
			expect(await publishCode(b, `${R}/station-1/sessions/${sessionId}/driver`)).toBe(135);
			// Mosquitto 2.0.11 stops acknowledging a connection's publishes after its first refusal: one more connection per probe.
			expect(
				await publishCode(await phoneB.connect('lcw-b-intruder-2'), `${R}/station-1/status`)
			).toBe(135);
			await new Promise((r) => setTimeout(r, 600));
			// Only the stations' status is readable to it (the retained one of station-1), never a session topic.
			expect(got.filter((t) => t.includes('/sessions/'))).toEqual([]);
			expect(got.every((t) => t === statusTopic('station-1'))).toBe(true);
			await expect
				.poll(() => devnet.secureBroker!.control.deniedPublishes(), { timeout: 5000 })
				.toBe(denied + 2);
			await expect
				.poll(
					() =>
						log.filter((l) =>
							l.startsWith(`broker refused a publish by ${phoneB.manifest.broker.login!.username}`)
						).length,
					{ timeout: 5000 }
				)
				.toBe(2);
		});

		it('keeps each phone to at most 3 per session', async () => {
			const extra = [new Phone(), new Phone()];
			for (const p of extra) await p.visit();
			expect((await phoneB.grant('station-1', sessionId, bytesToHex(keys.station))).status).toBe(
				200
			);
			expect((await extra[0]!.grant('station-1', sessionId, bytesToHex(keys.station))).status).toBe(
				200
			);
			const fourth = await extra[1]!.grant('station-1', sessionId, bytesToHex(keys.station));
			expect(fourth.status).toBe(429);
			expect(JSON.parse(fourth.body).message).toBe(
				`3 phones already follow session ${sessionId}; one of them is its driver.`
			);
		});
	}
);
