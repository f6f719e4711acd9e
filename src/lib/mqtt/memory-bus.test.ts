import { describe, expect, it } from 'vitest';
import { MemoryBroker } from './memory-bus';

const flush = () => new Promise((r) => setTimeout(r, 0));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('MemoryBroker', () => {
	it('delivers to matching filters asynchronously, keeps retained messages, and unsubscribes', async () => {
		const broker = new MemoryBroker();
		const a = broker.connect();
		const b = broker.connect();
		await a.publish('root/st-1/status', 'online', { retain: true });
		const got: string[] = [];
		const off = await b.subscribe('root/+/status', (topic, payload) =>
			got.push(`${topic}=${text(payload)}`)
		);
		const all: string[] = [];
		await b.subscribe('root/#', (topic) => all.push(topic));
		await flush();
		expect(got).toEqual(['root/st-1/status=online']);
		expect(all).toEqual(['root/st-1/status']); // retained, to the new subscription too
		void a.publish('root/st-1/sessions/s/readings', 'r1');
		expect(all).toHaveLength(1); // never delivered inside publish, as with a real broker
		await a.publish('root/st-2/status', 'x');
		await flush();
		expect(got).toEqual(['root/st-1/status=online', 'root/st-2/status=x']);
		expect(all).toEqual(['root/st-1/status', 'root/st-1/sessions/s/readings', 'root/st-2/status']);
		off();
		await a.publish('root/st-3/status', 'y');
		await a.publish('root/st-1/status', '', { retain: true }); // clears the retained message
		await flush();
		expect(got).toHaveLength(2);
		const late: string[] = [];
		await broker.connect().subscribe('root/+/status', (t) => late.push(t));
		await flush();
		expect(late).toEqual([]);
	});

	it('refuses wildcards in a publish and publishing after close', async () => {
		const bus = new MemoryBroker().connect();
		await expect(bus.publish('root/+/x', 'p')).rejects.toThrow(/wildcards/);
		const states: string[] = [];
		bus.onState((s) => states.push(s));
		await bus.close();
		expect(states).toEqual(['offline']);
		await expect(bus.publish('root/x', 'p')).rejects.toThrow(/closed/);
	});
});
