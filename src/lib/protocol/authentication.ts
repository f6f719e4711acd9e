// Who sent a message. The schema (messages.ts) says what a message is; this module says who may
// have sent it. Two proofs, for two attackers:
// - `sig`: the station's registered secp256k1 key signs its status, invoices and events (readings
//   are OCMF records, signed already). This is the authority: only the station can make one.
//   The driver's per-session key, registered at join, signs `budget` and `stop` the same way.
// - `mac`: HMAC-SHA256 under keys derived from the session's one-time join secret, which only the
//   kiosk's screen and the driver's phone know (it is never published on the broker). A stranger
//   on the broker cannot make one, so the receiver drops a stranger's message after a hash, before
//   any elliptic-curve work: a flood costs microseconds a message, not milliseconds.
// Signed bytes are SHA-256 of a domain line, the station id and the RFC 8785 JSON of the message
// without `sig` and `mac`; the MAC covers the same JSON with `sig` included.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64UrlDecode, bytesToHex, equalBytes, hexToBytes, utf8Encode } from './bytes';
import { canonicalize } from './canonical-json';

/** The MAC keys of one session, derived from its join secret. */
export interface SessionKeys {
	/** Tags what the station sends for this session (status while offered, readings, invoices, events). */
	station: Uint8Array;
	/** Tags what the driver sends; the join's tag is the proof that the driver holds the secret. */
	driver: Uint8Array;
}

const DOMAIN = 'lightcharge/v1';

/** HMAC-SHA256(secret, "lightcharge/v1 <role> <station>/<session>"): one key per role and session. */
export function sessionKeys(secret: string, stationId: string, sessionId: string): SessionKeys {
	const raw = base64UrlDecode(secret, 'join secret');
	const derive = (role: string) =>
		hmac(sha256, raw, utf8Encode(`${DOMAIN} ${role} ${stationId}/${sessionId}`));
	return { station: derive('station-mac'), driver: derive('driver-mac') };
}

type Json = Record<string, unknown>;

function without(message: Json, ...names: string[]): Json {
	const copy: Json = {};
	for (const [k, v] of Object.entries(message))
		if (!names.includes(k) && v !== undefined) copy[k] = v;
	return copy;
}

function signedDigest(role: 'station' | 'driver', stationId: string, message: Json): Uint8Array {
	return sha256(
		utf8Encode(
			`${DOMAIN} ${role}-message\n${stationId}\n${canonicalize(without(message, 'sig', 'mac'))}`
		)
	);
}

function macOf(message: Json, key: Uint8Array): Uint8Array {
	return hmac(sha256, key, utf8Encode(canonicalize(without(message, 'mac'))));
}

/** Adds `sig` (by `privateKeyHex`) and, with a MAC key, `mac`. */
function sign<T extends object>(
	role: 'station' | 'driver',
	message: T,
	stationId: string,
	privateKeyHex: string,
	macKey?: Uint8Array
): T & { sig: string; mac?: string } {
	const body = without(message as Json, 'sig', 'mac');
	const sig = bytesToHex(
		secp256k1.sign(signedDigest(role, stationId, body), hexToBytes(privateKeyHex, 'private key'), {
			prehash: false
		})
	);
	const signed = { ...body, sig } as T & { sig: string; mac?: string };
	if (macKey) signed.mac = bytesToHex(macOf(signed as Json, macKey));
	return signed;
}

function verify(
	role: 'station' | 'driver',
	message: object,
	stationId: string,
	publicKeyHex: string
): boolean {
	const sig = (message as Json).sig;
	if (typeof sig !== 'string' || !/^[0-9a-f]{128}$/.test(sig)) return false;
	try {
		return secp256k1.verify(
			hexToBytes(sig),
			signedDigest(role, stationId, message as Json),
			hexToBytes(publicKeyHex),
			{ prehash: false, lowS: true }
		);
	} catch {
		return false;
	}
}

/** The station signs a status, invoice or event (and tags it for the session when given its MAC key). */
export function signStationMessage<T extends object>(
	message: T,
	stationId: string,
	privateKeyHex: string,
	macKey?: Uint8Array
) {
	return sign('station', message, stationId, privateKeyHex, macKey);
}

/** True when `message.sig` is the station's signature with `signingKey` (compressed, hex). */
export function verifyStationSignature(
	message: object,
	stationId: string,
	signingKey: string
): boolean {
	return verify('station', message, stationId, signingKey);
}

/** The driver signs a budget change or stop with the session key it registered at join. */
export function signDriverMessage<T extends object>(
	message: T,
	stationId: string,
	privateKeyHex: string,
	macKey: Uint8Array
) {
	return sign('driver', message, stationId, privateKeyHex, macKey);
}

export function verifyDriverSignature(
	message: object,
	stationId: string,
	driverKey: string
): boolean {
	return verify('driver', message, stationId, driverKey);
}

/** Adds only a `mac` (readings, whose OCMF record is signed already; the join, whose mac is its proof). */
export function tagMessage<T extends object>(message: T, macKey: Uint8Array): T & { mac: string } {
	const body = without(message as Json, 'mac') as T;
	return { ...body, mac: bytesToHex(macOf(body as Json, macKey)) };
}

/** Constant-time check of `message.mac` under `macKey`. */
export function hasValidMac(message: object, macKey: Uint8Array): boolean {
	const mac = (message as Json).mac;
	if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return false;
	return equalBytes(hexToBytes(mac), macOf(message as Json, macKey));
}

/** A fresh per-session driver key pair (private key hex, compressed public key hex). */
export function newDriverKey(): { privateKeyHex: string; publicKey: string } {
	const secret = secp256k1.utils.randomSecretKey();
	return {
		privateKeyHex: bytesToHex(secret),
		publicKey: bytesToHex(secp256k1.getPublicKey(secret, true))
	};
}
