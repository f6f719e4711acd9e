// The in-process simnet backend of the LightningNode port: one named node of a `Simnet`.

import {
	LightningError,
	type Balances,
	type Channel,
	type CreateInvoiceRequest,
	type CreatedInvoice,
	type DecodedPaymentRequest,
	type InvoiceState,
	type InvoiceStatus,
	type LightningNode,
	type NodeInfo,
	type OpenChannelRequest,
	type PaymentFailureReason,
	type PaymentUpdate,
	type PayRequest,
	type Subscription
} from '../port';
import type { Simnet } from './network';
import {
	channelReserveSat,
	SimnetError,
	type SimFailureReason,
	type SimInvoice,
	type SimPayment
} from './types';

export const FAILURE_REASONS: Record<SimFailureReason, PaymentFailureReason | undefined> = {
	FAILURE_REASON_NONE: undefined,
	FAILURE_REASON_TIMEOUT: 'timeout',
	FAILURE_REASON_NO_ROUTE: 'no_route',
	FAILURE_REASON_ERROR: 'error',
	FAILURE_REASON_INCORRECT_PAYMENT_DETAILS: 'incorrect_payment_details',
	FAILURE_REASON_INSUFFICIENT_BALANCE: 'insufficient_balance',
	FAILURE_REASON_CANCELED: 'canceled'
};

const INVOICE_STATES: Record<SimInvoice['state'], InvoiceState> = {
	OPEN: 'open',
	ACCEPTED: 'accepted',
	SETTLED: 'settled',
	CANCELED: 'canceled'
};

export function invoiceStatusOf(invoice: SimInvoice): InvoiceStatus {
	const status: InvoiceStatus = {
		paymentHash: invoice.paymentHash,
		state: INVOICE_STATES[invoice.state],
		valueMsat: invoice.valueMsat,
		amountPaidMsat: invoice.amtPaidMsat
	};
	if (invoice.state === 'SETTLED') {
		status.settledAt = invoice.settleDate * 1000;
		status.preimage = invoice.preimage;
	}
	return status;
}

export function paymentUpdateOf(payment: SimPayment): PaymentUpdate {
	const update: PaymentUpdate = {
		paymentHash: payment.paymentHash,
		status:
			payment.status === 'IN_FLIGHT'
				? 'in_flight'
				: payment.status === 'SUCCEEDED'
					? 'succeeded'
					: 'failed',
		valueMsat: payment.valueMsat,
		feeMsat: payment.feeMsat
	};
	if (payment.preimage) update.preimage = payment.preimage;
	const reason = FAILURE_REASONS[payment.failureReason];
	if (payment.status === 'FAILED' && reason) update.failureReason = reason;
	if (payment.detail) update.message = payment.detail;
	return update;
}

/** Maps a refusal of the simnet to the port's error or failed-payment vocabulary. */
function toLightningError(e: unknown): LightningError {
	if (e instanceof LightningError) return e;
	if (e instanceof SimnetError) {
		const code =
			e.code === 'not_found'
				? 'not_found'
				: e.code === 'insufficient_funds'
					? 'insufficient_balance'
					: 'invalid_request';
		return new LightningError(code, e.message, e);
	}
	return new LightningError('backend', e instanceof Error ? e.message : String(e), e);
}

export class SimnetNode implements LightningNode {
	readonly kind = 'simnet' as const;

	constructor(
		private readonly network: Simnet,
		readonly nodeName: string
	) {
		network.node(nodeName);
	}

	private run<T>(fn: () => T): Promise<T> {
		try {
			return Promise.resolve(fn());
		} catch (e) {
			return Promise.reject(toLightningError(e));
		}
	}

	getInfo(): Promise<NodeInfo> {
		return this.run(() => {
			const node = this.network.node(this.nodeName);
			return {
				pubkey: node.pubkey,
				alias: node.alias,
				network: 'regtest',
				blockHeight: this.network.blockHeight,
				syncedToChain: true
			};
		});
	}

	getBalances(): Promise<Balances> {
		return this.run(() => {
			const b = this.network.balances(this.nodeName);
			return {
				localMsat: b.localMsat,
				remoteMsat: b.remoteMsat,
				pendingOpenLocalMsat: b.pendingLocalMsat
			};
		});
	}

	listChannels(): Promise<Channel[]> {
		return this.run(() =>
			this.network.channelsOf(this.nodeName).map((c) => {
				const pending = this.network.isPending(c);
				return {
					channelPoint: c.channelPoint,
					remotePubkey: this.network.node(this.network.otherEnd(c, this.nodeName)).pubkey,
					capacitySat: c.capacitySat,
					localMsat: this.network.localMsat(c, this.nodeName),
					remoteMsat: this.network.remoteMsat(c, this.nodeName),
					reserveSat: channelReserveSat(c.capacitySat),
					active: !pending,
					pending
				};
			})
		);
	}

	openChannel(req: OpenChannelRequest): Promise<{ channelPoint: string }> {
		return this.run(() => {
			const peer = this.network.nodeByPubkey(req.remotePubkey);
			if (!peer)
				throw new LightningError(
					'not_found',
					`No node with pubkey ${req.remotePubkey} is connected.`
				);
			const channel = this.network.openChannel(
				this.nodeName,
				peer.name,
				req.localFundingSat,
				req.pushSat ?? 0n
			);
			return { channelPoint: channel.channelPoint };
		});
	}

	createInvoice(req: CreateInvoiceRequest): Promise<CreatedInvoice> {
		return this.run(() => {
			const invoice = this.network.addInvoice(this.nodeName, {
				valueMsat: req.amountMsat,
				expiry: req.expirySeconds,
				...(req.memo !== undefined ? { memo: req.memo } : {}),
				...(req.descriptionHash !== undefined ? { descriptionHash: req.descriptionHash } : {})
			});
			return { paymentRequest: invoice.paymentRequest, paymentHash: invoice.paymentHash };
		});
	}

	lookupInvoice(paymentHash: string): Promise<InvoiceStatus> {
		return this.run(() => invoiceStatusOf(this.network.lookupInvoice(this.nodeName, paymentHash)));
	}

	watchInvoice(
		paymentHash: string,
		onUpdate: (s: InvoiceStatus) => void,
		onError?: (e: LightningError) => void
	): Subscription {
		const hash = paymentHash.toLowerCase();
		let closed = false;
		const unsubscribe = this.network.subscribe((event) => {
			if (closed || event.type !== 'invoice') return;
			if (event.invoice.node !== this.nodeName || event.invoice.paymentHash !== hash) return;
			deliver(event.invoice);
		});
		const close = () => {
			closed = true;
			unsubscribe();
		};
		const deliver = (invoice: SimInvoice) => {
			onUpdate(invoiceStatusOf(invoice));
			if (invoice.state === 'SETTLED' || invoice.state === 'CANCELED') close();
		};
		// Like LND's SubscribeSingleInvoice, the current state comes first (asynchronously).
		queueMicrotask(() => {
			if (closed) return;
			try {
				deliver(this.network.lookupInvoice(this.nodeName, hash));
			} catch (e) {
				close();
				onError?.(toLightningError(e));
			}
		});
		return { close };
	}

	pay(req: PayRequest, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate> {
		let started: SimPayment;
		try {
			started = this.network.sendPayment(this.nodeName, {
				paymentRequest: req.paymentRequest,
				feeLimitMsat: req.feeLimitMsat,
				timeoutSeconds: req.timeoutSeconds
			});
		} catch (e) {
			if (
				e instanceof SimnetError &&
				(e.code === 'already_paid' || e.code === 'expired' || e.code === 'in_flight')
			) {
				// LND refuses these before sending; the port reports them as a failed payment.
				let paymentHash = '';
				try {
					paymentHash = this.network.decode(req.paymentRequest).paymentHash;
				} catch {
					// unreadable invoices are caught by decode in sendPayment already
				}
				const failed: PaymentUpdate = {
					paymentHash,
					status: 'failed',
					valueMsat: 0n,
					feeMsat: 0n,
					failureReason:
						e.code === 'already_paid'
							? 'already_paid'
							: e.code === 'expired'
								? 'invalid_request'
								: 'error',
					message: e.message
				};
				onUpdate?.(failed);
				return Promise.resolve(failed);
			}
			return Promise.reject(toLightningError(e));
		}
		return this.follow(started, onUpdate);
	}

	trackPayment(paymentHash: string, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate> {
		try {
			return this.follow(this.network.getPayment(this.nodeName, paymentHash), onUpdate);
		} catch (e) {
			return Promise.reject(toLightningError(e));
		}
	}

	private follow(
		payment: SimPayment,
		onUpdate?: (u: PaymentUpdate) => void
	): Promise<PaymentUpdate> {
		return new Promise((resolve) => {
			const report = (p: SimPayment): boolean => {
				const update = paymentUpdateOf(p);
				onUpdate?.(update);
				if (p.status !== 'IN_FLIGHT') {
					resolve(update);
					return true;
				}
				return false;
			};
			const unsubscribe = this.network.subscribe((event) => {
				if (event.type !== 'payment' || event.payment !== payment) return;
				if (report(event.payment)) unsubscribe();
			});
			if (report(payment)) unsubscribe();
		});
	}

	decodePaymentRequest(paymentRequest: string): Promise<DecodedPaymentRequest> {
		return this.run(() => {
			const d = this.network.decode(paymentRequest);
			const decoded: DecodedPaymentRequest = {
				network: d.network,
				payee: d.payee,
				paymentHash: d.paymentHash,
				amountMsat: d.amountMsat,
				timestamp: d.timestamp,
				expirySeconds: d.expirySeconds,
				minFinalCltvExpiry: d.minFinalCltvExpiry
			};
			if (d.descriptionHash !== undefined) decoded.descriptionHash = d.descriptionHash;
			if (d.description !== undefined) decoded.description = d.description;
			if (d.paymentSecret !== undefined) decoded.paymentSecret = d.paymentSecret;
			return decoded;
		});
	}
}
