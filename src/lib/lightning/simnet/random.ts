// Randomness for the simnet: the platform CSPRNG by default, or a seeded stream for reproducible runs.

import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

export type RandomBytes = (length: number) => Uint8Array;

export const cryptoRandomBytes: RandomBytes = (length) => {
	const out = new Uint8Array(length);
	globalThis.crypto.getRandomValues(out);
	return out;
};

/** A deterministic byte stream: SHA-256(seed || counter) blocks. Not for real keys. */
export function seededRandomBytes(seed: string): RandomBytes {
	const seedBytes = utf8ToBytes(seed);
	let counter = 0;
	let pool = new Uint8Array(0);
	return (length) => {
		while (pool.length < length) {
			const block = new Uint8Array(seedBytes.length + 4);
			block.set(seedBytes, 0);
			new DataView(block.buffer).setUint32(seedBytes.length, counter++);
			const next = new Uint8Array(pool.length + 32);
			next.set(pool, 0);
			next.set(sha256(block), pool.length);
			pool = next;
		}
		const out = pool.slice(0, length);
		pool = pool.slice(length);
		return out;
	};
}
