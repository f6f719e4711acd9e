// No controllable charger: the kiosk tells the driver what to do. Suspending cannot force the car
// to stop, so the station relies on confirmSuspended() to notice a driver who keeps charging.
import type { Charger, ChargerState } from './port';
import { Emitter } from '../core';

export interface DriverInstruction {
	action: 'plug-in' | 'unplug' | 'limit-current';
	/** Shown large on the kiosk screen. */
	message: string;
}

export class ManualCharger implements Charger {
	readonly kind = 'manual' as const;
	private current: ChargerState = 'idle';
	private readonly instructions = new Emitter<[DriverInstruction]>();
	lastInstruction: DriverInstruction | null = null;

	onInstruction(listener: (i: DriverInstruction) => void): () => void {
		return this.instructions.on(listener);
	}

	private tell(i: DriverInstruction) {
		this.lastInstruction = i;
		this.instructions.emit(i);
	}

	async allow(): Promise<void> {
		this.current = 'allowed';
		this.tell({
			action: 'plug-in',
			message: 'You can charge now: plug in your car and start charging.'
		});
	}

	async suspend(reason?: string): Promise<void> {
		this.current = 'suspended';
		this.tell({
			action: 'unplug',
			message: `Please stop charging and unplug your car now${reason ? `: ${reason}` : '.'}`
		});
	}

	async stop(reason?: string): Promise<void> {
		this.current = 'stopped';
		this.tell({
			action: 'unplug',
			message: `Charging has ended${reason ? ` (${reason})` : ''}. Please unplug your car.`
		});
	}

	async setCurrentLimit(amps: number): Promise<void> {
		this.tell({
			action: 'limit-current',
			message: `Please limit charging to ${amps} A in your car's settings.`
		});
	}

	state(): ChargerState {
		return this.current;
	}
}
