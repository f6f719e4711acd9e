import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { startLightningSimnet, type LightningSimnet } from '../../../devnet/lightning';
import { checkRequest, type SwaggerDoc } from '../../../devnet/swagger-check';
import invoicesSwagger from './fixtures/invoices.swagger.json' with { type: 'json' };
import lightningSwagger from './fixtures/lightning.swagger.json' with { type: 'json' };
import routerSwagger from './fixtures/router.swagger.json' with { type: 'json' };
import realErrors from './fixtures/lnd-real-errors.json' with { type: 'json' };
import { errorFromStatus, LndRestNode } from './lnd-rest';
import { refusalReason } from './lnd-json';
import { LightningError, type InvoiceStatus, type PaymentUpdate } from './port';

let sim: LightningSimnet;
const sent: { method: string; url: string; body: unknown; macaroon: string | null }[] = [];

function node(name: string, extra: Partial<ConstructorParameters<typeof LndRestNode>[0]> = {}) {
	const n = sim.nodes.find((x) => x.name === name)!;
	return new LndRestNode({
		restUrl: n.restUrl,
		macaroonHex: n.macaroonHex,
		timeoutMs: 3000,
		fetch: (input, init) => {
			sent.push({
				method: init?.method ?? 'GET',
				// Relative to the node's REST root (the devnet serves each node under its own prefix).
				url: String(input).slice(n.restUrl.replace(/\/+$/, '').length),
				body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
				macaroon: new Headers(init?.headers).get('Grpc-Metadata-macaroon')
			});
			return fetch(input, init);
		},
		...extra
	});
}

const recordHash = bytesToHex(sha256(new TextEncoder().encode('{"seq":7}')));

beforeAll(async () => {
	sim = await startLightningSimnet({ port: 0, channelSat: 1_000_000n, settleDelayMs: 20 });
});
afterAll(async () => {
	await sim?.stop();
});

describe('LndRestNode against the simnet', () => {
	it('reads info, balances and channels', async () => {
		const vehicle = node('vehicle-1');
		expect(await vehicle.getInfo()).toMatchObject({
			network: 'regtest',
			pubkey: sim.nodes[2]!.pubkey,
			syncedToChain: true
		});
		expect(await vehicle.getBalances()).toEqual({
			localMsat: 500_000_000n,
			remoteMsat: 500_000_000n,
			pendingOpenLocalMsat: 0n
		});
		const channels = await vehicle.listChannels();
		expect(channels).toEqual([
			expect.objectContaining({
				remotePubkey: sim.nodes[0]!.pubkey,
				capacitySat: 1_000_000n,
				reserveSat: 10_000n,
				active: true,
				pending: false
			})
		]);
	});

	it('pays station-1 from vehicle-1 via the hub; the station watches the invoice settle', async () => {
		const station = node('station-1');
		const vehicle = node('vehicle-1');
		const created = await station.createInvoice({
			amountMsat: 12_000_000n,
			descriptionHash: recordHash,
			expirySeconds: 600
		});
		const decoded = await vehicle.decodePaymentRequest(created.paymentRequest);
		expect(decoded).toMatchObject({
			network: 'regtest',
			payee: sim.nodes[1]!.pubkey,
			amountMsat: 12_000_000n,
			descriptionHash: recordHash,
			expirySeconds: 600
		});

		const states: InvoiceStatus[] = [];
		const settled = new Promise<void>((resolve, reject) => {
			station.watchInvoice(
				created.paymentHash,
				(s) => {
					states.push(s);
					if (s.state === 'settled') resolve();
				},
				reject
			);
		});
		await new Promise((r) => setTimeout(r, 30));
		const updates: PaymentUpdate[] = [];
		const result = await vehicle.pay(
			{ paymentRequest: created.paymentRequest, feeLimitMsat: 2_000n, timeoutSeconds: 30 },
			(u) => updates.push(u)
		);
		await settled;
		expect(updates.map((u) => u.status)).toEqual(['in_flight', 'succeeded']);
		expect(result).toMatchObject({
			status: 'succeeded',
			valueMsat: 12_000_000n,
			feeMsat: 1_012n,
			paymentHash: created.paymentHash
		});
		expect(bytesToHex(sha256(hexToBytes(result.preimage!)))).toBe(created.paymentHash);
		expect(states.map((s) => s.state)).toEqual(['open', 'settled']);
		expect(states[1]).toMatchObject({ amountPaidMsat: 12_000_000n, preimage: result.preimage });
		expect(await station.lookupInvoice(created.paymentHash)).toMatchObject({
			state: 'settled',
			valueMsat: 12_000_000n
		});
		expect(await vehicle.trackPayment(created.paymentHash)).toMatchObject({ status: 'succeeded' });
		expect(await vehicle.getBalances()).toMatchObject({ localMsat: 500_000_000n - 12_001_012n });

		const again = await vehicle.pay({
			paymentRequest: created.paymentRequest,
			feeLimitMsat: 2_000n,
			timeoutSeconds: 30
		});
		expect(again).toMatchObject({
			status: 'failed',
			failureReason: 'already_paid',
			paymentHash: created.paymentHash
		});
	});

	it('maps failures: fee limit, missing liquidity, expired invoice', async () => {
		const station = node('station-1');
		const vehicle = node('vehicle-1');
		const small = await station.createInvoice({ amountMsat: 1_000_000n, expirySeconds: 600 });
		expect(
			await vehicle.pay({
				paymentRequest: small.paymentRequest,
				feeLimitMsat: 0n,
				timeoutSeconds: 10
			})
		).toMatchObject({
			status: 'failed',
			failureReason: 'no_route'
		});
		const huge = await station.createInvoice({ amountMsat: 900_000_000n, expirySeconds: 600 });
		expect(
			await vehicle.pay({
				paymentRequest: huge.paymentRequest,
				feeLimitMsat: 1_000_000n,
				timeoutSeconds: 10
			})
		).toMatchObject({
			status: 'failed',
			failureReason: 'insufficient_balance'
		});
		const brief = await station.createInvoice({ amountMsat: 1_000n, expirySeconds: 1 });
		await new Promise((r) => setTimeout(r, 1100));
		const expired = await vehicle.pay({
			paymentRequest: brief.paymentRequest,
			feeLimitMsat: 5_000n,
			timeoutSeconds: 10
		});
		expect(expired).toMatchObject({ status: 'failed', failureReason: 'invalid_request' });
		expect(expired.message).toMatch(/invoice expired/);
		expect(await station.lookupInvoice(brief.paymentHash)).toMatchObject({ state: 'canceled' });
	});

	it('opens a channel that stays pending until blocks are mined', async () => {
		await fetch(`${sim.url}/admin/nodes/station-1/fund`, {
			method: 'POST',
			body: JSON.stringify({ sat: '100000' })
		});
		const station = node('station-1');
		const { channelPoint } = await station.openChannel({
			remotePubkey: sim.nodes[2]!.pubkey,
			localFundingSat: 100_000n
		});
		expect(
			(await station.listChannels()).find((c) => c.channelPoint === channelPoint)
		).toMatchObject({ pending: true, active: false });
		expect((await station.getBalances()).pendingOpenLocalMsat).toBe(100_000_000n);
		sim.network.mineBlocks(3);
		expect(
			(await station.listChannels()).find((c) => c.channelPoint === channelPoint)
		).toMatchObject({ pending: false, active: true });
	});

	it('sends only requests the LND swagger accepts, on every endpoint the backend uses', () => {
		const docs = [lightningSwagger, routerSwagger, invoicesSwagger] as unknown as SwaggerDoc[];
		const walked = new Set<string>();
		for (const r of sent) {
			const path = r.url.split('?')[0]!;
			const doc = docs.find((d) => checkRequest(d, r.method, r.url, r.body).template !== null);
			expect(doc, `${r.method} ${path} is in none of LND's swagger files`).toBeDefined();
			const { template, problems } = checkRequest(doc!, r.method, r.url, r.body);
			expect(problems, `${r.method} ${path}`).toEqual([]);
			expect(r.macaroon).toMatch(/^[0-9a-f]+$/);
			walked.add(`${r.method} ${template}`);
		}
		expect([...walked].sort()).toEqual([
			'GET /v1/balance/channels',
			'GET /v1/channels',
			'GET /v1/channels/pending',
			'GET /v1/getinfo',
			'GET /v1/payreq/{pay_req}',
			'GET /v2/invoices/lookup',
			'GET /v2/invoices/subscribe/{r_hash}',
			'GET /v2/router/track/{payment_hash}',
			'POST /v1/channels',
			'POST /v1/invoices',
			'POST /v2/router/send'
		]);
	});

	it('the request check catches what LND would refuse', () => {
		const doc = lightningSwagger as unknown as SwaggerDoc;
		expect(checkRequest(doc, 'POST', '/v1/invoices', { value_msat: 1000 }).problems).toEqual([
			'$.value_msat: expected a string, got 1000'
		]);
		expect(checkRequest(doc, 'POST', '/v1/invoices', { amount: '1' }).problems).toEqual([
			'$.amount: not a field of this message'
		]);
		expect(checkRequest(doc, 'GET', '/v1/channels?active_only=yes', undefined).problems).toEqual([
			'query parameter active_only: "yes" is not a boolean'
		]);
		expect(checkRequest(doc, 'GET', '/v1/channels?bogus=1', undefined).problems).toEqual([
			'query parameter bogus is not declared for GET /v1/channels'
		]);
		expect(checkRequest(doc, 'PUT', '/v1/getinfo', undefined).problems).toEqual([
			'PUT /v1/getinfo: method not allowed'
		]);
		expect(checkRequest(doc, 'GET', '/v1/nope', undefined).template).toBeNull();
		expect(checkRequest(doc, 'GET', '/v1/getinfo', { x: 1 }).problems).toEqual([
			'GET /v1/getinfo takes no body'
		]);
	});

	it('maps errors: unauthorized, not found, unreachable, timeout', async () => {
		const wrong = node('vehicle-1', { macaroonHex: sim.nodes[0]!.macaroonHex });
		await expect(wrong.getInfo()).rejects.toMatchObject({
			code: 'unauthorized',
			message: expect.stringMatching(/refused the macaroon/)
		});
		await expect(node('station-1').lookupInvoice('ab'.repeat(32))).rejects.toMatchObject({
			code: 'not_found'
		});
		const gone = new LndRestNode({
			restUrl: 'http://127.0.0.1:9',
			macaroonHex: 'abcd',
			timeoutMs: 2000
		});
		await expect(gone.getInfo()).rejects.toMatchObject({
			code: 'unreachable',
			message: expect.stringMatching(/cannot be reached/)
		});
		const hanging = new LndRestNode({
			restUrl: 'http://lnd.invalid',
			macaroonHex: 'abcd',
			timeoutMs: 50,
			fetch: (_input, init) =>
				new Promise((_resolve, reject) =>
					init?.signal?.addEventListener('abort', () =>
						reject(new DOMException('aborted', 'AbortError'))
					)
				)
		});
		const err = await hanging.getBalances().catch((e: unknown) => e);
		expect(err).toBeInstanceOf(LightningError);
		expect(err).toMatchObject({
			code: 'timeout',
			message: expect.stringMatching(/did not answer within 0.05 s/)
		});
		expect(() => new LndRestNode({ restUrl: 'lnd:8080', macaroonHex: 'ab' })).toThrow(
			/must start with http/
		);
		const watchErr = await new Promise<LightningError>((resolve) =>
			node('station-1').watchInvoice('cd'.repeat(32), () => undefined, resolve)
		);
		expect(watchErr.code).toBe('not_found');
	});
});

describe('LndRestNode maps what real LND answers (recorded by devnet/lnd/lnd.test.ts)', () => {
	const recorded = (
		realErrors as { errors: Record<string, { httpStatus: number; body: unknown; expect: string }> }
	).errors;
	const paymentReasons = new Set(['already_paid', 'invalid_request']);
	it.each(Object.entries(recorded))('%s', (_name, { httpStatus, body, expect: expected }) => {
		const error = errorFromStatus(httpStatus, body, 'do it');
		expect(error).toBeInstanceOf(LightningError);
		expect(error.message).toMatch(/^The Lightning node/);
		if (paymentReasons.has(expected)) expect(refusalReason(error.message)).toBe(expected);
		else expect(error.code).toBe(expected);
	});
	it('has the cases the backend must tell apart', () => {
		expect(Object.keys(recorded)).toEqual(
			expect.arrayContaining([
				'already_paid',
				'expired',
				'permission_denied',
				'permission_denied_stream',
				'foreign_macaroon',
				'truncated_macaroon',
				'no_macaroon'
			])
		);
	});
});
