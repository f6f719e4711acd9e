import type { SimulatedMeter } from '../meter';
import type { Charger, ChargerState } from './port';

/** The devnet's charger: its contactor is the simulated meter's `allowed` switch. */
export class SimulatedCharger implements Charger {
	readonly kind = 'simulated' as const;
	private current: ChargerState = 'idle';
	constructor(private readonly meter: SimulatedMeter) {}
	async allow() {
		this.meter.setAllowed(true);
		this.current = 'allowed';
	}
	async suspend() {
		this.meter.setAllowed(false);
		this.current = 'suspended';
	}
	async stop() {
		this.meter.setAllowed(false);
		this.current = 'stopped';
	}
	async setCurrentLimit(_amps: number) {}
	state() {
		return this.current;
	}
}
