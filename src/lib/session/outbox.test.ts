import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../../devnet/broker';
import { MemoryKioskStore } from '../storage';
import { BusRefusal, connectBus, type MessageBus } from '../mqtt';
import { Outbox, type OutboxMessage } from './outbox';
import { freePort } from '../../../devnet/ports';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function broker(ports?: {
	tcpPort: number;
	wsPort: number;
}): Promise<RunningBroker & { ports: { tcpPort: number; wsPort: number } }> {
	const p = ports ?? { tcpPort: await freePort(), wsPort: await freePort() };
	const b = await startBroker({ kind: 'aedes', ...p, dir: path.join(os.tmpdir(), 'lc-outbox') });
	cleanups.push(() => b.stop());
	return Object.assign(b, { ports: p });
}
async function bus(url: string, id: string): Promise<MessageBus> {
	const b = await connectBus(url, { protocolVersion: 4, clientId: id, reconnectPeriodMs: 200 });
	cleanups.push(() => b.close());
	return b;
}
async function collect(b: MessageBus, filter: string): Promise<string[]> {
	const got: string[] = [];
	await b.subscribe(filter, (_t, p) => got.push(new TextDecoder().decode(p)));
	return got;
}
const until = async (cond: () => boolean, ms = 5000) => {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error('timed out');
		await new Promise((r) => setTimeout(r, 20));
	}
};

describe('Outbox', () => {
	it('stores before sending, delivers in order and forgets what the broker acknowledged', async () => {
		const b = await broker();
		const got = await collect(await bus(b.wsUrl, 'sub'), 't/#');
		const store = new MemoryKioskStore();
		const outbox = new Outbox(await bus(b.wsUrl, 'pub'), store.queue('outbox'));
		await outbox.start();
		for (let i = 1; i <= 50; i++) await outbox.publish('t/a', `m${i}`);
		await outbox.drained();
		await until(() => got.length === 50);
		expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `m${i + 1}`));
		expect(await store.queue('outbox').list()).toEqual([]);
	});

	it('keeps messages while the broker is down and delivers them in order, once, when it is back', async () => {
		const b = await broker();
		const publisher = await bus(b.wsUrl, 'pub');
		const store = new MemoryKioskStore();
		const outbox = new Outbox(publisher, store.queue('outbox'));
		await outbox.start();
		await outbox.publish('t/a', 'before');
		await outbox.drained();
		await b.stop();
		await until(() => publisher.state !== 'connected');
		for (let i = 1; i <= 20; i++) await outbox.publish('t/a', `down${i}`);
		// Stored, not acknowledged.
		expect(
			(await store.queue('outbox').list()).map((x) => (x.value as OutboxMessage).payload)
		).toEqual(Array.from({ length: 20 }, (_, i) => `down${i + 1}`));
		const again = await broker(b.ports);
		const got = await collect(await bus(again.wsUrl, 'sub2'), 't/#');
		await until(() => publisher.state === 'connected');
		await outbox.publish('t/a', 'after');
		await outbox.drained();
		await until(() => got.length >= 21);
		await new Promise((r) => setTimeout(r, 200));
		expect(got).toEqual([...Array.from({ length: 20 }, (_, i) => `down${i + 1}`), 'after']);
		expect(await store.queue('outbox').list()).toEqual([]);
	});

	it('replays what a previous run left unacknowledged before anything new', async () => {
		const b = await broker();
		const got = await collect(await bus(b.wsUrl, 'sub'), 't/#');
		const store = new MemoryKioskStore();
		const q = store.queue<OutboxMessage>('outbox');
		await q.append({ topic: 't/a', payload: 'left-1' });
		await q.append({ topic: 't/a', payload: 'left-2' });
		const outbox = new Outbox(await bus(b.wsUrl, 'pub'), q);
		expect(() => outbox.publish('t/a', 'too early')).toThrow(/start the outbox/);
		expect(await outbox.start()).toBe(2);
		await outbox.publish('t/a', 'new');
		await outbox.drained();
		await until(() => got.length === 3);
		expect(got).toEqual(['left-1', 'left-2', 'new']);
		expect(await q.list()).toEqual([]);
	});

	it('drops and reports a message the broker refuses for good (ACL), instead of resending it forever', async () => {
		const store = new MemoryKioskStore();
		const refused: string[] = [];
		// The refusal a v5 broker gives for an ACL violation (the secure-broker test proves the real one).
		const refusingBus: MessageBus = {
			state: 'connected',
			publish: async (topic) => {
				throw new BusRefusal(topic, 135);
			},
			subscribe: async () => () => {},
			onState: () => () => {},
			close: async () => {}
		};
		const outbox = new Outbox(refusingBus, store.queue('outbox'), {
			onRefused: (m) => refused.push(m.topic)
		});
		await outbox.start();
		await outbox.publish('t/forbidden', 'x');
		await outbox.drained();
		expect(refused).toEqual(['t/forbidden']);
		expect(await store.queue('outbox').list()).toEqual([]);
	});
});
