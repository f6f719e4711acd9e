import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { keccak256 } from './keccak';

describe('keccak256', () => {
	it('gives the standard digests', () => {
		expect(bytesToHex(keccak256(new Uint8Array(0)))).toBe(
			'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
		);
		expect(bytesToHex(keccak256(utf8ToBytes('abc')))).toBe(
			'4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45'
		);
		expect(bytesToHex(keccak256(utf8ToBytes('The quick brown fox jumps over the lazy dog')))).toBe(
			'4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15'
		);
	});

	it("equals @noble/hashes' keccak_256 on every length 0..600 (block boundaries at 135, 136, 137, 271, 272)", () => {
		let x = 0x9e3779b9;
		for (let n = 0; n <= 600; n++) {
			const data = new Uint8Array(n);
			for (let i = 0; i < n; i++) {
				x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + i) | 0;
				data[i] = x >>> 24;
			}
			expect(bytesToHex(keccak256(data)), `length ${n}`).toBe(bytesToHex(keccak_256(data)));
		}
	});

	it('returns a fresh array each call and leaves its input alone', () => {
		const input = new Uint8Array(32).fill(0xab);
		const a = keccak256(input);
		const b = keccak256(input);
		expect(a).not.toBe(b);
		expect(a).toEqual(b);
		expect(input.every((v) => v === 0xab)).toBe(true);
	});
});
