// Meter profiles are data: which function code, which registers, which encoding, which scale.
// `scale` turns the raw register value into the SI unit the station uses (V, A, W, Wh). Register
// maps as published by open-source charge controllers (SmartEVSE's meter table, evcc/mbmd) and
// collected in STACK.md; docs/meter.md says how each was checked. Operators can store a profile
// as JSON (validated by parseMeterProfile) or build a custom one with customProfile().
import type { RegisterType, WordOrder } from './registers';

export type ReadFunctionCode = 3 | 4;

export interface QuantityRegister {
	address: number;
	type: RegisterType;
	/** Raw value × scale = value in V, A, W or Wh. */
	scale: number;
	/** Overrides the profile's function code / word order for this register. */
	functionCode?: ReadFunctionCode;
	wordOrder?: WordOrder;
}

export interface SerialRegister {
	functionCode: ReadFunctionCode;
	address: number;
	/** uint32: the serial as a number; ascii: `registers` registers of two characters each. */
	type: 'uint32' | 'ascii';
	registers?: number;
	wordOrder?: WordOrder;
}

export interface MeterProfile {
	id: string;
	vendor: string;
	model: string;
	phases: 1 | 3;
	functionCode: ReadFunctionCode;
	wordOrder: WordOrder;
	registers: {
		voltage: QuantityRegister;
		/** Phase L1 current. */
		current: QuantityRegister;
		/** Total active power. */
		power: QuantityRegister;
		/** Total import active energy. */
		energy: QuantityRegister;
	};
	/** Where the meter's own serial number lives; absent: the operator configures it. */
	serial?: SerialRegister;
	/** Where the map comes from and what it was checked against. */
	source: string;
}

export const METER_PROFILES: readonly MeterProfile[] = [
	{
		id: 'eastron-sdm630',
		vendor: 'Eastron',
		model: 'SDM630',
		phases: 3,
		functionCode: 4,
		wordOrder: 'high-first',
		registers: {
			voltage: { address: 0x0000, type: 'float32', scale: 1 },
			current: { address: 0x0006, type: 'float32', scale: 1 },
			power: { address: 0x0034, type: 'float32', scale: 1 },
			energy: { address: 0x0048, type: 'float32', scale: 1000 }
		},
		serial: { functionCode: 3, address: 0xfc00, type: 'uint32' },
		source:
			'Eastron SDM630 Modbus protocol (input registers, IEEE 754 float, high word first); SmartEVSE and evcc use the same map.'
	},
	{
		id: 'eastron-sdm120',
		vendor: 'Eastron',
		model: 'SDM120 / SDM230',
		phases: 1,
		functionCode: 4,
		wordOrder: 'high-first',
		registers: {
			voltage: { address: 0x0000, type: 'float32', scale: 1 },
			current: { address: 0x0006, type: 'float32', scale: 1 },
			power: { address: 0x000c, type: 'float32', scale: 1 },
			energy: { address: 0x0048, type: 'float32', scale: 1000 }
		},
		serial: { functionCode: 3, address: 0xfc00, type: 'uint32' },
		source:
			'Eastron SDM120 Modbus protocol (input registers, float, high word first); same map in evcc/mbmd.'
	},
	{
		id: 'abb-b23',
		vendor: 'ABB',
		model: 'B23 212-100',
		phases: 3,
		functionCode: 3,
		wordOrder: 'high-first',
		registers: {
			voltage: { address: 0x5b00, type: 'uint32', scale: 0.1 },
			current: { address: 0x5b0c, type: 'uint32', scale: 0.01 },
			power: { address: 0x5b14, type: 'int32', scale: 0.01 },
			energy: { address: 0x5000, type: 'uint64', scale: 10 }
		},
		serial: { functionCode: 3, address: 0x8900, type: 'uint32' },
		source:
			'ABB B2x Modbus map (holding registers; energy 64-bit in 0.01 kWh); SmartEVSE meter type 5.'
	},
	{
		id: 'phoenix-eem-350-d-mcb',
		vendor: 'Phoenix Contact',
		model: 'EEM-350-D-MCB',
		phases: 3,
		functionCode: 4,
		wordOrder: 'low-first',
		registers: {
			voltage: { address: 0x0000, type: 'int32', scale: 0.1 },
			current: { address: 0x000c, type: 'int32', scale: 0.001 },
			power: { address: 0x0028, type: 'int32', scale: 0.1 },
			energy: { address: 0x003e, type: 'int32', scale: 100 }
		},
		source:
			'SmartEVSE meter type 2 (input registers, int32 low word first, 0.1 V / mA / 0.1 W / 0.1 kWh). Serial: configured.'
	},
	{
		id: 'carlo-gavazzi-em340',
		vendor: 'Carlo Gavazzi',
		model: 'EM340',
		phases: 3,
		functionCode: 4,
		wordOrder: 'low-first',
		registers: {
			voltage: { address: 0x0000, type: 'int32', scale: 0.1 },
			current: { address: 0x000c, type: 'int32', scale: 0.001 },
			power: { address: 0x0028, type: 'int32', scale: 0.1 },
			energy: { address: 0x0034, type: 'int32', scale: 100 }
		},
		serial: { functionCode: 3, address: 0x5000, type: 'ascii', registers: 7 },
		source:
			'Carlo Gavazzi EM300-series communication protocol (INT32 least significant word first); serial as 14 ASCII characters at 0x5000.'
	},
	{
		id: 'finder-7e',
		vendor: 'Finder',
		model: '7E.78.8.400.0212',
		phases: 3,
		functionCode: 4,
		wordOrder: 'high-first',
		registers: {
			voltage: { address: 0x1000, type: 'float32', scale: 1 },
			current: { address: 0x100e, type: 'float32', scale: 1 },
			power: { address: 0x1026, type: 'float32', scale: 1 },
			energy: { address: 0x1106, type: 'float32', scale: 1 }
		},
		source: 'SmartEVSE meter type 3 (input registers, float, energy in Wh). Serial: configured.'
	},
	{
		id: 'inepro-pro380',
		vendor: 'Inepro',
		model: 'PRO380 / WAGO 879-30x0',
		phases: 3,
		functionCode: 3,
		wordOrder: 'high-first',
		registers: {
			voltage: { address: 0x5002, type: 'float32', scale: 1 },
			current: { address: 0x500c, type: 'float32', scale: 1 },
			power: { address: 0x5012, type: 'float32', scale: 1000 },
			energy: { address: 0x600c, type: 'float32', scale: 1000 }
		},
		source:
			'SmartEVSE meter type 7 (WAGO 879-30x0 = Inepro PRO380 map; holding registers, float, power in kW, energy in kWh). Serial: configured.'
	}
];

export function findProfile(id: string): MeterProfile {
	const p = METER_PROFILES.find((m) => m.id === id);
	if (!p)
		throw new Error(
			`Unknown meter profile "${id}". Known: ${METER_PROFILES.map((m) => m.id).join(', ')}, or a custom profile.`
		);
	return p;
}

export interface CustomProfileInput {
	functionCode: ReadFunctionCode;
	type: RegisterType;
	wordOrder: WordOrder;
	/** Register address and scale (raw × scale → V, A, W, Wh) per quantity. */
	voltage: { address: number; scale: number };
	current: { address: number; scale: number };
	power: { address: number; scale: number };
	energy: { address: number; scale: number };
	phases?: 1 | 3;
	name?: string;
}

/** A profile for a meter we do not list: one function code, one type and word order for all four values. */
export function customProfile(input: CustomProfileInput): MeterProfile {
	const reg = (q: { address: number; scale: number }) => ({
		address: q.address,
		scale: q.scale,
		type: input.type
	});
	return parseMeterProfile({
		id: 'custom',
		vendor: 'Custom',
		model: input.name ?? 'custom meter',
		phases: input.phases ?? 3,
		functionCode: input.functionCode,
		wordOrder: input.wordOrder,
		registers: {
			voltage: reg(input.voltage),
			current: reg(input.current),
			power: reg(input.power),
			energy: reg(input.energy)
		},
		source: 'Configured by the operator.'
	});
}

const TYPES: readonly RegisterType[] = [
	'uint16',
	'int16',
	'uint32',
	'int32',
	'float32',
	'uint64',
	'int64'
];

/** Checks a profile that came from JSON (operator settings); every problem is named. */
export function parseMeterProfile(raw: unknown): MeterProfile {
	const problems: string[] = [];
	const o = (raw ?? {}) as Record<string, unknown>;
	const str = (k: string) => {
		if (typeof o[k] !== 'string' || (o[k] as string).length === 0)
			problems.push(`"${k}" must be a non-empty text`);
	};
	str('id');
	str('vendor');
	str('model');
	if (o.functionCode !== 3 && o.functionCode !== 4)
		problems.push('"functionCode" must be 3 (holding) or 4 (input)');
	if (o.wordOrder !== 'high-first' && o.wordOrder !== 'low-first')
		problems.push('"wordOrder" must be "high-first" or "low-first"');
	if (o.phases !== 1 && o.phases !== 3) problems.push('"phases" must be 1 or 3');
	const regs = (o.registers ?? {}) as Record<string, unknown>;
	for (const q of ['voltage', 'current', 'power', 'energy']) {
		const r = regs[q] as Record<string, unknown> | undefined;
		if (!r || typeof r !== 'object') {
			problems.push(`"registers.${q}" is missing`);
			continue;
		}
		if (!Number.isInteger(r.address) || (r.address as number) < 0 || (r.address as number) > 0xffff)
			problems.push(`"registers.${q}.address" must be a register number 0..65535`);
		if (!TYPES.includes(r.type as RegisterType))
			problems.push(`"registers.${q}.type" must be one of ${TYPES.join(', ')}`);
		if (typeof r.scale !== 'number' || !Number.isFinite(r.scale) || r.scale <= 0)
			problems.push(`"registers.${q}.scale" must be a positive number`);
		if (r.functionCode !== undefined && r.functionCode !== 3 && r.functionCode !== 4)
			problems.push(`"registers.${q}.functionCode" must be 3 or 4`);
	}
	if (o.serial !== undefined) {
		const s = o.serial as Record<string, unknown>;
		if (
			(s.functionCode !== 3 && s.functionCode !== 4) ||
			!Number.isInteger(s.address) ||
			(s.type !== 'uint32' && s.type !== 'ascii')
		)
			problems.push(
				'"serial" needs functionCode 3|4, an integer address and type "uint32" or "ascii"'
			);
	}
	if (problems.length) throw new Error(`Invalid meter profile: ${problems.join('; ')}.`);
	return {
		...(o as unknown as MeterProfile),
		source: typeof o.source === 'string' ? o.source : 'Configured by the operator.'
	};
}
