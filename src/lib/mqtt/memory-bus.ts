// An in-process broker for tests and the simulator: the MessageBus contract (QoS 1 delivery,
// retained messages, topic filters) without a network. Deliveries are asynchronous, like a real
// broker's, so code under test cannot rely on a publish being handled before it returns.
import {
	topicMatches,
	type BusState,
	type MessageBus,
	type MessageHandler,
	type PublishOptions
} from './bus';
import { Emitter } from '../core';

export class MemoryBroker {
	private readonly retained = new Map<string, Uint8Array>();
	private readonly clients = new Set<MemoryBus>();
	/** Every publish, in order, for tests that inspect the traffic. */
	readonly log: { topic: string; payload: string; retain: boolean }[] = [];

	/** A new client connection. */
	connect(): MemoryBus {
		const bus = new MemoryBus(this);
		this.clients.add(bus);
		return bus;
	}

	/** @internal */
	deliver(topic: string, payload: string, retain: boolean): void {
		const bytes = new TextEncoder().encode(payload);
		this.log.push({ topic, payload, retain });
		if (retain) {
			// An empty retained payload clears the topic, as in MQTT.
			if (bytes.length === 0) this.retained.delete(topic);
			else this.retained.set(topic, bytes);
		}
		for (const c of this.clients) c.receive(topic, bytes);
	}

	/** @internal */
	retainedFor(filter: string): [string, Uint8Array][] {
		return [...this.retained].filter(([topic]) => topicMatches(filter, topic));
	}

	/** @internal */
	disconnect(bus: MemoryBus): void {
		this.clients.delete(bus);
	}
}

export class MemoryBus implements MessageBus {
	state: BusState = 'connected';
	private readonly handlers = new Map<string, Set<MessageHandler>>();
	private readonly stateChanges = new Emitter<[s: BusState, d?: string]>();

	constructor(private readonly broker: MemoryBroker) {}

	async publish(topic: string, payload: string, opts: PublishOptions = {}): Promise<void> {
		if (this.state !== 'connected')
			throw new Error(`Cannot publish on ${topic}: the bus is closed.`);
		if (/[+#]/.test(topic))
			throw new Error(`Cannot publish on ${topic}: wildcards are only for subscriptions.`);
		this.broker.deliver(topic, payload, opts.retain ?? false);
	}

	async subscribe(filter: string, handler: MessageHandler): Promise<() => void> {
		let set = this.handlers.get(filter);
		if (!set) this.handlers.set(filter, (set = new Set()));
		set.add(handler);
		for (const [topic, payload] of this.broker.retainedFor(filter))
			queueMicrotask(() => set.has(handler) && handler(topic, payload));
		return () => {
			set.delete(handler);
			if (set.size === 0) this.handlers.delete(filter);
		};
	}

	/** @internal */
	receive(topic: string, payload: Uint8Array): void {
		for (const [filter, set] of this.handlers) {
			if (!topicMatches(filter, topic)) continue;
			for (const h of set)
				queueMicrotask(() => set.has(h) && this.state === 'connected' && h(topic, payload));
		}
	}

	onState(listener: (s: BusState, d?: string) => void): () => void {
		return this.stateChanges.on(listener);
	}

	async close(): Promise<void> {
		this.state = 'offline';
		this.broker.disconnect(this);
		this.stateChanges.emit('offline');
	}
}
