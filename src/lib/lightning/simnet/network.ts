// An in-memory Lightning network for the devnet and the fleet simulator: nodes with real
// secp256k1 keys, channels with reserves that confirm after blocks are mined, routing with
// LND-style fees, BOLT11 invoices on `bcrt`, and payments that go in flight before they settle.
// Pure TypeScript (browser + Node); time, randomness and scheduling can be injected.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { Bolt11Error, decodeBolt11, type DecodedBolt11 } from '../bolt11';
import { encodeBolt11, nodePubkey } from './bolt11-encode';
import { cryptoRandomBytes, type RandomBytes } from './random';
import { Emitter } from '../../core';
import {
	channelReserveSat,
	DEFAULT_INVOICE_EXPIRY,
	MIN_CHANNEL_SIZE_SAT,
	MIN_FINAL_CLTV,
	routingFeeMsat,
	SimnetError,
	type AddInvoiceRequest,
	type CreateNodeOptions,
	type Hop,
	type SendKeysendRequest,
	type SendPaymentRequest,
	type SimChannel,
	type SimFailureReason,
	type SimInvoice,
	type SimnetEvent,
	type SimnetOptions,
	type SimnetState,
	type SimNode,
	type SimPayment
} from './types';

export class Simnet {
	private readonly nodes = new Map<string, SimNode>();
	private readonly channels: SimChannel[] = [];
	/** Indexes for networks of tens of thousands of nodes (the fleet simulator's hub). */
	private readonly channelsByNode = new Map<string, SimChannel[]>();
	/** For each node, its neighbours that have other neighbours too: the only ones a route can pass through. */
	private readonly transitNeighbours = new Map<string, Set<string>>();
	private readonly neighbours = new Map<string, Set<string>>();
	private readonly byPubkey = new Map<string, SimNode>();
	/** Keysend preimages of payments in flight (the payer's secret until the payee settles). */
	private readonly keysendPreimages = new Map<string, string>();
	/** Keyed by `${node}:${paymentHash}`. */
	private readonly invoices = new Map<string, SimInvoice>();
	/**
	 * The invoices this network issued, by their exact text. Paying one needs no decoding: the
	 * simnet is every payee's invoice registry, so it knows what it signed (by design, as a real
	 * node knows its own invoices). Any other text is decoded and its signature verified.
	 */
	private readonly issued = new Map<string, SimInvoice>();
	private readonly payments = new Map<string, SimPayment>();
	// A failing listener must not break the network or other listeners.
	private readonly events = new Emitter<[SimnetEvent]>({ onListenerError: () => {} });
	private height: number;
	private nextChanIndex = 1;

	private readonly now: () => number;
	private readonly random: RandomBytes;
	private readonly schedule: (run: () => void, delayMs: number) => void;
	private readonly settleDelayMs: number;
	readonly confirmations: number;
	private readonly defaultBaseFeeMsat: bigint;
	private readonly defaultFeePpm: bigint;

	constructor(options: SimnetOptions = {}) {
		this.now = options.now ?? (() => Date.now());
		this.random = options.random ?? cryptoRandomBytes;
		this.schedule = options.schedule ?? ((run, ms) => void setTimeout(run, ms));
		this.settleDelayMs = options.settleDelayMs ?? 20;
		this.confirmations = options.confirmations ?? 3;
		this.defaultBaseFeeMsat = options.defaultBaseFeeMsat ?? 1000n;
		this.defaultFeePpm = options.defaultFeePpm ?? 1n;
		this.height = options.startHeight ?? 100;
	}

	// ---------- events ----------

	/** Listens to every change (for streams and persistence). Returns an unsubscribe function. */
	subscribe(listener: (e: SimnetEvent) => void): () => void {
		return this.events.on(listener);
	}

	private emit(event: SimnetEvent): void {
		this.events.emit(event);
	}

	// ---------- nodes ----------

	get blockHeight(): number {
		return this.height;
	}

	nowSeconds(): number {
		return Math.floor(this.now() / 1000);
	}

	createNode(name: string, options: CreateNodeOptions = {}): SimNode {
		if (!/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(name)) {
			throw new SimnetError(
				'invalid_request',
				`Node name "${name}" must be 1-63 letters, digits, dots, dashes or underscores.`
			);
		}
		if (this.nodes.has(name))
			throw new SimnetError('invalid_request', `A node named "${name}" already exists.`);
		const privateKey = options.privateKey ?? this.newPrivateKey();
		if (!secp256k1.utils.isValidSecretKey(hexToBytes(privateKey))) {
			throw new SimnetError(
				'invalid_request',
				'The private key is not a valid secp256k1 secret key.'
			);
		}
		const node = this.withLazyPubkey({
			name,
			alias: options.alias ?? name,
			privateKey,
			onchainSat: options.onchainSat ?? 0n,
			baseFeeMsat: options.baseFeeMsat ?? this.defaultBaseFeeMsat,
			feePpm: options.feePpm ?? this.defaultFeePpm,
			...(options.acceptKeysend ? { acceptKeysend: true } : {}),
			nextAddIndex: 1,
			nextSettleIndex: 1,
			nextPaymentIndex: 1
		});
		this.nodes.set(name, node);
		this.emit({ type: 'node', node: name });
		return node;
	}

	/**
	 * The pubkey is derived on first use (a scalar multiplication, ~0.5 ms): a simulated city
	 * creates tens of thousands of nodes whose pubkeys are never asked for.
	 */
	private withLazyPubkey(fields: Omit<SimNode, 'pubkey'>): SimNode {
		let pubkey: string | undefined;
		const index = this.byPubkey;
		const node = fields as SimNode;
		Object.defineProperty(node, 'pubkey', {
			enumerable: true,
			get(): string {
				if (pubkey === undefined) {
					pubkey = nodePubkey(node.privateKey);
					index.set(pubkey, node);
				}
				return pubkey;
			}
		});
		return node;
	}

	private newPrivateKey(): string {
		for (;;) {
			const candidate = this.random(32);
			if (secp256k1.utils.isValidSecretKey(candidate)) return bytesToHex(candidate);
		}
	}

	node(name: string): SimNode {
		const node = this.nodes.get(name);
		if (!node) throw new SimnetError('not_found', `There is no node named "${name}".`);
		return node;
	}

	nodeByPubkey(pubkey: string): SimNode | undefined {
		const key = pubkey.toLowerCase();
		const known = this.byPubkey.get(key);
		if (known) return known;
		// Not derived yet: derive the rest (each node once, ever).
		for (const node of this.nodes.values()) if (node.pubkey === key) return node;
		return undefined;
	}

	listNodes(): SimNode[] {
		return [...this.nodes.values()];
	}

	/** Adds on-chain funds to a node's wallet (a faucet). */
	fund(name: string, sat: bigint): SimNode {
		if (sat <= 0n)
			throw new SimnetError('invalid_request', 'Funding must be a positive number of satoshis.');
		const node = this.node(name);
		node.onchainSat += sat;
		this.emit({ type: 'node', node: name });
		return node;
	}

	setFeePolicy(name: string, baseFeeMsat: bigint, feePpm: bigint): void {
		if (baseFeeMsat < 0n || feePpm < 0n)
			throw new SimnetError('invalid_request', 'Fees cannot be negative.');
		const node = this.node(name);
		node.baseFeeMsat = baseFeeMsat;
		node.feePpm = feePpm;
		this.emit({ type: 'node', node: name });
	}

	// ---------- chain ----------

	mineBlocks(count: number): number {
		if (!Number.isInteger(count) || count < 1 || count > 10_000) {
			throw new SimnetError('invalid_request', 'Mine between 1 and 10,000 blocks at a time.');
		}
		const becameActive = this.channels.filter((c) => this.isPending(c));
		this.height += count;
		this.emit({ type: 'block', height: this.height });
		for (const channel of becameActive)
			if (!this.isPending(channel)) this.emit({ type: 'channel', channel });
		return this.height;
	}

	// ---------- channels ----------

	isPending(channel: SimChannel): boolean {
		return this.height - channel.openedAtHeight < channel.confirmationsNeeded;
	}

	/** Opens a channel funded by `from`; usable after `confirmations` blocks are mined. */
	openChannel(from: string, to: string, capacitySat: bigint, pushSat = 0n): SimChannel {
		const funder = this.node(from);
		const peer = this.node(to);
		if (funder === peer)
			throw new SimnetError('invalid_request', 'A node cannot open a channel to itself.');
		if (capacitySat < MIN_CHANNEL_SIZE_SAT) {
			throw new SimnetError(
				'invalid_request',
				`A channel needs at least ${MIN_CHANNEL_SIZE_SAT} sat (asked for ${capacitySat}).`
			);
		}
		if (pushSat < 0n || pushSat >= capacitySat) {
			throw new SimnetError(
				'invalid_request',
				'The amount pushed to the peer must be below the channel size.'
			);
		}
		if (funder.onchainSat < capacitySat) {
			throw new SimnetError(
				'insufficient_funds',
				`Node "${from}" has ${funder.onchainSat} sat on chain, not enough to fund a ${capacitySat} sat channel.`
			);
		}
		funder.onchainSat -= capacitySat;
		const txid = bytesToHex(this.random(32));
		const channel: SimChannel = {
			// LND's short channel id: block height << 40 | tx index << 16 | output index.
			chanId: (
				(BigInt(this.height + this.confirmations) << 40n) |
				(BigInt(this.nextChanIndex++) << 16n)
			).toString(),
			channelPoint: `${txid}:0`,
			initiator: from,
			peer: to,
			capacitySat,
			initiatorMsat: (capacitySat - pushSat) * 1000n,
			peerMsat: pushSat * 1000n,
			openedAtHeight: this.height,
			confirmationsNeeded: this.confirmations,
			totalSatoshisSent: 0n,
			totalSatoshisReceived: 0n,
			numUpdates: 0
		};
		this.addChannel(channel);
		this.emit({ type: 'channel', channel });
		this.emit({ type: 'node', node: from });
		return channel;
	}

	private addChannel(channel: SimChannel): void {
		this.channels.push(channel);
		const ends = [channel.initiator, channel.peer] as const;
		for (const name of ends) {
			let list = this.channelsByNode.get(name);
			if (!list) this.channelsByNode.set(name, (list = []));
			list.push(channel);
		}
		const [a, b] = ends;
		this.addNeighbour(a, b);
		this.addNeighbour(b, a);
	}

	private addNeighbour(name: string, neighbour: string): void {
		let set = this.neighbours.get(name);
		if (!set) this.neighbours.set(name, (set = new Set()));
		if (set.has(neighbour)) return;
		set.add(neighbour);
		if (set.size === 2) {
			// `name` just became a node a route can pass through: tell all its neighbours.
			for (const n of set) this.transitOf(n).add(name);
		} else if (set.size > 2) {
			this.transitOf(neighbour).add(name);
		}
	}

	private transitOf(name: string): Set<string> {
		let set = this.transitNeighbours.get(name);
		if (!set) this.transitNeighbours.set(name, (set = new Set()));
		return set;
	}

	channelsOf(name: string): SimChannel[] {
		this.node(name);
		return [...(this.channelsByNode.get(name) ?? [])];
	}

	/** Channels between two nodes. */
	private channelsBetween(a: string, b: string): SimChannel[] {
		const list = this.channelsByNode.get(a) ?? [];
		const other = this.channelsByNode.get(b) ?? [];
		// Scan the shorter list: a spoke has one channel, the hub tens of thousands.
		const [scan, name] = list.length <= other.length ? [list, b] : [other, a];
		return scan.filter((c) => c.initiator === name || c.peer === name);
	}

	/** This node's balance in a channel, in msat. */
	localMsat(channel: SimChannel, name: string): bigint {
		return channel.initiator === name ? channel.initiatorMsat : channel.peerMsat;
	}

	remoteMsat(channel: SimChannel, name: string): bigint {
		return channel.initiator === name ? channel.peerMsat : channel.initiatorMsat;
	}

	otherEnd(channel: SimChannel, name: string): string {
		return channel.initiator === name ? channel.peer : channel.initiator;
	}

	/** What `name` can still send over the channel without going below its reserve. */
	spendableMsat(channel: SimChannel, name: string): bigint {
		const spendable =
			this.localMsat(channel, name) - channelReserveSat(channel.capacitySat) * 1000n;
		return spendable > 0n ? spendable : 0n;
	}

	balances(name: string): {
		localMsat: bigint;
		remoteMsat: bigint;
		pendingLocalMsat: bigint;
		pendingRemoteMsat: bigint;
	} {
		let localMsat = 0n;
		let remoteMsat = 0n;
		let pendingLocalMsat = 0n;
		let pendingRemoteMsat = 0n;
		for (const c of this.channelsOf(name)) {
			if (this.isPending(c)) {
				pendingLocalMsat += this.localMsat(c, name);
				pendingRemoteMsat += this.remoteMsat(c, name);
			} else {
				localMsat += this.localMsat(c, name);
				remoteMsat += this.remoteMsat(c, name);
			}
		}
		return { localMsat, remoteMsat, pendingLocalMsat, pendingRemoteMsat };
	}

	// ---------- invoices ----------

	addInvoice(name: string, req: AddInvoiceRequest): SimInvoice {
		const node = this.node(name);
		if (req.valueMsat < 0n)
			throw new SimnetError('invalid_request', 'An invoice amount cannot be negative.');
		if (req.descriptionHash !== undefined && !/^[0-9a-f]{64}$/i.test(req.descriptionHash)) {
			throw new SimnetError('invalid_request', 'The description hash must be 32 bytes.');
		}
		const expiry = req.expiry ?? DEFAULT_INVOICE_EXPIRY;
		if (!Number.isInteger(expiry) || expiry < 1 || expiry > 365 * 86_400) {
			throw new SimnetError(
				'invalid_request',
				'The invoice expiry must be between 1 second and one year.'
			);
		}
		// Derived (and indexed) now: whoever pays this invoice finds the payee by its key.
		void node.pubkey;
		const preimage = bytesToHex(this.random(32));
		const paymentHash = bytesToHex(sha256(hexToBytes(preimage)));
		const paymentAddr = bytesToHex(this.random(32));
		const creationDate = this.nowSeconds();
		const memo = req.memo ?? '';
		const paymentRequest = encodeBolt11(
			{
				network: 'regtest',
				amountMsat: req.valueMsat === 0n ? null : req.valueMsat,
				timestamp: creationDate,
				paymentHash,
				paymentSecret: paymentAddr,
				...(req.descriptionHash !== undefined
					? { descriptionHash: req.descriptionHash.toLowerCase() }
					: { description: memo }),
				expirySeconds: expiry,
				minFinalCltvExpiry: MIN_FINAL_CLTV,
				features: [8, 14, 17]
			},
			node.privateKey
		);
		const invoice: SimInvoice = {
			node: name,
			memo,
			preimage,
			paymentHash,
			paymentRequest,
			paymentAddr,
			valueMsat: req.valueMsat,
			creationDate,
			expiry,
			state: 'OPEN',
			amtPaidMsat: 0n,
			settleDate: 0,
			addIndex: node.nextAddIndex++,
			settleIndex: 0,
			cltvExpiry: MIN_FINAL_CLTV
		};
		if (req.descriptionHash !== undefined)
			invoice.descriptionHash = req.descriptionHash.toLowerCase();
		this.invoices.set(`${name}:${paymentHash}`, invoice);
		this.issued.set(paymentRequest, invoice);
		this.emit({ type: 'invoice', invoice });
		return invoice;
	}

	/** Returns the invoice, first canceling it if it expired unpaid (as LND's registry does). */
	lookupInvoice(name: string, paymentHash: string): SimInvoice {
		this.node(name);
		const invoice = this.invoices.get(`${name}:${paymentHash.toLowerCase()}`);
		if (!invoice) throw new SimnetError('not_found', 'unable to locate invoice');
		this.expireIfDue(invoice);
		return invoice;
	}

	listInvoices(name: string): SimInvoice[] {
		this.node(name);
		const list = [...this.invoices.values()].filter((i) => i.node === name);
		for (const invoice of list) this.expireIfDue(invoice);
		return list.sort((a, b) => a.addIndex - b.addIndex);
	}

	private expireIfDue(invoice: SimInvoice): void {
		if (invoice.state === 'OPEN' && this.nowSeconds() >= invoice.creationDate + invoice.expiry) {
			invoice.state = 'CANCELED';
			this.emit({ type: 'invoice', invoice });
		}
	}

	cancelInvoice(name: string, paymentHash: string): SimInvoice {
		const invoice = this.lookupInvoice(name, paymentHash);
		if (invoice.state === 'SETTLED')
			throw new SimnetError('invalid_request', 'invoice already settled');
		invoice.state = 'CANCELED';
		this.emit({ type: 'invoice', invoice });
		return invoice;
	}

	// ---------- payments ----------

	/** What a payment needs of its invoice: the network's own record, or the decoded (verified) text. */
	private payable(
		paymentRequest: string
	): Pick<DecodedBolt11, 'network' | 'amountMsat' | 'expiresAt' | 'payee' | 'paymentHash'> {
		const own = this.issued.get(paymentRequest);
		if (!own) return this.decode(paymentRequest);
		return {
			network: 'regtest',
			amountMsat: own.valueMsat === 0n ? null : own.valueMsat,
			expiresAt: own.creationDate + own.expiry,
			payee: this.node(own.node).pubkey,
			paymentHash: own.paymentHash
		};
	}

	decode(paymentRequest: string): DecodedBolt11 {
		try {
			return decodeBolt11(paymentRequest);
		} catch (e) {
			throw new SimnetError('invalid_request', e instanceof Bolt11Error ? e.message : String(e));
		}
	}

	getPayment(name: string, paymentHash: string): SimPayment {
		this.node(name);
		const payment = this.payments.get(`${name}:${paymentHash.toLowerCase()}`);
		if (!payment) throw new SimnetError('not_found', "payment isn't initiated");
		return payment;
	}

	listPayments(name: string): SimPayment[] {
		this.node(name);
		return [...this.payments.values()]
			.filter((p) => p.node === name)
			.sort((a, b) => a.paymentIndex - b.paymentIndex);
	}

	/**
	 * Starts a payment: validates it (throwing `SimnetError` for what LND refuses outright), records
	 * it IN_FLIGHT and decides its outcome `settleDelayMs` later. Follow it with `subscribe`.
	 */
	sendPayment(name: string, req: SendPaymentRequest): SimPayment {
		const payer = this.node(name);
		const invoice = this.payable(req.paymentRequest);
		if (invoice.network !== 'regtest') {
			throw new SimnetError('invalid_request', `invoice not for current active network 'regtest'`);
		}
		if (req.timeoutSeconds <= 0)
			throw new SimnetError('invalid_request', 'timeout_seconds must be greater than 0');
		if (req.feeLimitMsat < 0n)
			throw new SimnetError('invalid_request', 'The fee limit cannot be negative.');
		let valueMsat: bigint;
		if (invoice.amountMsat === null) {
			if (req.amtMsat === undefined || req.amtMsat <= 0n) {
				throw new SimnetError(
					'invalid_request',
					'amount must be specified when paying a zero amount invoice'
				);
			}
			valueMsat = req.amtMsat;
		} else {
			if (req.amtMsat !== undefined && req.amtMsat !== 0n && req.amtMsat !== invoice.amountMsat) {
				throw new SimnetError(
					'invalid_request',
					'amount must not be specified when paying a non-zero amount invoice'
				);
			}
			valueMsat = invoice.amountMsat;
		}
		if (this.nowSeconds() >= invoice.expiresAt) {
			throw new SimnetError(
				'expired',
				`invoice expired. Valid until ${new Date(invoice.expiresAt * 1000).toISOString()}`
			);
		}
		if (invoice.payee === payer.pubkey)
			throw new SimnetError('invalid_request', 'no self-payments allowed');
		const key = `${name}:${invoice.paymentHash}`;
		const previous = this.payments.get(key);
		if (previous?.status === 'SUCCEEDED')
			throw new SimnetError('already_paid', 'invoice is already paid');
		if (previous?.status === 'IN_FLIGHT')
			throw new SimnetError('in_flight', 'payment is in transition');

		const payment: SimPayment = {
			node: name,
			paymentHash: invoice.paymentHash,
			paymentRequest: req.paymentRequest,
			valueMsat,
			feeMsat: 0n,
			feeLimitMsat: req.feeLimitMsat,
			status: 'IN_FLIGHT',
			failureReason: 'FAILURE_REASON_NONE',
			preimage: '',
			creationTimeNs: BigInt(this.now()) * 1_000_000n,
			paymentIndex: previous?.paymentIndex ?? payer.nextPaymentIndex++,
			route: []
		};
		this.payments.set(key, payment);
		this.emit({ type: 'payment', payment });
		this.schedule(() => this.resolvePayment(payment, invoice.payee), this.settleDelayMs);
		return payment;
	}

	/**
	 * A spontaneous payment: no invoice, the payer picks the preimage and the payee settles it if
	 * it accepts keysend (LND: SendPaymentV2 with `dest` and record 5482373484; `--accept-keysend`).
	 */
	sendKeysend(name: string, req: SendKeysendRequest): SimPayment {
		const payer = this.node(name);
		if (!/^[0-9a-f]{64}$/i.test(req.preimage))
			throw new SimnetError('invalid_request', 'The keysend preimage must be 32 bytes.');
		if (!/^0[23][0-9a-f]{64}$/i.test(req.dest))
			throw new SimnetError('invalid_request', 'The destination must be a compressed public key.');
		if (req.amtMsat <= 0n)
			throw new SimnetError(
				'invalid_request',
				'amount must be specified when paying a zero amount invoice'
			);
		if (req.timeoutSeconds <= 0)
			throw new SimnetError('invalid_request', 'timeout_seconds must be greater than 0');
		if (req.feeLimitMsat < 0n)
			throw new SimnetError('invalid_request', 'The fee limit cannot be negative.');
		const payee = this.nodeByPubkey(req.dest);
		if (payee === payer) throw new SimnetError('invalid_request', 'no self-payments allowed');
		const paymentHash = bytesToHex(sha256(hexToBytes(req.preimage)));
		const key = `${name}:${paymentHash}`;
		const previous = this.payments.get(key);
		if (previous?.status === 'SUCCEEDED')
			throw new SimnetError('already_paid', 'invoice is already paid');
		if (previous?.status === 'IN_FLIGHT')
			throw new SimnetError('in_flight', 'payment is in transition');
		const payment: SimPayment = {
			node: name,
			paymentHash,
			paymentRequest: '',
			valueMsat: req.amtMsat,
			feeMsat: 0n,
			feeLimitMsat: req.feeLimitMsat,
			status: 'IN_FLIGHT',
			failureReason: 'FAILURE_REASON_NONE',
			preimage: '',
			creationTimeNs: BigInt(this.now()) * 1_000_000n,
			paymentIndex: previous?.paymentIndex ?? payer.nextPaymentIndex++,
			route: []
		};
		this.payments.set(key, payment);
		this.keysendPreimages.set(key, req.preimage.toLowerCase());
		this.emit({ type: 'payment', payment });
		this.schedule(() => this.resolvePayment(payment, req.dest.toLowerCase()), this.settleDelayMs);
		return payment;
	}

	/** The payee's side of a keysend: an invoice made on arrival, if the payee accepts keysend. */
	private keysendInvoice(payee: SimNode, payment: SimPayment): SimInvoice | undefined {
		const preimage = this.keysendPreimages.get(`${payment.node}:${payment.paymentHash}`);
		this.keysendPreimages.delete(`${payment.node}:${payment.paymentHash}`);
		if (preimage === undefined || !payee.acceptKeysend) return undefined;
		const now = this.nowSeconds();
		const invoice: SimInvoice = {
			node: payee.name,
			memo: '',
			preimage,
			paymentHash: payment.paymentHash,
			paymentRequest: '',
			paymentAddr: '',
			valueMsat: payment.valueMsat,
			creationDate: now,
			expiry: DEFAULT_INVOICE_EXPIRY,
			state: 'OPEN',
			amtPaidMsat: 0n,
			settleDate: 0,
			addIndex: payee.nextAddIndex++,
			settleIndex: 0,
			cltvExpiry: MIN_FINAL_CLTV,
			isKeysend: true
		};
		this.invoices.set(`${payee.name}:${payment.paymentHash}`, invoice);
		return invoice;
	}

	private fail(payment: SimPayment, reason: SimFailureReason, detail: string): void {
		this.keysendPreimages.delete(`${payment.node}:${payment.paymentHash}`);
		payment.status = 'FAILED';
		payment.failureReason = reason;
		payment.detail = detail;
		this.emit({ type: 'payment', payment });
	}

	private resolvePayment(payment: SimPayment, payeePubkey: string): void {
		if (payment.status !== 'IN_FLIGHT') return;
		const payee = this.nodeByPubkey(payeePubkey);
		if (!payee) {
			this.fail(payment, 'FAILURE_REASON_NO_ROUTE', 'The payee is not a node of this network.');
			return;
		}
		const outbound = (this.channelsByNode.get(payment.node) ?? [])
			.filter((c) => !this.isPending(c))
			.reduce(
				(max, c) =>
					this.spendableMsat(c, payment.node) > max ? this.spendableMsat(c, payment.node) : max,
				0n
			);
		if (outbound < payment.valueMsat) {
			this.fail(
				payment,
				'FAILURE_REASON_INSUFFICIENT_BALANCE',
				`The payer can send at most ${outbound} msat over one channel, less than the ${payment.valueMsat} msat asked.`
			);
			return;
		}
		const route = this.findRoute(payment.node, payee.name, payment.valueMsat);
		if (!route) {
			this.fail(
				payment,
				'FAILURE_REASON_NO_ROUTE',
				'No route has enough liquidity to reach the payee.'
			);
			return;
		}
		const feeMsat = (route[0]?.amountMsat ?? payment.valueMsat) - payment.valueMsat;
		if (feeMsat > payment.feeLimitMsat) {
			this.fail(
				payment,
				'FAILURE_REASON_NO_ROUTE',
				`The cheapest route costs ${feeMsat} msat in fees, above the limit of ${payment.feeLimitMsat} msat.`
			);
			return;
		}
		// The payee's invoice registry decides whether the final HTLC is accepted.
		const target =
			payment.paymentRequest === ''
				? this.keysendInvoice(payee, payment)
				: this.invoices.get(`${payee.name}:${payment.paymentHash}`);
		if (target) this.expireIfDue(target);
		// LND accepts up to twice the invoice amount and nothing less.
		const wrongAmount =
			target !== undefined &&
			(payment.valueMsat < target.valueMsat ||
				(target.valueMsat > 0n && payment.valueMsat > target.valueMsat * 2n));
		if (!target || target.state !== 'OPEN' || wrongAmount) {
			this.fail(
				payment,
				'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS',
				!target
					? 'The payee does not know this payment hash.'
					: target.state !== 'OPEN'
						? `The payee's invoice is ${target.state.toLowerCase()}.`
						: "The amount does not match the payee's invoice."
			);
			return;
		}
		for (const hop of route) {
			const { channel, from } = hop;
			if (channel.initiator === from) {
				channel.initiatorMsat -= hop.amountMsat;
				channel.peerMsat += hop.amountMsat;
			} else {
				channel.peerMsat -= hop.amountMsat;
				channel.initiatorMsat += hop.amountMsat;
			}
			const sat = hop.amountMsat / 1000n;
			channel.totalSatoshisSent += channel.initiator === from ? sat : 0n;
			channel.totalSatoshisReceived += channel.initiator === from ? 0n : sat;
			channel.numUpdates += 1;
		}
		target.state = 'SETTLED';
		target.amtPaidMsat = payment.valueMsat;
		target.settleDate = this.nowSeconds();
		target.settleIndex = payee.nextSettleIndex++;
		payment.status = 'SUCCEEDED';
		payment.feeMsat = feeMsat;
		payment.preimage = target.preimage;
		payment.route = [payment.node, ...route.map((h) => h.to)];
		for (const hop of route) this.emit({ type: 'channel', channel: hop.channel });
		this.emit({ type: 'invoice', invoice: target });
		this.emit({ type: 'payment', payment });
	}

	/**
	 * Cheapest route by total amount sent: Dijkstra backwards from the payee, where the amount a
	 * node must receive is what it forwards plus its fee (the payer pays no fee to itself).
	 */
	findRoute(from: string, to: string, amountMsat: bigint): Hop[] | null {
		const need = new Map<string, bigint>([[to, amountMsat]]);
		const next = new Map<string, Hop>();
		const done = new Set<string>();
		for (;;) {
			let current: string | undefined;
			let best: bigint | undefined;
			for (const [name, amount] of need) {
				if (!done.has(name) && (best === undefined || amount < best)) {
					current = name;
					best = amount;
				}
			}
			if (current === undefined || best === undefined) return null;
			if (current === from) break;
			done.add(current);
			for (const channel of this.routeCandidates(current, from)) {
				if (this.isPending(channel)) continue;
				const sender = this.otherEnd(channel, current);
				if (done.has(sender)) continue;
				if (this.spendableMsat(channel, sender) < best) continue;
				const node = this.node(sender);
				const amountAtSender =
					sender === from ? best : best + routingFeeMsat(best, node.baseFeeMsat, node.feePpm);
				const known = need.get(sender);
				if (known === undefined || amountAtSender < known) {
					need.set(sender, amountAtSender);
					next.set(sender, { channel, from: sender, to: current, amountMsat: best });
				}
			}
		}
		const hops: Hop[] = [];
		let at = from;
		while (at !== to) {
			const hop = next.get(at);
			if (!hop) return null;
			hops.push(hop);
			at = hop.to;
		}
		return hops;
	}

	/**
	 * Channels over which `current` can be reached on a route from `from`: those to `from` itself
	 * and to neighbours with other neighbours. A neighbour whose only neighbour is `current` is a
	 * dead end, so the hub's tens of thousands of spokes are never scanned (routing is O(1) on the
	 * hub topology instead of O(spokes)).
	 */
	private routeCandidates(current: string, from: string): SimChannel[] {
		const out = this.neighbours.get(current)?.has(from) ? this.channelsBetween(current, from) : [];
		for (const transit of this.transitNeighbours.get(current) ?? []) {
			if (transit !== from) out.push(...this.channelsBetween(current, transit));
		}
		return out;
	}

	// ---------- persistence ----------

	toJSON(): SimnetState {
		return {
			version: 1,
			height: this.height,
			nextChanIndex: this.nextChanIndex,
			nodes: [...this.nodes.values()].map((n) => ({
				...n,
				onchainSat: n.onchainSat.toString(),
				baseFeeMsat: n.baseFeeMsat.toString(),
				feePpm: n.feePpm.toString()
			})),
			channels: this.channels.map((c) => ({
				...c,
				capacitySat: c.capacitySat.toString(),
				initiatorMsat: c.initiatorMsat.toString(),
				peerMsat: c.peerMsat.toString(),
				totalSatoshisSent: c.totalSatoshisSent.toString(),
				totalSatoshisReceived: c.totalSatoshisReceived.toString()
			})),
			invoices: [...this.invoices.values()].map((i) => ({
				...i,
				valueMsat: i.valueMsat.toString(),
				amtPaidMsat: i.amtPaidMsat.toString()
			})),
			payments: [...this.payments.values()].map((p) => ({
				...p,
				valueMsat: p.valueMsat.toString(),
				feeMsat: p.feeMsat.toString(),
				feeLimitMsat: p.feeLimitMsat.toString(),
				creationTimeNs: p.creationTimeNs.toString()
			}))
		};
	}

	/** Restores a network; payments that were in flight are resolved again. */
	static fromJSON(state: SimnetState, options: SimnetOptions = {}): Simnet {
		if (state?.version !== 1)
			throw new SimnetError('invalid_request', 'Unknown simnet state format.');
		const net = new Simnet({ ...options, startHeight: state.height });
		net.nextChanIndex = state.nextChanIndex;
		for (const n of state.nodes) {
			const node: SimNode = {
				...n,
				onchainSat: BigInt(n.onchainSat),
				baseFeeMsat: BigInt(n.baseFeeMsat),
				feePpm: BigInt(n.feePpm)
			};
			net.nodes.set(n.name, node);
			net.byPubkey.set(node.pubkey, node);
		}
		for (const c of state.channels) {
			net.addChannel({
				...c,
				capacitySat: BigInt(c.capacitySat),
				initiatorMsat: BigInt(c.initiatorMsat),
				peerMsat: BigInt(c.peerMsat),
				totalSatoshisSent: BigInt(c.totalSatoshisSent),
				totalSatoshisReceived: BigInt(c.totalSatoshisReceived)
			});
		}
		for (const i of state.invoices) {
			// Not in `issued`: a restored invoice's text comes from a file, so paying it decodes it again.
			net.invoices.set(`${i.node}:${i.paymentHash}`, {
				...i,
				valueMsat: BigInt(i.valueMsat),
				amtPaidMsat: BigInt(i.amtPaidMsat)
			});
		}
		for (const p of state.payments) {
			const payment: SimPayment = {
				...p,
				valueMsat: BigInt(p.valueMsat),
				feeMsat: BigInt(p.feeMsat),
				feeLimitMsat: BigInt(p.feeLimitMsat),
				creationTimeNs: BigInt(p.creationTimeNs)
			};
			net.payments.set(`${p.node}:${p.paymentHash}`, payment);
			if (payment.status === 'IN_FLIGHT' && payment.paymentRequest === '') {
				// A keysend's preimage lived only in the payer's memory: it cannot complete now.
				net.schedule(
					() =>
						net.fail(
							payment,
							'FAILURE_REASON_ERROR',
							'The keysend was in flight when the network stopped.'
						),
					net.settleDelayMs
				);
			} else if (payment.status === 'IN_FLIGHT') {
				const { payee } = net.payable(payment.paymentRequest);
				net.schedule(() => net.resolvePayment(payment, payee), net.settleDelayMs);
			}
		}
		return net;
	}
}
