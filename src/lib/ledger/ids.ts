// Human identifiers (station "ST-0042", session UUIDs, driver refs) become the contracts' bytes32
// keys as keccak256 of their UTF-8 bytes. Chosen because it is deterministic, accepts any string
// length, and is what Solidity's keccak256(bytes(id)) gives, so anyone can recompute it. The
// chain therefore stores only the hash; the readable id travels in MQTT messages and QR codes.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export type Hex32 = `0x${string}`;

function idToBytes32(kind: string, id: string): Hex32 {
	if (typeof id !== 'string' || id.length === 0)
		throw new TypeError(`${kind} must be a non-empty string`);
	if (id.trim() !== id) throw new TypeError(`${kind} "${id}" has leading or trailing whitespace`);
	return `0x${bytesToHex(keccak_256(utf8ToBytes(id)))}`;
}

/** bytes32 key of a station in StationRegistry / SessionLedger / Reservations: keccak256(utf8(stationId)). */
export function stationIdToBytes32(stationId: string): Hex32 {
	return idToBytes32('station id', stationId);
}

/** bytes32 key of a charging session in SessionLedger: keccak256(utf8(sessionId)). */
export function sessionIdToBytes32(sessionId: string): Hex32 {
	return idToBytes32('session id', sessionId);
}

/** bytes32 driver reference stored with an opened session: keccak256(utf8(driverRef)). */
export function driverRefToBytes32(driverRef: string): Hex32 {
	return idToBytes32('driver ref', driverRef);
}

/** bytes32 vehicle reference stored with a reservation: keccak256(utf8(vehicleRef)). */
export function vehicleRefToBytes32(vehicleRef: string): Hex32 {
	return idToBytes32('vehicle ref', vehicleRef);
}

/** True for a 0x-prefixed 32-byte hex string. */
export function isBytes32Hex(value: unknown): value is Hex32 {
	return typeof value === 'string' && /^0x[0-9a-fA-F]{64}$/.test(value);
}

/**
 * Where SessionLedger stores a station's session: keccak256(abi.encode(stationId, sessionId)) of the
 * two bytes32 keys. A session id is unique only within its station, so no station can take another's.
 */
export function sessionKeyOf(stationId: string, sessionId: string): Hex32 {
	const packed = new Uint8Array(64);
	packed.set(hexToBytes(stationIdToBytes32(stationId).slice(2)), 0);
	packed.set(hexToBytes(sessionIdToBytes32(sessionId).slice(2)), 32);
	return `0x${bytesToHex(keccak_256(packed))}`;
}
