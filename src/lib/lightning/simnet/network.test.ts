import { describe, expect, it, vi } from 'vitest';
import { bech32 } from '@scure/base';
import bolt11 from 'bolt11';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { decodeBolt11 } from '../bolt11';
import { encodeBolt11 } from './bolt11-encode';
import {
	Simnet,
	SimnetError,
	seededRandomBytes,
	buildHubTopology,
	channelReserveSat,
	SimnetNode,
	type SimPayment
} from './index';

function makeNet(overrides: { now?: () => number } = {}) {
	let clock = 1_800_000_000_000;
	const queue: (() => void)[] = [];
	const net = new Simnet({
		now: overrides.now ?? (() => clock),
		random: seededRandomBytes('simnet test'),
		schedule: (run) => void queue.push(run)
	});
	const flush = () => {
		while (queue.length) queue.shift()!();
	};
	return { net, flush, advance: (ms: number) => (clock += ms), queue };
}

const rec = bytesToHex(sha256(new TextEncoder().encode('record')));

describe('Simnet', () => {
	it('keeps channels pending until enough blocks are mined', () => {
		const { net } = makeNet();
		net.createNode('a', { onchainSat: 1_000_000n });
		net.createNode('b');
		const ch = net.openChannel('a', 'b', 500_000n, 100_000n);
		expect(net.isPending(ch)).toBe(true);
		expect(net.balances('a')).toMatchObject({ localMsat: 0n, pendingLocalMsat: 400_000_000n });
		expect(net.node('a').onchainSat).toBe(500_000n);
		net.mineBlocks(2);
		expect(net.isPending(ch)).toBe(true);
		net.mineBlocks(1);
		expect(net.isPending(ch)).toBe(false);
		expect(net.balances('b')).toMatchObject({ localMsat: 100_000_000n, remoteMsat: 400_000_000n });
		expect(channelReserveSat(500_000n)).toBe(5_000n);
		expect(() => net.openChannel('b', 'a', 100_000n)).toThrow(/not enough to fund/);
		expect(() => net.openChannel('a', 'b', 1_000n)).toThrow(/at least 20000 sat/);
	});

	it('pays an invoice it issued without decoding its text, and decodes (and checks) any other text', () => {
		const { net, flush } = makeNet();
		buildHubTopology(net, ['vehicle-1', 'station-1'], { channelSat: 1_000_000n });
		const invoice = net.addInvoice('station-1', {
			valueMsat: 50_000_000n,
			descriptionHash: rec,
			expiry: 600
		});
		const decode = vi.spyOn(net, 'decode');
		const payment = net.sendPayment('vehicle-1', {
			paymentRequest: invoice.paymentRequest,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 30
		});
		flush();
		expect(payment).toMatchObject({
			status: 'SUCCEEDED',
			valueMsat: 50_000_000n,
			route: ['vehicle-1', 'hub', 'station-1']
		});
		expect(decode).not.toHaveBeenCalled();
		// The same invoice with one character of its signature changed (checksum recomputed) is decoded and refused.
		const { prefix, words } = bech32.decode(invoice.paymentRequest as `${string}1${string}`, false);
		const tampered = bech32.encode(
			prefix,
			[...words.slice(0, -10), (words.at(-10)! + 1) % 32, ...words.slice(-9)],
			false
		);
		expect(() =>
			net.sendPayment('vehicle-1', {
				paymentRequest: tampered,
				feeLimitMsat: 10_000n,
				timeoutSeconds: 30
			})
		).toThrow(/signature/);
		expect(decode).toHaveBeenCalledTimes(1);
	});

	it('routes vehicle → hub → station, settles the invoice and charges the hub fee', async () => {
		const { net, flush } = makeNet();
		buildHubTopology(net, ['vehicle-1', 'station-1'], { channelSat: 1_000_000n });
		const invoice = net.addInvoice('station-1', {
			valueMsat: 50_000_000n,
			descriptionHash: rec,
			expiry: 600
		});
		const decoded = decodeBolt11(invoice.paymentRequest);
		expect(decoded).toMatchObject({
			network: 'regtest',
			payee: net.node('station-1').pubkey,
			descriptionHash: rec,
			expirySeconds: 600
		});
		expect(bytesToHex(sha256(hexToBytes(invoice.preimage)))).toBe(invoice.paymentHash);

		const seen: string[] = [];
		net.subscribe((e) => e.type === 'payment' && seen.push(e.payment.status));
		const payment = net.sendPayment('vehicle-1', {
			paymentRequest: invoice.paymentRequest,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 30
		});
		expect(payment.status).toBe('IN_FLIGHT');
		flush();
		expect(seen).toEqual(['IN_FLIGHT', 'SUCCEEDED']);
		const fee = 1000n + (50_000_000n * 1n) / 1_000_000n; // 1050 msat
		expect(payment).toMatchObject({
			status: 'SUCCEEDED',
			feeMsat: fee,
			preimage: invoice.preimage,
			route: ['vehicle-1', 'hub', 'station-1']
		});
		expect(net.lookupInvoice('station-1', invoice.paymentHash)).toMatchObject({
			state: 'SETTLED',
			amtPaidMsat: 50_000_000n
		});
		expect(net.balances('vehicle-1').localMsat).toBe(500_000_000n - 50_000_000n - fee);
		expect(net.balances('station-1').localMsat).toBe(500_000_000n + 50_000_000n);
		expect(net.balances('hub').localMsat).toBe(1_000_000_000n + fee);
	});

	it('prefers a direct channel over the hub', () => {
		const { net, flush } = makeNet();
		buildHubTopology(net, ['v', 's'], { channelSat: 1_000_000n });
		net.fund('v', 200_000n);
		net.openChannel('v', 's', 200_000n);
		net.mineBlocks(3);
		const inv = net.addInvoice('s', { valueMsat: 1_000_000n, memo: 'direct' });
		const p = net.sendPayment('v', {
			paymentRequest: inv.paymentRequest,
			feeLimitMsat: 0n,
			timeoutSeconds: 5
		});
		flush();
		expect(p).toMatchObject({ status: 'SUCCEEDED', feeMsat: 0n, route: ['v', 's'] });
	});

	const failures: [string, (n: Simnet) => { payer: string; pr: string; fee?: bigint }, string][] = [
		[
			'missing outbound liquidity',
			(n) => ({
				payer: 'v',
				pr: n.addInvoice('s', { valueMsat: 600_000_000n, descriptionHash: rec }).paymentRequest
			}),
			'FAILURE_REASON_INSUFFICIENT_BALANCE'
		],
		[
			'missing inbound liquidity at the payee',
			(n) => {
				n.createNode('lonely', { onchainSat: 100_000n });
				n.openChannel('lonely', 'hub', 100_000n); // lonely holds everything: no inbound
				n.mineBlocks(3);
				return { payer: 'v', pr: n.addInvoice('lonely', { valueMsat: 1_000_000n }).paymentRequest };
			},
			'FAILURE_REASON_NO_ROUTE'
		],
		[
			'a fee above the limit',
			(n) => ({
				payer: 'v',
				pr: n.addInvoice('s', { valueMsat: 1_000_000n }).paymentRequest,
				fee: 999n
			}),
			'FAILURE_REASON_NO_ROUTE'
		],
		[
			'a payee that forgot the hash',
			(n) => {
				const inv = n.addInvoice('s', { valueMsat: 1_000n });
				const other = encodeBolt11(
					{
						network: 'regtest',
						amountMsat: 1_000n,
						timestamp: n.nowSeconds(),
						paymentHash: '77'.repeat(32),
						paymentSecret: '88'.repeat(32),
						description: 'x'
					},
					n.node('s').privateKey
				);
				expect(inv.paymentHash).not.toBe('77'.repeat(32));
				return { payer: 'v', pr: other };
			},
			'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS'
		],
		[
			'an invoice re-signed with a lower amount',
			(n) => {
				const inv = n.addInvoice('s', { valueMsat: 5_000_000n, descriptionHash: rec });
				const d = decodeBolt11(inv.paymentRequest);
				const cheaper = encodeBolt11(
					{
						network: 'regtest',
						amountMsat: 4_000_000n,
						timestamp: d.timestamp,
						paymentHash: d.paymentHash,
						paymentSecret: d.paymentSecret!,
						descriptionHash: rec
					},
					n.node('s').privateKey
				);
				return { payer: 'v', pr: cheaper };
			},
			'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS'
		],
		[
			'an unknown payee',
			(n) => ({
				payer: 'v',
				pr: encodeBolt11(
					{
						network: 'regtest',
						amountMsat: 1_000n,
						timestamp: n.nowSeconds(),
						paymentHash: '77'.repeat(32),
						paymentSecret: '88'.repeat(32),
						description: 'x'
					},
					'11'.repeat(32)
				)
			}),
			'FAILURE_REASON_NO_ROUTE'
		]
	];
	for (const [what, setup, reason] of failures) {
		it(`fails with ${reason} on ${what}`, () => {
			const { net, flush } = makeNet();
			buildHubTopology(net, ['v', 's'], { channelSat: 1_000_000n });
			const { payer, pr, fee } = setup(net);
			const before = net.balances(payer).localMsat;
			const p = net.sendPayment(payer, {
				paymentRequest: pr,
				feeLimitMsat: fee ?? 100_000n,
				timeoutSeconds: 30
			});
			flush();
			expect(p.status).toBe('FAILED');
			expect(p.failureReason).toBe(reason);
			expect(p.detail).toMatch(/\w/);
			expect(net.balances(payer).localMsat).toBe(before);
		});
	}

	it('refuses an expired invoice, an already paid one and a duplicate in flight', () => {
		const { net, flush, advance } = makeNet();
		buildHubTopology(net, ['v', 's']);
		const inv = net.addInvoice('s', { valueMsat: 1_000n, expiry: 60 });
		const req = { paymentRequest: inv.paymentRequest, feeLimitMsat: 10_000n, timeoutSeconds: 10 };
		net.sendPayment('v', req);
		expect(() => net.sendPayment('v', req)).toThrow(/in transition/);
		flush();
		expect(() => net.sendPayment('v', req)).toThrowError(
			new SimnetError('already_paid', 'invoice is already paid')
		);
		const late = net.addInvoice('s', { valueMsat: 1_000n, expiry: 60 });
		advance(61_000);
		expect(() => net.sendPayment('v', { ...req, paymentRequest: late.paymentRequest })).toThrow(
			/invoice expired/
		);
		expect(net.lookupInvoice('s', late.paymentHash).state).toBe('CANCELED');
	});

	it('survives toJSON/fromJSON, including a payment in flight', () => {
		const { net } = makeNet();
		buildHubTopology(net, ['v', 's']);
		const inv = net.addInvoice('s', { valueMsat: 2_000n, descriptionHash: rec });
		net.sendPayment('v', {
			paymentRequest: inv.paymentRequest,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 10
		});
		const json = JSON.parse(JSON.stringify(net.toJSON()));
		const queue: (() => void)[] = [];
		const restored = Simnet.fromJSON(json, {
			now: () => 1_800_000_000_000,
			schedule: (r) => void queue.push(r)
		});
		expect(restored.getPayment('v', inv.paymentHash).status).toBe('IN_FLIGHT');
		queue.forEach((r) => r());
		expect(restored.getPayment('v', inv.paymentHash).status).toBe('SUCCEEDED');
		expect(restored.lookupInvoice('s', inv.paymentHash).state).toBe('SETTLED');
		expect(restored.node('s').pubkey).toBe(net.node('s').pubkey);
		expect(restored.blockHeight).toBe(net.blockHeight);
	});

	it('is deterministic for a given seed and clock', () => {
		const a = makeNet().net;
		const b = makeNet().net;
		for (const n of [a, b]) buildHubTopology(n, ['v', 's']);
		expect(a.addInvoice('s', { valueMsat: 1n }).paymentRequest).toBe(
			b.addInvoice('s', { valueMsat: 1n }).paymentRequest
		);
	});
});

describe('SimnetNode (LightningNode port)', () => {
	it('pays over the hub, streaming in_flight then succeeded, and the watcher sees settlement', async () => {
		const net = new Simnet({ random: seededRandomBytes('port'), settleDelayMs: 5 });
		buildHubTopology(net, ['vehicle-1', 'station-1']);
		const station = new SimnetNode(net, 'station-1');
		const vehicle = new SimnetNode(net, 'vehicle-1');
		expect((await station.getInfo()).network).toBe('regtest');
		const created = await station.createInvoice({
			amountMsat: 12_000_000n,
			descriptionHash: rec,
			expirySeconds: 600
		});
		const watched: string[] = [];
		const settled = new Promise<void>((resolve) =>
			station.watchInvoice(created.paymentHash, (s) => {
				watched.push(s.state);
				if (s.state === 'settled') resolve();
			})
		);
		const updates: string[] = [];
		const final = await vehicle.pay(
			{ paymentRequest: created.paymentRequest, feeLimitMsat: 5_000n, timeoutSeconds: 30 },
			(u) => updates.push(u.status)
		);
		await settled;
		expect(updates).toEqual(['in_flight', 'succeeded']);
		expect(watched).toEqual(['open', 'settled']);
		expect(final).toMatchObject({ status: 'succeeded', feeMsat: 1012n, valueMsat: 12_000_000n });
		expect(bytesToHex(sha256(hexToBytes(final.preimage!)))).toBe(created.paymentHash);
		expect((await vehicle.trackPayment(created.paymentHash)).status).toBe('succeeded');
		const again = await vehicle.pay({
			paymentRequest: created.paymentRequest,
			feeLimitMsat: 5_000n,
			timeoutSeconds: 30
		});
		expect(again).toMatchObject({ status: 'failed', failureReason: 'already_paid' });
		const channels = await vehicle.listChannels();
		expect(channels[0]).toMatchObject({ active: true, pending: false, reserveSat: 20_000n });
		await expect(vehicle.lookupInvoice('00'.repeat(32))).rejects.toMatchObject({
			code: 'not_found'
		});
		await expect(vehicle.decodePaymentRequest('lnbc1xyz')).rejects.toMatchObject({
			code: 'invalid_request'
		});
	});

	it('reports a failed payment with the port reason', async () => {
		const net = new Simnet({ random: seededRandomBytes('port2'), settleDelayMs: 0 });
		buildHubTopology(net, ['v', 's'], { channelSat: 100_000n });
		const inv = await new SimnetNode(net, 's').createInvoice({
			amountMsat: 90_000_000n,
			expirySeconds: 60
		});
		const result = await new SimnetNode(net, 'v').pay({
			paymentRequest: inv.paymentRequest,
			feeLimitMsat: 1000n,
			timeoutSeconds: 5
		});
		expect(result).toMatchObject({ status: 'failed', failureReason: 'insufficient_balance' });
		const p: SimPayment = net.getPayment('v', inv.paymentHash);
		expect(p.failureReason).toBe('FAILURE_REASON_INSUFFICIENT_BALANCE');
	});

	it('makes invoices the independent npm bolt11 package decodes and verifies', async () => {
		const net = new Simnet({ random: seededRandomBytes('npm bolt11') });
		buildHubTopology(net, ['v', 's']);
		const regtest = {
			bech32: 'bcrt',
			pubKeyHash: 0x6f,
			scriptHash: 0xc4,
			validWitnessVersions: [0, 1]
		};
		for (const amountMsat of [1n, 31_000n, 12_345_678n, 2_500_000_000n]) {
			const created = await new SimnetNode(net, 's').createInvoice({
				amountMsat,
				descriptionHash: rec,
				expirySeconds: 900
			});
			const other = bolt11.decode(created.paymentRequest, regtest);
			// bolt11 recovers the signer from the signature and checks it against the n tag.
			expect(other.complete).toBe(true);
			expect(other.payeeNodeKey).toBe(net.node('s').pubkey);
			expect(other.millisatoshis).toBe(amountMsat.toString());
			expect(other.tagsObject.payment_hash).toBe(created.paymentHash);
			expect(other.tagsObject.purpose_commit_hash).toBe(rec);
			expect(other.timeExpireDate).toBe(other.timestamp! + 900);
			expect(other.network?.bech32).toBe('bcrt');
			// A signature by another key is caught by the independent decoder too.
			const inv = net.lookupInvoice('s', created.paymentHash);
			const forged = encodeBolt11(
				{
					...decodeBolt11(inv.paymentRequest),
					network: 'regtest',
					paymentSecret: inv.paymentAddr,
					includePayeeKey: false
				},
				net.node('v').privateKey
			);
			expect(bolt11.decode(forged, regtest).payeeNodeKey).toBe(net.node('v').pubkey);
		}
	});
});
