// MeterGuard: decides, poll by poll, whether a meter's answer can be billed. Pure (no I/O, no
// clock): the station runtime feeds it each poll's outcome and suspends charging on a fault.
// Energy that cannot be verified is never billed: after a fault the guard keeps its last good
// sample, and `accepted` is what the station may bill from.
import { ModbusError, ModbusExceptionError } from './modbus/errors';
import type { MeterSample } from './types';

export type MeterFaultKind =
	| 'no-answer'
	| 'crc'
	| 'exception'
	| 'port-closed'
	| 'bad-value'
	| 'energy-backwards'
	| 'energy-jump'
	| 'meter-swapped';

export interface MeterFault {
	kind: MeterFaultKind;
	/** For the operator screen: what happened and what to check. */
	message: string;
	at: number;
	exceptionCode?: number;
}

export type PollOutcome =
	{ ok: true; sample: MeterSample; serial: string } | { ok: false; error: unknown; at: number };

export type GuardVerdict =
	| {
			ok: true;
			sample: MeterSample;
			/** Energy since the previous accepted sample, Wh. */ deltaWh: number;
	  }
	| { ok: false; fault: MeterFault };

export interface MeterGuardOptions {
	/** The session's meter serial (read at session start). */
	expectedSerial: string;
	/** The most the connection can draw, W (charger rating); energy faster than this is a fault. */
	maxPowerW: number;
	/** The energy register's step, Wh (energyResolutionWh(profile)); two steps of slack are allowed. */
	energyResolutionWh?: number;
	/** The last accepted sample of a resumed session. */
	last?: MeterSample;
}

export class MeterGuard {
	private lastGood: MeterSample | null;
	private readonly resolutionWh: number;

	constructor(private readonly opts: MeterGuardOptions) {
		this.lastGood = opts.last ?? null;
		this.resolutionWh = opts.energyResolutionWh ?? 1;
		if (!(opts.maxPowerW > 0))
			throw new RangeError('MeterGuard needs the charger’s maximum power in W (maxPowerW > 0).');
	}

	/** The last sample that passed every check (what billing may rely on). */
	get accepted(): MeterSample | null {
		return this.lastGood;
	}

	check(outcome: PollOutcome): GuardVerdict {
		if (!outcome.ok) return { ok: false, fault: classifyMeterError(outcome.error, outcome.at) };
		const { sample, serial } = outcome;
		const at = sample.at;
		if (serial !== this.opts.expectedSerial)
			return fault(
				'meter-swapped',
				at,
				`A different meter answered (serial ${serial}, this session started on ${this.opts.expectedSerial}). Charging is suspended: check that the meter was not replaced or re-addressed.`
			);
		const values = [sample.energyWh, sample.powerW, sample.voltageV, sample.currentA];
		if (!values.every(Number.isFinite) || sample.energyWh < 0)
			return fault(
				'bad-value',
				at,
				'The meter returned values that are not numbers: check the meter profile (type and word order).'
			);
		const prev = this.lastGood;
		if (!prev) {
			this.lastGood = sample;
			return { ok: true, sample, deltaWh: 0 };
		}
		const deltaWh = sample.energyWh - prev.energyWh;
		if (deltaWh < 0)
			return fault(
				'energy-backwards',
				at,
				`The meter's energy went backwards (${prev.energyWh} Wh → ${sample.energyWh} Wh). Charging is suspended: the meter may have been reset or replaced.`
			);
		const hours = Math.max(0, at - prev.at) / 3_600_000;
		const allowedWh = this.opts.maxPowerW * hours + 2 * this.resolutionWh;
		if (deltaWh > allowedWh)
			return fault(
				'energy-jump',
				at,
				`The meter's energy jumped by ${deltaWh} Wh in ${Math.round(hours * 3_600_000)} ms, more than ${this.opts.maxPowerW} W can deliver. Charging is suspended: check the meter and its profile.`
			);
		this.lastGood = sample;
		return { ok: true, sample, deltaWh };
	}
}

function fault(
	kind: MeterFaultKind,
	at: number,
	message: string
): { ok: false; fault: MeterFault } {
	return { ok: false, fault: { kind, at, message } };
}

/** Turns a failed poll into a fault with an operator message. */
export function classifyMeterError(error: unknown, at: number): MeterFault {
	if (error instanceof ModbusExceptionError)
		return {
			kind: 'exception',
			at,
			exceptionCode: error.exceptionCode,
			message: `The meter refused the reading: ${error.message} Charging is suspended.`
		};
	if (error instanceof ModbusError) {
		const kind: MeterFaultKind =
			error.kind === 'timeout'
				? 'no-answer'
				: error.kind === 'crc'
					? 'crc'
					: error.kind === 'closed'
						? 'port-closed'
						: 'bad-value';
		const lead =
			kind === 'no-answer'
				? 'The meter does not answer.'
				: kind === 'crc'
					? 'The meter’s answers arrive corrupted.'
					: kind === 'port-closed'
						? 'The meter’s serial port is gone (USB adapter unplugged?).'
						: 'The meter’s answer makes no sense.';
		return { kind, at, message: `${lead} ${error.message} Charging is suspended.` };
	}
	const text = error instanceof Error ? error.message : String(error);
	return {
		kind: 'no-answer',
		at,
		message: `Reading the meter failed: ${text}. Charging is suspended.`
	};
}
