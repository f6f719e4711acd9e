// evcc as the charger, over its MQTT API: the loadpoint's charge mode is set by publishing to
// `<prefix>/loadpoints/<id>/mode/set` ("off" stops, "now" charges at full current) and its
// current limit to `.../maxCurrent/set`; evcc reports back on `.../mode`, `.../enabled` (charger
// enabled) and `.../chargePower`, which the kiosk can wait on. Loadpoint ids start at 1.
import type { MessageBus } from '../mqtt';
import type { Charger, ChargerState } from './port';
import { Emitter } from '../core';

export interface EvccOptions {
	/** Loadpoint id, from 1. */
	loadpoint?: number;
	/** evcc's MQTT topic root (its `mqtt.topic` setting), default "evcc". */
	topic?: string;
	/** The mode that lets the car charge, default "now" (full power regardless of PV). */
	chargeMode?: 'now' | 'minpv' | 'pv';
}

export interface EvccReport {
	mode?: string;
	enabled?: boolean;
	charging?: boolean;
	connected?: boolean;
	chargePowerW?: number;
}

export class EvccCharger implements Charger {
	readonly kind = 'evcc' as const;
	readonly reported: EvccReport = {};
	private current: ChargerState = 'idle';
	private readonly base: string;
	private readonly chargeMode: string;
	private readonly reports = new Emitter<[]>();
	private unsubscribe: (() => void) | null = null;

	constructor(
		private readonly bus: MessageBus,
		opts: EvccOptions = {}
	) {
		const lp = opts.loadpoint ?? 1;
		if (!Number.isInteger(lp) || lp < 1)
			throw new RangeError(`evcc loadpoint ids start at 1 (got ${lp}).`);
		this.base = `${opts.topic ?? 'evcc'}/loadpoints/${lp}`;
		this.chargeMode = opts.chargeMode ?? 'now';
	}

	/** Subscribes to the loadpoint's reported state; call once before use. */
	async start(): Promise<void> {
		this.unsubscribe = await this.bus.subscribe(`${this.base}/+`, (topic, payload) => {
			const field = topic.slice(this.base.length + 1);
			const text = new TextDecoder().decode(payload);
			if (field === 'mode') this.reported.mode = text;
			else if (field === 'enabled') this.reported.enabled = text === 'true';
			else if (field === 'charging') this.reported.charging = text === 'true';
			else if (field === 'connected') this.reported.connected = text === 'true';
			else if (field === 'chargePower') this.reported.chargePowerW = Number(text);
			else return;
			this.reports.emit();
		});
	}

	async close(): Promise<void> {
		this.unsubscribe?.();
	}

	async allow(): Promise<void> {
		await this.bus.publish(`${this.base}/mode/set`, this.chargeMode, { qos: 1 });
		this.current = 'allowed';
	}

	async suspend(): Promise<void> {
		await this.bus.publish(`${this.base}/mode/set`, 'off', { qos: 1 });
		this.current = 'suspended';
	}

	async stop(): Promise<void> {
		await this.bus.publish(`${this.base}/mode/set`, 'off', { qos: 1 });
		this.current = 'stopped';
	}

	async setCurrentLimit(amps: number): Promise<void> {
		if (!(amps > 0 && amps <= 80))
			throw new RangeError(`evcc maxCurrent must be 1-80 A (asked ${amps} A).`);
		await this.bus.publish(`${this.base}/maxCurrent/set`, String(amps), { qos: 1 });
	}

	state(): ChargerState {
		return this.current;
	}

	/** Resolves when evcc reports `enabled` as expected; false after `timeoutMs`. */
	waitForEnabled(enabled: boolean, timeoutMs: number): Promise<boolean> {
		return new Promise((resolve) => {
			const check = () => {
				if (this.reported.enabled !== enabled) return;
				done(true);
			};
			const timer = setTimeout(() => done(false), timeoutMs);
			const done = (v: boolean) => {
				clearTimeout(timer);
				off();
				resolve(v);
			};
			const off = this.reports.on(check);
			check();
		});
	}
}
