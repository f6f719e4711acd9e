// The simnet's data model: nodes, channels, invoices, payments, events, its errors, LND's fee and
// reserve rules, and the shape of its saved state. The behaviour is in network.ts.

import type { LndFailureReason } from '../lnd-json';
import type { RandomBytes } from './random';

/** The simnet speaks LND's PaymentFailureReason names. */
export type SimFailureReason = LndFailureReason;

export type SimPaymentStatus = 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED';
export type SimInvoiceState = 'OPEN' | 'SETTLED' | 'CANCELED' | 'ACCEPTED';

export type SimnetErrorCode =
	'not_found' | 'invalid_request' | 'already_paid' | 'in_flight' | 'insufficient_funds' | 'expired';

/** A refusal before anything is sent (LND answers these as RPC errors, not payment updates). */
export class SimnetError extends Error {
	constructor(
		readonly code: SimnetErrorCode,
		message: string
	) {
		super(message);
		this.name = 'SimnetError';
	}
}

export interface SimNode {
	name: string;
	alias: string;
	privateKey: string;
	pubkey: string;
	onchainSat: bigint;
	baseFeeMsat: bigint;
	feePpm: bigint;
	/** Settles spontaneous (keysend) payments, as LND does with --accept-keysend. */
	acceptKeysend?: boolean;
	nextAddIndex: number;
	nextSettleIndex: number;
	nextPaymentIndex: number;
}

export interface SimChannel {
	chanId: string;
	channelPoint: string;
	/** The node that opened (funded) the channel. */
	initiator: string;
	peer: string;
	capacitySat: bigint;
	initiatorMsat: bigint;
	peerMsat: bigint;
	openedAtHeight: number;
	confirmationsNeeded: number;
	/** Payments forwarded or settled over this channel, for LND's counters. */
	totalSatoshisSent: bigint;
	totalSatoshisReceived: bigint;
	numUpdates: number;
}

export interface SimInvoice {
	node: string;
	memo: string;
	preimage: string;
	paymentHash: string;
	paymentRequest: string;
	paymentAddr: string;
	valueMsat: bigint;
	descriptionHash?: string;
	/** Unix seconds. */
	creationDate: number;
	expiry: number;
	state: SimInvoiceState;
	amtPaidMsat: bigint;
	/** Unix seconds, 0 until settled. */
	settleDate: number;
	addIndex: number;
	settleIndex: number;
	cltvExpiry: number;
	/** Created by a keysend payment, not by addInvoice (no payment request). */
	isKeysend?: boolean;
}

export interface SimPayment {
	node: string;
	paymentHash: string;
	paymentRequest: string;
	valueMsat: bigint;
	feeMsat: bigint;
	feeLimitMsat: bigint;
	status: SimPaymentStatus;
	failureReason: SimFailureReason;
	preimage: string;
	/** Unix nanoseconds, as LND reports it. */
	creationTimeNs: bigint;
	paymentIndex: number;
	/** Node names the payment went through, payer first. */
	route: string[];
	/** Why it failed, in words. */
	detail?: string;
}

export interface SimnetOptions {
	/** Clock in Unix milliseconds. */
	now?: () => number;
	random?: RandomBytes;
	/** Runs a callback later; the payment's outcome is decided there, so streams see IN_FLIGHT first. */
	schedule?: (run: () => void, delayMs: number) => void;
	/** How long a payment stays in flight (default 20 ms). */
	settleDelayMs?: number;
	/** Blocks before a new channel is usable (default 3). */
	confirmations?: number;
	/** Fee policy for new nodes: LND's defaults are 1000 msat + 1 ppm. */
	defaultBaseFeeMsat?: bigint;
	defaultFeePpm?: bigint;
	startHeight?: number;
}

export interface CreateNodeOptions {
	alias?: string;
	/** 32-byte hex; random if omitted. */
	privateKey?: string;
	onchainSat?: bigint;
	baseFeeMsat?: bigint;
	feePpm?: bigint;
	acceptKeysend?: boolean;
}

export interface AddInvoiceRequest {
	valueMsat: bigint;
	memo?: string;
	descriptionHash?: string;
	/** Seconds; LND's default is 86400. */
	expiry?: number;
}

/** A spontaneous payment (LND's SendPaymentV2 with `dest` and the keysend record 5482373484). */
export interface SendKeysendRequest {
	/** The payee's pubkey. */
	dest: string;
	amtMsat: bigint;
	/** 32-byte hex the payer chose; its SHA-256 is the payment hash. */
	preimage: string;
	feeLimitMsat: bigint;
	timeoutSeconds: number;
}

export interface SendPaymentRequest {
	paymentRequest: string;
	feeLimitMsat: bigint;
	timeoutSeconds: number;
	/** Only for invoices without an amount. */
	amtMsat?: bigint;
}

export type SimnetEvent =
	| { type: 'node'; node: string }
	| { type: 'channel'; channel: SimChannel }
	| { type: 'block'; height: number }
	| { type: 'invoice'; invoice: SimInvoice }
	| { type: 'payment'; payment: SimPayment };

export const MIN_CHANNEL_SIZE_SAT = 20_000n;
export const DEFAULT_INVOICE_EXPIRY = 86_400;
export const MIN_FINAL_CLTV = 80;

/** Each side must keep 1% of the capacity (LND's default channel reserve). */
export function channelReserveSat(capacitySat: bigint): bigint {
	return capacitySat / 100n;
}

export function routingFeeMsat(amountMsat: bigint, baseFeeMsat: bigint, feePpm: bigint): bigint {
	return baseFeeMsat + (amountMsat * feePpm) / 1_000_000n;
}

export interface Hop {
	channel: SimChannel;
	from: string;
	to: string;
	/** What goes over this channel. */
	amountMsat: bigint;
}

type Stringified<T, K extends keyof T> = Omit<T, K> & { [P in K]: string };

export interface SimnetState {
	version: 1;
	height: number;
	nextChanIndex: number;
	nodes: Stringified<SimNode, 'onchainSat' | 'baseFeeMsat' | 'feePpm'>[];
	channels: Stringified<
		SimChannel,
		'capacitySat' | 'initiatorMsat' | 'peerMsat' | 'totalSatoshisSent' | 'totalSatoshisReceived'
	>[];
	invoices: Stringified<SimInvoice, 'valueMsat' | 'amtPaidMsat'>[];
	payments: Stringified<SimPayment, 'valueMsat' | 'feeMsat' | 'feeLimitMsat' | 'creationTimeNs'>[];
}
