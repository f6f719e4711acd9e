// What one meter poll yields, whatever the meter (Modbus profile, simulated, self-signing).

export interface MeterSample {
	/** Import energy register, Wh (integer; the register's own resolution is kept by the profile). */
	energyWh: number;
	/** Active power, W. */
	powerW: number;
	voltageV: number;
	currentA: number;
	/** Unix ms when the sample was taken. */
	at: number;
}

export interface MeterIdentity {
	vendor: string;
	model: string;
	serial: string;
}

export interface Meter {
	readonly identity: MeterIdentity;
	read(): Promise<MeterSample>;
}
