// CRC-16/MODBUS: reflected polynomial 0xA001, initial value 0xFFFF, sent low byte first.

const TABLE = (() => {
	const t = new Uint16Array(256);
	for (let i = 0; i < 256; i++) {
		let c = i;
		for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
		t[i] = c;
	}
	return t;
})();

export function crc16Modbus(bytes: Uint8Array, end = bytes.length): number {
	let crc = 0xffff;
	for (let i = 0; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
	return crc;
}

/** Appends the CRC (low byte first) to a frame without one. */
export function withCrc(frame: Uint8Array): Uint8Array {
	const out = new Uint8Array(frame.length + 2);
	out.set(frame);
	const crc = crc16Modbus(frame);
	out[frame.length] = crc & 0xff;
	out[frame.length + 1] = crc >>> 8;
	return out;
}

/** True when the last two bytes are the CRC of the rest. */
export function crcValid(frame: Uint8Array): boolean {
	if (frame.length < 4) return false;
	const crc = crc16Modbus(frame, frame.length - 2);
	return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >>> 8;
}
