// Checks a station's invoice against what the wallet verified itself, before paying it.
// Pure: the clock comes in as `nowSeconds`.

import { Bolt11Error, decodeBolt11 } from './bolt11.js';
import type { DecodedPaymentRequest, Network } from './port.js';

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
}

export type InvoiceCheckFailure =
	| 'malformed'
	| 'network'
	| 'expired'
	| 'amount'
	| 'description_hash'
	| 'payee'
	| 'no_amount';

export type InvoiceCheckResult =
	| { ok: true; invoice: DecodedPaymentRequest }
	| { ok: false; reason: InvoiceCheckFailure; message: string };

const NETWORK_NAMES: Record<Network, string> = {
	mainnet: 'Bitcoin mainnet',
	testnet: 'testnet',
	signet: 'signet',
	regtest: 'regtest (the local test network)',
	simnet: 'simnet'
};

/** "12,345 sat", or "12,345.678 sat" when the amount is not whole satoshis. */
export function formatSat(msat: bigint): string {
	const negative = msat < 0n;
	const abs = negative ? -msat : msat;
	const whole = (abs / 1000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
	const rest = abs % 1000n;
	const fraction = rest === 0n ? '' : '.' + rest.toString().padStart(3, '0').replace(/0+$/, '');
	return `${negative ? '-' : ''}${whole}${fraction} sat`;
}

function short(hex: string): string {
	return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-8)}` : hex;
}

export function checkInvoice(paymentRequest: string, expected: ExpectedInvoice): InvoiceCheckResult {
	let invoice: DecodedPaymentRequest;
	try {
		invoice = decodeBolt11(paymentRequest);
	} catch (e) {
		const detail = e instanceof Bolt11Error ? e.message : 'it could not be read.';
		return { ok: false, reason: 'malformed', message: `The station's invoice cannot be used: ${detail}` };
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
			message: `The invoice has no amount; the verified energy costs ${formatSat(expected.amountMsat)}.`
		};
	}
	if (invoice.amountMsat !== expected.amountMsat) {
		return {
			ok: false,
			reason: 'amount',
			message: `The invoice asks for ${formatSat(invoice.amountMsat)} but the verified energy costs ${formatSat(expected.amountMsat)}.`
		};
	}
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
