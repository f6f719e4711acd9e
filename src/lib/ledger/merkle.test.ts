import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '@noble/hashes/utils.js';
import {
	buildReadingsTree,
	buildReadingsTreeOfHashes,
	processReadingProof,
	readingHash,
	readingLeaf,
	verifyReadingProof
} from './merkle';

const ocmf = (n: number, wh: number) =>
	`OCMF|{"FV":"1.0","PG":"T${n}","RD":[{"TM":"2026-11-22T01:00:${String(n).padStart(2, '0')},000+0000 S","TX":"T","RV":${(wh / 1000).toFixed(3)},"RI":"01-00:01.08.00*FF","RU":"kWh","ST":"G"}]}|{"SA":"ECDSA-secp256k1-SHA256","SD":"3044${n}"}`;
const records = Array.from({ length: 13 }, (_, i) => ocmf(i + 1, 1000 + 37 * i));

describe('readings Merkle tree', () => {
	it('hashes a reading as SHA-256 of its UTF-8 bytes', () => {
		// SHA-256("abc"), FIPS 180-2 example.
		expect(readingHash('abc')).toBe(
			'0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
		);
	});

	it('produces the same root, leaves and proofs as OpenZeppelin StandardMerkleTree', () => {
		for (const size of [1, 2, 3, 7, 13]) {
			const subset = records.slice(0, size);
			const ours = buildReadingsTree(subset);
			const theirs = StandardMerkleTree.of(
				ours.readingHashes.map((h) => [h]),
				['bytes32']
			);
			expect(ours.root).toBe(theirs.root);
			for (let i = 0; i < size; i++) {
				expect(ours.proof(i)).toEqual(theirs.getProof(i));
				expect(ours.leaves[i]).toBe(theirs.leafHash([ours.readingHashes[i]!]));
				expect(readingLeaf(ours.readingHashes[i]!)).toBe(ours.leaves[i]);
			}
		}
	});

	it('verifies every record off-chain and rejects tampered records, proofs and roots', () => {
		const tree = buildReadingsTree(records);
		records.forEach((record, i) =>
			expect(verifyReadingProof(tree.root, record, tree.proof(i))).toBe(true)
		);
		const proof = tree.proof(4);
		expect(
			verifyReadingProof(tree.root, records[4]!.replace('"RV":1.148', '"RV":1.149'), proof)
		).toBe(false);
		expect(verifyReadingProof(tree.root, records[5]!, proof)).toBe(false);
		expect(verifyReadingProof(tree.root, records[4]!, proof.slice(1))).toBe(false);
		const flipped = proof.map((p, i) =>
			i === 0 ? `${p.slice(0, -1)}${p.endsWith('0') ? '1' : '0'}` : p
		);
		expect(verifyReadingProof(tree.root, records[4]!, flipped)).toBe(false);
		const otherRoot = buildReadingsTree(records.slice(1)).root;
		expect(verifyReadingProof(otherRoot, records[4]!, proof)).toBe(false);
		expect(processReadingProof(tree.readingHashes[4]!, proof)).toBe(tree.root);
	});

	it('proves a single-reading tree with an empty proof', () => {
		const tree = buildReadingsTree([records[0]!]);
		expect(tree.proof(0)).toEqual([]);
		expect(tree.root).toBe(tree.leaves[0]);
		expect(verifyReadingProof(tree.root, records[0]!, [])).toBe(true);
	});

	it('keeps duplicate readings provable', () => {
		const tree = buildReadingsTree([records[0]!, records[0]!, records[1]!]);
		expect(verifyReadingProof(tree.root, records[0]!, tree.proof(1))).toBe(true);
	});

	it('rejects bad input with clear messages', () => {
		expect(() => buildReadingsTree([])).toThrow('cannot build a Merkle tree of zero readings');
		expect(() => buildReadingsTree(records).proof(13)).toThrow(
			'no reading at index 13 (tree has 13)'
		);
		expect(() => buildReadingsTree([records[0]!]).proof(1)).toThrow(
			'no reading at index 1 (tree has 1)'
		);
		expect(() => buildReadingsTree(['ok', ''])).toThrow('OCMF record must be a non-empty string');
		expect(() => verifyReadingProof('0x1234', records[0]!, [])).toThrow(
			'Merkle root must be 0x + 64 hex'
		);
		expect(() =>
			verifyReadingProof(buildReadingsTree(records).root, records[0]!, ['0xzz'])
		).toThrow('proof element 0');
	});

	it('builds the same tree from reading hashes computed elsewhere', () => {
		const tree = buildReadingsTree(records);
		const again = buildReadingsTreeOfHashes(tree.readingHashes.map((h) => hexToBytes(h.slice(2))));
		expect(again.root).toBe(tree.root);
		expect(again.proof(5)).toEqual(tree.proof(5));
		expect(() => buildReadingsTreeOfHashes([])).toThrow(
			'cannot build a Merkle tree of zero readings'
		);
		expect(() => buildReadingsTreeOfHashes([new Uint8Array(32), new Uint8Array(31)])).toThrow(
			'reading hash 1 must be 32 bytes'
		);
	});

	it('uses no Buffer (runs in browsers)', async () => {
		const { readFile } = await import('node:fs/promises');
		for (const file of [
			'merkle.ts',
			'keccak.ts',
			'ids.ts',
			'client.ts',
			'errors.ts',
			'deploy.ts',
			'types.ts',
			'history.ts'
		]) {
			const text = await readFile(new URL(`./${file}`, import.meta.url), 'utf8');
			expect(text, file).not.toMatch(/\bBuffer\.|\bBuffer\(|from 'node:/);
		}
	});
});
