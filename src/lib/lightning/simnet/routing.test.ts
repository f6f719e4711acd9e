// Indexed routing, lazy pubkeys and keysend: the parts of the simnet that let the fleet simulator
// run a city (tens of thousands of spokes on one hub) without scanning every channel per payment.
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
	Simnet,
	buildHubTopology,
	routingFeeMsat,
	seededRandomBytes,
	type SimChannel
} from './index';

function makeNet(seed = 'routing test') {
	const queue: (() => void)[] = [];
	const net = new Simnet({
		now: () => 1_800_000_000_000,
		random: seededRandomBytes(seed),
		schedule: (run) => void queue.push(run)
	});
	const flush = () => {
		while (queue.length) queue.shift()!();
	};
	return { net, flush };
}

/**
 * The cheapest amount `from` must send for `to` to receive `amountMsat`, by exhaustive search over
 * every simple path (the oracle for the indexed Dijkstra). Null when no path has the liquidity.
 */
function cheapestByBruteForce(
	net: Simnet,
	from: string,
	to: string,
	amountMsat: bigint
): bigint | null {
	let best: bigint | null = null;
	const visit = (at: string, amountAt: bigint, seen: Set<string>) => {
		// Walk backwards from the payee: `amountAt` is what `at` must receive.
		for (const channel of net.channelsOf(at)) {
			if (net.isPending(channel)) continue;
			const sender = net.otherEnd(channel, at);
			if (seen.has(sender) || net.spendableMsat(channel, sender) < amountAt) continue;
			if (sender === from) {
				if (best === null || amountAt < best) best = amountAt;
				continue;
			}
			const node = net.node(sender);
			seen.add(sender);
			visit(sender, amountAt + routingFeeMsat(amountAt, node.baseFeeMsat, node.feePpm), seen);
			seen.delete(sender);
		}
	};
	visit(to, amountMsat, new Set([to]));
	return best;
}

describe('simnet routing index', () => {
	it('finds the same cheapest route as an exhaustive search on random networks', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 3, max: 7 }),
				fc.array(
					fc.tuple(
						fc.nat(6),
						fc.nat(6),
						fc.integer({ min: 20_000, max: 400_000 }),
						fc.integer({ min: 0, max: 100 })
					),
					{ minLength: 2, maxLength: 12 }
				),
				fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 5000 })), {
					minLength: 7,
					maxLength: 7
				}),
				fc.integer({ min: 1_000, max: 150_000_000 }),
				(n, edges, fees, amount) => {
					const { net } = makeNet();
					const names = Array.from({ length: n }, (_, i) => `n${i}`);
					names.forEach((name, i) =>
						net.createNode(name, {
							onchainSat: 10_000_000n,
							baseFeeMsat: BigInt(fees[i]![0]),
							feePpm: BigInt(fees[i]![1])
						})
					);
					for (const [a, b, capacity, pushPct] of edges) {
						const from = names[a % n]!;
						const to = names[b % n]!;
						if (from === to) continue;
						const cap = BigInt(capacity);
						net.openChannel(from, to, cap, (cap * BigInt(Math.min(pushPct, 99))) / 100n);
					}
					net.mineBlocks(3);
					const amountMsat = BigInt(amount);
					for (const to of names.slice(1)) {
						const route = net.findRoute('n0', to, amountMsat);
						const expected = cheapestByBruteForce(net, 'n0', to, amountMsat);
						expect(route === null ? null : route[0]!.amountMsat).toBe(expected);
					}
				}
			),
			{ numRuns: 300 }
		);
	});

	it('routes through a spoke that opened a second channel later (it became a transit node)', () => {
		const { net } = makeNet();
		buildHubTopology(net, ['a', 'b', 'c'], { channelSat: 1_000_000n });
		net.createNode('d');
		net.fund('c', 500_000n);
		net.openChannel('c', 'd', 400_000n, 100_000n);
		net.mineBlocks(3);
		expect(net.findRoute('a', 'd', 1_000_000n)!.map((h) => h.to)).toEqual(['hub', 'c', 'd']);
	});

	it('takes a cheaper second hub when it has the liquidity, the hub otherwise', () => {
		const { net } = makeNet();
		buildHubTopology(net, ['a', 'b'], { channelSat: 1_000_000n });
		net.setFeePolicy('hub', 50_000n, 0n);
		net.createNode('hub2', { onchainSat: 5_000_000n, baseFeeMsat: 10n, feePpm: 0n });
		net.fund('a', 1_000_000n);
		net.openChannel('a', 'hub2', 500_000n, 250_000n);
		net.openChannel('hub2', 'b', 500_000n, 250_000n);
		net.mineBlocks(3);
		const route = net.findRoute('a', 'b', 1_000_000n)!;
		expect(route.map((h) => h.to)).toEqual(['hub2', 'b']);
		expect(route[0]!.amountMsat).toBe(1_000_010n);
		expect(net.findRoute('a', 'b', 400_000_000n)!.map((h) => h.to)).toEqual(['hub', 'b']);
	});

	it('pays between spokes of a 5,000-spoke hub, each payment touching only its own channels', () => {
		const { net, flush } = makeNet();
		const spokes = Array.from({ length: 5000 }, (_, i) => `s${i}`);
		buildHubTopology(net, spokes, { channelSat: 100_000n });
		let touched = 0;
		const original = net.spendableMsat.bind(net);
		net.spendableMsat = (c: SimChannel, name: string) => {
			touched++;
			return original(c, name);
		};
		const invoice = net.addInvoice('s4999', { valueMsat: 10_000_000n });
		const payment = net.sendPayment('s0', {
			paymentRequest: invoice.paymentRequest,
			feeLimitMsat: 10_000n,
			timeoutSeconds: 30
		});
		flush();
		expect(payment).toMatchObject({ status: 'SUCCEEDED', route: ['s0', 'hub', 's4999'] });
		// The payer's channel, the payee's and the hub's channel to the payer: not the hub's 5,000.
		expect(touched).toBeLessThan(10);
	});
});

describe('simnet nodes', () => {
	it('finds a node by pubkey whether or not its pubkey was asked for before', () => {
		const { net } = makeNet();
		const a = net.createNode('a');
		const b = net.createNode('b');
		const bKey = b.pubkey;
		expect(net.nodeByPubkey(bKey)).toBe(b);
		const fresh = new Simnet({ random: seededRandomBytes('routing test') });
		const a2 = fresh.createNode('a');
		expect(fresh.nodeByPubkey(a.pubkey)).toBe(a2);
		expect(fresh.nodeByPubkey(a.pubkey.toUpperCase())).toBe(a2);
		expect(fresh.nodeByPubkey(`02${'00'.repeat(32)}`)).toBeUndefined();
		// The pubkey survives a round trip through the persisted state.
		expect(Simnet.fromJSON(JSON.parse(JSON.stringify(net.toJSON()))).nodeByPubkey(bKey)?.name).toBe(
			'b'
		);
	});
});

describe('keysend', () => {
	it('pays a node that accepts keysend, with the hub fee, and reveals the payer-chosen preimage', () => {
		const { net, flush } = makeNet();
		net.createNode('station', { acceptKeysend: true });
		buildHubTopology(net, ['car', 'station'], { channelSat: 1_000_000n });
		net.setFeePolicy('hub', 1000n, 1n);
		const preimage = '42'.repeat(32);
		const payment = net.sendKeysend('car', {
			dest: net.node('station').pubkey,
			amtMsat: 20_000_000n,
			preimage,
			feeLimitMsat: 5_000n,
			timeoutSeconds: 30
		});
		expect(payment).toMatchObject({ status: 'IN_FLIGHT', preimage: '' });
		flush();
		const fee = 1000n + 20n;
		expect(payment).toMatchObject({
			status: 'SUCCEEDED',
			feeMsat: fee,
			preimage,
			route: ['car', 'hub', 'station']
		});
		const hash = bytesToHex(sha256(hexToBytes(preimage)));
		expect(payment.paymentHash).toBe(hash);
		expect(net.lookupInvoice('station', hash)).toMatchObject({
			state: 'SETTLED',
			isKeysend: true,
			amtPaidMsat: 20_000_000n,
			paymentRequest: ''
		});
		expect(() =>
			net.sendKeysend('car', {
				dest: net.node('station').pubkey,
				amtMsat: 1n,
				preimage,
				feeLimitMsat: 5_000n,
				timeoutSeconds: 30
			})
		).toThrow(/already paid/);
	});

	it('fails at a node that does not accept keysend, and refuses bad requests before sending', () => {
		const { net, flush } = makeNet();
		buildHubTopology(net, ['car', 'station'], { channelSat: 1_000_000n });
		const dest = net.node('station').pubkey;
		const payment = net.sendKeysend('car', {
			dest,
			amtMsat: 1_000_000n,
			preimage: '07'.repeat(32),
			feeLimitMsat: 5_000n,
			timeoutSeconds: 30
		});
		flush();
		expect(payment).toMatchObject({
			status: 'FAILED',
			failureReason: 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS'
		});
		expect(net.balances('car').localMsat).toBe(500_000_000n);
		const ok = {
			dest,
			amtMsat: 1n,
			preimage: '08'.repeat(32),
			feeLimitMsat: 0n,
			timeoutSeconds: 30
		};
		expect(() => net.sendKeysend('car', { ...ok, preimage: 'zz' })).toThrow(
			/preimage must be 32 bytes/
		);
		expect(() => net.sendKeysend('car', { ...ok, dest: 'nope' })).toThrow(/compressed public key/);
		expect(() => net.sendKeysend('car', { ...ok, amtMsat: 0n })).toThrow(
			/amount must be specified/
		);
		expect(() => net.sendKeysend('car', { ...ok, dest: net.node('car').pubkey })).toThrow(
			/self-payments/
		);
	});
});
