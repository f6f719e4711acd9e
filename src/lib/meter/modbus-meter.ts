// A real meter behind a Modbus RTU master, read by its profile.
import type { ModbusRtuMaster } from './modbus/master';
import { ModbusError } from './modbus/errors';
import {
	METER_PROFILES,
	type MeterProfile,
	type QuantityRegister,
	type SerialRegister
} from './profiles';
import { decodeRegisters, registerCount } from './registers';
import type { Meter, MeterIdentity, MeterSample } from './types';
import type { PollOutcome } from './guard';

export interface ModbusMeterOptions {
	profile: MeterProfile;
	/** Modbus unit address of the meter, 1..247 (default 1). */
	unitId?: number;
	/** The serial when the profile cannot read it (or to label a meter whose serial reads as 0). */
	serial?: string;
	now?: () => number;
}

export async function readQuantity(
	master: ModbusRtuMaster,
	unitId: number,
	profile: MeterProfile,
	reg: QuantityRegister
): Promise<number> {
	const fc = reg.functionCode ?? profile.functionCode;
	const words = await master.read(unitId, fc, reg.address, registerCount(reg.type));
	const value = decodeRegisters(words, reg.type, reg.wordOrder ?? profile.wordOrder) * reg.scale;
	if (!Number.isFinite(value))
		throw new ModbusError(
			'malformed',
			`Register ${reg.address} of ${profile.vendor} ${profile.model} holds no number (NaN/∞): wrong profile or word order?`,
			unitId,
			fc
		);
	return value;
}

export async function readSerial(
	master: ModbusRtuMaster,
	unitId: number,
	s: SerialRegister
): Promise<string> {
	if (s.type === 'uint32') {
		const words = await master.read(unitId, s.functionCode, s.address, 2);
		return String(decodeRegisters(words, 'uint32', s.wordOrder ?? 'high-first'));
	}
	const words = await master.read(unitId, s.functionCode, s.address, s.registers ?? 8);
	let text = '';
	for (const w of words) text += String.fromCharCode(w >> 8, w & 0xff);
	return text.replace(/[\0\s]+$/g, '').trim();
}

/** Smallest energy step the profile's energy register can show, Wh (what the fault guard tolerates). */
export function energyResolutionWh(profile: MeterProfile): number {
	const e = profile.registers.energy;
	// float32 keeps 24 bits of mantissa: at up to 100 000 kWh that is ~8 Wh; integers step by their scale.
	return e.type === 'float32' ? Math.max(1, e.scale / 125) : e.scale;
}

export class ModbusMeter implements Meter {
	private constructor(
		readonly master: ModbusRtuMaster,
		readonly profile: MeterProfile,
		readonly unitId: number,
		readonly identity: MeterIdentity,
		private readonly now: () => number
	) {}

	/** Opens a meter: reads its serial where the profile has one (a failure there is the first fault). */
	static async open(master: ModbusRtuMaster, opts: ModbusMeterOptions): Promise<ModbusMeter> {
		const unitId = opts.unitId ?? 1;
		const serial = opts.profile.serial
			? await readSerial(master, unitId, opts.profile.serial)
			: opts.serial;
		if (!serial)
			throw new Error(
				`${opts.profile.vendor} ${opts.profile.model} has no readable serial number: enter the serial printed on the meter in the setup screen.`
			);
		const identity = { vendor: opts.profile.vendor, model: opts.profile.model, serial };
		return new ModbusMeter(master, opts.profile, unitId, identity, opts.now ?? (() => Date.now()));
	}

	async read(): Promise<MeterSample> {
		const r = this.profile.registers;
		const energy = await readQuantity(this.master, this.unitId, this.profile, r.energy);
		const power = await readQuantity(this.master, this.unitId, this.profile, r.power);
		const voltage = await readQuantity(this.master, this.unitId, this.profile, r.voltage);
		const current = await readQuantity(this.master, this.unitId, this.profile, r.current);
		return {
			energyWh: Math.round(energy),
			powerW: Math.round(power * 10) / 10,
			voltageV: Math.round(voltage * 10) / 10,
			currentA: Math.round(current * 1000) / 1000,
			at: this.now()
		};
	}

	/** The serial as the meter reports it now (the guard compares it with the session's). */
	async readSerial(): Promise<string> {
		return this.profile.serial
			? readSerial(this.master, this.unitId, this.profile.serial)
			: this.identity.serial;
	}
}

export interface ProbeResult {
	profile: MeterProfile;
	voltageV: number;
	energyWh: number;
	serial?: string;
}

/**
 * Identifies the meter at `unitId` by trying each profile's voltage and energy registers: a
 * profile matches when both read (no exception) and look like a live meter (voltage 80-300 V,
 * energy ≥ 0). The most specific profiles are listed first so a meter that also answers a
 * neighbour's registers is still told apart. Returns every match, best first.
 */
export async function probeMeter(
	master: ModbusRtuMaster,
	unitId = 1,
	profiles: readonly MeterProfile[] = METER_PROFILES,
	/** Told why each profile was ruled out (for the setup screen's "why not my meter"). */
	onRejected?: (profileId: string, reason: string) => void
): Promise<ProbeResult[]> {
	const found: ProbeResult[] = [];
	for (const profile of profiles) {
		try {
			const voltageV = await readQuantity(master, unitId, profile, profile.registers.voltage);
			if (!(voltageV >= 80 && voltageV <= 300)) {
				onRejected?.(profile.id, `voltage reads ${voltageV} V`);
				continue;
			}
			const energyWh = await readQuantity(master, unitId, profile, profile.registers.energy);
			if (!(energyWh >= 0)) {
				onRejected?.(profile.id, `energy reads ${energyWh} Wh`);
				continue;
			}
			await readQuantity(master, unitId, profile, profile.registers.power);
			const serial = profile.serial ? await readSerial(master, unitId, profile.serial) : undefined;
			found.push({ profile, voltageV, energyWh, serial });
		} catch (e) {
			// Exceptions and implausible values rule a profile out; silence means nobody is there.
			if (e instanceof ModbusError && (e.kind === 'timeout' || e.kind === 'closed')) throw e;
			onRejected?.(profile.id, e instanceof Error ? e.message : String(e));
		}
	}
	return found;
}

/** One poll in the shape MeterGuard.check() takes: a sample plus the serial now answering, or the error. */
export async function pollMeter(
	meter: Meter & { readSerial?: () => Promise<string> },
	now: () => number = () => Date.now()
): Promise<PollOutcome> {
	try {
		const sample = await meter.read();
		const serial = meter.readSerial ? await meter.readSerial() : meter.identity.serial;
		return { ok: true, sample, serial };
	} catch (error) {
		return { ok: false, error, at: now() };
	}
}
