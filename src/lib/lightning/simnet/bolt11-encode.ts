// BOLT #11 encoding, for the simulated network only: the simnet signs the invoices of its nodes.
// The wallet and the kiosk never encode an invoice (their nodes do), so this stays out of their
// bundles; decoding, which everyone needs, is in ../bolt11.ts and shares its tables.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import {
	Bolt11Error,
	DEFAULT_EXPIRY_SECONDS,
	DEFAULT_MIN_FINAL_CLTV,
	PREFIX_BY_NETWORK,
	TAG,
	TIMESTAMP_WORDS,
	concat,
	wordsToBytesPadded,
	type Bolt11Fields,
	type RouteHintHop
} from '../bolt11';

// A node's public key, derived once per private key (the simnet signs many invoices with one key).
const publicKeys = new Map<string, Uint8Array>();
function publicKeyOf(privateKeyHex: string, privateKey: Uint8Array): Uint8Array {
	let pub = publicKeys.get(privateKeyHex);
	if (!pub) {
		if (publicKeys.size >= 256) publicKeys.delete(publicKeys.keys().next().value as string);
		pub = secp256k1.getPublicKey(privateKey, true);
		publicKeys.set(privateKeyHex, pub);
	}
	return pub;
}

function encodeRouteHint(hops: readonly RouteHintHop[]): Uint8Array {
	const out = new Uint8Array(hops.length * 51);
	const view = new DataView(out.buffer);
	hops.forEach((hop, i) => {
		const off = i * 51;
		out.set(hexToBytes(hop.pubkey), off);
		const [block, tx, output] = hop.shortChannelId.split('x').map((x) => BigInt(x));
		view.setBigUint64(off + 33, ((block ?? 0n) << 40n) | ((tx ?? 0n) << 16n) | (output ?? 0n));
		view.setUint32(off + 41, hop.feeBaseMsat);
		view.setUint32(off + 45, hop.feeProportionalMillionths);
		view.setUint16(off + 49, hop.cltvExpiryDelta);
	});
	return out;
}

function hex32(value: string, what: string): Uint8Array {
	if (!/^[0-9a-f]{64}$/i.test(value)) {
		throw new Bolt11Error('field', `The ${what} must be 32 bytes of hex (64 characters).`);
	}
	return hexToBytes(value.toLowerCase());
}

function taggedField(tag: number, data: number[]): number[] {
	if (data.length >= 1024)
		throw new Bolt11Error('field', 'An invoice field is longer than 1023 words.');
	return [tag, data.length >> 5, data.length & 31, ...data];
}

/** Encodes and signs a BOLT #11 invoice. The payee is the public key of `privateKeyHex`. */
export function encodeBolt11(fields: Bolt11Fields, privateKeyHex: string): string {
	const privateKey = hexToBytes(privateKeyHex);
	if (!Number.isInteger(fields.timestamp) || fields.timestamp < 0 || fields.timestamp >= 2 ** 35) {
		throw new Bolt11Error('field', 'The invoice timestamp must be whole Unix seconds.');
	}
	if ((fields.description === undefined) === (fields.descriptionHash === undefined)) {
		throw new Bolt11Error(
			'field',
			'An invoice needs exactly one of description or description hash.'
		);
	}
	const hrp =
		PREFIX_BY_NETWORK[fields.network] +
		(fields.amountMsat === null ? '' : formatAmount(fields.amountMsat));
	const words: number[] = intToWords(fields.timestamp, TIMESTAMP_WORDS);
	words.push(
		...taggedField(TAG.paymentHash, bech32.toWords(hex32(fields.paymentHash, 'payment hash')))
	);
	words.push(
		...taggedField(TAG.paymentSecret, bech32.toWords(hex32(fields.paymentSecret, 'payment secret')))
	);
	if (fields.descriptionHash !== undefined) {
		words.push(
			...taggedField(
				TAG.descriptionHash,
				bech32.toWords(hex32(fields.descriptionHash, 'description hash'))
			)
		);
	} else {
		words.push(
			...taggedField(TAG.description, bech32.toWords(utf8ToBytes(fields.description ?? '')))
		);
	}
	if (fields.expirySeconds !== undefined && fields.expirySeconds !== DEFAULT_EXPIRY_SECONDS) {
		words.push(...taggedField(TAG.expiry, intToWords(fields.expirySeconds)));
	}
	words.push(
		...taggedField(
			TAG.minFinalCltv,
			intToWords(fields.minFinalCltvExpiry ?? DEFAULT_MIN_FINAL_CLTV)
		)
	);
	const publicKey = publicKeyOf(privateKeyHex.toLowerCase(), privateKey);
	if (fields.includePayeeKey !== false) {
		words.push(...taggedField(TAG.payeeKey, bech32.toWords(publicKey)));
	}
	for (const hint of fields.routeHints ?? [])
		words.push(...taggedField(TAG.routeHint, bech32.toWords(encodeRouteHint(hint))));
	for (const f of fields.fallbackAddresses ?? [])
		words.push(...taggedField(TAG.fallback, [f.version, ...bech32.toWords(hexToBytes(f.program))]));
	words.push(...taggedField(TAG.features, encodeFeatures(fields.features ?? [8, 14])));

	const messageHash = sha256(concat(utf8ToBytes(hrp), wordsToBytesPadded(words)));
	// noble's 'recovered' format is recid || r || s; BOLT #11 wants r || s || recid.
	const recovered = secp256k1.sign(messageHash, privateKey, {
		prehash: false,
		format: 'recovered'
	});
	const sig = new Uint8Array(65);
	sig.set(recovered.subarray(1), 0);
	sig[64] = recovered[0] as number;
	return bech32.encode(hrp, [...words, ...bech32.toWords(sig)], false);
}

/** The secp256k1 public key (compressed, hex) of a private key, as a node id. */
export function nodePubkey(privateKeyHex: string): string {
	return bytesToHex(secp256k1.getPublicKey(hexToBytes(privateKeyHex), true));
}

/** Feature bits as bech32 words, most significant word first (the reverse of bolt11.ts's decodeFeatures). */
function encodeFeatures(bits: readonly number[]): number[] {
	if (bits.length === 0) return [];
	const max = Math.max(...bits);
	const words = new Array<number>(Math.floor(max / 5) + 1).fill(0);
	for (const bit of bits) {
		const idx = words.length - 1 - Math.floor(bit / 5);
		words[idx] = (words[idx] as number) | (1 << (bit % 5));
	}
	return words;
}

function formatAmount(msat: bigint): string {
	if (msat <= 0n) throw new Bolt11Error('amount', 'An invoice amount must be positive.');
	// Pick the largest unit that represents the amount exactly (shortest string).
	const units: [string, bigint][] = [
		['m', 100_000_000n],
		['u', 100_000n],
		['n', 100n]
	];
	for (const [suffix, msatPerUnit] of units) {
		if (msat % msatPerUnit === 0n) return `${msat / msatPerUnit}${suffix}`;
	}
	return `${msat * 10n}p`;
}

function intToWords(n: number, minWords = 1): number[] {
	const words: number[] = [];
	let rest = n;
	while (rest > 0) {
		words.unshift(rest % 32);
		rest = Math.floor(rest / 32);
	}
	while (words.length < minWords) words.unshift(0);
	return words;
}
