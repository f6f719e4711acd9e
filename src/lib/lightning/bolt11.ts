// BOLT #11 payment requests: decode with signature verification (encoding, which only the simnet
// needs, is in simnet/bolt11-encode.ts and shares the tables exported here).
// Runs in browsers and Node: only @noble/@scure, no Buffer.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import type { DecodedPaymentRequest, Network } from './port';
import { ALL_NETWORKS, BOLT11_PREFIXES, NETWORK_TABLE } from '../protocol';

export type Bolt11ErrorCode =
	'malformed' | 'checksum' | 'truncated' | 'network' | 'amount' | 'field' | 'feature' | 'signature';

export class Bolt11Error extends Error {
	constructor(
		readonly code: Bolt11ErrorCode,
		message: string
	) {
		super(message);
		this.name = 'Bolt11Error';
	}
}

export interface RouteHintHop {
	pubkey: string;
	shortChannelId: string;
	feeBaseMsat: number;
	feeProportionalMillionths: number;
	cltvExpiryDelta: number;
}

export interface FallbackAddress {
	/** Witness version 0..16, or 17 (P2PKH) / 18 (P2SH). */
	version: number;
	/** The hash or witness program, hex. */
	program: string;
}

export interface DecodedBolt11 extends DecodedPaymentRequest {
	signatureValid: true;
	/** Human-readable part, e.g. `lnbcrt25u`. */
	humanReadablePart: string;
	/** Feature bits set (ascending). */
	features: number[];
	fallbackAddresses: FallbackAddress[];
	routeHints: RouteHintHop[][];
	metadata?: string;
	/** How many blinded payment paths (b) the invoice carries; they are not decoded further. */
	blindedPaths: number;
	/** 64-byte compact r||s, hex. */
	signature: string;
	recoveryId: number;
	/** timestamp + expirySeconds. */
	expiresAt: number;
}

export interface Bolt11Fields {
	network: Network;
	amountMsat: bigint | null;
	/** Unix seconds. */
	timestamp: number;
	paymentHash: string;
	paymentSecret: string;
	descriptionHash?: string;
	description?: string;
	expirySeconds?: number;
	minFinalCltvExpiry?: number;
	/** Defaults to var_onion_optin (8) and payment_secret (14), both required. */
	features?: number[];
	/** Write the `n` tag (payee pubkey) so readers need not recover it. Default true. */
	includePayeeKey?: boolean;
	/** Private routes to the payee (`r`), e.g. for a node behind an unannounced channel. */
	routeHints?: RouteHintHop[][];
	/** On-chain fallback addresses (`f`). */
	fallbackAddresses?: FallbackAddress[];
}

/** Each network's invoice prefix, from the one network table (protocol/networks.ts). */
export const PREFIX_BY_NETWORK: Record<Network, string> = Object.fromEntries(
	ALL_NETWORKS.map((n) => [n, NETWORK_TABLE[n].bolt11Prefix])
) as Record<Network, string>;
const PREFIX_LIST = ALL_NETWORKS.map((n) => NETWORK_TABLE[n].bolt11Prefix);

export const TAG = {
	paymentHash: 1,
	routeHint: 3,
	features: 5,
	expiry: 6,
	fallback: 9,
	description: 13,
	paymentSecret: 16,
	payeeKey: 19,
	descriptionHash: 23,
	minFinalCltv: 24,
	blindedPath: 20,
	metadata: 27
} as const;

/**
 * LND refuses longer invoices before decoding them (zpay32 `maxInvoiceLength`, the most a QR code
 * holds): decoding bech32 is the expensive part, and nobody can scan a longer one anyway.
 */
export const MAX_INVOICE_LENGTH = 7089;

export const DEFAULT_EXPIRY_SECONDS = 3600;
export const DEFAULT_MIN_FINAL_CLTV = 18;
const SIGNATURE_WORDS = 104;
export const TIMESTAMP_WORDS = 7;
/** Feature bits (BOLT #9, context "9") this reader understands; an unknown even bit is a hard failure. */
const KNOWN_FEATURES = new Set([8, 9, 14, 15, 16, 17, 24, 25, 48, 49]);

export const MSAT_PER_BTC = 100_000_000_000n;

// ---------- amount ----------

function parseAmount(amount: string): bigint | null {
	if (amount === '') return null;
	const m = /^(\d+)([munp]?)$/.exec(amount);
	if (!m) {
		throw new Bolt11Error(
			'amount',
			`The invoice amount "${amount}" is not a number followed by one of the multipliers m, u, n, p.`
		);
	}
	const digits = m[1] as string;
	const multiplier = m[2] as string;
	if (digits.length > 1 && digits.startsWith('0')) {
		throw new Bolt11Error('amount', `The invoice amount "${amount}" has leading zeros.`);
	}
	const value = BigInt(digits);
	switch (multiplier) {
		case '':
			return value * MSAT_PER_BTC;
		case 'm':
			return value * (MSAT_PER_BTC / 1000n);
		case 'u':
			return value * (MSAT_PER_BTC / 1_000_000n);
		case 'n':
			return value * (MSAT_PER_BTC / 1_000_000_000n);
		default: {
			// pico-BTC is a tenth of a millisatoshi: only whole millisatoshis are payable.
			if (value % 10n !== 0n) {
				throw new Bolt11Error(
					'amount',
					`The invoice amount "${amount}" is not a whole number of millisatoshis.`
				);
			}
			return value / 10n;
		}
	}
}

// ---------- 5-bit words ----------

/** Packs 5-bit words into bytes, zero-padding the last byte (the signing rule of BOLT #11). */
export function wordsToBytesPadded(words: readonly number[]): Uint8Array {
	const out = new Uint8Array(Math.ceil((words.length * 5) / 8));
	let acc = 0;
	let bits = 0;
	let i = 0;
	for (const w of words) {
		acc = ((acc << 5) | w) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[i++] = (acc >> bits) & 0xff;
		}
	}
	if (bits > 0) out[i] = (acc << (8 - bits)) & 0xff;
	return out;
}

/** Packs 5-bit words into whole bytes, dropping the trailing padding bits. */
function wordsToBytesTrimmed(words: readonly number[]): Uint8Array {
	return wordsToBytesPadded(words).slice(0, Math.floor((words.length * 5) / 8));
}

function wordsToInt(words: readonly number[]): number {
	let n = 0;
	for (const w of words) n = n * 32 + w;
	return n;
}

// ---------- decode ----------

function splitHrp(pr: string): { hrp: string; dataPart: string } {
	const sep = pr.lastIndexOf('1');
	if (sep < 1) {
		throw new Bolt11Error('malformed', 'This is not a Lightning invoice: it has no "1" separator.');
	}
	return { hrp: pr.slice(0, sep), dataPart: pr.slice(sep + 1) };
}

function networkOf(hrp: string): { network: Network; amount: string } {
	if (!hrp.startsWith('ln')) {
		throw new Bolt11Error(
			'malformed',
			'This is not a Lightning invoice: it does not start with "ln".'
		);
	}
	for (const [prefix, network] of BOLT11_PREFIXES) {
		if (hrp.startsWith(prefix)) {
			const amount = hrp.slice(prefix.length);
			// `lnbcrt…` must not match `lnbc` with an amount starting with a letter.
			if (amount === '' || /^\d/.test(amount)) return { network, amount };
		}
	}
	throw new Bolt11Error(
		'network',
		`The invoice is for an unknown network (prefix "${hrp}"); expected ${PREFIX_LIST.slice(0, -1).join(', ')} or ${PREFIX_LIST.at(-1)}.`
	);
}

function decodeFeatures(words: readonly number[]): number[] {
	const bits: number[] = [];
	for (let i = 0; i < words.length; i++) {
		const word = words[words.length - 1 - i] as number;
		for (let b = 0; b < 5; b++) if (word & (1 << b)) bits.push(i * 5 + b);
	}
	return bits;
}

function decodeRouteHint(bytes: Uint8Array): RouteHintHop[] {
	const HOP = 51;
	if (bytes.length === 0 || bytes.length % HOP !== 0) {
		throw new Bolt11Error('field', 'The invoice has a routing hint (r) of the wrong length.');
	}
	const hops: RouteHintHop[] = [];
	for (let off = 0; off < bytes.length; off += HOP) {
		const hop = bytes.subarray(off, off + HOP);
		const view = new DataView(hop.buffer, hop.byteOffset, hop.byteLength);
		const scid = view.getBigUint64(33);
		const pubkey = bytesToHex(hop.subarray(0, 33));
		// As LND's parseRouteHint: a hop that is not a node key (a point on the curve) is fatal.
		if (!isCompressedPoint(pubkey)) {
			throw new Bolt11Error(
				'field',
				`The invoice's routing hint names ${pubkey.slice(0, 16)}…, which is not a Lightning node key.`
			);
		}
		hops.push({
			pubkey,
			shortChannelId: `${scid >> 40n}x${(scid >> 16n) & 0xffffffn}x${scid & 0xffffn}`,
			feeBaseMsat: view.getUint32(41),
			feeProportionalMillionths: view.getUint32(45),
			cltvExpiryDelta: view.getUint16(49)
		});
	}
	return hops;
}

function isCompressedPoint(hex: string): boolean {
	if (!/^0[23][0-9a-f]{64}$/.test(hex)) return false;
	try {
		secp256k1.Point.fromHex(hex);
		return true;
	} catch {
		return false;
	}
}

/**
 * An `f` field: BOLT #11 names versions 0..16 (segwit), 17 (P2PKH) and 18 (P2SH); a reader skips
 * any other version. Like LND's parseFallbackAddr, a field that cannot be an address of its version
 * is fatal (an empty field; a v0 program that is neither 20 nor 32 bytes; a hash that is not 20
 * bytes); a witness v1+ program must be 2..40 bytes (BIP 141). Null: an unknown version, skipped.
 */
function decodeFallback(field: readonly number[]): FallbackAddress | null {
	if (field.length < 2)
		throw new Bolt11Error('field', 'The invoice has an empty fallback address (f).');
	const version = field[0] as number;
	if (version > 18) return null;
	const program = wordsToBytesTrimmed(field.slice(1));
	const ok =
		version === 0
			? program.length === 20 || program.length === 32
			: version <= 16
				? program.length >= 2 && program.length <= 40
				: program.length === 20;
	if (!ok) {
		throw new Bolt11Error(
			'field',
			`The invoice's fallback address (f, version ${version}) has a program of ${program.length} bytes, which no address of that version has.`
		);
	}
	return { version, program: bytesToHex(program) };
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

// The decoder keeps nothing between calls: every decode verifies its signature.
/**
 * Decodes a BOLT #11 payment request and verifies its signature. Throws `Bolt11Error` with a
 * sentence a person can read when anything is wrong.
 */
export function decodeBolt11(paymentRequest: string): DecodedBolt11 {
	if (typeof paymentRequest !== 'string' || paymentRequest.trim() === '') {
		throw new Bolt11Error('malformed', 'The invoice is empty.');
	}
	let pr = paymentRequest.trim();
	if (/^lightning:/i.test(pr)) pr = pr.slice('lightning:'.length);
	if (pr.length > MAX_INVOICE_LENGTH) {
		throw new Bolt11Error(
			'malformed',
			`The invoice is ${pr.length} characters long; no payable invoice is longer than ${MAX_INVOICE_LENGTH}.`
		);
	}
	if (pr !== pr.toLowerCase() && pr !== pr.toUpperCase()) {
		throw new Bolt11Error(
			'malformed',
			'The invoice mixes upper and lower case letters, so it is not valid.'
		);
	}
	const lower = pr.toLowerCase();
	const { hrp, dataPart } = splitHrp(lower);
	if (dataPart.length < 6) {
		throw new Bolt11Error('truncated', 'The invoice is too short: it ends before its checksum.');
	}
	let words: number[];
	try {
		words = bech32.decode(lower as `${string}1${string}`, false).words;
	} catch (e) {
		const why = e instanceof Error ? e.message : String(e);
		if (/checksum/i.test(why)) {
			throw new Bolt11Error(
				'checksum',
				'The invoice checksum does not match: it was mistyped or cut short.'
			);
		}
		throw new Bolt11Error('malformed', `The invoice is not valid bech32 (${why}).`);
	}
	const { network, amount } = networkOf(hrp);
	const amountMsat = parseAmount(amount);

	if (words.length < TIMESTAMP_WORDS + SIGNATURE_WORDS) {
		throw new Bolt11Error(
			'truncated',
			'The invoice is too short to hold a timestamp and a signature.'
		);
	}
	const dataWords = words.slice(0, words.length - SIGNATURE_WORDS);
	const sigBytes = wordsToBytesTrimmed(words.slice(words.length - SIGNATURE_WORDS));
	const timestamp = wordsToInt(dataWords.slice(0, TIMESTAMP_WORDS));

	let paymentHash: string | undefined;
	let paymentSecret: string | undefined;
	let descriptionHash: string | undefined;
	let description: string | undefined;
	let payeeKey: string | undefined;
	let expirySeconds = DEFAULT_EXPIRY_SECONDS;
	let minFinalCltvExpiry = DEFAULT_MIN_FINAL_CLTV;
	let features: number[] = [];
	let metadata: string | undefined;
	let blindedPaths = 0;
	const fallbackAddresses: FallbackAddress[] = [];
	const routeHints: RouteHintHop[][] = [];

	let pos = TIMESTAMP_WORDS;
	while (pos < dataWords.length) {
		if (pos + 3 > dataWords.length) {
			throw new Bolt11Error('truncated', 'The invoice is cut off inside a field header.');
		}
		const tag = dataWords[pos] as number;
		const len = (dataWords[pos + 1] as number) * 32 + (dataWords[pos + 2] as number);
		const field = dataWords.slice(pos + 3, pos + 3 + len);
		if (field.length !== len) {
			throw new Bolt11Error('truncated', 'The invoice is cut off inside a field.');
		}
		pos += 3 + len;
		// BOLT #11: fields p, h, s, n of the wrong length are skipped, not fatal; the first valid one wins.
		switch (tag) {
			case TAG.paymentHash:
				if (len === 52 && paymentHash === undefined)
					paymentHash = bytesToHex(wordsToBytesTrimmed(field));
				break;
			case TAG.paymentSecret:
				if (len === 52 && paymentSecret === undefined)
					paymentSecret = bytesToHex(wordsToBytesTrimmed(field));
				break;
			case TAG.descriptionHash:
				if (len === 52 && descriptionHash === undefined)
					descriptionHash = bytesToHex(wordsToBytesTrimmed(field));
				break;
			case TAG.payeeKey:
				if (len === 53 && payeeKey === undefined) payeeKey = bytesToHex(wordsToBytesTrimmed(field));
				break;
			case TAG.description:
				if (description !== undefined) break; // the first one counts, as in LND
				try {
					description = utf8Strict.decode(wordsToBytesTrimmed(field));
				} catch {
					throw new Bolt11Error('field', 'The invoice description is not valid UTF-8 text.');
				}
				break;
			case TAG.expiry:
				expirySeconds = wordsToInt(field);
				break;
			case TAG.minFinalCltv:
				minFinalCltvExpiry = wordsToInt(field);
				break;
			case TAG.features: {
				features = decodeFeatures(field);
				const unknownRequired = features.filter((b) => b % 2 === 0 && !KNOWN_FEATURES.has(b));
				if (unknownRequired.length > 0) {
					throw new Bolt11Error(
						'feature',
						`The invoice requires feature ${unknownRequired.join(', ')}, which this wallet does not support.`
					);
				}
				break;
			}
			case TAG.fallback: {
				const fallback = decodeFallback(field);
				if (fallback) fallbackAddresses.push(fallback);
				break;
			}
			case TAG.blindedPath:
				blindedPaths++;
				break;
			case TAG.routeHint:
				routeHints.push(decodeRouteHint(wordsToBytesTrimmed(field)));
				break;
			case TAG.metadata:
				metadata = bytesToHex(wordsToBytesTrimmed(field));
				break;
			default:
				break; // unknown fields are ignored
		}
	}

	if (paymentHash === undefined) {
		throw new Bolt11Error('field', 'The invoice has no payment hash.');
	}
	if (paymentSecret === undefined) {
		throw new Bolt11Error(
			'field',
			'The invoice has no payment secret (s), which every payment needs.'
		);
	}
	if (description === undefined && descriptionHash === undefined) {
		throw new Bolt11Error('field', 'The invoice has neither a description nor a description hash.');
	}
	// BOLT #11: a writer MUST include exactly one of `d` and `h`; LND refuses an invoice with both.
	// Which one would a payer show, and which would a receipt prove? Neither can be trusted.
	if (description !== undefined && descriptionHash !== undefined) {
		throw new Bolt11Error(
			'field',
			'The invoice has both a description (d) and a description hash (h); BOLT #11 allows exactly one.'
		);
	}
	if (routeHints.length > 0 && blindedPaths > 0) {
		throw new Bolt11Error(
			'field',
			'The invoice has both routing hints (r) and blinded paths (b); LND refuses that.'
		);
	}

	const messageHash = sha256(concat(utf8ToBytes(hrp), wordsToBytesPadded(dataWords)));
	const compact = sigBytes.subarray(0, 64);
	const recoveryId = sigBytes[64] as number;
	let payee: string;
	if (payeeKey !== undefined) {
		// With an explicit payee key the signature must verify against it, low-S only (BOLT #11).
		let ok = false;
		try {
			ok = secp256k1.verify(compact, messageHash, hexToBytes(payeeKey), {
				prehash: false,
				lowS: true
			});
		} catch {
			ok = false;
		}
		if (!ok) {
			throw new Bolt11Error(
				'signature',
				'The invoice signature does not match the payee named in it.'
			);
		}
		payee = payeeKey;
	} else {
		if (recoveryId > 3) {
			throw new Bolt11Error('signature', 'The invoice signature has an invalid recovery id.');
		}
		try {
			const point = secp256k1.Signature.fromBytes(compact, 'compact')
				.addRecoveryBit(recoveryId)
				.recoverPublicKey(messageHash);
			payee = point.toHex(true);
		} catch {
			throw new Bolt11Error(
				'signature',
				'The invoice signature is not valid: no payee key can be recovered from it.'
			);
		}
	}

	const decoded: DecodedBolt11 = {
		network,
		payee,
		paymentHash,
		amountMsat,
		timestamp,
		expirySeconds,
		minFinalCltvExpiry,
		paymentSecret,
		signatureValid: true,
		humanReadablePart: hrp,
		features,
		fallbackAddresses,
		routeHints,
		blindedPaths,
		signature: bytesToHex(compact),
		recoveryId,
		expiresAt: timestamp + expirySeconds
	};
	if (description !== undefined) decoded.description = description;
	if (descriptionHash !== undefined) decoded.descriptionHash = descriptionHash;
	if (metadata !== undefined) decoded.metadata = metadata;
	return decoded;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
	const out = new Uint8Array(a.length + b.length);
	out.set(a, 0);
	out.set(b, a.length);
	return out;
}
