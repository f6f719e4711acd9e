// LND's REST (grpc-gateway) JSON dialect for the calls Lightcharge uses: proto field names in
// snake_case, bytes as base64, 64-bit integers as decimal strings, enums as their names.
// Shared by the simnet's server (which writes it) and the LND REST backend (which reads it).

import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { base64, base64url } from '@scure/base';
import {
	LightningError,
	type InvoiceState,
	type Network,
	type PaymentFailureReason,
	type PaymentStatus,
	type PaymentUpdate
} from './port';
import { ALL_NETWORKS, BOLT11_PREFIXES, NETWORK_TABLE } from '../protocol';

export interface LndRpcStatus {
	code: number;
	message: string;
	details: unknown[];
}

export interface LndChain {
	chain: string;
	network: string;
}

export interface LndGetInfoResponse {
	version: string;
	commit_hash: string;
	identity_pubkey: string;
	alias: string;
	color: string;
	num_pending_channels: number;
	num_active_channels: number;
	num_inactive_channels: number;
	num_peers: number;
	block_height: number;
	block_hash: string;
	best_header_timestamp: string;
	synced_to_chain: boolean;
	synced_to_graph: boolean;
	testnet: boolean;
	chains: LndChain[];
	uris: string[];
	features: Record<string, LndFeature>;
}

export interface LndFeature {
	name: string;
	is_required: boolean;
	is_known: boolean;
}

export interface LndAmount {
	sat: string;
	msat: string;
}

export interface LndChannelBalanceResponse {
	balance: string;
	pending_open_balance: string;
	local_balance: LndAmount;
	remote_balance: LndAmount;
	unsettled_local_balance: LndAmount;
	unsettled_remote_balance: LndAmount;
	pending_open_local_balance: LndAmount;
	pending_open_remote_balance: LndAmount;
}

export interface LndChannel {
	active: boolean;
	remote_pubkey: string;
	channel_point: string;
	chan_id: string;
	capacity: string;
	local_balance: string;
	remote_balance: string;
	commit_fee: string;
	unsettled_balance: string;
	total_satoshis_sent: string;
	total_satoshis_received: string;
	num_updates: string;
	private: boolean;
	initiator: boolean;
	local_chan_reserve_sat: string;
	remote_chan_reserve_sat: string;
	push_amount_sat: string;
	/** Set by the channel's opener; LND sends "" when none. */
	memo?: string;
}

export interface LndListChannelsResponse {
	channels: LndChannel[];
}

export interface LndPendingChannel {
	remote_node_pub: string;
	channel_point: string;
	capacity: string;
	local_balance: string;
	remote_balance: string;
	local_chan_reserve_sat: string;
	remote_chan_reserve_sat: string;
	initiator: 'INITIATOR_LOCAL' | 'INITIATOR_REMOTE';
	private: boolean;
}

export interface LndPendingOpenChannel {
	channel: LndPendingChannel;
	commit_fee: string;
	confirmations_until_active: number;
	confirmation_height: number;
}

export interface LndPendingChannelsResponse {
	total_limbo_balance: string;
	pending_open_channels: LndPendingOpenChannel[];
	pending_closing_channels: unknown[];
	pending_force_closing_channels: unknown[];
	waiting_close_channels: unknown[];
}

export interface LndChannelPoint {
	funding_txid_bytes: string;
	output_index: number;
}

export type LndInvoiceState = 'OPEN' | 'SETTLED' | 'CANCELED' | 'ACCEPTED';

export interface LndInvoice {
	memo: string;
	r_preimage: string;
	r_hash: string;
	value: string;
	value_msat: string;
	settled: boolean;
	creation_date: string;
	settle_date: string;
	payment_request: string;
	description_hash: string;
	expiry: string;
	cltv_expiry: string;
	private: boolean;
	add_index: string;
	settle_index: string;
	amt_paid: string;
	amt_paid_sat: string;
	amt_paid_msat: string;
	state: LndInvoiceState;
	is_keysend: boolean;
	payment_addr: string;
	is_amp: boolean;
}

export interface LndAddInvoiceResponse {
	r_hash: string;
	payment_request: string;
	add_index: string;
	payment_addr: string;
}

export type LndPaymentStatus = 'UNKNOWN' | 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED' | 'INITIATED';

export type LndFailureReason =
	| 'FAILURE_REASON_NONE'
	| 'FAILURE_REASON_TIMEOUT'
	| 'FAILURE_REASON_NO_ROUTE'
	| 'FAILURE_REASON_ERROR'
	| 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS'
	| 'FAILURE_REASON_INSUFFICIENT_BALANCE'
	| 'FAILURE_REASON_CANCELED';

export interface LndPayment {
	payment_hash: string;
	value: string;
	creation_date: string;
	fee: string;
	payment_preimage: string;
	value_sat: string;
	value_msat: string;
	payment_request: string;
	status: LndPaymentStatus;
	fee_sat: string;
	fee_msat: string;
	creation_time_ns: string;
	htlcs: unknown[];
	payment_index: string;
	failure_reason: LndFailureReason;
}

export interface LndPayReq {
	destination: string;
	payment_hash: string;
	num_satoshis: string;
	timestamp: string;
	expiry: string;
	description: string;
	description_hash: string;
	fallback_addr: string;
	cltv_expiry: string;
	route_hints: unknown[];
	payment_addr: string;
	num_msat: string;
	features: Record<string, LndFeature>;
}

/** One line of a streaming response. */
export type LndStreamLine<T> = { result: T } | { error: LndRpcStatus };

// ---------- conversions ----------

export function hexToBase64(hex: string): string {
	return base64.encode(hexToBytes(hex));
}

/** Path parameters of bytes type travel base64url-encoded. */
export function hexToBase64Url(hex: string): string {
	return base64url.encode(hexToBytes(hex));
}

/** Reads a bytes field (standard or URL-safe base64, padded or not) into hex. */
export function base64ToHex(value: string): string {
	const normalized = value.replace(/-/g, '+').replace(/_/g, '/').replace(/\s/g, '');
	const padded = normalized + '='.repeat((4 - (normalized.length % 4)) % 4);
	return bytesToHex(base64.decode(padded));
}

/** Reads an int64 field, which grpc-gateway accepts as a string or a number. */
export function int64(value: unknown, field: string): bigint {
	if (value === undefined || value === null || value === '') return 0n;
	if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
	if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
	throw new TypeError(`Field ${field} must be an integer (got ${JSON.stringify(value)}).`);
}

/** Known BOLT #9 feature names LND reports in getinfo / payreq. */
export const FEATURE_NAMES: Record<number, string> = {
	8: 'tlv-onion',
	9: 'tlv-onion',
	14: 'payment-addr',
	15: 'payment-addr',
	16: 'multi-path-payments',
	17: 'multi-path-payments'
};

export function featureMap(bits: number[]): Record<string, LndFeature> {
	const out: Record<string, LndFeature> = {};
	for (const bit of bits) {
		const name = FEATURE_NAMES[bit];
		out[String(bit)] = {
			name: name ?? 'unknown',
			is_required: bit % 2 === 0,
			is_known: name !== undefined
		};
	}
	return out;
}

// ---------- LND's enums and encodings in the port's words (shared by the REST and LNC backends) ----------

/** LND's chain network names (getinfo `chains[].network`). */
export const NETWORKS: Record<string, Network> = Object.fromEntries(
	ALL_NETWORKS.flatMap((n) => NETWORK_TABLE[n].lndNames.map((name) => [name, n]))
);

export const FAILURE_REASONS: Record<LndFailureReason, PaymentFailureReason | undefined> = {
	FAILURE_REASON_NONE: undefined,
	FAILURE_REASON_TIMEOUT: 'timeout',
	FAILURE_REASON_NO_ROUTE: 'no_route',
	FAILURE_REASON_ERROR: 'error',
	FAILURE_REASON_INCORRECT_PAYMENT_DETAILS: 'incorrect_payment_details',
	FAILURE_REASON_INSUFFICIENT_BALANCE: 'insufficient_balance',
	FAILURE_REASON_CANCELED: 'canceled'
};

/** A failure reason name (unknown names, e.g. a newer LND's, read as a plain error). */
export function failureReasonOf(name: string | undefined): PaymentFailureReason | undefined {
	if (name === undefined || name === '' || name === 'FAILURE_REASON_NONE') return undefined;
	return FAILURE_REASONS[name as LndFailureReason] ?? 'error';
}

/** Payment status names; UNKNOWN and INITIATED are still in flight as far as the payer knows. */
export function paymentStatusOf(name: string | undefined): PaymentStatus {
	return name === 'SUCCEEDED' ? 'succeeded' : name === 'FAILED' ? 'failed' : 'in_flight';
}

export const INVOICE_STATES: Record<string, InvoiceState> = {
	OPEN: 'open',
	ACCEPTED: 'accepted',
	SETTLED: 'settled',
	CANCELED: 'canceled'
};

/** An int64 field (decimal string); absent or empty is zero. */
export function big(value: string | number | undefined): bigint {
	if (value === undefined || value === '') return 0n;
	return BigInt(value);
}

/** A bytes field as LNC or REST hands it over (base64 string or raw bytes) into hex. */
export function bytesFieldToHex(value: Uint8Array | string | undefined): string {
	if (value === undefined) return '';
	if (typeof value !== 'string') return bytesToHex(value);
	return value === '' ? '' : base64ToHex(value);
}

/** A preimage of all zeros is LND's "none yet". */
export function preimageOrUndefined(hex: string | undefined): string | undefined {
	return hex && !/^0*$/.test(hex) ? hex.toLowerCase() : undefined;
}

/** LND's funding_txid_bytes are the txid in internal (reversed) byte order. */
export function txidFromFundingBytes(internalHex: string): string {
	return internalHex.match(/../g)?.reverse().join('') ?? '';
}

/** The network of a BOLT11 string by its human-readable prefix (LND's decodepayreq does not say). */
export function networkOfPaymentRequest(paymentRequest: string): Network {
	const lower = paymentRequest.toLowerCase();
	return BOLT11_PREFIXES.find(([prefix]) => lower.startsWith(prefix))?.[1] ?? 'mainnet';
}

/** LND refuses some payments before sending (RPC error); the port reports them as failed payments. */
export function refusalReason(message: string): PaymentFailureReason | undefined {
	if (/already paid|already exists/i.test(message)) return 'already_paid';
	if (/in transition|in flight/i.test(message)) return 'error';
	if (
		/expired|invalid|not for current|amount must|no self-payments|checksum|payment request|zero amount/i.test(
			message
		)
	) {
		return 'invalid_request';
	}
	return undefined;
}

// ---- LND's error text ----
// LND answers an error with gRPC status text, the same over REST and over LNC; this is the one
// place that reads it. Real LND 0.21 sends most of these with gRPC code 2 (UNKNOWN), so the text is
// all there is (fixtures/lnd-real-errors.json). Each backend adds only what its transport knows
// (REST: the HTTP status and gRPC code; LNC: a dropped mailbox).

/** The macaroon is valid for this node but does not allow the call (e.g. a kiosk's asked to pay). */
const PERMISSION_DENIED = /permission denied|not allowed/i;
/** The macaroon is not one this node made, or not a macaroon at all. */
const BAD_MACAROON =
	/macaroon|verification failed|unmarshal v[12]|root key with id|caveat|unauthori[sz]ed/i;
/** LND runs but does not serve yet. */
const NOT_READY =
	/in the process of starting|still in the process of starting|not yet ready to accept calls|wallet (?:locked|not created)|waiting to start|server is not active|chain backend is still syncing|not synced/i;
const NOT_FOUND = /unable to locate|not found|no such|isn't initiated|not initiated/i;
const INSUFFICIENT = /insufficient|not enough/i;

/** What an LND error text says, in the port's terms; undefined when it says nothing the port decides on. */
export type LndErrorKind =
	'permission_denied' | 'bad_macaroon' | 'starting' | 'not_found' | 'insufficient_balance';

export function lndErrorKind(message: string): LndErrorKind | undefined {
	if (PERMISSION_DENIED.test(message)) return 'permission_denied';
	if (BAD_MACAROON.test(message)) return 'bad_macaroon';
	if (NOT_READY.test(message)) return 'starting';
	if (NOT_FOUND.test(message)) return 'not_found';
	if (INSUFFICIENT.test(message)) return 'insufficient_balance';
	return undefined;
}

/** The network of a node from its getinfo (`chains[0].network`, else the old `testnet` flag); `who` starts the sentence. */
export function networkOfNode(
	info: { chains?: { network: string }[]; testnet?: boolean },
	who: string
): Network {
	const chainNetwork = info.chains?.[0]?.network ?? (info.testnet ? 'testnet' : 'mainnet');
	const network = NETWORKS[chainNetwork];
	if (!network)
		throw new LightningError('backend', `${who} runs on an unknown network "${chainNetwork}".`);
	return network;
}

/** A payment that failed before anything left the wallet, told to `onUpdate` and returned. */
export function failedBeforeSending(
	paymentHash: string,
	failureReason: PaymentFailureReason,
	message: string,
	onUpdate?: (u: PaymentUpdate) => void
): PaymentUpdate {
	const failed: PaymentUpdate = {
		paymentHash,
		status: 'failed',
		valueMsat: 0n,
		feeMsat: 0n,
		failureReason,
		message
	};
	onUpdate?.(failed);
	return failed;
}
