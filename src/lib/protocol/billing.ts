// Billing records: what one invoice charges for, computed identically by kiosk and wallet.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8Encode } from './bytes';
import { canonicalize } from './canonical-json';
import { assertValidId } from './topics';
import { PROTOCOL_VERSION, type BillingRecord, type Tariff } from './types';

/** Largest amount we accept anywhere: 2^64 − 1 msat (LND's uint64), far above any real session. */
export const MAX_MSAT = (1n << 64n) - 1n;

const MSAT_PATTERN = /^(?:0|[1-9][0-9]{0,19})$/;

/** True for a canonical decimal string of millisatoshis (no sign, no leading zeros, ≤ 2^64 − 1). */
export function isMsatString(value: unknown): value is string {
	return typeof value === 'string' && MSAT_PATTERN.test(value) && BigInt(value) <= MAX_MSAT;
}

/** Parses a millisatoshi decimal string, naming `what` in the error. */
export function parseMsat(value: unknown, what = 'amount'): bigint {
	if (!isMsatString(value)) throw new Error(`${what} must be a decimal string of millisatoshis`);
	return BigInt(value);
}

/**
 * Price of `energyWh` at `pricePerKwhMsat`, in msat: floor(energyWh × price / 1000).
 * Integer arithmetic only, so kiosk and wallet always agree. Flooring favours the driver
 * by less than 1 msat per increment; increments never carry remainders forward, so every
 * record can be recomputed on its own.
 */
export function amountForEnergyMsat(energyWh: number, pricePerKwhMsat: bigint): bigint {
	if (!Number.isSafeInteger(energyWh) || energyWh < 0)
		throw new Error('energy must be a non-negative integer of Wh');
	if (typeof pricePerKwhMsat !== 'bigint' || pricePerKwhMsat < 0n) {
		throw new Error('price per kWh must be a non-negative bigint of msat');
	}
	return (BigInt(energyWh) * pricePerKwhMsat) / 1000n;
}

export interface BillingRecordInput {
	stationId: string;
	sessionId: string;
	/** Invoice number within the session: 1, 2, 3… The start fee is charged on 1. */
	seq: number;
	from: { seq: number; energyWh: number };
	to: { seq: number; energyWh: number };
	tariff: Pick<Tariff, 'pricePerKwhMsat' | 'startFeeMsat'>;
}

export function buildBillingRecord(input: BillingRecordInput): BillingRecord {
	assertValidId(input.stationId, 'station id');
	assertValidId(input.sessionId, 'session id');
	if (!Number.isSafeInteger(input.seq) || input.seq < 1)
		throw new Error('billing record seq must be an integer ≥ 1');
	for (const [name, point] of [
		['from', input.from],
		['to', input.to]
	] as const) {
		if (!Number.isSafeInteger(point.seq) || point.seq < 0)
			throw new Error(`billing record ${name}.seq must be a non-negative integer`);
		if (!Number.isSafeInteger(point.energyWh) || point.energyWh < 0) {
			throw new Error(`billing record ${name}.energyWh must be a non-negative integer of Wh`);
		}
	}
	if (input.to.seq <= input.from.seq)
		throw new Error('billing record must end at a later reading than it starts');
	if (input.to.energyWh < input.from.energyWh)
		throw new Error('billing record energy must not decrease');
	const price = parseMsat(input.tariff.pricePerKwhMsat, 'tariff pricePerKwhMsat');
	const startFee = parseMsat(input.tariff.startFeeMsat, 'tariff startFeeMsat');
	const energyWh = input.to.energyWh - input.from.energyWh;
	const amount = amountForEnergyMsat(energyWh, price) + (input.seq === 1 ? startFee : 0n);
	if (amount > MAX_MSAT) throw new Error('billing record amount is out of range');
	return {
		v: PROTOCOL_VERSION,
		stationId: input.stationId,
		sessionId: input.sessionId,
		seq: input.seq,
		fromReading: input.from.seq,
		toReading: input.to.seq,
		fromWh: input.from.energyWh,
		toWh: input.to.energyWh,
		energyWh,
		tariff: {
			pricePerKwhMsat: input.tariff.pricePerKwhMsat,
			startFeeMsat: input.tariff.startFeeMsat
		},
		amountMsat: amount.toString()
	};
}

/** Hex SHA-256 of the record's RFC 8785 canonical JSON: the invoice's description hash (`h`). */
export function billingRecordHash(record: BillingRecord): string {
	return bytesToHex(sha256(utf8Encode(canonicalize(record))));
}

/**
 * The reference a registry entry holds for a tariff: 0x + hex SHA-256 of the tariff's RFC 8785 JSON.
 * A station sets it on the ledger; a wallet then accepts no other tariff from that station.
 */
export function tariffReference(tariff: Tariff): string {
	const { pricePerKwhMsat, startFeeMsat, incrementWh, graceWh, mode, invoiceExpirySeconds } =
		tariff;
	return `0x${bytesToHex(sha256(utf8Encode(canonicalize({ pricePerKwhMsat, startFeeMsat, incrementWh, graceWh, mode, invoiceExpirySeconds }))))}`;
}

/** A registry's "no tariff registered" reference. */
export const NO_TARIFF_REFERENCE = `0x${'00'.repeat(32)}`;
