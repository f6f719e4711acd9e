import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import vectors from './fixtures/bolt11-test-vectors.json' with { type: 'json' };
import type { Bolt11Fields, RouteHintHop } from './bolt11';
import { encodeBolt11, nodePubkey } from './simnet';
import { checkInvoice, MAX_CLTV_BLOCKS, type ExpectedInvoice } from './invoice-check';

const stationKey = bytesToHex(sha256(new TextEncoder().encode('station key')));
const recordHash = bytesToHex(sha256(new TextEncoder().encode('{"seq":3}')));
const fields: Bolt11Fields = {
	network: 'regtest',
	amountMsat: 12_000_000n,
	timestamp: 1_800_000_000,
	paymentHash: bytesToHex(sha256(new Uint8Array([9]))),
	paymentSecret: '33'.repeat(32),
	descriptionHash: recordHash,
	expirySeconds: 300
};
const expected: ExpectedInvoice = {
	amountMsat: 12_000_000n,
	descriptionHash: recordHash,
	payee: nodePubkey(stationKey),
	network: 'regtest',
	nowSeconds: 1_800_000_010
};
const invoice = (f: Partial<Bolt11Fields> = {}, key = stationKey) =>
	encodeBolt11({ ...fields, ...f }, key);

describe('checkInvoice', () => {
	it('accepts the invoice that matches the verified record', () => {
		const result = checkInvoice(invoice(), expected);
		expect(result.ok).toBe(true);
		if (result.ok) expect(result.invoice.paymentHash).toBe(fields.paymentHash);
	});

	it('malformed', () => {
		const r = checkInvoice('lnbcrt1notaninvoice', expected);
		expect(r).toMatchObject({ ok: false, reason: 'malformed' });
		if (!r.ok) expect(r.message).toMatch(/^The station's invoice cannot be used: /);
	});

	it('network', () => {
		const r = checkInvoice(invoice({ network: 'mainnet' }), expected);
		expect(r).toEqual({
			ok: false,
			reason: 'network',
			message:
				'The invoice is for Bitcoin mainnet, but this wallet pays on regtest (the local test network).'
		});
	});

	it('payee', () => {
		const r = checkInvoice(invoice({}, bytesToHex(sha256(new Uint8Array([7])))), expected);
		expect(r).toMatchObject({ ok: false, reason: 'payee' });
		if (!r.ok)
			expect(r.message).toMatch(
				/^The invoice would pay node [0-9a-f]{8}…[0-9a-f]{8}, not the station's node/
			);
	});

	it('description_hash (different, and missing)', () => {
		const other = checkInvoice(invoice({ descriptionHash: '00'.repeat(32) }), expected);
		expect(other).toMatchObject({ ok: false, reason: 'description_hash' });
		const none = checkInvoice(
			invoice({ descriptionHash: undefined, description: 'energy' }),
			expected
		);
		expect(none).toMatchObject({ ok: false, reason: 'description_hash' });
		if (!none.ok) expect(none.message).toMatch(/no description hash/);
	});

	it('no_amount', () => {
		const r = checkInvoice(invoice({ amountMsat: null }), expected);
		expect(r).toEqual({
			ok: false,
			reason: 'no_amount',
			message: 'The invoice has no amount; the verified energy costs 12,000 sat.'
		});
	});

	it('amount', () => {
		const r = checkInvoice(invoice({ amountMsat: 12_345_000n }), expected);
		expect(r).toEqual({
			ok: false,
			reason: 'amount',
			message: 'The invoice asks for 12,345 sat but the verified energy costs 12,000 sat.'
		});
	});

	it('expired, and too close to expiry', () => {
		const late = checkInvoice(invoice(), { ...expected, nowSeconds: fields.timestamp + 400 });
		expect(late).toEqual({
			ok: false,
			reason: 'expired',
			message: 'The invoice expired 100 s ago.'
		});
		const soon = checkInvoice(invoice(), { ...expected, nowSeconds: fields.timestamp + 295 });
		expect(soon).toMatchObject({ ok: false, reason: 'expired' });
		if (!soon.ok) expect(soon.message).toMatch(/expires in 5 s/);
		expect(
			checkInvoice(invoice(), {
				...expected,
				nowSeconds: fields.timestamp + 295,
				minSecondsLeft: 2
			}).ok
		).toBe(true);
	});

	it('refuses every invalid BOLT #11 example as malformed', () => {
		for (const v of vectors.invalid) {
			expect(checkInvoice(v.invoice, expected)).toMatchObject({ ok: false, reason: 'malformed' });
		}
	});

	describe('routing hints and fallbacks that do not fit a charging payment', () => {
		const hub = nodePubkey(bytesToHex(sha256(new TextEncoder().encode('hub key'))));
		const hop = (over: Partial<RouteHintHop> = {}): RouteHintHop => ({
			pubkey: hub,
			shortChannelId: '700000x12x1',
			feeBaseMsat: 1000,
			feeProportionalMillionths: 100,
			cltvExpiryDelta: 40,
			...over
		});

		it('accepts the one-hop hint LND writes for a station behind a private channel', () => {
			expect(checkInvoice(invoice({ routeHints: [[hop()]] }), expected).ok).toBe(true);
			expect(
				checkInvoice(invoice({ routeHints: Array.from({ length: 20 }, () => [hop()]) }), expected)
					.ok
			).toBe(true);
		});

		it('an on-chain fallback address', () => {
			const r = checkInvoice(
				invoice({
					fallbackAddresses: [{ version: 0, program: '751e76e8199196d454941c45d1b3a323f1433bd6' }]
				}),
				expected
			);
			expect(r).toMatchObject({ ok: false, reason: 'fallback' });
			if (!r.ok) expect(r.message).toMatch(/Lightning only/);
		});

		it('too many hints, or too long a hint', () => {
			expect(
				checkInvoice(invoice({ routeHints: Array.from({ length: 21 }, () => [hop()]) }), expected)
			).toMatchObject({ ok: false, reason: 'route' });
			const long = checkInvoice(invoice({ routeHints: [[hop(), hop(), hop(), hop()]] }), expected);
			expect(long).toMatchObject({ ok: false, reason: 'route' });
			if (!long.ok) expect(long.message).toMatch(/4 hops/);
		});

		it('a hint through the station’s own node', () => {
			const r = checkInvoice(
				invoice({ routeHints: [[hop({ pubkey: expected.payee })]] }),
				expected
			);
			expect(r).toMatchObject({ ok: false, reason: 'route' });
			if (!r.ok) expect(r.message).toMatch(/own node/);
		});

		it('a hint (or a final CLTV) that could lock the payment for longer than LND would', () => {
			// The default final CLTV of 18 plus 1999 is one block over.
			const r = checkInvoice(
				invoice({
					minFinalCltvExpiry: 18,
					routeHints: [[hop({ cltvExpiryDelta: MAX_CLTV_BLOCKS - 17 })]]
				}),
				expected
			);
			expect(r).toMatchObject({ ok: false, reason: 'route' });
			if (!r.ok) expect(r.message).toMatch(/2017 blocks/);
			expect(
				checkInvoice(
					invoice({
						minFinalCltvExpiry: 18,
						routeHints: [[hop({ cltvExpiryDelta: MAX_CLTV_BLOCKS - 18 })]]
					}),
					expected
				).ok
			).toBe(true);
			expect(checkInvoice(invoice({ minFinalCltvExpiry: 5000 }), expected)).toMatchObject({
				ok: false,
				reason: 'route'
			});
		});

		it('a hint that charges more than the fee limit', () => {
			// 12,000 sat at 1,000 ppm is 12 sat, plus a 1 sat base: 13 sat, over a 10 sat limit.
			const r = checkInvoice(
				invoice({ routeHints: [[hop({ feeProportionalMillionths: 1000 })]] }),
				expected
			);
			expect(r).toMatchObject({ ok: false, reason: 'route' });
			if (!r.ok)
				expect(r.message).toMatch(/charges 13 sat in fees, more than your limit of 10 sat/);
			expect(
				checkInvoice(invoice({ routeHints: [[hop({ feeProportionalMillionths: 1000 })]] }), {
					...expected,
					feeLimitMsat: 13_000n
				}).ok
			).toBe(true);
		});
	});
});
