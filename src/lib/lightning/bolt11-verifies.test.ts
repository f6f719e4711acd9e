// Every decode verifies its invoice's signature: the decoder keeps no memory of signatures it made
// or checked before (a benchmark shortcut once did). secp256k1 is wrapped to count the checks.
import { describe, expect, it, vi } from 'vitest';

const checks = vi.hoisted(() => ({ verify: 0 }));
vi.mock('@noble/curves/secp256k1.js', async (importOriginal) => {
	const original = await importOriginal<typeof import('@noble/curves/secp256k1.js')>();
	const real = original.secp256k1;
	const counted: typeof real = {
		...real,
		verify: (...args: Parameters<typeof real.verify>) => {
			checks.verify++;
			return real.verify(...args);
		}
	};
	return { ...original, secp256k1: counted };
});

const { decodeBolt11 } = await import('./bolt11');
const { encodeBolt11, nodePubkey } = await import('./simnet/bolt11-encode');

describe('BOLT #11 decoding', () => {
	it('verifies the signature on every decode, of invoices it signed itself too', () => {
		const key = '3'.repeat(64);
		const invoice = encodeBolt11(
			{
				network: 'regtest',
				amountMsat: 1000n,
				timestamp: 1_700_000_000,
				paymentHash: '11'.repeat(32),
				paymentSecret: '22'.repeat(32),
				description: 'x'
			},
			key
		);
		checks.verify = 0;
		expect(decodeBolt11(invoice).payee).toBe(nodePubkey(key));
		expect(decodeBolt11(invoice).payee).toBe(nodePubkey(key));
		expect(checks.verify).toBe(2);
	});
});
