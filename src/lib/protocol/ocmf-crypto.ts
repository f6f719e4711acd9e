// Elliptic-curve plumbing for OCMF: the curves of OCMF's signature table, public keys
// as raw points or DER SubjectPublicKeyInfo, and signatures as DER or raw r‖s.
import { ecdsa, weierstrass, type ECDSA } from '@noble/curves/abstract/weierstrass.js';
import { brainpoolP256r1, brainpoolP384r1 } from '@noble/curves/misc.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Decode, bytesToHex, hexToBytes, isHex } from './bytes';

export type OcmfCurveName =
	| 'secp192k1'
	| 'secp192r1'
	| 'secp256k1'
	| 'secp256r1'
	| 'secp384r1'
	| 'brainpool256r1'
	| 'brainpool384r1';

// SEC 2 v2 §2.2.1 (secp192k1) and §2.2.2 / FIPS 186 P-192 (secp192r1) domain parameters.
const secp192k1 = ecdsa(
	weierstrass({
		p: BigInt('0xfffffffffffffffffffffffffffffffffffffffeffffee37'),
		n: BigInt('0xfffffffffffffffffffffffe26f2fc170f69466a74defd8d'),
		h: BigInt(1),
		a: BigInt(0),
		b: BigInt(3),
		Gx: BigInt('0xdb4ff10ec057e9ae26b07d0280b7f4341da5d1b1eae06c7d'),
		Gy: BigInt('0x9b2f2f6d9c5628a7844163d015be86344082aa88d95e2f9d')
	}),
	sha256
);
const secp192r1 = ecdsa(
	weierstrass({
		p: BigInt('0xfffffffffffffffffffffffffffffffeffffffffffffffff'),
		n: BigInt('0xffffffffffffffffffffffff99def836146bc9b1b4d22831'),
		h: BigInt(1),
		a: BigInt('0xfffffffffffffffffffffffffffffffefffffffffffffffc'),
		b: BigInt('0x64210519e59c80e70fa7e9ab72243049feb8deecc146b9b1'),
		Gx: BigInt('0x188da80eb03090f67cbf20eb43a18800f4ff0afd82ff1012'),
		Gy: BigInt('0x07192b95ffc8da78631011ed6b24cdd573f977a11e794811')
	}),
	sha256
);

interface CurveInfo {
	ecdsa: ECDSA;
	/** Named-curve OID in DER content bytes (hex), as found in a SubjectPublicKeyInfo. */
	oid: string;
	/** Bytes of a field element / scalar. */
	size: number;
}

export const OCMF_CURVES: Record<OcmfCurveName, CurveInfo> = {
	secp192k1: { ecdsa: secp192k1, oid: '2b8104001f', size: 24 }, // 1.3.132.0.31
	secp192r1: { ecdsa: secp192r1, oid: '2a8648ce3d030101', size: 24 }, // 1.2.840.10045.3.1.1
	secp256k1: { ecdsa: secp256k1, oid: '2b8104000a', size: 32 }, // 1.3.132.0.10
	secp256r1: { ecdsa: p256, oid: '2a8648ce3d030107', size: 32 }, // 1.2.840.10045.3.1.7
	secp384r1: { ecdsa: p384, oid: '2b81040022', size: 48 }, // 1.3.132.0.34
	brainpool256r1: { ecdsa: brainpoolP256r1, oid: '2b2403030208010107', size: 32 }, // 1.3.36.3.3.2.8.1.1.7
	brainpool384r1: { ecdsa: brainpoolP384r1, oid: '2b240303020801010b', size: 48 } // 1.3.36.3.3.2.8.1.1.11
};

const ID_EC_PUBLIC_KEY = '2a8648ce3d0201'; // 1.2.840.10045.2.1

/**
 * OCMF `SA` value → curve. OCMF names the brainpool curves `brainpool256r1`; real
 * records also write `brainpoolP256r1`, which we accept as the same algorithm.
 * An absent SA means the specification's default, ECDSA-secp256r1-SHA256.
 */
export function curveForAlgorithm(algorithm: string | undefined): OcmfCurveName | null {
	if (algorithm === undefined) return 'secp256r1';
	const match =
		/^ECDSA-(secp192k1|secp192r1|secp256k1|secp256r1|secp384r1|brainpoolP?256r1|brainpoolP?384r1)-SHA256$/.exec(
			algorithm
		);
	if (!match) return null;
	return (match[1] as string).replace('brainpoolP', 'brainpool') as OcmfCurveName;
}

/** A DER TLV, read leniently: long-form lengths need not be minimal (some meters write them so). */
interface Tlv {
	tag: number;
	value: Uint8Array;
	end: number;
}

function readTlv(bytes: Uint8Array, offset: number): Tlv {
	const tag = bytes[offset];
	let lengthByte = bytes[offset + 1];
	if (tag === undefined || lengthByte === undefined) throw new Error('truncated DER');
	let position = offset + 2;
	let length = lengthByte;
	if (lengthByte & 0x80) {
		const count = lengthByte & 0x7f;
		if (count === 0 || count > 3) throw new Error('unsupported DER length');
		length = 0;
		for (let i = 0; i < count; i++) {
			lengthByte = bytes[position++];
			if (lengthByte === undefined) throw new Error('truncated DER');
			length = length * 256 + lengthByte;
		}
	}
	const end = position + length;
	if (end > bytes.length) throw new Error('DER length runs past the data');
	return { tag, value: bytes.subarray(position, end), end };
}

/** The curve named in a SubjectPublicKeyInfo and its point bytes; null when `bytes` is not an EC SPKI. */
function parseSpki(
	bytes: Uint8Array
): { curve: OcmfCurveName | null; curveOid: string; point: Uint8Array } | null {
	try {
		const outer = readTlv(bytes, 0);
		if (outer.tag !== 0x30 || outer.end !== bytes.length) return null;
		const algorithm = readTlv(outer.value, 0);
		const bitString = readTlv(outer.value, algorithm.end);
		if (algorithm.tag !== 0x30 || bitString.tag !== 0x03 || bitString.end !== outer.value.length)
			return null;
		const keyType = readTlv(algorithm.value, 0);
		const parameters = readTlv(algorithm.value, keyType.end);
		if (keyType.tag !== 0x06 || bytesToHex(keyType.value) !== ID_EC_PUBLIC_KEY) return null;
		if (parameters.tag !== 0x06) return null; // explicit curve parameters are not supported
		if (bitString.value[0] !== 0) return null; // unused-bits count must be zero for a point
		const curveOid = bytesToHex(parameters.value);
		const curve =
			(Object.entries(OCMF_CURVES).find(([, info]) => info.oid === curveOid)?.[0] as
				OcmfCurveName | undefined) ?? null;
		return { curve, curveOid, point: bitString.value.subarray(1) };
	} catch {
		return null;
	}
}

export type PublicKeyInput = string | Uint8Array;

/**
 * Decodes a public key for `curve`: a SEC1 point (04‖x‖y, or 02/03‖x compressed), a bare
 * x‖y without the 04 prefix, or a DER SubjectPublicKeyInfo — as bytes, hex or base64.
 * Returns the SEC1 point bytes, or a sentence saying why the key is unusable.
 */
export function decodePublicKey(
	key: PublicKeyInput,
	curve: OcmfCurveName
): { ok: true; point: Uint8Array } | { ok: false; reason: string } {
	let bytes: Uint8Array;
	if (typeof key === 'string') {
		const text = key.trim();
		if (text.length === 0) return { ok: false, reason: 'public key is empty' };
		if (isHex(text)) bytes = hexToBytes(text);
		else if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0)
			bytes = base64Decode(text);
		else return { ok: false, reason: 'public key is neither hex nor base64' };
	} else {
		bytes = key;
	}
	const info = OCMF_CURVES[curve];
	let point: Uint8Array;
	const spki = bytes[0] === 0x30 ? parseSpki(bytes) : null;
	if (spki) {
		if (spki.curve === null)
			return { ok: false, reason: `public key is on an unsupported curve (OID ${spki.curveOid})` };
		if (spki.curve !== curve) {
			return {
				ok: false,
				reason: `public key is for ${spki.curve} but the signature says ${curve}`
			};
		}
		point = spki.point;
	} else if (bytes.length === 2 * info.size) {
		point = new Uint8Array([0x04, ...bytes]); // x‖y as some meters publish it
	} else {
		point = bytes;
	}
	try {
		info.ecdsa.Point.fromBytes(point).assertValidity();
	} catch {
		return { ok: false, reason: `public key is not a valid ${curve} point` };
	}
	return { ok: true, point };
}

/** Reads SD bytes as DER SEQUENCE{r, s} (lenient lengths, as BouncyCastle accepts) or raw r‖s. */
export function decodeSignatureBytes(
	bytes: Uint8Array,
	curve: OcmfCurveName
): { r: bigint; s: bigint } | null {
	const { size } = OCMF_CURVES[curve];
	if (bytes[0] === 0x30) {
		try {
			const sequence = readTlv(bytes, 0);
			if (sequence.end === bytes.length) {
				const r = readTlv(sequence.value, 0);
				const s = readTlv(sequence.value, r.end);
				if (r.tag === 0x02 && s.tag === 0x02 && s.end === sequence.value.length) {
					return { r: bytesToBigint(r.value), s: bytesToBigint(s.value) };
				}
			}
		} catch {
			// fall through: a raw r‖s may happen to start with 0x30
		}
	}
	if (bytes.length === 2 * size) {
		return { r: bytesToBigint(bytes.subarray(0, size)), s: bytesToBigint(bytes.subarray(size)) };
	}
	return null;
}

function bytesToBigint(bytes: Uint8Array): bigint {
	return bytes.length === 0 ? -1n : BigInt('0x' + bytesToHex(bytes));
}

function bigintToBytes(value: bigint, size: number): Uint8Array {
	return hexToBytes(value.toString(16).padStart(size * 2, '0'));
}

/** ECDSA verification over SHA-256(message). High-S signatures are accepted, as OpenSSL and OCMF verifiers do. */
export function verifyEcdsaSha256(
	curve: OcmfCurveName,
	signature: { r: bigint; s: bigint },
	message: Uint8Array,
	point: Uint8Array
): boolean {
	const info = OCMF_CURVES[curve];
	const n = info.ecdsa.Point.Fn.ORDER;
	const { r, s } = signature;
	if (r <= 0n || s <= 0n || r >= n || s >= n) return false;
	const compact = new Uint8Array([...bigintToBytes(r, info.size), ...bigintToBytes(s, info.size)]);
	try {
		return info.ecdsa.verify(compact, sha256(message), point, {
			prehash: false,
			lowS: false,
			format: 'compact'
		});
	} catch {
		return false;
	}
}

// node:crypto where it exists (Node: the devnet, the fleet simulator, verify-receipt), reached
// through process.getBuiltinModule so that no browser bundle imports it. Its ECDSA (OpenSSL) checks
// a secp256k1 signature ~4–5× faster than @noble/curves here; browsers have no secp256k1 in
// WebCrypto and keep noble. Both are given the same r and s (range-checked first) and the same key.
interface NodeCrypto {
	createPublicKey(input: {
		key: { kty: 'EC'; crv: string; x: string; y: string };
		format: 'jwk';
	}): unknown;
	verify(
		algorithm: 'sha256',
		data: Uint8Array,
		key: { key: unknown; dsaEncoding: 'ieee-p1363' },
		signature: Uint8Array
	): boolean;
}
const nodeCrypto = (
	globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
/** OpenSSL's names of the curves it is handed (secp256k1 only: the curve every Lightcharge station signs with). */
const NATIVE_CURVES: Partial<Record<OcmfCurveName, string>> = { secp256k1: 'secp256k1' };

/** A public key decoded and validated once for one curve, to verify many records with. */
export interface PreparedPublicKey {
	readonly curve: OcmfCurveName;
	/** SEC1 point bytes. */
	readonly point: Uint8Array;
	/** node:crypto's key object for the point, when this runtime has one for the curve. */
	readonly native: unknown;
}

function base64Url(bytes: Uint8Array): string {
	let binary = '';
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes (as decodePublicKey) and prepares a key for `curve`; a sentence when it is unusable. */
export function preparePublicKey(
	key: PublicKeyInput,
	curve: OcmfCurveName,
	options: { native?: boolean } = {}
): { ok: true; key: PreparedPublicKey } | { ok: false; reason: string } {
	const decoded = decodePublicKey(key, curve);
	if (!decoded.ok) return decoded;
	let native: unknown = null;
	const name = NATIVE_CURVES[curve];
	if (name && nodeCrypto && options.native !== false) {
		try {
			const uncompressed = OCMF_CURVES[curve].ecdsa.Point.fromBytes(decoded.point).toBytes(false);
			const size = OCMF_CURVES[curve].size;
			native = nodeCrypto.createPublicKey({
				key: {
					kty: 'EC',
					crv: name,
					x: base64Url(uncompressed.subarray(1, 1 + size)),
					y: base64Url(uncompressed.subarray(1 + size))
				},
				format: 'jwk'
			});
		} catch {
			native = null; // an OpenSSL without the curve: noble verifies
		}
	}
	return { ok: true, key: { curve, point: decoded.point, native } };
}

/** verifyEcdsaSha256 with a prepared key: no decoding per record, and OpenSSL where the runtime has it. */
export function verifyPreparedEcdsaSha256(
	key: PreparedPublicKey,
	signature: { r: bigint; s: bigint },
	message: Uint8Array
): boolean {
	if (!key.native || !nodeCrypto)
		return verifyEcdsaSha256(key.curve, signature, message, key.point);
	const info = OCMF_CURVES[key.curve];
	const n = info.ecdsa.Point.Fn.ORDER;
	const { r, s } = signature;
	if (r <= 0n || s <= 0n || r >= n || s >= n) return false;
	const compact = new Uint8Array(2 * info.size);
	compact.set(bigintToBytes(r, info.size), 0);
	compact.set(bigintToBytes(s, info.size), info.size);
	try {
		return nodeCrypto.verify(
			'sha256',
			message,
			{ key: key.native, dsaEncoding: 'ieee-p1363' },
			compact
		);
	} catch {
		return false;
	}
}
