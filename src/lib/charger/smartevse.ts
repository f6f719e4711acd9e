// SmartEVSE (v2 firmware after 2.20) as a Modbus RTU slave on the meter's RS-485 bus, using the
// registers its README documents: 0x0000 state (A-D; E-H = A-D waiting for the balance master),
// 0x0001 error bits, 0x0002 charging current (0.1 A), 0x0005 access bit, 0x0007 maximum current.
// Assumptions (not stated in the README, see docs/meter.md): the state register holds 0..7 for
// A..H, and clearing the access bit stops charging the way an RFID "no access" does.
import type { ModbusRtuMaster } from '../meter';
import type { Charger, ChargerState } from './port';

export const SMARTEVSE_REGISTERS = {
	state: 0x0000,
	error: 0x0001,
	chargingCurrent: 0x0002,
	mode: 0x0003,
	access: 0x0005,
	maxCurrent: 0x0007
} as const;

const ERROR_BITS: [number, string][] = [
	[1, 'less than 6 A available'],
	[2, 'no communication with the load-balancing master'],
	[4, 'temperature too high'],
	[16, 'residual current detected (RCD tripped)'],
	[32, 'not enough solar power']
];

export interface SmartEvseStatus {
	/** IEC 61851 state: A no car, B car connected, C charging, D charging with ventilation. */
	evState: 'A' | 'B' | 'C' | 'D';
	waitingForBalanceMaster: boolean;
	errors: string[];
	chargingCurrentA: number;
	access: boolean;
	maxCurrentA: number;
}

export interface SmartEvseOptions {
	/** 1 when load balancing is off or this EVSE is the master; 2..8 for nodes. */
	unitId?: number;
}

export class SmartEvseCharger implements Charger {
	readonly kind = 'smartevse' as const;
	private current: ChargerState = 'idle';
	private readonly unitId: number;
	lastStatus: SmartEvseStatus | null = null;

	constructor(
		private readonly master: ModbusRtuMaster,
		opts: SmartEvseOptions = {}
	) {
		this.unitId = opts.unitId ?? 1;
	}

	async allow(): Promise<void> {
		await this.master.writeSingleRegister(this.unitId, SMARTEVSE_REGISTERS.access, 1);
		this.current = 'allowed';
	}

	async suspend(): Promise<void> {
		await this.master.writeSingleRegister(this.unitId, SMARTEVSE_REGISTERS.access, 0);
		this.current = 'suspended';
	}

	async stop(): Promise<void> {
		await this.master.writeSingleRegister(this.unitId, SMARTEVSE_REGISTERS.access, 0);
		this.current = 'stopped';
	}

	/** 0 (no current) or 6 A up to the EVSE's maximum; the register counts 0.1 A. */
	async setCurrentLimit(amps: number): Promise<void> {
		if (!(amps === 0 || (amps >= 6 && amps <= 80)))
			throw new RangeError(`SmartEVSE takes 0 or 6-80 A (asked ${amps} A).`);
		await this.master.writeSingleRegister(
			this.unitId,
			SMARTEVSE_REGISTERS.chargingCurrent,
			Math.round(amps * 10)
		);
	}

	state(): ChargerState {
		return this.current;
	}

	/** Reads the status block; an error bit puts the port in 'fault' until a later poll is clean. */
	async poll(): Promise<SmartEvseStatus> {
		const r = await this.master.readHoldingRegisters(this.unitId, SMARTEVSE_REGISTERS.state, 8);
		const raw = r[0]!;
		if (raw > 7) throw new Error(`SmartEVSE reported an unknown state ${raw}.`);
		const status: SmartEvseStatus = {
			evState: (['A', 'B', 'C', 'D'] as const)[raw % 4]!,
			waitingForBalanceMaster: raw >= 4,
			errors: ERROR_BITS.filter(([bit]) => (r[1]! & bit) !== 0).map(([, text]) => text),
			chargingCurrentA: r[2]! / 10,
			access: r[5] === 1,
			maxCurrentA: r[7]!
		};
		this.lastStatus = status;
		if (status.errors.length) this.current = 'fault';
		else if (this.current === 'fault') this.current = status.access ? 'allowed' : 'suspended';
		return status;
	}
}
