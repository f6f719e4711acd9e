// Byte helpers shared by the protocol code. Browser and Node alike: Uint8Array only, no Buffer.
import { base64, base64urlnopad, hex } from '@scure/base';

const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})*$/;

/** True when `text` is an even-length string of hex digits (either case). */
export function isHex(text: string): boolean {
	return HEX_PATTERN.test(text);
}

/** Decodes hex (either case); throws a readable error naming `what` on bad input. */
export function hexToBytes(text: string, what = 'value'): Uint8Array {
	if (!isHex(text)) throw new Error(`${what} is not valid hex`);
	return hex.decode(text.toLowerCase());
}

/** Lower-case hex. */
export function bytesToHex(bytes: Uint8Array): string {
	return hex.encode(bytes);
}

const textEncoder = new TextEncoder();
const strictTextDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8Encode(text: string): Uint8Array {
	return textEncoder.encode(text);
}

/** Decodes UTF-8, refusing malformed byte sequences rather than inserting U+FFFD. */
export function utf8Decode(bytes: Uint8Array, what = 'value'): string {
	try {
		return strictTextDecoder.decode(bytes);
	} catch {
		throw new Error(`${what} is not valid UTF-8`);
	}
}

/** base64url without padding (RFC 4648 §5), as used in URL fragments. */
export function base64UrlEncode(bytes: Uint8Array): string {
	return base64urlnopad.encode(bytes);
}

/** Accepts base64url with or without `=` padding. */
export function base64UrlDecode(text: string, what = 'value'): Uint8Array {
	try {
		return base64urlnopad.decode(text.replace(/=+$/, ''));
	} catch {
		throw new Error(`${what} is not valid base64url`);
	}
}

/** Standard base64 (RFC 4648 §4) with padding; whitespace is not allowed. */
export function base64Decode(text: string, what = 'value'): Uint8Array {
	try {
		return base64.decode(text);
	} catch {
		throw new Error(`${what} is not valid base64`);
	}
}

export function base64Encode(bytes: Uint8Array): string {
	return base64.encode(bytes);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	let diff = 0;
	for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
	return diff === 0;
}
