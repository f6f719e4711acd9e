import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { findMosquitto, MOSQUITTO_MISSING, startBroker, type BrokerKind, type RunningBroker } from './broker';
import { freePort } from './ports';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-broker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mosquittoInstalled = findMosquitto() !== null;
const requireAll = process.env.LIGHTCHARGE_REQUIRE_ALL === '1';
if (!mosquittoInstalled && !requireAll) {
	console.warn(`skipping the mosquitto broker tests: ${MOSQUITTO_MISSING} (set LIGHTCHARGE_REQUIRE_ALL=1 to make this a failure)`);
}

async function startOn(kind: BrokerKind): Promise<RunningBroker> {
	return startBroker({ kind, tcpPort: await freePort(), wsPort: await freePort(), dir: path.join(dir, kind) });
}

function connect(broker: RunningBroker, clientId: string): Promise<mqtt.MqttClient> {
	return mqtt.connectAsync(broker.wsUrl, {
		protocolVersion: broker.protocolVersion,
		clientId,
		reconnectPeriod: 0,
		connectTimeout: 5000
	});
}

function nextMessage(client: mqtt.MqttClient, topic: string): Promise<{ payload: string; retain: boolean; qos: number }> {
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
			await publisher.publishAsync('lightcharge/v1/test/status', 'available', { qos: 1, retain: true });
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

	it('names the taken port and the flag to change it', async () => {
		const blocker = net.createServer();
		const taken = await freePort();
		await new Promise<void>((r) => blocker.listen(taken, '127.0.0.1', () => r()));
		try {
			await expect(startBroker({ kind, tcpPort: await freePort(), wsPort: taken, dir: path.join(dir, kind) })).rejects.toThrow(
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
			await expect(mqtt.connectAsync(broker.wsUrl, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow();
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
});
