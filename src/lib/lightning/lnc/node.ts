// The Lightning Node Connect backend of the LightningNode port: the driver's or operator's own LND
// reached through @lightninglabs/lnc-web (a Go wasm client talking to LND over an encrypted mailbox).
//
// What LNC needs that a plain REST client does not:
// - every call gets a timeout, because a call made while the mailbox is down may never settle;
// - a dropped connection is re-established with exponential backoff before the next call;
// - streams cannot be cancelled in lnc-web (subscribe returns nothing), so "closing" one means we
//   stop listening; an invoice watch also polls lookupInvoice, because a dead mailbox may end a
//   stream without any error;
// - one pairing can serve one tab at a time ("stream occupied"), so a Web Lock per namespace makes
//   a second tab wait, or take over (the first tab is told and disconnects).
// LND's types come from lnc-core: camelCase fields, bytes as base64, int64 as strings, enums as names.
//
// This file: LncNode, the port over one lnc-web client; pairing and the tab lock are pairing.ts and
// tab-lock.ts. It is longer than 400 lines because it is one class, the LightningNode port's
// methods over LND's gRPC shapes, each a few lines: splitting it would split the port.

import type LNC from '@lightninglabs/lnc-web';
import type { LightningNodeConnect, lnrpc } from '@lightninglabs/lnc-web';
import { Bolt11Error, decodeBolt11 } from '../bolt11';
import {
	big,
	bytesFieldToHex,
	failureReasonOf,
	hexToBase64,
	INVOICE_STATES,
	failedBeforeSending,
	networkOfNode,
	networkOfPaymentRequest,
	paymentStatusOf,
	preimageOrUndefined,
	refusalReason,
	txidFromFundingBytes
} from '../lnd-json';
import {
	LightningError,
	type Balances,
	type Channel,
	type CreatedInvoice,
	type CreateInvoiceRequest,
	type DecodedPaymentRequest,
	type InvoiceStatus,
	type LightningNode,
	type NodeInfo,
	type OpenChannelRequest,
	type PaymentUpdate,
	type PayRequest,
	type Subscription
} from '../port';
import { retryWithBackoff } from '../../core';
import { lncError, messageOf, withTimeout } from './errors';

/** What LncNode uses of lnc-web's client; both `LNC` and `LightningNodeConnect` have it. */
export type LncClient = Pick<LNC, 'lnd' | 'isConnected' | 'connect' | 'disconnect'>;

/** What pairing and logging in use of lnc-web's `LightningNodeConnect` (password, passkey, session). */
export type LncPairingClient = LncClient & Pick<LightningNodeConnect, 'pair' | 'login' | 'clear'>;

export interface LncNodeOptions {
	/** Limit for one unary call (default 20 s). */
	callTimeoutMs?: number;
	/** Limit for one `connect()` attempt (default 15 s; lnc-web itself gives up after about 10 s). */
	connectTimeoutMs?: number;
	/** Reconnect attempts before a call fails (default 5), with delays doubling from `reconnectDelayMs` (default 500 ms) up to 15 s. */
	reconnectAttempts?: number;
	reconnectDelayMs?: number;
	/** How often an invoice watch also asks lookupInvoice (default 5 s). */
	invoicePollMs?: number;
	/** How long trackPayment follows a payment before giving up (default 120 s). */
	trackTimeoutMs?: number;
	sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function invoiceStatus(invoice: lnrpc.Invoice): InvoiceStatus {
	const state = String(invoice.state);
	const status: InvoiceStatus = {
		paymentHash: bytesFieldToHex(invoice.rHash),
		state: INVOICE_STATES[state] ?? 'open',
		valueMsat: big(invoice.valueMsat),
		amountPaidMsat: big(invoice.amtPaidMsat)
	};
	if (state === 'SETTLED') {
		status.settledAt = Number(invoice.settleDate) * 1000;
		const preimage = preimageOrUndefined(bytesFieldToHex(invoice.rPreimage));
		if (preimage) status.preimage = preimage;
	}
	return status;
}

function paymentUpdate(payment: lnrpc.Payment): PaymentUpdate {
	const status = paymentStatusOf(String(payment.status));
	const update: PaymentUpdate = {
		paymentHash: payment.paymentHash.toLowerCase(),
		status,
		valueMsat: big(payment.valueMsat),
		feeMsat: big(payment.feeMsat)
	};
	const preimage = preimageOrUndefined(payment.paymentPreimage);
	if (preimage) update.preimage = preimage;
	if (status === 'failed')
		update.failureReason = failureReasonOf(String(payment.failureReason)) ?? 'error';
	return update;
}

export class LncNode implements LightningNode {
	readonly kind = 'lnc' as const;
	private readonly callTimeoutMs: number;
	private readonly connectTimeoutMs: number;
	private readonly reconnectAttempts: number;
	private readonly reconnectDelayMs: number;
	private readonly invoicePollMs: number;
	private readonly trackTimeoutMs: number;
	private readonly sleep: (ms: number) => Promise<void>;
	private reconnecting: Promise<void> | null = null;
	private closed = false;

	constructor(
		private readonly client: LncClient,
		options: LncNodeOptions = {}
	) {
		this.callTimeoutMs = options.callTimeoutMs ?? 20_000;
		this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
		this.reconnectAttempts = options.reconnectAttempts ?? 5;
		this.reconnectDelayMs = options.reconnectDelayMs ?? 500;
		this.invoicePollMs = options.invoicePollMs ?? 5_000;
		this.trackTimeoutMs = options.trackTimeoutMs ?? 120_000;
		this.sleep = options.sleep ?? defaultSleep;
	}

	/** Stops using the connection (another tab took over, or the user logged out). */
	shutdown(): void {
		this.closed = true;
		try {
			this.client.disconnect();
		} catch {
			// already down
		}
	}

	/** Connects if the mailbox connection is down, with exponential backoff; concurrent callers share one attempt. */
	ensureConnected(): Promise<void> {
		if (this.closed)
			return Promise.reject(
				new LightningError(
					'unreachable',
					'This tab no longer uses the LNC connection (another tab took it over, or you logged out).'
				)
			);
		if (this.client.isConnected) return Promise.resolve();
		this.reconnecting ??= this.reconnect().finally(() => (this.reconnecting = null));
		return this.reconnecting;
	}

	private async reconnect(): Promise<void> {
		let last: unknown;
		const connected =
			this.reconnectAttempts > 0 &&
			(await retryWithBackoff(
				async () => {
					if (this.closed) return false;
					try {
						await withTimeout(
							this.client.connect(),
							this.connectTimeoutMs,
							'connect through the LNC mailbox'
						);
					} catch (e) {
						throw (last = e);
					}
					if (this.client.isConnected) return true;
					throw (last = new Error('connect() returned but the client is not connected'));
				},
				{
					attempts: this.reconnectAttempts,
					initialDelayMs: this.reconnectDelayMs,
					maxDelayMs: 15_000,
					sleep: this.sleep
				}
			).catch(() => false));
		if (connected) return;
		throw new LightningError(
			'unreachable',
			`Your node cannot be reached through Lightning Node Connect (${this.reconnectAttempts} attempts): ${messageOf(last)}. Check the phone's connection and that your node is online.`,
			last
		);
	}

	/** One unary call: connected first, with a timeout; reads are retried once after reconnecting. */
	private async call<T>(what: string, fn: () => Promise<T>, idempotent: boolean): Promise<T> {
		for (let attempt = 0; ; attempt++) {
			await this.ensureConnected();
			try {
				return await withTimeout(fn(), this.callTimeoutMs, what);
			} catch (e) {
				const err = lncError(e, what);
				const connectionLost = err.code === 'timeout' || err.code === 'unreachable';
				if (!idempotent || !connectionLost || attempt > 0) throw err;
				// The mailbox probably dropped: start over on a fresh connection.
				try {
					this.client.disconnect();
				} catch {
					// it is down already
				}
			}
		}
	}

	async getInfo(): Promise<NodeInfo> {
		const info = await this.call(
			'read its info',
			() => this.client.lnd.lightning.getInfo({}),
			true
		);
		const network = networkOfNode(info, 'Your node');
		return {
			pubkey: info.identityPubkey,
			alias: info.alias,
			network,
			blockHeight: Number(info.blockHeight),
			syncedToChain: info.syncedToChain === true
		};
	}

	async getBalances(): Promise<Balances> {
		const b = await this.call(
			'read its channel balance',
			() => this.client.lnd.lightning.channelBalance({}),
			true
		);
		return {
			localMsat: big(b.localBalance?.msat),
			remoteMsat: big(b.remoteBalance?.msat),
			pendingOpenLocalMsat: big(b.pendingOpenLocalBalance?.msat)
		};
	}

	async listChannels(): Promise<Channel[]> {
		const lightning = this.client.lnd.lightning;
		const [open, pending] = await Promise.all([
			this.call('list its channels', () => lightning.listChannels({}), true),
			this.call('list its pending channels', () => lightning.pendingChannels({}), true)
		]);
		const channels: Channel[] = (open.channels ?? []).map((c) => ({
			channelPoint: c.channelPoint,
			remotePubkey: c.remotePubkey,
			capacitySat: big(c.capacity),
			localMsat: big(c.localBalance) * 1000n,
			remoteMsat: big(c.remoteBalance) * 1000n,
			reserveSat: big(c.localChanReserveSat),
			active: c.active === true,
			pending: false
		}));
		for (const p of pending.pendingOpenChannels ?? []) {
			if (!p.channel) continue;
			channels.push({
				channelPoint: p.channel.channelPoint,
				remotePubkey: p.channel.remoteNodePub,
				capacitySat: big(p.channel.capacity),
				localMsat: big(p.channel.localBalance) * 1000n,
				remoteMsat: big(p.channel.remoteBalance) * 1000n,
				reserveSat: big(p.channel.localChanReserveSat),
				active: false,
				pending: true
			});
		}
		return channels;
	}

	async openChannel(req: OpenChannelRequest): Promise<{ channelPoint: string }> {
		const point = await this.call(
			'open a channel',
			() =>
				this.client.lnd.lightning.openChannelSync({
					nodePubkey: hexToBase64(req.remotePubkey),
					localFundingAmount: req.localFundingSat.toString(),
					pushSat: (req.pushSat ?? 0n).toString()
				}),
			false
		);
		const txid =
			point.fundingTxidStr || txidFromFundingBytes(bytesFieldToHex(point.fundingTxidBytes));
		return { channelPoint: `${txid}:${point.outputIndex ?? 0}` };
	}

	async createInvoice(req: CreateInvoiceRequest): Promise<CreatedInvoice> {
		const request: { valueMsat: string; expiry: string; memo?: string; descriptionHash?: string } =
			{
				valueMsat: req.amountMsat.toString(),
				expiry: String(req.expirySeconds)
			};
		if (req.memo !== undefined) request.memo = req.memo;
		if (req.descriptionHash !== undefined)
			request.descriptionHash = hexToBase64(req.descriptionHash);
		// Not retried: a retry after a lost answer would leave a second invoice behind.
		const added = await this.call(
			'create an invoice',
			() => this.client.lnd.lightning.addInvoice(request),
			false
		);
		return { paymentRequest: added.paymentRequest, paymentHash: bytesFieldToHex(added.rHash) };
	}

	async lookupInvoice(paymentHash: string): Promise<InvoiceStatus> {
		return invoiceStatus(
			await this.call(
				'look up the invoice',
				() => this.client.lnd.lightning.lookupInvoice({ rHash: hexToBase64(paymentHash) }),
				true
			)
		);
	}

	watchInvoice(
		paymentHash: string,
		onUpdate: (s: InvoiceStatus) => void,
		onError?: (e: LightningError) => void
	): Subscription {
		const hash = paymentHash.toLowerCase();
		let closed = false;
		let lastState: string | null = null;
		let streamAlive = true;
		let pollFailures = 0;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const close = () => {
			closed = true;
			if (timer !== undefined) clearTimeout(timer);
		};
		const deliver = (s: InvoiceStatus) => {
			if (closed || s.paymentHash !== hash || s.state === lastState) return;
			lastState = s.state;
			onUpdate(s);
			if (s.state === 'settled' || s.state === 'canceled') close();
		};
		const poll = async () => {
			if (closed) return;
			try {
				deliver(await this.lookupInvoice(hash));
				pollFailures = 0;
			} catch (e) {
				pollFailures++;
				// With the stream gone and lookups failing, tell the caller; otherwise keep trying quietly.
				if (!streamAlive && pollFailures >= 3) {
					close();
					onError?.(lncError(e, 'watch the invoice'));
					return;
				}
			}
			if (!closed) timer = setTimeout(() => void poll(), this.invoicePollMs);
		};
		void this.ensureConnected().then(
			() => {
				if (closed) return;
				try {
					this.client.lnd.invoices.subscribeSingleInvoice(
						{ rHash: hexToBase64(hash) },
						(invoice) => deliver(invoiceStatus(invoice)),
						() => {
							// lnc-web cannot resume a stream: carry on by polling lookupInvoice.
							streamAlive = false;
						}
					);
				} catch {
					streamAlive = false;
				}
				timer = setTimeout(() => void poll(), this.invoicePollMs);
			},
			(e: unknown) => {
				if (closed) return;
				close();
				onError?.(lncError(e, 'watch the invoice'));
			}
		);
		return { close };
	}

	async pay(req: PayRequest, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate> {
		// The hash is known locally, so a payment whose stream dies can be tracked without another call.
		let paymentHash: string;
		try {
			paymentHash = decodeBolt11(req.paymentRequest).paymentHash;
		} catch (e) {
			return failedBeforeSending(
				'',
				'invalid_request',
				e instanceof Bolt11Error ? e.message : messageOf(e),
				onUpdate
			);
		}
		await this.ensureConnected();
		const outcome = await this.follow(
			(onMessage, onError) =>
				this.client.lnd.router.sendPaymentV2(
					{
						paymentRequest: req.paymentRequest,
						timeoutSeconds: req.timeoutSeconds,
						// fee_limit_msat; unset would mean "no fee at all", and `amt` is never sent: the invoice has it.
						feeLimitMsat: req.feeLimitMsat.toString()
					},
					onMessage,
					onError
				),
			req.timeoutSeconds * 1000 + 2 * this.callTimeoutMs,
			onUpdate
		);
		if (outcome.kind === 'final') return outcome.update;
		if (outcome.kind === 'error' && !outcome.sawMessage) {
			const reason = refusalReason(outcome.message);
			if (reason) {
				// LND refused before sending anything (already paid, expired, ...).
				return failedBeforeSending(paymentHash, reason, outcome.message, onUpdate);
			}
		}
		// The stream died or went quiet: the payment may be in flight; follow it by hash.
		try {
			return await this.trackPayment(paymentHash, onUpdate);
		} catch (e) {
			if (e instanceof LightningError && e.code === 'not_found') {
				// LND never saw it: nothing left the wallet.
				return failedBeforeSending(
					paymentHash,
					'error',
					`The payment was not sent: ${outcome.kind === 'error' ? outcome.message : 'the connection went quiet'}`,
					onUpdate
				);
			}
			throw e;
		}
	}

	async trackPayment(
		paymentHash: string,
		onUpdate?: (u: PaymentUpdate) => void
	): Promise<PaymentUpdate> {
		const hash = paymentHash.toLowerCase();
		for (let attempt = 0; ; attempt++) {
			await this.ensureConnected();
			const outcome = await this.follow(
				(onMessage, onError) =>
					this.client.lnd.router.trackPaymentV2(
						{ paymentHash: hexToBase64(hash) },
						onMessage,
						onError
					),
				this.trackTimeoutMs,
				onUpdate
			);
			if (outcome.kind === 'final') return outcome.update;
			const err = outcome.kind === 'error' ? lncError(outcome.message, 'track the payment') : null;
			if (err && err.code !== 'unreachable' && err.code !== 'timeout') throw err;
			if (attempt >= 2) {
				throw new LightningError(
					'timeout',
					`The payment ${hash.slice(0, 8)}… has no final state yet (${err?.message ?? 'no news from your node'}); it may still complete, so it will not be paid again.`
				);
			}
			try {
				this.client.disconnect();
			} catch {
				// down already
			}
		}
	}

	/**
	 * Runs one payment stream until a final update, an error, or silence. The first message must
	 * come within the call timeout (a call on a dead mailbox never answers); the whole stream
	 * within `totalMs`. Late messages after we gave up are ignored.
	 */
	private follow(
		start: (onMessage: (p: lnrpc.Payment) => void, onError: (e: Error) => void) => void,
		totalMs: number,
		onUpdate?: (u: PaymentUpdate) => void
	): Promise<
		| { kind: 'final'; update: PaymentUpdate }
		| { kind: 'error'; message: string; sawMessage: boolean }
		| { kind: 'silent'; sawMessage: boolean }
	> {
		return new Promise((resolve) => {
			let done = false;
			let sawMessage = false;
			const finish = (r: Parameters<typeof resolve>[0]) => {
				if (done) return;
				done = true;
				clearTimeout(firstTimer);
				clearTimeout(totalTimer);
				resolve(r);
			};
			const firstTimer = setTimeout(() => {
				if (!sawMessage) finish({ kind: 'silent', sawMessage });
			}, this.callTimeoutMs);
			const totalTimer = setTimeout(() => finish({ kind: 'silent', sawMessage }), totalMs);
			try {
				start(
					(payment) => {
						if (done) return;
						sawMessage = true;
						const update = paymentUpdate(payment);
						onUpdate?.(update);
						if (update.status !== 'in_flight') finish({ kind: 'final', update });
					},
					(e) => finish({ kind: 'error', message: messageOf(e), sawMessage })
				);
			} catch (e) {
				finish({ kind: 'error', message: messageOf(e), sawMessage });
			}
		});
	}

	async decodePaymentRequest(paymentRequest: string): Promise<DecodedPaymentRequest> {
		const d = await this.call(
			'decode the invoice',
			() => this.client.lnd.lightning.decodePayReq({ payReq: paymentRequest }),
			true
		);
		const amountMsat = big(d.numMsat);
		const decoded: DecodedPaymentRequest = {
			network: networkOfPaymentRequest(paymentRequest),
			payee: d.destination,
			paymentHash: d.paymentHash,
			amountMsat: amountMsat === 0n ? null : amountMsat,
			timestamp: Number(d.timestamp),
			expirySeconds: Number(d.expiry),
			minFinalCltvExpiry: Number(d.cltvExpiry)
		};
		if (d.descriptionHash) decoded.descriptionHash = d.descriptionHash;
		if (d.description) decoded.description = d.description;
		const secret = bytesFieldToHex(d.paymentAddr);
		if (secret) decoded.paymentSecret = secret;
		return decoded;
	}
}
