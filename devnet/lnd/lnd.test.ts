// The LND REST backend against real LND on regtest (btcd + hub, station-1, vehicle-1 from
// devnet/lnd/regtest.ts, binaries from scripts/build-lnd.sh). Skipped only when the binaries are
// absent and LIGHTCHARGE_REQUIRE_ALL is unset (CI sets it, so there a missing build fails).
// With LIGHTCHARGE_RECORD_LND_FIXTURES=1 the raw error answers are written to
// src/lib/lightning/fixtures/lnd-real-errors.json, which lnd-rest.test.ts maps without LND.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { encodeBolt11 } from '../../src/lib/lightning/simnet/index.js';
import {
	LndRestNode,
	LightningError,
	type InvoiceStatus,
	type PaymentUpdate
} from '../../src/lib/lightning/index.js';
import { ensurePortFree } from '../ports.js';
import { lndBinariesPresent, missingBinaries } from './binaries.js';
import { pinnedFetch } from './pinned-fetch.js';
import { startLndRegtest, type LndRegtest } from './regtest.js';

const present = lndBinariesPresent();
const requireAll = process.env.LIGHTCHARGE_REQUIRE_ALL === '1';
const FIXTURES = path.resolve(
	path.dirname(fileURLToPath(import.meta.url)),
	'../../src/lib/lightning/fixtures/lnd-real-errors.json'
);

/** Ten free consecutive ports, away from the fixed bases the helpers' e2e runs use. */
async function freeBase(): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const base = 40_000 + Math.floor(Math.random() * 2000) * 10;
		try {
			for (let p = base; p < base + 10; p++) await ensurePortFree(p, '127.0.0.1', 'probe', 'probe');
			return base;
		} catch {
			// taken: try another
		}
	}
	throw new Error('no 10 free consecutive ports found');
}

describe('real LND binaries', () => {
	it.runIf(requireAll)('are built (LIGHTCHARGE_REQUIRE_ALL=1)', () => {
		expect(missingBinaries(), 'run scripts/build-lnd.sh').toEqual([]);
	});
});

describe.skipIf(!present)('LndRestNode on real LND (regtest)', () => {
	let net: LndRegtest;
	let dir: string;
	const recorded: Record<string, { httpStatus: number; body: unknown; expect: string }> = {};

	/** The app's node: narrow macaroon, TLS pinned to the node's own certificate. */
	const app = (name: string, o: { macaroonHex?: string; certOf?: string } = {}) => {
		const n = net.node(name);
		return new LndRestNode({
			restUrl: n.restUrl,
			macaroonHex: o.macaroonHex ?? n.appMacaroonHex,
			timeoutMs: 20_000,
			fetch: pinnedFetch(net.node(o.certOf ?? name).tlsCertPem)
		});
	};
	const admin = (name: string) => app(name, { macaroonHex: net.node(name).adminMacaroonHex });
	/** One raw call, its answer kept for the fixtures (with the port error code it must map to). */
	const raw = async (
		key: string,
		expectCode: string,
		name: string,
		macaroonHex: string,
		method: string,
		urlPath: string,
		body?: unknown
	) => {
		const n = net.node(name);
		const res = await pinnedFetch(n.tlsCertPem)(n.restUrl + urlPath, {
			method,
			headers: { 'Grpc-Metadata-macaroon': macaroonHex, 'content-type': 'application/json' },
			...(body !== undefined ? { body: JSON.stringify(body) } : {})
		});
		const text = await res.text();
		const lines = text
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l) as Record<string, unknown>);
		const first = lines[0]!;
		recorded[key] = {
			httpStatus: res.status,
			body: 'error' in first ? first.error : first,
			expect: expectCode
		};
		return { status: res.status, first };
	};
	const recordHash = (s: string) => bytesToHex(sha256(new TextEncoder().encode(s)));

	beforeAll(async () => {
		dir = mkdtempSync(path.join(tmpdir(), 'lnd-test-'));
		net = await startLndRegtest({ dir, portBase: await freeBase() });
	}, 240_000);
	afterAll(async () => {
		await net?.stop();
		if (dir) rmSync(dir, { recursive: true, force: true });
		if (process.env.LIGHTCHARGE_RECORD_LND_FIXTURES === '1' && Object.keys(recorded).length > 0) {
			const doc = {
				source:
					'Answers of real LND v0.21.2-beta (REST, regtest) recorded by devnet/lnd/lnd.test.ts; `expect` is the LightningErrorCode the backend must map each to.',
				errors: recorded
			};
			writeFileSync(FIXTURES, `${JSON.stringify(doc, null, '\t')}\n`);
		}
	}, 60_000);

	it("reads info, balances and channels with the apps' own macaroons", async () => {
		const vehicle = app('vehicle-1');
		const info = await vehicle.getInfo();
		expect(info).toMatchObject({
			network: 'regtest',
			pubkey: net.node('vehicle-1').pubkey,
			alias: 'vehicle-1',
			syncedToChain: true
		});
		expect(info.blockHeight).toBeGreaterThan(432);
		const balances = await vehicle.getBalances();
		// 2,000,000 sat channel, half pushed to the hub; the opener pays the commitment fee and anchors.
		expect(balances.localMsat > 950_000_000n && balances.localMsat < 1_000_000_000n).toBe(true);
		expect(balances.remoteMsat).toBe(1_000_000_000n);
		const channels = await vehicle.listChannels();
		expect(channels).toEqual([
			expect.objectContaining({
				remotePubkey: net.node('hub').pubkey,
				capacitySat: 2_000_000n,
				reserveSat: 20_000n,
				active: true,
				pending: false
			})
		]);
		expect((await app('station-1').getInfo()).pubkey).toBe(net.node('station-1').pubkey);
	});

	it('pays the station from the vehicle through the hub; the station watches it settle; the payment can be tracked', async () => {
		const station = app('station-1');
		const vehicle = app('vehicle-1');
		const dh = recordHash('{"seq":1}');
		const created = await station.createInvoice({
			amountMsat: 25_000_000n,
			descriptionHash: dh,
			expirySeconds: 600
		});
		const decoded = await vehicle.decodePaymentRequest(created.paymentRequest);
		expect(decoded).toMatchObject({
			network: 'regtest',
			payee: net.node('station-1').pubkey,
			paymentHash: created.paymentHash,
			amountMsat: 25_000_000n,
			descriptionHash: dh,
			expirySeconds: 600
		});
		expect(decoded.paymentSecret).toMatch(/^[0-9a-f]{64}$/);

		const seen: InvoiceStatus[] = [];
		const settled = new Promise<InvoiceStatus>((resolve, reject) => {
			const sub = station.watchInvoice(
				created.paymentHash,
				(s) => {
					seen.push(s);
					if (s.state === 'settled') {
						sub.close();
						resolve(s);
					}
				},
				reject
			);
		});
		const updates: PaymentUpdate[] = [];
		const paid = await vehicle.pay(
			{ paymentRequest: created.paymentRequest, feeLimitMsat: 10_000n, timeoutSeconds: 30 },
			(u) => updates.push(u)
		);
		expect(paid).toMatchObject({
			status: 'succeeded',
			paymentHash: created.paymentHash,
			valueMsat: 25_000_000n
		});
		// The hub's fee: 1000 msat base + 1 ppm.
		expect(paid.feeMsat).toBe(1000n + 25n);
		expect(bytesToHex(sha256(Buffer.from(paid.preimage!, 'hex')))).toBe(created.paymentHash);
		expect(updates[0]!.status).toBe('in_flight');
		const final = await settled;
		expect(seen[0]!.state).toBe('open');
		expect(final).toMatchObject({
			state: 'settled',
			valueMsat: 25_000_000n,
			amountPaidMsat: 25_000_000n,
			preimage: paid.preimage
		});
		expect(await station.lookupInvoice(created.paymentHash)).toMatchObject({
			state: 'settled',
			preimage: paid.preimage
		});
		expect(await vehicle.trackPayment(created.paymentHash)).toMatchObject({
			status: 'succeeded',
			preimage: paid.preimage,
			feeMsat: 1025n
		});
	}, 60_000);

	it("pays a last increment under 1 sat through the hub (LND's default minhtlcout of 1,000 msat would leave it with no route)", async () => {
		// 2 Wh at 250 sat/kWh: the tail a session ends with when the driver stops between increments.
		const station = app('station-1');
		const vehicle = app('vehicle-1');
		const tail = await station.createInvoice({
			amountMsat: 500n,
			descriptionHash: recordHash('{"seq":9}'),
			expirySeconds: 600
		});
		const paid = await vehicle.pay({
			paymentRequest: tail.paymentRequest,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 30
		});
		expect(paid).toMatchObject({
			status: 'succeeded',
			paymentHash: tail.paymentHash,
			valueMsat: 500n
		});
		expect(await station.lookupInvoice(tail.paymentHash)).toMatchObject({
			state: 'settled',
			amountPaidMsat: 500n
		});
	}, 60_000);

	it('reports each refused or failed payment with its reason, and never pays twice', async () => {
		const station = app('station-1');
		const vehicle = app('vehicle-1');
		const pay = (pr: string, feeLimitMsat = 10_000n) =>
			vehicle.pay({ paymentRequest: pr, feeLimitMsat, timeoutSeconds: 15 });

		// Already paid.
		const once = await station.createInvoice({ amountMsat: 30_000n, expirySeconds: 600 });
		expect((await pay(once.paymentRequest)).status).toBe('succeeded');
		const again = await pay(once.paymentRequest);
		expect(again).toMatchObject({ status: 'failed', failureReason: 'already_paid' });
		expect(again.message).toMatch(/invoice is already paid/);
		await raw(
			'already_paid',
			'already_paid',
			'vehicle-1',
			net.node('vehicle-1').appMacaroonHex,
			'POST',
			'/v2/router/send',
			{ payment_request: once.paymentRequest, timeout_seconds: 10, fee_limit_msat: '10000' }
		);

		// Expired.
		const short = await station.createInvoice({ amountMsat: 30_000n, expirySeconds: 1 });
		await new Promise((r) => setTimeout(r, 2200));
		const late = await pay(short.paymentRequest);
		expect(late).toMatchObject({ status: 'failed', failureReason: 'invalid_request' });
		expect(late.message).toMatch(/invoice expired/);
		await raw(
			'expired',
			'invalid_request',
			'vehicle-1',
			net.node('vehicle-1').appMacaroonHex,
			'POST',
			'/v2/router/send',
			{ payment_request: short.paymentRequest, timeout_seconds: 10, fee_limit_msat: '10000' }
		);

		// A fee limit below the hub's fee: only zero-fee routes would do, and there are none.
		const cheap = await station.createInvoice({ amountMsat: 30_000n, expirySeconds: 600 });
		expect(await pay(cheap.paymentRequest, 0n)).toMatchObject({
			status: 'failed',
			failureReason: 'no_route'
		});
		expect(await pay(cheap.paymentRequest, 500n)).toMatchObject({
			status: 'failed',
			failureReason: 'no_route'
		});
		expect(await station.lookupInvoice(cheap.paymentHash)).toMatchObject({ state: 'open' });

		// More than the vehicle has.
		const big = await station.createInvoice({ amountMsat: 1_500_000_000n, expirySeconds: 600 });
		expect(await pay(big.paymentRequest, 100_000n)).toMatchObject({
			status: 'failed',
			failureReason: 'insufficient_balance'
		});

		// An invoice of a node nobody can reach.
		const stranger = encodeBolt11(
			{
				network: 'regtest',
				amountMsat: 30_000n,
				timestamp: Math.floor(Date.now() / 1000),
				paymentHash: '77'.repeat(32),
				paymentSecret: '88'.repeat(32),
				description: 'nowhere',
				expirySeconds: 600
			},
			'11'.repeat(32)
		);
		expect(await pay(stranger)).toMatchObject({ status: 'failed', failureReason: 'no_route' });

		// The station cancels the invoice: the payment reaches it and is refused (wrong payment details).
		const canceled = await station.createInvoice({ amountMsat: 30_000n, expirySeconds: 600 });
		await net.call('station-1', 'POST', '/v2/invoices/cancel', {
			payment_hash: Buffer.from(canceled.paymentHash, 'hex').toString('base64')
		});
		expect(await pay(canceled.paymentRequest)).toMatchObject({
			status: 'failed',
			failureReason: 'incorrect_payment_details'
		});
		expect(await station.lookupInvoice(canceled.paymentHash)).toMatchObject({ state: 'canceled' });

		// Garbage is refused before anything is sent.
		await expect(vehicle.decodePaymentRequest('lnbcrt1garbage')).rejects.toThrow(LightningError);
		await raw(
			'bad_payreq',
			'backend',
			'vehicle-1',
			net.node('vehicle-1').appMacaroonHex,
			'GET',
			'/v1/payreq/lnbcrt1garbage'
		);
	}, 120_000);

	it('refuses what a macaroon does not allow, and a macaroon of another node, with a sentence', async () => {
		const station = app('station-1');
		const vehicle = app('vehicle-1');
		const inv = await station.createInvoice({ amountMsat: 30_000n, expirySeconds: 600 });
		// The kiosk's macaroon cannot pay; the wallet's cannot create invoices.
		const kioskPays = await station
			.pay({ paymentRequest: inv.paymentRequest, feeLimitMsat: 10_000n, timeoutSeconds: 10 })
			.catch((e: unknown) => e);
		expect(kioskPays).toBeInstanceOf(LightningError);
		expect(kioskPays).toMatchObject({ code: 'unauthorized' });
		expect((kioskPays as Error).message).toMatch(/does not allow this app to send the payment/);
		await raw(
			'permission_denied_stream',
			'unauthorized',
			'station-1',
			net.node('station-1').appMacaroonHex,
			'POST',
			'/v2/router/send',
			{ payment_request: inv.paymentRequest, timeout_seconds: 10, fee_limit_msat: '10000' }
		);
		const walletInvoices = await vehicle
			.createInvoice({ amountMsat: 1000n, expirySeconds: 60 })
			.catch((e: unknown) => e);
		expect(walletInvoices).toMatchObject({ code: 'unauthorized' });
		expect((walletInvoices as Error).message).toMatch(
			/does not allow this app to create an invoice/
		);
		await raw(
			'permission_denied',
			'unauthorized',
			'vehicle-1',
			net.node('vehicle-1').appMacaroonHex,
			'POST',
			'/v1/invoices',
			{ value_msat: '1000' }
		);
		// Another node's macaroon, a truncated one, none.
		const foreign = await app('vehicle-1', { macaroonHex: net.node('station-1').appMacaroonHex })
			.getInfo()
			.catch((e: unknown) => e);
		expect(foreign).toMatchObject({ code: 'unauthorized' });
		expect((foreign as Error).message).toMatch(/refused the macaroon/);
		await raw(
			'foreign_macaroon',
			'unauthorized',
			'vehicle-1',
			net.node('station-1').appMacaroonHex,
			'GET',
			'/v1/getinfo'
		);
		await raw(
			'truncated_macaroon',
			'unauthorized',
			'vehicle-1',
			net.node('vehicle-1').appMacaroonHex.slice(0, 24),
			'GET',
			'/v1/getinfo'
		);
		await raw('no_macaroon', 'unauthorized', 'vehicle-1', '', 'GET', '/v1/getinfo');
		expect(
			await app('vehicle-1', { macaroonHex: net.node('vehicle-1').appMacaroonHex.slice(0, 24) })
				.getInfo()
				.catch((e: unknown) => e)
		).toMatchObject({ code: 'unauthorized' });
		// Nothing was paid.
		expect(await station.lookupInvoice(inv.paymentHash)).toMatchObject({ state: 'open' });
	}, 60_000);

	it('refuses a node whose TLS certificate is not the pinned one, before sending anything', async () => {
		const wrongCert = await app('station-1', { certOf: 'hub' })
			.getInfo()
			.catch((e: unknown) => e);
		expect(wrongCert).toMatchObject({ code: 'unreachable' });
		expect((wrongCert as Error).message).toMatch(/TLS certificate that is not the one configured/);
	});

	it('says when the node is down or still starting, and a watch broken by a restart is picked up again with nothing lost', async () => {
		const station = app('station-1');
		const vehicle = app('vehicle-1');
		const inv = await station.createInvoice({ amountMsat: 40_000n, expirySeconds: 600 });
		const broken = new Promise<LightningError>((resolve) => {
			station.watchInvoice(inv.paymentHash, () => {}, resolve);
		});
		await new Promise((r) => setTimeout(r, 300));
		await net.stopNode('station-1');
		const err = await broken;
		expect(err).toBeInstanceOf(LightningError);
		// The stream either loses its connection ('unreachable') or gets LND's last word as it shuts
		// down, which reads like a node that is not serving yet ('starting'); both are waited out alike.
		expect(['unreachable', 'starting']).toContain(err.code);
		const down = await station.lookupInvoice(inv.paymentHash).catch((e: unknown) => e);
		expect(down).toMatchObject({ code: 'unreachable' });

		const restarting = net.startNode('station-1');
		let starting: unknown = null;
		const until = Date.now() + 60_000;
		while (Date.now() < until) {
			const r = await station.getInfo().catch((e: unknown) => e);
			if (r instanceof LightningError && r.code === 'starting') {
				starting = r;
				await raw(
					'starting',
					'starting',
					'station-1',
					net.node('station-1').appMacaroonHex,
					'GET',
					'/v1/getinfo'
				).catch(() => undefined);
				break;
			}
			if (!(r instanceof Error)) break;
			await new Promise((res) => setTimeout(res, 100));
		}
		await restarting;
		if (starting) expect((starting as Error).message).toMatch(/still starting/);
		// The invoice survived the restart and is paid once.
		expect(await station.lookupInvoice(inv.paymentHash)).toMatchObject({ state: 'open' });
		await expect
			.poll(
				async () =>
					(
						await vehicle.pay({
							paymentRequest: inv.paymentRequest,
							feeLimitMsat: 10_000n,
							timeoutSeconds: 20
						})
					).status,
				{ timeout: 60_000, interval: 1000 }
			)
			.toBe('succeeded');
		expect(await station.lookupInvoice(inv.paymentHash)).toMatchObject({
			state: 'settled',
			amountPaidMsat: 40_000n
		});
		expect(
			await vehicle.pay({
				paymentRequest: inv.paymentRequest,
				feeLimitMsat: 10_000n,
				timeoutSeconds: 20
			})
		).toMatchObject({ failureReason: 'already_paid' });
	}, 180_000);

	// Last: a direct vehicle→station channel would give zero-fee routes to the tests above.
	it('opens a channel (admin macaroon) that shows as pending, then active after a block', async () => {
		const vehicle = admin('vehicle-1');
		await net.call('vehicle-1', 'POST', '/v1/peers', {
			addr: { pubkey: net.node('station-1').pubkey, host: net.node('station-1').p2pHost },
			perm: false
		});
		const { channelPoint } = await vehicle.openChannel({
			remotePubkey: net.node('station-1').pubkey,
			localFundingSat: 100_000n
		});
		expect(channelPoint).toMatch(/^[0-9a-f]{64}:\d+$/);
		expect(
			(await vehicle.listChannels()).find((c) => c.channelPoint === channelPoint)
		).toMatchObject({ pending: true, capacitySat: 100_000n });
		await net.mine(1);
		await expect
			.poll(
				async () =>
					(await vehicle.listChannels()).find((c) => c.channelPoint === channelPoint)?.active,
				{ timeout: 20_000 }
			)
			.toBe(true);
	}, 60_000);
});
