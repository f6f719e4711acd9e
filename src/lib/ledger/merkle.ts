// Merkle batching of signed meter readings, compatible with OpenZeppelin's StandardMerkleTree for
// leaf type ['bytes32'] (and so with MerkleProof.verify and SessionLedger.verifyReading):
//   readingHash = SHA-256(UTF-8 bytes of the whole OCMF string "OCMF|{payload}|{signature}")
//   leaf        = keccak256(keccak256(abi.encode(readingHash)))  — abi.encode of a bytes32 is the 32 bytes
//   node        = keccak256(sorted(a, b) concatenated)
// SHA-256 because the protocol hashes everything else (OCMF signatures, billing records) with it,
// so a verifier needs no extra primitive. Leaves are sorted and laid out exactly as the library
// does, so its root equals ours for the same readings. Written with @noble/hashes (SHA-256) and
// keccak.ts (Keccak-256, the same digests as @noble/hashes', faster on these short inputs), not the library,
// because the library's ABI encoder pulls in Buffer-based code we do not want in the browser.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { Hex32 } from './ids';
import { keccak256 as keccak_256 } from './keccak';

export interface ReadingsTree {
	/** Merkle root to anchor on chain. */
	root: Hex32;
	/** SHA-256 of each OCMF record, in input order (what SessionLedger.verifyReading takes). */
	readingHashes: Hex32[];
	/** Leaf hash of each record, in input order. */
	leaves: Hex32[];
	/** Sibling hashes proving record `index` (input order) against `root`. */
	proof(index: number): Hex32[];
}

// 0x-hex of a 32-byte hash as one string (a string built pair by pair makes ~1 KB of
// intermediate strings per hash, and the simulator hexes a root per anchor, millions a day).
const HEX_DIGITS = utf8ToBytes('0123456789abcdef');
const hexScratch = new Uint8Array(66);
hexScratch.set(utf8ToBytes('0x'));
const latin1 = new TextDecoder('latin1');
function toHex(bytes: Uint8Array): Hex32 {
	if (bytes.length !== 32) return `0x${bytesToHex(bytes)}`;
	for (let i = 0; i < 32; i++) {
		hexScratch[2 + 2 * i] = HEX_DIGITS[bytes[i]! >> 4]!;
		hexScratch[3 + 2 * i] = HEX_DIGITS[bytes[i]! & 15]!;
	}
	return latin1.decode(hexScratch) as Hex32;
}

function fromHex32(value: string, what: string): Uint8Array {
	if (!/^0x[0-9a-fA-F]{64}$/.test(value))
		throw new TypeError(`${what} must be 0x + 64 hex characters, got "${value}"`);
	return hexToBytes(value.slice(2));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
	for (let i = 0; i < a.length; i++) {
		const d = (a[i] ?? 0) - (b[i] ?? 0);
		if (d !== 0) return d;
	}
	return a.length - b.length;
}

// One scratch buffer for every pair hashed (hashing is synchronous, so it is never shared).
const pairScratch = new Uint8Array(64);

function hashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
	const [low, high] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
	pairScratch.set(low, 0);
	pairScratch.set(high, 32);
	return keccak_256(pairScratch);
}

function readingHashBytes(ocmf: string): Uint8Array {
	if (typeof ocmf !== 'string' || ocmf.length === 0)
		throw new TypeError('OCMF record must be a non-empty string');
	return sha256(utf8ToBytes(ocmf));
}

/** SHA-256 of the OCMF string's UTF-8 bytes, as 0x-hex. */
export function readingHash(ocmf: string): Hex32 {
	return toHex(readingHashBytes(ocmf));
}

function leafBytes(readingHashBytes: Uint8Array): Uint8Array {
	return keccak_256(keccak_256(readingHashBytes));
}

/** Leaf of a reading hash: keccak256(keccak256(abi.encode(bytes32))). */
export function readingLeaf(readingHashHex: string): Hex32 {
	return toHex(leafBytes(fromHex32(readingHashHex, 'reading hash')));
}

export function buildReadingsTree(ocmfRecords: readonly string[]): ReadingsTree {
	if (ocmfRecords.length === 0) throw new RangeError('cannot build a Merkle tree of zero readings');
	return treeOfHashes(ocmfRecords.map(readingHashBytes));
}

/**
 * The tree over reading hashes already computed (SHA-256 of each OCMF record, 32 bytes each, in
 * input order): for callers that hash the records with a native SHA-256 (the fleet simulator).
 */
export function buildReadingsTreeOfHashes(readingHashes: readonly Uint8Array[]): ReadingsTree {
	if (readingHashes.length === 0)
		throw new RangeError('cannot build a Merkle tree of zero readings');
	for (let i = 0; i < readingHashes.length; i++) {
		const h = readingHashes[i];
		if (!(h instanceof Uint8Array) || h.length !== 32)
			throw new TypeError(`reading hash ${i} must be 32 bytes`);
	}
	return treeOfHashes(readingHashes);
}

/**
 * The same tree over any 32-byte hashes (e.g. a session's payment hashes for its payments root);
 * `readingHashes` then holds those hashes.
 */
export function buildHashTree(hashes: readonly string[]): ReadingsTree {
	if (hashes.length === 0) throw new RangeError('cannot build a Merkle tree of zero hashes');
	return treeOfHashes(hashes.map((h) => fromHex32(h, 'hash')));
}

// Works on bytes throughout (the hot path: every station, every anchor); hex only for what it returns.
function treeOfHashes(hashList: readonly Uint8Array[]): ReadingsTree {
	if (hashList.length === 1) return new SingleLeafTree(hashList[0]!);
	const leafList = hashList.map(leafBytes);
	// Sort leaves ascending, then store them reversed at the end of an array-backed complete binary
	// tree (node i has children 2i+1 and 2i+2): the layout StandardMerkleTree uses.
	const order = leafList.map((_, i) => i).sort((i, j) => compareBytes(leafList[i]!, leafList[j]!));
	const tree: Uint8Array[] = new Array(2 * leafList.length - 1);
	const treeIndexOfInput: number[] = new Array(leafList.length);
	order.forEach((inputIndex, sortedPosition) => {
		const treeIndex = tree.length - 1 - sortedPosition;
		tree[treeIndex] = leafList[inputIndex]!;
		treeIndexOfInput[inputIndex] = treeIndex;
	});
	for (let i = tree.length - 1 - leafList.length; i >= 0; i--) {
		tree[i] = hashPair(tree[2 * i + 1]!, tree[2 * i + 2]!);
	}
	// Hex of every hash and leaf only when asked for (an anchor needs the root and a proof or two).
	let readingHashes: Hex32[] | undefined;
	let leaves: Hex32[] | undefined;
	return {
		root: toHex(tree[0]!),
		get readingHashes() {
			return (readingHashes ??= hashList.map(toHex));
		},
		get leaves() {
			return (leaves ??= leafList.map(toHex));
		},
		proof(index: number): Hex32[] {
			if (!Number.isInteger(index) || index < 0 || index >= leafList.length) {
				throw new RangeError(`no reading at index ${index} (tree has ${leafList.length})`);
			}
			const proof: Hex32[] = [];
			let node = treeIndexOfInput[index]!;
			while (node > 0) {
				const sibling = node % 2 === 1 ? node + 1 : node - 1;
				proof.push(toHex(tree[sibling]!));
				node = Math.floor((node - 1) / 2);
			}
			return proof;
		}
	};
}

// One reading (most anchors: a reading a minute, each anchored): the root is its leaf, its proof empty.
class SingleLeafTree implements ReadingsTree {
	readonly root: Hex32;
	constructor(private readonly hash: Uint8Array) {
		this.root = toHex(leafBytes(hash));
	}
	get readingHashes(): Hex32[] {
		return [toHex(this.hash)];
	}
	get leaves(): Hex32[] {
		return [this.root];
	}
	proof(index: number): Hex32[] {
		if (index !== 0) throw new RangeError(`no reading at index ${index} (tree has 1)`);
		return [];
	}
}

/** Root implied by a reading hash and its proof. */
export function processReadingProof(readingHashHex: string, proof: readonly string[]): Hex32 {
	let node = leafBytes(fromHex32(readingHashHex, 'reading hash'));
	for (const [i, sibling] of proof.entries())
		node = hashPair(node, fromHex32(sibling, `proof element ${i}`));
	return toHex(node);
}

/** Off-chain check that `ocmf` is a leaf under `root`. Malformed roots or proofs are an error, not false. */
export function verifyReadingProof(root: string, ocmf: string, proof: readonly string[]): boolean {
	const expected = fromHex32(root, 'Merkle root');
	return processReadingProof(readingHash(ocmf), proof) === toHex(expected);
}
