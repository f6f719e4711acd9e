// The message bus both apps, the devnet tools and the tests use: MQTT over WebSockets through
// mqtt.js. It speaks MQTT 5 where the broker has it (Mosquitto) and falls back to 3.1.1 for
// brokers that only speak that (aedes refuses a v5 CONNECT with "Unacceptable protocol version").
// QoS 1 publishes made while offline are queued by mqtt.js and sent on reconnect.
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { Emitter } from '../core';

export type BusState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface PublishOptions {
	retain?: boolean;
	qos?: 0 | 1;
}

export type MessageHandler = (topic: string, payload: Uint8Array) => void;

/**
 * The broker refused a publish for good (an MQTT 5 reason code ≥ 0x80, e.g. 135 "Not authorized"
 * for an ACL): sending the same message again will not help. Decide on the type, not the words.
 */
export class BusRefusal extends Error {
	override readonly name = 'BusRefusal';
	constructor(
		readonly topic: string,
		/** The MQTT 5 reason code. */
		readonly reasonCode: number
	) {
		super(`the broker refused the message on ${topic} (reason ${reasonCode})`);
	}
}

export interface MessageBus {
	readonly state: BusState;
	publish(topic: string, payload: string, opts?: PublishOptions): Promise<void>;
	/** Subscribes to a topic filter; the returned function unsubscribes. */
	subscribe(filter: string, handler: MessageHandler): Promise<() => void>;
	onState(listener: (state: BusState, detail?: string) => void): () => void;
	close(): Promise<void>;
}

export interface BusOptions {
	clientId?: string;
	username?: string;
	password?: string;
	/** Force a protocol version; by default v5 with a fallback to 3.1.1. */
	protocolVersion?: 4 | 5;
	/** Last will, e.g. the kiosk's retained "offline" status. */
	will?: { topic: string; payload: string; retain?: boolean };
	connectTimeoutMs?: number;
	reconnectPeriodMs?: number;
	/**
	 * Keep the session at the broker across disconnects and reloads (needs a stable `clientId`): the
	 * broker queues QoS 1 messages for our subscriptions while we are away and delivers them when
	 * the same client id comes back, so a wallet reloaded mid-session misses no reading.
	 */
	persistentSession?: { expirySeconds: number };
	/**
	 * With a persistent session: a QoS 1 message a subscriber handled is acknowledged to the broker
	 * only once this resolves (called right after the handlers ran), e.g. once the app has stored
	 * what the message changed. A page that reloads before that gets the message again from the
	 * broker instead of losing it. Messages no one has subscribed to yet are acknowledged at once
	 * (the broker's answer to the subscription waits behind them); they are kept for the first
	 * subscriber. The next message is read only after this one is acknowledged.
	 */
	ackAfter?: () => Promise<unknown>;
}

/** Messages that arrived before anyone subscribed to them (a persistent session's backlog), kept for the first subscriber. */
const UNCLAIMED_LIMIT = 5000;
type Unclaimed = { topic: string; payload: Uint8Array }[];

const busOf = new WeakMap<MqttClient, MqttBus>();

/** MQTT topic filter match (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
	const f = filter.split('/');
	const t = topic.split('/');
	for (let i = 0; i < f.length; i++) {
		if (f[i] === '#') return true;
		if (i >= t.length) return false;
		if (f[i] !== '+' && f[i] !== t[i]) return false;
	}
	return f.length === t.length;
}

class MqttBus implements MessageBus {
	state: BusState;
	private readonly handlers = new Map<string, Set<MessageHandler>>();
	private readonly stateChanges = new Emitter<[s: BusState, d?: string]>();

	constructor(
		private readonly client: MqttClient,
		private readonly unclaimed: Unclaimed = []
	) {
		this.state = client.connected ? 'connected' : 'connecting';
		client.on('connect', () => this.setState('connected'));
		client.on('reconnect', () => this.setState('reconnecting'));
		client.on('offline', () => this.setState('offline'));
		client.on('close', () => {
			if (this.state === 'connected') this.setState('offline');
		});
		client.on('error', (e) => this.emit(this.state, e.message));
		client.on('message', (topic, payload) => this.deliver(topic, new Uint8Array(payload)));
	}

	/** Whether the message delivered last reached a subscriber (read when it is acknowledged). */
	lastClaimed = false;

	private deliver(topic: string, payload: Uint8Array): void {
		let claimed = false;
		for (const [filter, set] of this.handlers) {
			if (!topicMatches(filter, topic)) continue;
			claimed = true;
			for (const h of set) h(topic, payload);
		}
		this.lastClaimed = claimed;
		if (!claimed) {
			this.unclaimed.push({ topic, payload });
			if (this.unclaimed.length > UNCLAIMED_LIMIT) this.unclaimed.shift();
		}
	}

	private setState(s: BusState) {
		this.state = s;
		this.emit(s);
	}
	private emit(s: BusState, detail?: string) {
		this.stateChanges.emit(s, detail);
	}

	publish(topic: string, payload: string, opts: PublishOptions = {}): Promise<void> {
		return new Promise((resolve, reject) => {
			this.client.publish(
				topic,
				payload,
				{ qos: opts.qos ?? 1, retain: opts.retain ?? false },
				(err, packet) => {
					if (err) return reject(err);
					// MQTT 5 brokers report refused publishes (e.g. ACL: reason 135 "Not authorized").
					const code = (packet as { reasonCode?: number } | undefined)?.reasonCode;
					if (code !== undefined && code >= 0x80) return reject(new BusRefusal(topic, code));
					resolve();
				}
			);
		});
	}

	async subscribe(filter: string, handler: MessageHandler): Promise<() => void> {
		let set = this.handlers.get(filter);
		const first = !set;
		if (!set) this.handlers.set(filter, (set = new Set()));
		set.add(handler);
		if (first) {
			await new Promise<void>((resolve, reject) =>
				this.client.subscribe(filter, { qos: 1 }, (err, granted) => {
					if (err) return reject(err);
					if (granted?.some((g) => g.qos >= 0x80))
						return reject(new Error(`the broker refused the subscription to ${filter}`));
					resolve();
				})
			);
		}
		// Hand over what arrived for this filter before anyone listened, in arrival order.
		const backlog = this.unclaimed.filter((m) => topicMatches(filter, m.topic));
		if (backlog.length) {
			for (let i = this.unclaimed.length - 1; i >= 0; i--)
				if (topicMatches(filter, this.unclaimed[i]!.topic)) this.unclaimed.splice(i, 1);
			for (const m of backlog) handler(m.topic, m.payload);
		}
		return () => {
			set!.delete(handler);
			if (set!.size === 0) {
				this.handlers.delete(filter);
				this.client.unsubscribe(filter);
			}
		};
	}

	onState(listener: (s: BusState, d?: string) => void): () => void {
		return this.stateChanges.on(listener);
	}

	close(): Promise<void> {
		return new Promise((resolve) => this.client.end(false, {}, () => resolve()));
	}
}

function openClient(
	url: string,
	opts: BusOptions,
	protocolVersion: 4 | 5
): Promise<{
	client: MqttClient;
	early: Unclaimed;
	collect: (topic: string, payload: Uint8Array) => void;
}> {
	const persistent = opts.persistentSession;
	if (persistent && !opts.clientId)
		throw new Error('a persistent MQTT session needs a stable clientId');
	const options: IClientOptions = {
		clientId: opts.clientId ?? `lc-${Math.random().toString(16).slice(2, 10)}`,
		username: opts.username,
		password: opts.password,
		protocolVersion,
		clean: !persistent,
		// MQTT 5 ends a session at disconnect unless it is given an expiry.
		...(persistent &&
			protocolVersion === 5 && { properties: { sessionExpiryInterval: persistent.expirySeconds } }),
		connectTimeout: opts.connectTimeoutMs ?? 5000,
		reconnectPeriod: opts.reconnectPeriodMs ?? 1000,
		will: opts.will
			? {
					topic: opts.will.topic,
					payload: opts.will.payload,
					qos: 1,
					retain: opts.will.retain ?? false
				}
			: undefined
	};
	const client = mqtt.connect(url, options);
	const ackAfter = opts.ackAfter;
	if (ackAfter) {
		// mqtt.js sends the PUBACK of a QoS 1 message when this calls back, after the 'message' event.
		client.handleMessage = (_packet, callback) => {
			const bus = busOf.get(client);
			if (!bus?.lastClaimed) return callback();
			bus.lastClaimed = false;
			ackAfter().then(
				() => callback(),
				() => callback()
			);
		};
	}
	// A persistent session's backlog can arrive with the CONNACK, before the bus exists: keep it.
	const early: Unclaimed = [];
	const collect = (topic: string, payload: Uint8Array) =>
		early.push({ topic, payload: new Uint8Array(payload) });
	client.on('message', collect);
	return new Promise((resolve, reject) => {
		const onError = (e: Error) => fail(e.message);
		// A broker that does not speak v5 may simply drop the connection before CONNACK.
		const onClose = () => fail('connection closed before the broker accepted it');
		const fail = (why: string) => {
			client.off('connect', onConnect);
			client.off('error', onError);
			client.off('close', onClose);
			client.end(true);
			reject(new Error(why));
		};
		const onConnect = () => {
			client.off('error', onError);
			client.off('close', onClose);
			resolve({ client, early, collect });
		};
		client.once('connect', onConnect);
		client.once('error', onError);
		client.once('close', onClose);
	});
}

/** Connects to an MQTT broker over WebSockets (ws:// or wss://); rejects with a sentence when it cannot. */
export async function connectBus(url: string, opts: BusOptions = {}): Promise<MessageBus> {
	const open = async (v: 4 | 5) => {
		const { client, early, collect } = await openClient(url, opts, v);
		const bus = new MqttBus(client, early);
		busOf.set(client, bus);
		client.off('message', collect); // the bus delivers from here on
		return bus;
	};
	if (opts.protocolVersion) return open(opts.protocolVersion);
	try {
		return await open(5);
	} catch (v5Error) {
		try {
			return await open(4);
		} catch (e) {
			throw new Error(
				`Cannot reach the message broker at ${url}: ${(e as Error).message} (MQTT 5: ${(v5Error as Error).message})`
			);
		}
	}
}
