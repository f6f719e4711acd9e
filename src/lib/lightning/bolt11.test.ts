import { describe, expect, it } from 'vitest';
import bolt11 from 'bolt11';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import vectors from './fixtures/bolt11-test-vectors.json' with { type: 'json' };
import { Bolt11Error, decodeBolt11, type DecodedBolt11 } from './bolt11';
import { encodeBolt11, nodePubkey } from './simnet';

const SPEC_PAYEE = vectors.payee_pubkey;
const SPEC_HASH = '0001020304050607080900010203040506070809000102030405060708090102';
const SPEC_SECRET = '11'.repeat(32);
const SPEC_TIME = 1496314658;
// SHA-256 of the "entire list of things" description in BOLT #11.
const LIST_HASH = '3925b6f67e2c340036ed12093dd44e0368df1b6ea26c53dbe4811f58fd5db8c1';

// The fields each valid example states in its title / breakdown in BOLT #11.
const expected: Partial<DecodedBolt11>[] = [
	{
		network: 'mainnet',
		amountMsat: null,
		description: 'Please consider supporting this project',
		expirySeconds: 3600
	},
	{ network: 'mainnet', amountMsat: 250_000_000n, description: '1 cup coffee', expirySeconds: 60 },
	{
		network: 'mainnet',
		amountMsat: 250_000_000n,
		description: 'ナンセンス 1杯',
		expirySeconds: 60
	},
	{ network: 'mainnet', amountMsat: 2_000_000_000n, descriptionHash: LIST_HASH },
	{
		network: 'testnet',
		amountMsat: 2_000_000_000n,
		descriptionHash: LIST_HASH,
		fallbackAddresses: [{ version: 17, program: '3172b5654f6683c8fb146959d347ce303cae4ca7' }]
	},
	{
		network: 'mainnet',
		amountMsat: 2_000_000_000n,
		descriptionHash: LIST_HASH,
		fallbackAddresses: [{ version: 17, program: '04b61f7dc1ea0dc99424464cc4064dc564d91e89' }]
	},
	{
		network: 'mainnet',
		amountMsat: 2_000_000_000n,
		fallbackAddresses: [{ version: 18, program: '8f55563b9a19f321c211e9b9f38cdf686ea07845' }]
	},
	{
		network: 'mainnet',
		amountMsat: 2_000_000_000n,
		fallbackAddresses: [{ version: 0, program: '751e76e8199196d454941c45d1b3a323f1433bd6' }]
	},
	{
		network: 'mainnet',
		amountMsat: 2_000_000_000n,
		fallbackAddresses: [
			{ version: 0, program: '1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262' }
		]
	},
	{
		network: 'mainnet',
		amountMsat: 2_000_000_000n,
		fallbackAddresses: [
			{ version: 1, program: '0adac43daa9c8a5a68e09ea10692b82226ee190e572db9b90e17a410484ab405' }
		]
	},
	{
		network: 'mainnet',
		amountMsat: 967_878_534n,
		paymentHash: '462264ede7e14047e9b249da94fefc47f41f7d02ee9b091815a5506bc8abf75f',
		timestamp: 1572468703,
		expirySeconds: 604800,
		minFinalCltvExpiry: 10
	},
	{
		network: 'mainnet',
		amountMsat: 2_500_000_000n,
		description: 'coffee beans',
		features: [8, 14, 99]
	},
	{
		network: 'mainnet',
		amountMsat: 2_500_000_000n,
		description: 'coffee beans',
		features: [8, 14, 99]
	},
	{
		network: 'mainnet',
		amountMsat: 2_500_000_000n,
		description: 'coffee beans',
		features: [8, 14, 99]
	},
	{
		network: 'mainnet',
		amountMsat: 1_000_000_000n,
		description: 'payment metadata inside',
		metadata: '01fafaf0',
		features: [8, 14, 48]
	},
	{ network: 'mainnet', amountMsat: null, description: 'Please consider supporting this project' }
];

describe('BOLT #11 valid examples', () => {
	it('has 16 valid and 10 invalid examples', () => {
		expect(vectors.valid).toHaveLength(16);
		expect(vectors.invalid).toHaveLength(10);
		expect(nodePubkey(vectors.signing_private_key)).toBe(SPEC_PAYEE);
	});

	vectors.valid.forEach((vector, i) => {
		it(`decodes #${i}: ${vector.title.slice(0, 60)}`, () => {
			const d = decodeBolt11(vector.invoice);
			expect(d.signatureValid).toBe(true);
			const defaults = {
				paymentHash: SPEC_HASH,
				paymentSecret: SPEC_SECRET,
				timestamp: SPEC_TIME,
				minFinalCltvExpiry: 18
			};
			expect(d).toMatchObject({ ...defaults, ...expected[i] });
			if (i === 10) expect(d.description).toMatch(/^Blockstream Store: 88\.85 USD/);
			if (i === 5) {
				expect(d.routeHints[0]?.map((h) => h.pubkey)).toEqual([
					'029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255',
					'039e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255'
				]);
			}
			if (i !== 15) {
				expect(d.payee).toBe(SPEC_PAYEE);
			} else {
				// The high-S example keeps r and the transmitted recovery id but negates s, so recovery
				// yields a different key; the point of the example is that recovery must not reject high S.
				const s = BigInt('0x' + d.signature.slice(64));
				expect(s > secp256k1.Point.CURVE().n / 2n).toBe(true);
				expect(d.payee).not.toBe(SPEC_PAYEE);
				expect(d.payee).toMatch(/^0[23][0-9a-f]{64}$/);
			}
		});
	});

	it('agrees with the npm bolt11 package on payee, amount and hash of all 15 valid examples it decodes', () => {
		const refusedByPackage: string[] = [];
		let compared = 0;
		for (const vector of vectors.valid) {
			let other: ReturnType<typeof bolt11.decode>;
			try {
				other = bolt11.decode(vector.invoice);
			} catch (e) {
				refusedByPackage.push(`${vector.title}: ${(e as Error).message}`);
				continue;
			}
			const ours = decodeBolt11(vector.invoice);
			expect(ours.payee).toBe(other.payeeNodeKey);
			expect(ours.amountMsat?.toString() ?? null).toBe(other.millisatoshis ?? null);
			expect(ours.paymentHash).toBe(other.tagsObject.payment_hash);
			compared++;
		}
		// The package (1.4.1) refuses exactly one valid example: it reads an ignored field as the payee.
		expect(refusedByPackage).toEqual([
			'Same, but including fields which must be ignored.: Lightning Payment Request signature pubkey does not match payee pubkey'
		]);
		expect(compared).toBe(vectors.valid.length - 1);
		expect(compared).toBe(15);
	});
});

describe('BOLT #11 invalid examples', () => {
	const expectedCodes = [
		'feature',
		'checksum',
		'malformed',
		'malformed',
		'signature',
		'truncated',
		'amount',
		'amount',
		'field',
		'signature'
	];
	vectors.invalid.forEach((vector, i) => {
		it(`refuses #${i}: ${vector.title}`, () => {
			let caught: unknown;
			try {
				decodeBolt11(vector.invoice);
			} catch (e) {
				caught = e;
			}
			expect(caught).toBeInstanceOf(Bolt11Error);
			expect((caught as Bolt11Error).code).toBe(expectedCodes[i]);
			expect((caught as Bolt11Error).message).toMatch(/^The invoice|^This is not/);
		});
	});

	it('refuses junk, an unknown network and a flipped character with clear messages', () => {
		expect(() => decodeBolt11('')).toThrow(/empty/);
		expect(() => decodeBolt11('hello world')).toThrow(Bolt11Error);
		const good = vectors.valid[1]!.invoice;
		const flipped = good.slice(0, 40) + (good[40] === 'q' ? 'p' : 'q') + good.slice(41);
		expect(() => decodeBolt11(flipped)).toThrow(/checksum/);
		const sk = vectors.signing_private_key;
		const pr = encodeBolt11(
			{
				network: 'regtest',
				amountMsat: 1000n,
				timestamp: 1,
				paymentHash: SPEC_HASH,
				paymentSecret: SPEC_SECRET,
				description: 'x'
			},
			sk
		);
		expect(() => decodeBolt11('lnxy' + pr.slice(6))).toThrow(/network|checksum/);
	});
});

describe('encodeBolt11', () => {
	const privateKey = bytesToHex(sha256(new TextEncoder().encode('station-1 test key')));
	const fields = {
		network: 'regtest' as const,
		amountMsat: 12_345_678n,
		timestamp: 1_750_000_000,
		paymentHash: bytesToHex(sha256(new Uint8Array([1, 2, 3]))),
		paymentSecret: '22'.repeat(32),
		descriptionHash: bytesToHex(sha256(new TextEncoder().encode('{"seq":1}'))),
		expirySeconds: 600,
		minFinalCltvExpiry: 40
	};

	it('round-trips through our decoder with the signer as payee', () => {
		const pr = encodeBolt11(fields, privateKey);
		expect(pr.startsWith('lnbcrt123456780p1')).toBe(true);
		const d = decodeBolt11(pr);
		expect(d).toMatchObject({
			network: 'regtest',
			payee: nodePubkey(privateKey),
			amountMsat: 12_345_678n,
			timestamp: fields.timestamp,
			paymentHash: fields.paymentHash,
			paymentSecret: fields.paymentSecret,
			descriptionHash: fields.descriptionHash,
			expirySeconds: 600,
			minFinalCltvExpiry: 40,
			features: [8, 14]
		});
		// Without the n tag the payee is recovered from the signature instead.
		const recovered = decodeBolt11(encodeBolt11({ ...fields, includePayeeKey: false }, privateKey));
		expect(recovered.payee).toBe(nodePubkey(privateKey));
	});

	it('picks exact amount units, down to pico-BTC for odd millisatoshis', () => {
		for (const msat of [1n, 10n, 100n, 123n, 100_000n, 250_000_000n, 100_000_000_000n]) {
			const d = decodeBolt11(encodeBolt11({ ...fields, amountMsat: msat }, privateKey));
			expect(d.amountMsat).toBe(msat);
		}
		expect(
			decodeBolt11(encodeBolt11({ ...fields, amountMsat: null }, privateKey)).amountMsat
		).toBeNull();
	});

	it('is decoded identically by the independent npm bolt11 package', () => {
		const pr = encodeBolt11(fields, privateKey);
		const other = bolt11.decode(pr, {
			bech32: 'bcrt',
			pubKeyHash: 0x6f,
			scriptHash: 0xc4,
			validWitnessVersions: [0, 1]
		});
		expect(other.complete).toBe(true);
		expect(other.payeeNodeKey).toBe(nodePubkey(privateKey));
		expect(other.millisatoshis).toBe('12345678');
		expect(other.timestamp).toBe(fields.timestamp);
		expect(other.tagsObject.payment_hash).toBe(fields.paymentHash);
		expect(other.tagsObject.payment_secret).toBe(fields.paymentSecret);
		expect(other.tagsObject.purpose_commit_hash).toBe(fields.descriptionHash);
		expect(other.timeExpireDate).toBe(fields.timestamp + 600);
		expect(other.tagsObject.min_final_cltv_expiry).toBe(40);
	});

	it('refuses an invoice whose n tag names a key that did not sign it', () => {
		const pr = encodeBolt11(fields, privateKey);
		const { prefix, words } = bech32.decode(pr as `${string}1${string}`, false);
		const data = words.slice(0, -104);
		// Re-sign the very same data (n tag still naming station-1) with another key.
		const intruder = bytesToHex(sha256(new TextEncoder().encode('someone else')));
		const packed = new Uint8Array(Math.ceil((data.length * 5) / 8));
		let acc = 0,
			bits = 0,
			j = 0;
		for (const w of data) {
			acc = ((acc << 5) | w) & 0xfff;
			bits += 5;
			if (bits >= 8) {
				bits -= 8;
				packed[j++] = (acc >> bits) & 0xff;
			}
		}
		if (bits > 0) packed[j] = (acc << (8 - bits)) & 0xff;
		const msg = sha256(new Uint8Array([...new TextEncoder().encode(prefix), ...packed]));
		const rec = secp256k1.sign(msg, hexToBytes(intruder), { prehash: false, format: 'recovered' });
		const sig = new Uint8Array([...rec.subarray(1), rec[0]!]);
		const forged = bech32.encode(prefix, [...data, ...bech32.toWords(sig)], false);
		expect(() => decodeBolt11(forged)).toThrow(/does not match the payee/);
		// Flipping one data word without fixing the checksum is caught as a checksum error.
		expect(() =>
			decodeBolt11(pr.slice(0, 30) + (pr[30] === 'q' ? 'p' : 'q') + pr.slice(31))
		).toThrow(Bolt11Error);
	});

	it('refuses bad fields with sentences', () => {
		expect(() => encodeBolt11({ ...fields, paymentHash: 'abc' }, privateKey)).toThrow(
			/payment hash must be 32 bytes/
		);
		expect(() => encodeBolt11({ ...fields, description: 'both' }, privateKey)).toThrow(
			/exactly one/
		);
		expect(() => encodeBolt11({ ...fields, amountMsat: 0n }, privateKey)).toThrow(/positive/);
	});
});

/** A spec example with tagged fields added (or its fields replaced), signed again with the spec's key. */
function withFields(
	invoice: string,
	extra: number[][],
	keep: (tag: number) => boolean = () => true
): string {
	const { prefix, words } = bech32.decode(invoice as `${string}1${string}`, false);
	const data = words.slice(0, -104);
	const fields: number[] = data.slice(0, 7);
	for (let pos = 7; pos < data.length;) {
		const len = data[pos + 1]! * 32 + data[pos + 2]!;
		if (keep(data[pos]!)) fields.push(...data.slice(pos, pos + 3 + len));
		pos += 3 + len;
	}
	for (const [tag, ...body] of extra)
		fields.push(tag!, body.length >> 5, body.length & 31, ...body);
	const bytes = new Uint8Array(Math.ceil((fields.length * 5) / 8));
	let acc = 0,
		bits = 0,
		j = 0;
	for (const w of fields) {
		acc = ((acc << 5) | w) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			bytes[j++] = (acc >> bits) & 0xff;
		}
	}
	if (bits > 0) bytes[j] = (acc << (8 - bits)) & 0xff;
	const msg = sha256(new Uint8Array([...new TextEncoder().encode(prefix), ...bytes]));
	const rec = secp256k1.sign(msg, hexToBytes(vectors.signing_private_key), {
		prehash: false,
		format: 'recovered'
	});
	return bech32.encode(
		prefix,
		[...fields, ...bech32.toWords(new Uint8Array([...rec.subarray(1), rec[0]!]))],
		false
	);
}
const words = (hex: string) => bech32.toWords(hexToBytes(hex));
const hop = (pubkey: string) => pubkey + '0102030405060708' + '00000001' + '00000014' + '0003';

describe('what LND refuses too (zpay32)', () => {
	const coffee = vectors.valid[1]!.invoice; // has a description (d)
	const hashed = vectors.valid[3]!.invoice; // has a description hash (h)

	it('re-signed spec examples still decode (the helper itself is sound)', () => {
		expect(decodeBolt11(withFields(coffee, [])).description).toBe('1 cup coffee');
		expect(decodeBolt11(withFields(coffee, [])).payee).toBe(SPEC_PAYEE);
	});

	it('an invoice with both d and h: BOLT #11 says exactly one', () => {
		const both = withFields(coffee, [[23, ...words(LIST_HASH)]]);
		expect(() => decodeBolt11(both)).toThrow(
			/both a description \(d\) and a description hash \(h\)/
		);
		const bothOtherWay = withFields(hashed, [
			[13, ...bech32.toWords(new TextEncoder().encode('free energy'))]
		]);
		expect(() => decodeBolt11(bothOtherWay)).toThrow(Bolt11Error);
		// An h of the wrong length is skipped (BOLT #11), so d alone stands.
		expect(
			decodeBolt11(withFields(coffee, [[23, ...words(LIST_HASH).slice(0, 51)]])).descriptionHash
		).toBeUndefined();
	});

	it('the first description counts, as in LND', () => {
		const two = withFields(coffee, [[13, ...bech32.toWords(new TextEncoder().encode('second'))]]);
		expect(decodeBolt11(two).description).toBe('1 cup coffee');
	});

	it('longer than 7,089 characters (the most a QR code holds) is refused before decoding', () => {
		expect(() => decodeBolt11('lnbc1' + 'q'.repeat(7085))).toThrow(
			/7090 characters long; no payable invoice is longer than 7089/
		);
	});

	it('fallback fields that no address of their version has', () => {
		expect(() => decodeBolt11(withFields(coffee, [[9, 0]]))).toThrow(/empty fallback/);
		expect(() => decodeBolt11(withFields(coffee, [[9, 0, ...words('11'.repeat(25))]]))).toThrow(
			/version 0\) has a program of 25 bytes/
		);
		expect(() => decodeBolt11(withFields(coffee, [[9, 17, ...words('11'.repeat(32))]]))).toThrow(
			/version 17\) has a program of 32 bytes/
		);
		expect(() => decodeBolt11(withFields(coffee, [[9, 1, ...words('11'.repeat(41))]]))).toThrow(
			/version 1\) has a program of 41 bytes/
		);
		// An unknown version is skipped (BOLT #11: MUST skip over f fields that use an unknown version).
		expect(
			decodeBolt11(withFields(coffee, [[9, 19, ...words('11'.repeat(20))]])).fallbackAddresses
		).toEqual([]);
		expect(
			decodeBolt11(withFields(coffee, [[9, 18, ...words('22'.repeat(20))]])).fallbackAddresses
		).toEqual([{ version: 18, program: '22'.repeat(20) }]);
	});

	it('a routing hint whose hop is not a node key', () => {
		const good = withFields(coffee, [[3, ...words(hop(SPEC_PAYEE))]]);
		expect(decodeBolt11(good).routeHints).toEqual([
			[
				{
					pubkey: SPEC_PAYEE,
					shortChannelId: '66051x263430x1800',
					feeBaseMsat: 1,
					feeProportionalMillionths: 20,
					cltvExpiryDelta: 3
				}
			]
		]);
		// x = 0 is not on secp256k1; neither is a key with a 04 prefix in 33 bytes.
		expect(() =>
			decodeBolt11(withFields(coffee, [[3, ...words(hop('02' + '00'.repeat(32)))]]))
		).toThrow(/not a Lightning node key/);
		expect(() =>
			decodeBolt11(withFields(coffee, [[3, ...words(hop('04' + '11'.repeat(32)))]]))
		).toThrow(/not a Lightning node key/);
	});

	it('routing hints together with blinded paths', () => {
		const blinded = withFields(coffee, [[20, ...words('00'.repeat(40))]]);
		expect(decodeBolt11(blinded).blindedPaths).toBe(1);
		expect(() =>
			decodeBolt11(
				withFields(coffee, [
					[3, ...words(hop(SPEC_PAYEE))],
					[20, ...words('00'.repeat(40))]
				])
			)
		).toThrow(/both routing hints \(r\) and blinded paths \(b\)/);
	});

	it('the encoder writes routing hints and fallbacks the decoder (and npm bolt11) read back', () => {
		const key = vectors.signing_private_key;
		const hint = [
			{
				pubkey: '029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255',
				shortChannelId: '66051x263430x1800',
				feeBaseMsat: 1,
				feeProportionalMillionths: 20,
				cltvExpiryDelta: 3
			}
		];
		const pr = encodeBolt11(
			{
				network: 'regtest',
				amountMsat: 1000n,
				timestamp: SPEC_TIME,
				paymentHash: SPEC_HASH,
				paymentSecret: SPEC_SECRET,
				description: 'x',
				routeHints: [hint],
				fallbackAddresses: [{ version: 0, program: '751e76e8199196d454941c45d1b3a323f1433bd6' }]
			},
			key
		);
		const d = decodeBolt11(pr);
		expect(d.routeHints).toEqual([hint]);
		expect(d.fallbackAddresses).toEqual([
			{ version: 0, program: '751e76e8199196d454941c45d1b3a323f1433bd6' }
		]);
		const other = bolt11.decode(pr, {
			bech32: 'bcrt',
			pubKeyHash: 0x6f,
			scriptHash: 0xc4,
			validWitnessVersions: [0, 1]
		});
		expect(other.tagsObject.routing_info?.[0]).toMatchObject({
			pubkey: hint[0]!.pubkey,
			short_channel_id: '0102030405060708',
			fee_base_msat: 1,
			fee_proportional_millionths: 20,
			cltv_expiry_delta: 3
		});
	});
});
