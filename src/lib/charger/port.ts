// Metering alone cannot stop a car from charging: the kiosk acts on the charger through this port.
export type ChargerState = 'idle' | 'allowed' | 'suspended' | 'stopped' | 'fault';

export interface Charger {
	readonly kind: 'simulated' | 'smartevse' | 'evcc' | 'manual';
	allow(): Promise<void>;
	suspend(): Promise<void>;
	stop(): Promise<void>;
	setCurrentLimit(amps: number): Promise<void>;
	state(): ChargerState;
}
