// A simulated car behind a simulated meter, for the devnet and demos: the car draws power only
// while the charger allows it, ramps up over a few seconds, holds, and tapers as the battery fills.
// Energy integrates power over (optionally accelerated) time, so increments arrive at a pace a
// demo or a test can choose. The Modbus RTU slave that emulates real meter profiles builds on this.
import type { Meter, MeterIdentity, MeterSample } from './types';

export interface SimulatedCarOptions {
	maxPowerW: number;
	/** Battery energy still wanted, Wh; power tapers over the last 20 %. */
	wantedWh: number;
	/** Register value at start, Wh. */
	startWh?: number;
	/** Seconds of ramp from 0 to full power. */
	rampSeconds?: number;
	/** Simulated seconds per wall-clock second. */
	speed?: number;
	now?: () => number;
	identity?: MeterIdentity;
	voltageV?: number;
}

export class SimulatedMeter implements Meter {
	readonly identity: MeterIdentity;
	private energyWh: number;
	private deliveredWh = 0;
	private powerW = 0;
	private allowed = false;
	private allowedSince = 0;
	private lastAt: number;
	private readonly now: () => number;

	constructor(private readonly opts: SimulatedCarOptions) {
		this.now = opts.now ?? (() => Date.now());
		this.energyWh = opts.startWh ?? 1_000_000;
		this.lastAt = this.now();
		this.identity = opts.identity ?? { vendor: 'Lightcharge', model: 'SIM-1', serial: 'SIM-0001' };
	}

	/** The charger's contactor: the car can draw only while this is on. */
	setAllowed(allowed: boolean): void {
		this.advance();
		if (allowed && !this.allowed) this.allowedSince = this.now();
		this.allowed = allowed;
		if (!allowed) this.powerW = 0;
	}

	get isAllowed(): boolean {
		return this.allowed;
	}

	async read(): Promise<MeterSample> {
		this.advance();
		const voltageV = this.opts.voltageV ?? 230;
		return {
			energyWh: Math.floor(this.energyWh),
			powerW: Math.round(this.powerW),
			voltageV,
			currentA: Math.round((this.powerW / voltageV / 3) * 100) / 100,
			at: this.lastAt
		};
	}

	private targetPowerW(at: number): number {
		if (!this.allowed) return 0;
		const speed = this.opts.speed ?? 1;
		const ramp = this.opts.rampSeconds ?? 3;
		const sinceS = ((at - this.allowedSince) / 1000) * speed;
		const rampFactor = ramp > 0 ? Math.min(1, sinceS / ramp) : 1;
		const left = this.opts.wantedWh - this.deliveredWh;
		if (left <= 0) return 0;
		const taper = Math.min(1, left / (0.2 * this.opts.wantedWh));
		return this.opts.maxPowerW * rampFactor * Math.max(0.1, taper);
	}

	private advance(): void {
		const at = this.now();
		const dtH = ((at - this.lastAt) / 3_600_000) * (this.opts.speed ?? 1);
		if (dtH > 0) {
			this.powerW = this.targetPowerW(at);
			const wh = Math.min(this.powerW * dtH, Math.max(0, this.opts.wantedWh - this.deliveredWh));
			this.energyWh += wh;
			this.deliveredWh += wh;
		}
		this.lastAt = at;
	}
}
