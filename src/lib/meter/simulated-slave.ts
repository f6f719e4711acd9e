// The simulated car+meter as a Modbus RTU slave: answers the registers of any meter profile with
// SimulatedMeter's values encoded the way that meter encodes them. Registers the profile does not
// have answer "illegal data address", as a real meter does, which is what makes probing work.
import { ModbusRtuSlave, type RegisterHandler, type SlaveOptions } from './modbus/slave';
import type { MeterProfile, QuantityRegister } from './profiles';
import { encodeRegisters, registerCount } from './registers';
import type { ByteTransport } from './transport';
import type { Meter, MeterSample } from './types';

const ILLEGAL_ADDRESS = 2;

export interface MeterRegisterBankOptions {
	profile: MeterProfile;
	/** Where the values come from: usually a SimulatedMeter. */
	source: Meter;
	/** The serial to report (default: the source's identity serial). */
	serial?: string;
}

/** Maps a profile's registers onto a meter's live values. */
export class MeterRegisterBank implements RegisterHandler {
	serial: string;
	constructor(private readonly opts: MeterRegisterBankOptions) {
		this.serial = opts.serial ?? opts.source.identity.serial;
		// A meter that stores its serial as a number cannot report letters: keep the digits.
		if (opts.profile.serial?.type === 'uint32' && !/^\d+$/.test(this.serial)) {
			if (opts.serial !== undefined)
				throw new Error(
					`${opts.profile.model} reports its serial as a number; "${opts.serial}" is not one.`
				);
			this.serial = String(Number(this.serial.replace(/\D/g, '') || '1'));
		}
	}

	async read(functionCode: 3 | 4, address: number, count: number): Promise<Uint16Array | number> {
		const blocks = this.blocks(functionCode);
		const out = new Uint16Array(count);
		let sample: MeterSample | null = null;
		for (let a = address; a < address + count;) {
			const block = blocks.find((b) => a >= b.address && a < b.address + b.length);
			if (!block) return ILLEGAL_ADDRESS;
			sample ??= await this.opts.source.read();
			const words = block.encode(sample);
			for (let i = a - block.address; i < block.length && a < address + count; i++, a++)
				out[a - address] = words[i]!;
		}
		return out;
	}

	private blocks(
		fc: 3 | 4
	): { address: number; length: number; encode: (s: MeterSample) => Uint16Array }[] {
		const p = this.opts.profile;
		const quantity = (reg: QuantityRegister, pick: (s: MeterSample) => number) => ({
			fc: reg.functionCode ?? p.functionCode,
			address: reg.address,
			length: registerCount(reg.type),
			encode: (s: MeterSample) =>
				encodeRegisters(pick(s) / reg.scale, reg.type, reg.wordOrder ?? p.wordOrder)
		});
		const list = [
			quantity(p.registers.energy, (s) => s.energyWh),
			quantity(p.registers.power, (s) => s.powerW),
			quantity(p.registers.voltage, (s) => s.voltageV),
			quantity(p.registers.current, (s) => s.currentA)
		];
		const s = p.serial;
		if (s) {
			const length = s.type === 'uint32' ? 2 : (s.registers ?? 8);
			list.push({
				fc: s.functionCode,
				address: s.address,
				length,
				encode: () => {
					if (s.type === 'uint32')
						return encodeRegisters(
							Number(this.serial) >>> 0,
							'uint32',
							s.wordOrder ?? 'high-first'
						);
					const words = new Uint16Array(length);
					for (let i = 0; i < length; i++)
						words[i] =
							((this.serial.charCodeAt(2 * i) || 0) << 8) |
							(this.serial.charCodeAt(2 * i + 1) || 0);
					return words;
				}
			});
		}
		return list.filter((b) => b.fc === fc);
	}
}

export interface SimulatedModbusMeterOptions
	extends MeterRegisterBankOptions, Partial<SlaveOptions> {}

/** A slave on `transport` emulating `profile` over `source`; `.faults` rehearses a broken meter. */
export function startSimulatedModbusMeter(
	transport: ByteTransport,
	opts: SimulatedModbusMeterOptions
): { slave: ModbusRtuSlave; bank: MeterRegisterBank } {
	const bank = new MeterRegisterBank(opts);
	const slave = new ModbusRtuSlave(transport, bank, {
		unitId: opts.unitId ?? 1,
		responseDelayMs: opts.responseDelayMs
	});
	return { slave, bank };
}
