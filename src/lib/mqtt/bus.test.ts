// The bus against a real broker (aedes, in-process, over WebSockets like the apps use it).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, topicMatches, type MessageBus } from './bus';

let server: Server;
let broker: Aedes;
let url: string;

beforeAll(async () => {
	broker = await Aedes.createBroker();
	server = createServer();
	new WebSocketServer({ server }).on('connection', (s, req) =>
		broker.handle(createWebSocketStream(s) as never, req as never)
	);
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
	await new Promise<void>((r) => broker.close(() => r()));
	await new Promise<void>((r) => server.close(() => r()));
});

const collect = (bus: MessageBus, filter: string) => {
	const got: string[] = [];
	const ready = bus.subscribe(filter, (_t, p) => got.push(new TextDecoder().decode(p)));
	return { got, ready };
};
const until = async (cond: () => boolean, ms = 5000) => {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error('timed out');
		await new Promise((r) => setTimeout(r, 20));
	}
};

describe('message bus', () => {
	it('matches topic filters', () => {
		expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
		expect(topicMatches('a/#', 'a/b/c')).toBe(true);
		expect(topicMatches('a/+', 'a/b/c')).toBe(false);
		expect(topicMatches('a/b', 'a/b/c')).toBe(false);
	});

	it('falls back to MQTT 3.1.1 on a broker that refuses v5, and delivers QoS 1 in order', async () => {
		const a = await connectBus(url);
		const b = await connectBus(url);
		const { got, ready } = collect(b, 't/order/#');
		await ready;
		for (let i = 0; i < 20; i++) await a.publish('t/order/x', String(i));
		await until(() => got.length === 20);
		expect(got).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
		await a.close();
		await b.close();
	});

	it('with a persistent session, what was published while the client was away arrives after it comes back', async () => {
		const clientId = `wallet-test-${Date.now() % 100000}`;
		const station = await connectBus(url, { protocolVersion: 4 });
		let wallet = await connectBus(url, {
			protocolVersion: 4,
			clientId,
			persistentSession: { expirySeconds: 600 }
		});
		const first = collect(wallet, 'st/readings');
		await first.ready;
		await station.publish('st/readings', 'r1');
		await until(() => first.got.length === 1);
		await wallet.close(); // the page reloads
		await station.publish('st/readings', 'r2');
		await station.publish('st/readings', 'r3');
		wallet = await connectBus(url, {
			protocolVersion: 4,
			clientId,
			persistentSession: { expirySeconds: 600 }
		});
		// The app subscribes only once it has loaded: the backlog waits for it.
		await new Promise((r) => setTimeout(r, 200));
		const again = collect(wallet, 'st/readings');
		await again.ready;
		await station.publish('st/readings', 'r4');
		await until(() => again.got.length === 3);
		expect(again.got).toEqual(['r2', 'r3', 'r4']);
		await wallet.close();
		await station.close();
	});

	it('with ackAfter, a message handled but not yet stored when the page goes away is delivered again', async () => {
		const clientId = `wallet-ack-${Date.now() % 100000}`;
		const station = await connectBus(url, { protocolVersion: 4 });
		// The app's store: r1 is stored, r2 is still being written when the page reloads.
		let storing: Promise<void> = Promise.resolve();
		let wallet = await connectBus(url, {
			protocolVersion: 4,
			clientId,
			persistentSession: { expirySeconds: 600 },
			ackAfter: () => storing
		});
		const first = collect(wallet, 'st/acked');
		await first.ready;
		await station.publish('st/acked', 'r1');
		await until(() => first.got.length === 1);
		storing = new Promise<void>(() => undefined); // never finishes: the page is gone first
		await station.publish('st/acked', 'r2');
		await until(() => first.got.length === 2);
		await station.publish('st/acked', 'r3'); // the broker holds it: r2 was never acknowledged
		await new Promise((r) => setTimeout(r, 200));
		expect(first.got).toEqual(['r1', 'r2']);
		await wallet.close();
		storing = Promise.resolve();
		wallet = await connectBus(url, {
			protocolVersion: 4,
			clientId,
			persistentSession: { expirySeconds: 600 },
			ackAfter: () => storing
		});
		const again = collect(wallet, 'st/acked');
		await again.ready;
		await until(() => again.got.length === 2);
		expect(again.got).toEqual(['r2', 'r3']);
		await wallet.close();
		await station.close();
	});

	it('refuses a persistent session without a stable client id', async () => {
		await expect(
			connectBus(url, { protocolVersion: 4, persistentSession: { expirySeconds: 60 } })
		).rejects.toThrow(/stable clientId/);
	});
});
