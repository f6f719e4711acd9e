// Durable publishing: every message is stored in a queue before it goes to the broker (QoS 1),
// removed once the broker acknowledged it, and replayed in order after a reload. While the broker
// is away, mqtt.js holds the messages already handed to it and resends them on reconnect, so the
// outbox hands each message over exactly once per process; a reload replays what was not yet
// acknowledged (receivers deduplicate by (sessionId, seq), so a replay after an unrecorded
// acknowledgement does no harm).
import { BusRefusal, type MessageBus } from '../mqtt';
import type { DurableQueue } from './ports';

export interface OutboxMessage {
	topic: string;
	payload: string;
	retain?: boolean;
}

export interface OutboxOptions {
	/** A message the broker refused for good (e.g. an ACL): it is dropped and reported. */
	onRefused?: (message: OutboxMessage, error: Error) => void;
	onChange?: (pending: number) => void;
}

/** Errors that will not go away by sending the same message again. */
const isRefusal = (e: Error) => e instanceof BusRefusal;

export class Outbox {
	private tail: Promise<unknown> = Promise.resolve();
	private inFlight = new Map<number, Promise<void>>();
	private closed = false;
	private started = false;

	constructor(
		private readonly bus: MessageBus,
		private readonly queue: DurableQueue<OutboxMessage>,
		private readonly o: OutboxOptions = {}
	) {}

	/** Hands everything a previous run left unacknowledged to the broker, oldest first. Call once, before `publish`. */
	start(): Promise<number> {
		if (this.started) throw new Error('the outbox was started twice');
		this.started = true;
		const replay = this.queue.list().then((items) => {
			for (const item of items) this.send(item.id, item.value);
			return items.length;
		});
		this.tail = replay;
		return replay;
	}

	/**
	 * Stores the message, then hands it to the broker. Resolves once it is stored (durable), not
	 * when the broker acknowledges it: a kiosk must not stall its meter loop on a broker outage.
	 */
	publish(topic: string, payload: string, opts: { retain?: boolean } = {}): Promise<void> {
		if (!this.started) throw new Error('start the outbox before publishing');
		if (this.closed) return Promise.reject(new Error('the outbox is closed'));
		const message: OutboxMessage = opts.retain
			? { topic, payload, retain: true }
			: { topic, payload };
		// Appends are chained so messages keep the order they were published in.
		const stored = this.tail.then(async () => {
			const id = await this.queue.append(message);
			this.send(id, message);
		});
		this.tail = stored.catch(() => undefined);
		return stored;
	}

	/** Messages stored and not yet acknowledged. */
	get pending(): number {
		return this.inFlight.size;
	}

	/** Resolves when every message published so far is acknowledged. */
	async drained(): Promise<void> {
		await this.tail;
		while (this.inFlight.size) await Promise.allSettled([...this.inFlight.values()]);
	}

	close(): void {
		this.closed = true;
	}

	private send(id: number, message: OutboxMessage): void {
		const done = this.bus
			.publish(message.topic, message.payload, { qos: 1, retain: message.retain ?? false })
			.then(
				() => this.queue.remove(id),
				async (e: Error) => {
					if (!isRefusal(e)) return; // the connection was closed for good: the next start replays it
					await this.queue.remove(id);
					this.o.onRefused?.(message, e);
				}
			)
			.finally(() => {
				this.inFlight.delete(id);
				this.o.onChange?.(this.inFlight.size);
			});
		this.inFlight.set(id, done);
		this.o.onChange?.(this.inFlight.size);
	}
}
