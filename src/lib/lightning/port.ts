// The one Lightning interface the apps, the session runtime and the simulator use.
// Backends (LND REST, LNC, in-process simnet) map their own types into these; nothing above
// this port knows which backend it has. Hashes, pubkeys and preimages are lowercase hex;
// amounts are bigint millisatoshis so no backend's int64-as-string leaks upward.

export type { Network } from '../protocol';
import type { Network } from '../protocol';

export interface NodeInfo {
	pubkey: string;
	alias: string;
	network: Network;
	blockHeight: number;
	syncedToChain: boolean;
}

export interface Balances {
	/** Spendable on our side of active channels. */
	localMsat: bigint;
	/** Receivable: the remote side of active channels. */
	remoteMsat: bigint;
	/** Our side of channels still waiting for confirmation. */
	pendingOpenLocalMsat: bigint;
}

export interface Channel {
	channelPoint: string;
	remotePubkey: string;
	capacitySat: bigint;
	localMsat: bigint;
	remoteMsat: bigint;
	/** Each side must keep this much; it cannot be spent. */
	reserveSat: bigint;
	active: boolean;
	pending: boolean;
}

export interface OpenChannelRequest {
	remotePubkey: string;
	localFundingSat: bigint;
	pushSat?: bigint;
}

export interface CreateInvoiceRequest {
	amountMsat: bigint;
	/** 32-byte hex; becomes the BOLT11 `h` tag (we commit to the billing record's hash). */
	descriptionHash?: string;
	memo?: string;
	expirySeconds: number;
}

export interface CreatedInvoice {
	paymentRequest: string;
	paymentHash: string;
}

export type InvoiceState = 'open' | 'accepted' | 'settled' | 'canceled';

export interface InvoiceStatus {
	paymentHash: string;
	state: InvoiceState;
	valueMsat: bigint;
	amountPaidMsat: bigint;
	/** Unix ms, when settled. */
	settledAt?: number;
	preimage?: string;
}

export interface PayRequest {
	paymentRequest: string;
	/** The most routing fee the payer accepts; 0 means no fee at all. */
	feeLimitMsat: bigint;
	timeoutSeconds: number;
}

export type PaymentStatus = 'in_flight' | 'succeeded' | 'failed';

/** LND's PaymentFailureReason, in words the UI can map to a sentence. */
export type PaymentFailureReason =
	| 'timeout'
	| 'no_route'
	| 'error'
	| 'incorrect_payment_details'
	| 'insufficient_balance'
	| 'canceled'
	| 'already_paid'
	| 'invalid_request';

export interface PaymentUpdate {
	paymentHash: string;
	status: PaymentStatus;
	valueMsat: bigint;
	feeMsat: bigint;
	preimage?: string;
	failureReason?: PaymentFailureReason;
	/** Human-readable detail from the backend, when it has one. */
	message?: string;
}

export interface DecodedPaymentRequest {
	network: Network;
	payee: string;
	paymentHash: string;
	amountMsat: bigint | null;
	descriptionHash?: string;
	description?: string;
	/** Unix seconds. */
	timestamp: number;
	expirySeconds: number;
	minFinalCltvExpiry: number;
	paymentSecret?: string;
}

/** A running subscription; `close()` abandons it without waiting for the backend. */
export interface Subscription {
	close(): void;
}

export interface LightningNode {
	readonly kind: 'lnd-rest' | 'lnc' | 'simnet';
	getInfo(): Promise<NodeInfo>;
	getBalances(): Promise<Balances>;
	listChannels(): Promise<Channel[]>;
	openChannel(req: OpenChannelRequest): Promise<{ channelPoint: string }>;
	createInvoice(req: CreateInvoiceRequest): Promise<CreatedInvoice>;
	lookupInvoice(paymentHash: string): Promise<InvoiceStatus>;
	/** Calls `onUpdate` on every state change of one invoice until settled/canceled or closed. */
	watchInvoice(
		paymentHash: string,
		onUpdate: (s: InvoiceStatus) => void,
		onError?: (e: LightningError) => void
	): Subscription;
	/** Sends a payment; streams updates; resolves with the final one (succeeded or failed). */
	pay(req: PayRequest, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate>;
	/** Follows a payment already sent (e.g. one in flight at a reload) to its end. */
	trackPayment(paymentHash: string, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate>;
	decodePaymentRequest(paymentRequest: string): Promise<DecodedPaymentRequest>;
}

export type LightningErrorCode =
	| 'unreachable'
	| 'timeout'
	| 'unauthorized'
	| 'not_found'
	| 'invalid_request'
	| 'insufficient_balance'
	/** The node runs but does not serve yet (starting up, wallet locked, still syncing): wait and retry. */
	| 'starting'
	| 'backend';

export class LightningError extends Error {
	constructor(
		readonly code: LightningErrorCode,
		message: string,
		readonly cause?: unknown
	) {
		super(message);
		this.name = 'LightningError';
	}
}
