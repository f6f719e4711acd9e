import { spawn } from 'node:child_process';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import {
	findMosquitto,
	MAX_PACKET_BYTES,
	MOSQUITTO_MISSING,
	startBroker,
	type BrokerKind,
	type RunningBroker
} from './broker';
import { freePort } from './ports';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-broker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mosquittoInstalled = findMosquitto() !== null;
const requireAll = process.env.LIGHTCHARGE_REQUIRE_ALL === '1';
if (!mosquittoInstalled && !requireAll) {
	console.warn(
		`skipping the mosquitto broker tests: ${MOSQUITTO_MISSING} (set LIGHTCHARGE_REQUIRE_ALL=1 to make this a failure)`
	);
}

async function startOn(kind: BrokerKind): Promise<RunningBroker> {
	return startBroker({
		kind,
		tcpPort: await freePort(),
		wsPort: await freePort(),
		dir: path.join(dir, kind)
	});
}

function connect(broker: RunningBroker, clientId: string): Promise<mqtt.MqttClient> {
	return mqtt.connectAsync(broker.wsUrl, {
		protocolVersion: broker.protocolVersion,
		clientId,
		reconnectPeriod: 0,
		connectTimeout: 5000
	});
}

function nextMessage(
	client: mqtt.MqttClient,
	topic: string
): Promise<{ payload: string; retain: boolean; qos: number }> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no message on ${topic} within 5 s`)), 5000);
		client.on('message', (t, payload, packet) => {
			if (t !== topic) return;
			clearTimeout(timer);
			resolve({ payload: payload.toString('utf8'), retain: packet.retain, qos: packet.qos });
		});
	});
}

function brokerSuite(kind: BrokerKind) {
	it('delivers a QoS 1 message and a retained message over WebSockets', async () => {
		const broker = await startOn(kind);
		const clients: mqtt.MqttClient[] = [];
		try {
			const subscriber = await connect(broker, `sub-${kind}`);
			clients.push(subscriber);
			await subscriber.subscribeAsync('lightcharge/v1/test/live', { qos: 1 });
			const publisher = await connect(broker, `pub-${kind}`);
			clients.push(publisher);

			const live = nextMessage(subscriber, 'lightcharge/v1/test/live');
			await publisher.publishAsync('lightcharge/v1/test/live', 'reading 1', { qos: 1 });
			expect(await live).toEqual({ payload: 'reading 1', retain: false, qos: 1 });

			// Published before anyone subscribes: only the broker's retained copy can deliver it.
			await publisher.publishAsync('lightcharge/v1/test/status', 'available', {
				qos: 1,
				retain: true
			});
			const late = await connect(broker, `late-${kind}`);
			clients.push(late);
			const retained = nextMessage(late, 'lightcharge/v1/test/status');
			await late.subscribeAsync('lightcharge/v1/test/status', { qos: 1 });
			expect(await retained).toEqual({ payload: 'available', retain: true, qos: 1 });
		} finally {
			await Promise.all(clients.map((c) => c.endAsync(true)));
			await broker.stop();
		}
	});

	it('refuses a 10 MB retained message (its client is let go), keeps none of it, and serves the next client', async () => {
		const broker = await startOn(kind);
		const clients: mqtt.MqttClient[] = [];
		try {
			const attacker = await connect(broker, `big-${kind}`);
			clients.push(attacker);
			// aedes disconnects the client; Mosquitto answers with a refusing PUBACK and disconnects it.
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
			await attacker.endAsync(true);
			// A large but allowed message still goes through.
			const fine = await connect(broker, `fine-${kind}`);
			clients.push(fine);
			await fine.publishAsync('lightcharge/v1/test/ok', Buffer.alloc(MAX_PACKET_BYTES / 2, 0x42), {
				qos: 1,
				retain: true
			});
			const late = await connect(broker, `late-big-${kind}`);
			clients.push(late);
			const topics: string[] = [];
			late.on('message', (t) => topics.push(t));
			await late.subscribeAsync(['lightcharge/v1/test/ok', 'lightcharge/v1/test/huge'], { qos: 1 });
			await expect.poll(() => topics, { timeout: 5000 }).toContain('lightcharge/v1/test/ok');
			expect(topics).not.toContain('lightcharge/v1/test/huge');
		} finally {
			await Promise.all(clients.map((c) => c.endAsync(true)));
			await broker.stop();
		}
	}, 30_000);

	it('names the taken port and the flag to change it', async () => {
		const blocker = net.createServer();
		const taken = await freePort();
		await new Promise<void>((r) => blocker.listen(taken, '127.0.0.1', () => r()));
		try {
			await expect(
				startBroker({ kind, tcpPort: await freePort(), wsPort: taken, dir: path.join(dir, kind) })
			).rejects.toThrow(
				`port ${taken} (MQTT WebSocket) is already in use — stop whatever uses it or pass --ws-port <port>`
			);
		} finally {
			await new Promise<void>((r) => blocker.close(() => r()));
		}
	});

	it('stops: its ports are free again', async () => {
		const broker = await startOn(kind);
		const port = Number(new URL(broker.wsUrl).port);
		await broker.stop();
		const probe = net.createServer();
		await new Promise<void>((resolve, reject) => {
			probe.once('error', reject);
			probe.listen(port, '127.0.0.1', () => resolve());
		});
		await new Promise<void>((r) => probe.close(() => r()));
	});
}

describe('aedes broker', () => {
	brokerSuite('aedes');

	it('refuses an MQTT 5 client (aedes speaks 3.1.1 only)', async () => {
		const broker = await startOn('aedes');
		try {
			await expect(
				mqtt.connectAsync(broker.wsUrl, {
					protocolVersion: 5,
					reconnectPeriod: 0,
					connectTimeout: 3000
				})
			).rejects.toThrow();
		} finally {
			await broker.stop();
		}
	});
});

describe.skipIf(!mosquittoInstalled && !requireAll)('mosquitto broker', () => {
	if (!mosquittoInstalled) {
		it('is installed (LIGHTCHARGE_REQUIRE_ALL=1)', () => {
			throw new Error(MOSQUITTO_MISSING);
		});
		return;
	}
	brokerSuite('mosquitto');

	it('after the devnet is killed with -9, the next start stops the Mosquitto it left and gets the ports back', async () => {
		const brokerDir = path.join(dir, 'orphan');
		const [tcpPort, wsPort] = [await freePort(), await freePort()];
		const script = path.join(dir, 'start-broker.mts');
		const brokerModule = pathToFileURL(path.resolve('devnet/broker.ts')).href;
		writeFileSync(
			script,
			`import { startBroker } from ${JSON.stringify(brokerModule)};\n` +
				`await startBroker({ kind: 'mosquitto', tcpPort: ${tcpPort}, wsPort: ${wsPort}, dir: ${JSON.stringify(brokerDir)} });\n` +
				`console.log('up');\nsetInterval(() => {}, 1000);\n`
		);
		const parent = spawn(process.execPath, ['--import', 'tsx', script], {
			stdio: ['ignore', 'pipe', 'inherit']
		});
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(
				() => reject(new Error('the broker process did not come up within 20 s')),
				20_000
			);
			parent.stdout!.on(
				'data',
				(d: Buffer) => d.toString().includes('up') && (clearTimeout(timer), resolve())
			);
		});
		const orphanPid = Number(readFileSync(path.join(brokerDir, 'mosquitto.pid'), 'utf8'));
		parent.kill('SIGKILL');
		await new Promise((r) => parent.once('exit', r));
		// The orphan still holds the port…
		expect(() => process.kill(orphanPid, 0)).not.toThrow();
		// …until the next start stops it.
		const again = await startBroker({ kind: 'mosquitto', tcpPort, wsPort, dir: brokerDir });
		try {
			// Gone, or a zombie waiting for init to reap it: not running either way.
			const state = (() => {
				try {
					return (
						/State:\s+(\S)/.exec(readFileSync(`/proc/${orphanPid}/status`, 'utf8'))?.[1] ?? 'gone'
					);
				} catch {
					return 'gone';
				}
			})();
			expect(['gone', 'Z']).toContain(state);
			const client = await mqtt.connectAsync(again.wsUrl, {
				protocolVersion: 5,
				reconnectPeriod: 0,
				connectTimeout: 5000
			});
			await client.endAsync(true);
		} finally {
			await again.stop();
		}
	}, 60_000);
});

describe.skipIf(!mosquittoInstalled && !requireAll)(
	'mosquitto with --secure-broker: TLS, per-station credentials, topic ACLs',
	() => {
		if (!mosquittoInstalled) {
			it('is installed (LIGHTCHARGE_REQUIRE_ALL=1)', () => {
				throw new Error(MOSQUITTO_MISSING);
			});
			return;
		}
		const root = 'lightcharge/v1/stations';
		let broker: RunningBroker;
		let ca: string;
		const clients: mqtt.MqttClient[] = [];
		const login = (username: string, password: string, clientId: string) =>
			mqtt
				.connectAsync(broker.wsUrl, {
					protocolVersion: 5,
					clientId,
					username,
					password,
					ca,
					reconnectPeriod: 0,
					connectTimeout: 5000
				})
				.then((c) => (clients.push(c), c));
		/** The v5 reason code of a QoS 1 publish (0 = accepted). */
		const publishCode = (c: mqtt.MqttClient, topic: string) =>
			new Promise<number>((resolve, reject) =>
				c.publish(topic, 'x', { qos: 1 }, (err, packet) => {
					const code =
						(packet as { reasonCode?: number } | undefined)?.reasonCode ??
						(err as { code?: number } | undefined)?.code;
					if (err && code === undefined) return reject(err);
					resolve(code ?? 0);
				})
			);

		it('starts with TLS on the WebSocket listener', async () => {
			// Mosquitto started as root opens its password and ACL files as user `mosquitto`.
			chmodSync(dir, 0o755);
			const { loadOrCreateTls } = await import('./static');
			const tls = await loadOrCreateTls(path.join(dir, 'tls'), []);
			ca = tls.cert;
			broker = await startBroker({
				kind: 'mosquitto',
				tcpPort: await freePort(),
				wsPort: await freePort(),
				dir: path.join(dir, 'secure'),
				security: {
					tls,
					stations: [
						{ stationId: 'station-a', password: 'password-of-a' },
						{ stationId: 'station-b', password: 'password-of-b' }
					],
					drivers: [{ username: 'driver', password: 'password-of-driver' }]
				}
			});
			expect(broker.wsUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/mqtt$/);
			// Its key and password files are readable by their owner only (as root: the user mosquitto drops to).
			for (const file of ['passwords', 'ws-key.pem'])
				expect(statSync(path.join(dir, 'secure', file)).mode & 0o777, file).toBe(0o600);
			// A client that does not trust the certificate is refused at the TLS handshake.
			await expect(
				mqtt.connectAsync(broker.wsUrl, {
					protocolVersion: 5,
					username: 'station-a',
					password: 'password-of-a',
					reconnectPeriod: 0,
					connectTimeout: 3000
				})
			).rejects.toThrow();
		});

		it('refuses anonymous clients and wrong passwords', async () => {
			await expect(
				mqtt.connectAsync(broker.wsUrl, {
					protocolVersion: 5,
					ca,
					reconnectPeriod: 0,
					connectTimeout: 3000
				})
			).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
			await expect(login('station-b', 'password-of-a', 'b-with-a-password')).rejects.toThrow(
				/Not authorized|Bad User Name or Password/i
			);
		});

		// Mosquitto 2.0.11 answers the first refused QoS 1 publish with reason 135 but then stops
		// acknowledging that connection's publishes: each refusal below gets its own connection.
		let n = 0;
		const refusedFor = async (user: string, password: string, topic: string) =>
			publishCode(await login(user, password, `probe-${user}-${++n}`), topic);

		it("lets a station publish under its own id, and refuses another station's topics (v5 reason 135)", async () => {
			const a = await login('station-a', 'password-of-a', 'kiosk-a');
			const b = await login('station-b', 'password-of-b', 'kiosk-b');
			const seen: string[] = [];
			await b.subscribeAsync(`${root}/station-b/#`, { qos: 1 });
			b.on('message', (t) => seen.push(t));
			expect(await publishCode(a, `${root}/station-a/sessions/s1/readings`)).toBe(0);
			expect(await publishCode(b, `${root}/station-b/status`)).toBe(0);
			// Station a's credentials cannot speak for station b.
			expect(
				await refusedFor('station-a', 'password-of-a', `${root}/station-b/sessions/s1/readings`)
			).toBe(135);
			expect(await refusedFor('station-a', 'password-of-a', `${root}/station-b/status`)).toBe(135);
			expect(
				await refusedFor('station-a', 'password-of-a', `${root}/station-b/sessions/s1/driver`)
			).toBe(135);
			await new Promise((r) => setTimeout(r, 300));
			expect(seen).toEqual([`${root}/station-b/status`]);
		});

		it("lets a driver publish only to a session's driver topic", async () => {
			const d = await login('driver', 'password-of-driver', 'wallet-1');
			expect(await publishCode(d, `${root}/station-a/sessions/s1/driver`)).toBe(0);
			expect(
				await refusedFor('driver', 'password-of-driver', `${root}/station-a/sessions/s1/readings`)
			).toBe(135);
			expect(
				await refusedFor('driver', 'password-of-driver', `${root}/station-a/sessions/s1/invoices`)
			).toBe(135);
			expect(await refusedFor('driver', 'password-of-driver', `${root}/station-a/status`)).toBe(
				135
			);
			// …and reads what stations publish.
			const a = await login('station-a', 'password-of-a', 'kiosk-a2');
			await d.subscribeAsync(`${root}/station-a/sessions/+/readings`, { qos: 1 });
			const got = nextMessage(d, `${root}/station-a/sessions/s2/readings`);
			await a.publishAsync(`${root}/station-a/sessions/s2/readings`, 'r1', { qos: 1 });
			expect((await got).payload).toBe('r1');
		});

		it("gives a phone's login only the sessions it was granted, in force as soon as grant() resolves", async () => {
			const control = broker.control!;
			expect(control).not.toBeNull();
			await control.addLogin({
				username: 'driver-aaaa',
				password: 'password-of-phone-a',
				role: 'phone'
			});
			await control.addLogin({
				username: 'driver-bbbb',
				password: 'password-of-phone-b',
				role: 'phone'
			});
			const phoneA = await login('driver-aaaa', 'password-of-phone-a', 'phone-a');
			const phoneB = await login('driver-bbbb', 'password-of-phone-b', 'phone-b');
			const station = await login('station-a', 'password-of-a', 'kiosk-a3');
			const sessionTopics = `${root}/station-a/sessions/s9/+`;
			const gotA: string[] = [];
			const gotB: string[] = [];
			phoneA.on('message', (t, p) => gotA.push(`${t} ${p.toString()}`));
			phoneB.on('message', (t, p) => gotB.push(`${t} ${p.toString()}`));
			// Before a grant phone a hears nothing of the session, and may not write its driver topic.
			await phoneA.subscribeAsync(sessionTopics, { qos: 1 });
			await station.publishAsync(`${root}/station-a/sessions/s9/readings`, 'before', { qos: 1 });
			const deniedBefore = control.deniedPublishes();
			expect(
				await refusedFor(
					'driver-aaaa',
					'password-of-phone-a',
					`${root}/station-a/sessions/s9/driver`
				)
			).toBe(135);

			expect(await control.grant('driver-aaaa', 'station-a', 's9')).toBe(true);
			expect(await control.grant('driver-aaaa', 'station-a', 's9')).toBe(false);
			// Granted: the same connection now reads the session, and writes its driver topic.
			await station.publishAsync(`${root}/station-a/sessions/s9/readings`, 'after', { qos: 1 });
			expect(await publishCode(phoneA, `${root}/station-a/sessions/s9/driver`)).toBe(0);
			// Phone b, logged in as itself, subscribes to phone a's session: it gets nothing, and its publishes are refused.
			await phoneB.subscribeAsync(sessionTopics, { qos: 1 });
			await phoneB.subscribeAsync(`${root}/station-a/sessions/+/+`, { qos: 1 });
			await station.publishAsync(`${root}/station-a/sessions/s9/invoices`, 'invoice', { qos: 1 });
			expect(
				await refusedFor(
					'driver-bbbb',
					'password-of-phone-b',
					`${root}/station-a/sessions/s9/driver`
				)
			).toBe(135);
			await new Promise((r) => setTimeout(r, 500));
			expect(gotA).toEqual([
				`${root}/station-a/sessions/s9/readings after`,
				`${root}/station-a/sessions/s9/driver x`,
				`${root}/station-a/sessions/s9/invoices invoice`
			]);
			expect(gotB).toEqual([]);
			// Each refused publish is counted (from Mosquitto's own "Denied PUBLISH" lines).
			expect(control.deniedPublishes()).toBe(deniedBefore + 2);
			// The files on disk hold hashes, never the passwords.
			expect(readFileSync(path.join(dir, 'secure', 'passwords'), 'utf8')).not.toContain(
				'password-of-phone-a'
			);
		}, 30_000);

		afterAll(async () => {
			await Promise.all(clients.map((c) => c.endAsync(true)));
			await broker?.stop();
		});
	}
);
