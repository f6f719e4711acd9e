// Typed values in 16-bit registers. Modbus fixes the byte order inside a register (big-endian);
// the order of the registers making up a 32/64-bit value is the device's choice ("word order").

export type RegisterType = 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'uint64' | 'int64';
export type WordOrder = 'high-first' | 'low-first';

export function registerCount(type: RegisterType): number {
	switch (type) {
		case 'uint16':
		case 'int16':
			return 1;
		case 'uint32':
		case 'int32':
		case 'float32':
			return 2;
		case 'uint64':
		case 'int64':
			return 4;
	}
}

/** Registers → big-endian bytes of the value (most significant first). */
function toBigEndianBytes(words: ArrayLike<number>, order: WordOrder): DataView {
	const n = words.length;
	const view = new DataView(new ArrayBuffer(2 * n));
	for (let i = 0; i < n; i++) view.setUint16(2 * i, words[order === 'high-first' ? i : n - 1 - i]!);
	return view;
}

export function decodeRegisters(
	words: ArrayLike<number>,
	type: RegisterType,
	order: WordOrder
): number {
	const need = registerCount(type);
	if (words.length < need)
		throw new RangeError(`A ${type} needs ${need} registers, got ${words.length}.`);
	const v = toBigEndianBytes(
		Array.from({ length: need }, (_, i) => words[i]!),
		order
	);
	switch (type) {
		case 'uint16':
			return v.getUint16(0);
		case 'int16':
			return v.getInt16(0);
		case 'uint32':
			return v.getUint32(0);
		case 'int32':
			return v.getInt32(0);
		case 'float32':
			return v.getFloat32(0);
		case 'uint64':
			return Number(v.getBigUint64(0));
		case 'int64':
			return Number(v.getBigInt64(0));
	}
}

/** The inverse of decodeRegisters; integers are rounded, out-of-range values refused. */
export function encodeRegisters(value: number, type: RegisterType, order: WordOrder): Uint16Array {
	if (!Number.isFinite(value)) throw new RangeError(`Cannot encode ${value} as ${type}.`);
	const n = registerCount(type);
	const v = new DataView(new ArrayBuffer(2 * n));
	const int = Math.round(value);
	const inRange = (lo: number, hi: number) => {
		if (int < lo || int > hi) throw new RangeError(`${value} does not fit a ${type}.`);
	};
	switch (type) {
		case 'uint16':
			inRange(0, 0xffff);
			v.setUint16(0, int);
			break;
		case 'int16':
			inRange(-0x8000, 0x7fff);
			v.setInt16(0, int);
			break;
		case 'uint32':
			inRange(0, 0xffffffff);
			v.setUint32(0, int);
			break;
		case 'int32':
			inRange(-0x80000000, 0x7fffffff);
			v.setInt32(0, int);
			break;
		case 'float32':
			v.setFloat32(0, value);
			break;
		case 'uint64':
			inRange(0, Number.MAX_SAFE_INTEGER);
			v.setBigUint64(0, BigInt(int));
			break;
		case 'int64':
			inRange(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
			v.setBigInt64(0, BigInt(int));
			break;
	}
	const out = new Uint16Array(n);
	for (let i = 0; i < n; i++) out[order === 'high-first' ? i : n - 1 - i] = v.getUint16(2 * i);
	return out;
}
