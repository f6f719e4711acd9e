// Checks a station's invoice against what the wallet verified itself, before paying it.
// Pure: the clock comes in as `nowSeconds`.

import { Bolt11Error, decodeBolt11, type DecodedBolt11, type RouteHintHop } from './bolt11';
import type { DecodedPaymentRequest, Network } from './port';
import { satExact } from '../format';
import { ALL_NETWORKS, NETWORK_TABLE } from '../protocol';

export interface ExpectedInvoice {
	amountMsat: bigint;
	/** 32-byte hex: the billing record's hash the invoice must commit to. */
	descriptionHash: string;
	/** The station's Lightning node pubkey (hex, compressed). */
	payee: string;
	network: Network;
	/** Unix seconds. */
	nowSeconds: number;
	/** The invoice must stay payable at least this long (default 10 s), so it cannot expire mid-flight. */
	minSecondsLeft?: number;
	/** The most routing fee the payer allows (default 10,000 msat): a routing hint that costs more is refused. */
	feeLimitMsat?: bigint;
}

/**
 * The most blocks a charging payment may lock the driver's funds for if it gets stuck: LND's own
 * default `--max-cltv-expiry` (2016 blocks, about two weeks). A station needs a few dozen.
 */
export const MAX_CLTV_BLOCKS = 2016;
/** LND writes at most 20 routing hints into an invoice of its own (invoicesrpc's hop hint limit). */
export const MAX_ROUTE_HINTS = 20;
/** A station behind a private channel needs one hop; three leave room for a hub in front of it. */
export const MAX_HINT_HOPS = 3;

export type InvoiceCheckFailure =
	| 'malformed'
	| 'network'
	| 'expired'
	| 'amount'
	| 'description_hash'
	| 'payee'
	| 'no_amount'
	| 'route'
	| 'fallback';

export type InvoiceCheckResult =
	| { ok: true; invoice: DecodedPaymentRequest }
	| { ok: false; reason: InvoiceCheckFailure; message: string };

const NETWORK_NAMES: Record<Network, string> = Object.fromEntries(
	ALL_NETWORKS.map((n) => [n, NETWORK_TABLE[n].label])
) as Record<Network, string>;

function short(hex: string): string {
	return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-8)}` : hex;
}

/** Fee for `amountMsat` along a hint's hops (each hop charges on what it forwards; the last hop first). */
function hintFeeMsat(hops: readonly RouteHintHop[], amountMsat: bigint): bigint {
	let forwarded = amountMsat;
	for (const hop of [...hops].reverse())
		forwarded +=
			BigInt(hop.feeBaseMsat) + (forwarded * BigInt(hop.feeProportionalMillionths)) / 1_000_000n;
	return forwarded - amountMsat;
}

/**
 * Where an invoice may send the payment besides the payee, judged for a charging payment: Lightning
 * only (an on-chain fallback is an address nobody vouches for, and the wallet never pays on chain);
 * no blinded path (the wallet cannot see where it ends); routing hints only as LND writes them for
 * a private channel — a few short routes, none through the payee itself, none that could lock the
 * driver's funds for longer than LND would, none whose fees the payer would not pay anyway.
 */
function routingProblem(
	invoice: DecodedBolt11,
	expected: ExpectedInvoice
): { reason: 'route' | 'fallback'; message: string } | null {
	const fallback = invoice.fallbackAddresses[0];
	if (fallback) {
		return {
			reason: 'fallback',
			message: `The invoice names an on-chain fallback address (version ${fallback.version}); a charging payment is paid over Lightning only, so it is not paid.`
		};
	}
	if (invoice.blindedPaths > 0) {
		return {
			reason: 'route',
			message:
				'The invoice routes through blinded paths, which hide where the payment ends; a charging payment must go to the station’s node.'
		};
	}
	if (invoice.routeHints.length > MAX_ROUTE_HINTS) {
		return {
			reason: 'route',
			message: `The invoice has ${invoice.routeHints.length} routing hints; a station's node needs at most ${MAX_ROUTE_HINTS}.`
		};
	}
	const feeLimit = expected.feeLimitMsat ?? 10_000n;
	for (const hint of invoice.routeHints) {
		if (hint.length > MAX_HINT_HOPS) {
			return {
				reason: 'route',
				message: `A routing hint of the invoice has ${hint.length} hops; a route to a station needs at most ${MAX_HINT_HOPS}.`
			};
		}
		if (hint.some((hop) => hop.pubkey.toLowerCase() === invoice.payee.toLowerCase())) {
			return {
				reason: 'route',
				message:
					'A routing hint of the invoice leads through the station’s own node, which no real route does.'
			};
		}
		const cltv = hint.reduce((sum, hop) => sum + hop.cltvExpiryDelta, invoice.minFinalCltvExpiry);
		if (cltv > MAX_CLTV_BLOCKS) {
			return {
				reason: 'route',
				message: `A routing hint of the invoice could lock your payment for ${cltv} blocks; at most ${MAX_CLTV_BLOCKS} are accepted.`
			};
		}
		const fee = hintFeeMsat(hint, expected.amountMsat);
		if (fee > feeLimit) {
			return {
				reason: 'route',
				message: `A routing hint of the invoice charges ${satExact(fee)} in fees, more than your limit of ${satExact(feeLimit)}.`
			};
		}
	}
	if (invoice.minFinalCltvExpiry > MAX_CLTV_BLOCKS) {
		return {
			reason: 'route',
			message: `The invoice asks to lock the payment for ${invoice.minFinalCltvExpiry} blocks; at most ${MAX_CLTV_BLOCKS} are accepted.`
		};
	}
	return null;
}

export function checkInvoice(
	paymentRequest: string,
	expected: ExpectedInvoice
): InvoiceCheckResult {
	let invoice: DecodedBolt11;
	try {
		invoice = decodeBolt11(paymentRequest);
	} catch (e) {
		const detail = e instanceof Bolt11Error ? e.message : 'it could not be read.';
		return {
			ok: false,
			reason: 'malformed',
			message: `The station's invoice cannot be used: ${detail}`
		};
	}
	if (invoice.network !== expected.network) {
		return {
			ok: false,
			reason: 'network',
			message: `The invoice is for ${NETWORK_NAMES[invoice.network]}, but this wallet pays on ${NETWORK_NAMES[expected.network]}.`
		};
	}
	if (invoice.payee.toLowerCase() !== expected.payee.toLowerCase()) {
		return {
			ok: false,
			reason: 'payee',
			message: `The invoice would pay node ${short(invoice.payee)}, not the station's node ${short(expected.payee)}.`
		};
	}
	if (invoice.descriptionHash?.toLowerCase() !== expected.descriptionHash.toLowerCase()) {
		return {
			ok: false,
			reason: 'description_hash',
			message:
				invoice.descriptionHash === undefined
					? 'The invoice does not commit to a billing record (it has no description hash).'
					: 'The invoice commits to a different billing record than the energy this wallet verified.'
		};
	}
	if (invoice.amountMsat === null) {
		return {
			ok: false,
			reason: 'no_amount',
			message: `The invoice has no amount; the verified energy costs ${satExact(expected.amountMsat)}.`
		};
	}
	if (invoice.amountMsat !== expected.amountMsat) {
		return {
			ok: false,
			reason: 'amount',
			message: `The invoice asks for ${satExact(invoice.amountMsat)} but the verified energy costs ${satExact(expected.amountMsat)}.`
		};
	}
	const routing = routingProblem(invoice, expected);
	if (routing) return { ok: false, ...routing };
	const secondsLeft = invoice.timestamp + invoice.expirySeconds - expected.nowSeconds;
	const minSecondsLeft = expected.minSecondsLeft ?? 10;
	if (secondsLeft < minSecondsLeft) {
		return {
			ok: false,
			reason: 'expired',
			message:
				secondsLeft <= 0
					? `The invoice expired ${-secondsLeft} s ago.`
					: `The invoice expires in ${secondsLeft} s, too soon to pay it safely (at least ${minSecondsLeft} s needed).`
		};
	}
	return { ok: true, invoice };
}
