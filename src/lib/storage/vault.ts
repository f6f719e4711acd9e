// The one passphrase vault: a secret (a private key) sealed under a person's passphrase with
// PBKDF2-SHA-256 stretching it into an AES-256-GCM key (WebCrypto, in browsers and Node alike).
// The station's key (keystore.ts, also its backup file) and the driver's ledger identity
// (wallet-db.ts) are both sealed here, with one iteration count and one minimum length.
//
// A sealed secret records its own iteration count, so what older versions stored (the wallet used
// 210,000 iterations and 8-character passphrases) still opens; `resealed` brings it up to today's
// count under the same passphrase, which was accepted when it was chosen and is not judged again.
import { base64 } from '@scure/base';

/** OWASP's figure for PBKDF2-HMAC-SHA256. */
export const VAULT_ITERATIONS = 310_000;
/** Fewer would fall to guessing; the same for the operator's and the driver's passphrase. */
export const MIN_PASSPHRASE_LENGTH = 10;
/** Below this a stored count is not believed (a tampered or broken record). */
const MIN_STORED_ITERATIONS = 1000;

export interface SealedSecret {
	/** PBKDF2 salt and AES-GCM iv, base64; the ciphertext with its tag, base64. */
	salt: string;
	iv: string;
	data: string;
	iterations: number;
}

export type VaultErrorCode = 'short_passphrase' | 'wrong_passphrase' | 'unreadable';

/** What went wrong, as a code; each caller says it in its own words (whose passphrase, which key). */
export class VaultError extends Error {
	constructor(
		readonly code: VaultErrorCode,
		message: string
	) {
		super(message);
		this.name = 'VaultError';
	}
}

async function keyFrom(
	passphrase: string,
	salt: Uint8Array,
	iterations: number
): Promise<CryptoKey> {
	const material = await crypto.subtle.importKey(
		'raw',
		new TextEncoder().encode(passphrase),
		'PBKDF2',
		false,
		['deriveKey']
	);
	return crypto.subtle.deriveKey(
		{ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
		material,
		{ name: 'AES-GCM', length: 256 },
		false,
		['encrypt', 'decrypt']
	);
}

async function sealUnchecked(
	secret: Uint8Array,
	passphrase: string,
	iterations: number
): Promise<SealedSecret> {
	const salt = crypto.getRandomValues(new Uint8Array(16));
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const key = await keyFrom(passphrase, salt, iterations);
	const data = new Uint8Array(
		await crypto.subtle.encrypt(
			{ name: 'AES-GCM', iv: iv as BufferSource },
			key,
			secret as BufferSource
		)
	);
	return {
		salt: base64.encode(salt),
		iv: base64.encode(iv),
		data: base64.encode(data),
		iterations
	};
}

/**
 * Seals `secret` under a new passphrase. `iterations` is for tests only (fewer make them fast);
 * production code takes the default.
 */
export async function sealSecret(
	secret: Uint8Array,
	passphrase: string,
	iterations = VAULT_ITERATIONS
): Promise<SealedSecret> {
	if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
		throw new VaultError(
			'short_passphrase',
			`Choose a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters.`
		);
	}
	return sealUnchecked(secret, passphrase, iterations);
}

/** The shape of a sealed secret read back from storage or a file, checked before it is used. */
export function isSealedSecret(v: unknown): v is SealedSecret {
	const s = v as Partial<SealedSecret> | null;
	return (
		!!s &&
		typeof s === 'object' &&
		typeof s.salt === 'string' &&
		typeof s.iv === 'string' &&
		typeof s.data === 'string' &&
		Number.isInteger(s.iterations) &&
		(s.iterations as number) >= MIN_STORED_ITERATIONS
	);
}

function decode(text: string): Uint8Array {
	try {
		return base64.decode(text);
	} catch {
		throw new VaultError('unreadable', 'The stored key is not readable (its encoding is broken).');
	}
}

/** The secret, or a VaultError: `wrong_passphrase` (or altered data: AES-GCM cannot tell them apart), `unreadable`. */
export async function openSecret(sealed: SealedSecret, passphrase: string): Promise<Uint8Array> {
	if (!isSealedSecret(sealed))
		throw new VaultError(
			'unreadable',
			'The stored key is not readable (its settings are missing or broken).'
		);
	const key = await keyFrom(passphrase, decode(sealed.salt), sealed.iterations);
	try {
		return new Uint8Array(
			await crypto.subtle.decrypt(
				{ name: 'AES-GCM', iv: decode(sealed.iv) as BufferSource },
				key,
				decode(sealed.data) as BufferSource
			)
		);
	} catch {
		throw new VaultError(
			'wrong_passphrase',
			'The passphrase does not open this key (or the stored key was altered).'
		);
	}
}

/** Whether a sealed secret was stretched less than today's count (stored by an older version). */
export function needsReseal(sealed: SealedSecret): boolean {
	return sealed.iterations < VAULT_ITERATIONS;
}

/** Opens a secret and seals it again at today's count under the same passphrase (not judged again). */
export async function resealed(
	sealed: SealedSecret,
	passphrase: string
): Promise<{ secret: Uint8Array; sealed: SealedSecret }> {
	const secret = await openSecret(sealed, passphrase);
	return { secret, sealed: await sealUnchecked(secret, passphrase, VAULT_ITERATIONS) };
}
