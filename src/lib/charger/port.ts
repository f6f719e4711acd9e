// Metering alone cannot stop a car from charging: the kiosk acts on the charger through this port.
export type ChargerState = 'idle' | 'allowed' | 'suspended' | 'stopped' | 'fault';

export interface Charger {
	readonly kind: 'simulated' | 'smartevse' | 'evcc' | 'manual';
	allow(): Promise<void>;
	/** `reason` is for backends that must tell a person (manual) or log it. */
	suspend(reason?: string): Promise<void>;
	stop(reason?: string): Promise<void>;
	setCurrentLimit(amps: number): Promise<void>;
	state(): ChargerState;
}
