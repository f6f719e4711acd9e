// Open Charge Metering Format (S.A.F.E. e.V.): `OCMF|{payload}|{signature}`.
// The signature is ECDSA over SHA-256 of the payload section exactly as written, so
// the payload text is carried verbatim and never re-serialised before verifying.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Decode, bytesToHex, hexToBytes, utf8Encode } from './bytes';
import { readLenientJson, type LenientJson } from './lenient-json';
import {
	curveForAlgorithm,
	decodeSignatureBytes,
	preparePublicKey,
	verifyPreparedEcdsaSha256,
	type OcmfCurveName,
	type PreparedPublicKey,
	type PublicKeyInput
} from './ocmf-crypto';

export type { OcmfCurveName, PublicKeyInput } from './ocmf-crypto';
export type { LenientJson } from './lenient-json';

export const OCMF_SIGNATURE_ALGORITHM = 'ECDSA-secp256k1-SHA256';
/** OBIS code of imported active energy, total (the register a charging meter bills). */
export const OBIS_IMPORT_ENERGY = '01-00:01.08.00*FF';

export type OcmfTransaction = 'B' | 'T' | 'E';

/** A reading as Lightcharge writes it (OCMF Tab. 5–10 fields we use). */
export interface OcmfReading {
	TM: string;
	TX: OcmfTransaction;
	/** kWh; written with exactly three decimals. */
	RV: number;
	RI: string;
	RU: 'kWh';
	RT: 'AC';
	EF: string;
	ST: 'G';
}

/** The payload Lightcharge writes. Records from other meters may carry more or fewer fields. */
export interface OcmfPayload {
	FV: '1.0';
	GI: string;
	GS: string;
	GV: string;
	PG: string;
	MV: string;
	MM: string;
	MS: string;
	IS: boolean;
	IF: string[];
	IT: string;
	ID: string;
	RD: OcmfReading[];
}

export interface OcmfSignatureSection {
	SA?: string;
	SE?: string;
	SM?: string;
	SD?: string;
	[key: string]: LenientJson | undefined;
}

export interface ParsedOcmf {
	/** The payload section exactly as written: the signed bytes, as UTF-8. */
	payloadText: string;
	payload: { [key: string]: LenientJson };
	signature: OcmfSignatureSection;
	/** The withdrawn fourth section (a public key) some gateways append, verbatim. */
	publicKeySection?: string;
}

export class OcmfParseError extends Error {}

/**
 * Splits and reads an OCMF record. The payload's end is found by reading its JSON (so a
 * `|` inside a string does not split it), then a `|`, the signature object, and at most
 * one more section. JSON is read tolerantly, as meters write it (see lenient-json.ts).
 */
export function parseOcmf(record: string): ParsedOcmf {
	if (typeof record !== 'string') throw new OcmfParseError('OCMF record must be a string');
	if (!record.startsWith('OCMF'))
		throw new OcmfParseError('not an OCMF record: it must start with "OCMF|"');
	if (record[4] !== '|') throw new OcmfParseError('OCMF record has no "|" after its "OCMF" header');
	const payloadStart = 5;
	let payloadEnd: number;
	let payload: LenientJson;
	try {
		const read = readLenientJson(record, payloadStart);
		payload = read.value;
		payloadEnd = read.end;
	} catch (error) {
		throw new OcmfParseError(`OCMF payload is not readable JSON: ${(error as Error).message}`);
	}
	if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
		throw new OcmfParseError('OCMF payload must be a JSON object');
	}
	payloadEnd = skipWhitespace(record, payloadEnd);
	if (payloadEnd >= record.length) throw new OcmfParseError('OCMF record has no signature section');
	if (record[payloadEnd] !== '|') {
		throw new OcmfParseError('OCMF payload is followed by unexpected characters before the "|"');
	}
	const payloadText = record.slice(payloadStart, payloadEnd);

	let signature: LenientJson;
	let signatureEnd: number;
	try {
		const read = readLenientJson(record, payloadEnd + 1);
		signature = read.value;
		signatureEnd = skipWhitespace(record, read.end);
	} catch (error) {
		throw new OcmfParseError(
			`OCMF signature section is not readable JSON: ${(error as Error).message}`
		);
	}
	if (signature === null || typeof signature !== 'object' || Array.isArray(signature)) {
		throw new OcmfParseError('OCMF signature section must be a JSON object');
	}
	const parsed: ParsedOcmf = { payloadText, payload, signature: signature as OcmfSignatureSection };
	if (signatureEnd < record.length) {
		if (record[signatureEnd] !== '|') {
			throw new OcmfParseError('OCMF signature section is followed by unexpected characters');
		}
		const rest = record.slice(signatureEnd + 1);
		if (rest.includes('|'))
			throw new OcmfParseError('OCMF record has too many "|"-separated sections');
		if (rest.trim().length === 0)
			throw new OcmfParseError('OCMF record ends with an empty section');
		parsed.publicKeySection = rest;
	}
	return parsed;
}

function skipWhitespace(text: string, position: number): number {
	while (position < text.length && ' \t\n\r'.includes(text[position] as string)) position++;
	return position;
}

export type OcmfVerification =
	| { ok: true; payload: { [key: string]: LenientJson }; payloadText: string; curve: OcmfCurveName }
	| { ok: false; reason: string };

type Prepared = { ok: true; key: PreparedPublicKey } | { ok: false; reason: string };

function prepare(input: PublicKeyInput, curve: OcmfCurveName, native: boolean): Prepared {
	try {
		return preparePublicKey(input, curve, { native });
	} catch {
		return { ok: false, reason: 'public key could not be decoded' };
	}
}

/**
 * One station's public key for verifying many records (a session's readings): decoded and
 * validated once per curve its records name, not once per record. `native: false` keeps
 * @noble/curves even where node:crypto could verify (tests compare the two).
 */
export class OcmfVerifyingKey {
	readonly input: PublicKeyInput;
	private readonly native: boolean;
	private readonly byCurve = new Map<OcmfCurveName, Prepared>();

	constructor(input: PublicKeyInput, options: { native?: boolean } = {}) {
		this.input = input;
		this.native = options.native !== false;
	}

	forCurve(curve: OcmfCurveName): Prepared {
		let prepared = this.byCurve.get(curve);
		if (!prepared) {
			prepared = prepare(this.input, curve, this.native);
			this.byCurve.set(curve, prepared); // at most one entry per OCMF curve
		}
		return prepared;
	}
}

/**
 * Verifies an OCMF record against a public key (hex, base64 or bytes; a SEC1 point, bare
 * x‖y, or DER SubjectPublicKeyInfo; or an OcmfVerifyingKey holding one). Never throws: every
 * failure is a sentence in `reason`.
 */
export function verifyOcmf(
	record: string,
	publicKey: PublicKeyInput | OcmfVerifyingKey
): OcmfVerification {
	let parsed: ParsedOcmf;
	try {
		parsed = parseOcmf(record);
	} catch (error) {
		return { ok: false, reason: (error as Error).message };
	}
	const { SA, SE, SD } = parsed.signature;
	if (SA !== undefined && typeof SA !== 'string')
		return { ok: false, reason: 'OCMF signature algorithm (SA) is not a string' };
	const curve = curveForAlgorithm(SA);
	if (curve === null)
		return {
			ok: false,
			reason: `unsupported OCMF signature algorithm "${String(SA).slice(0, 60)}"`
		};
	if (typeof SD !== 'string' || SD.length === 0)
		return { ok: false, reason: 'OCMF record has no signature data (SD)' };

	let signatureBytes: Uint8Array;
	const encoding = SE === undefined ? 'hex' : typeof SE === 'string' ? SE.toLowerCase() : '';
	try {
		if (encoding === 'hex') signatureBytes = hexToBytes(SD, 'OCMF signature data (SD)');
		else if (encoding === 'base64') signatureBytes = base64Decode(SD, 'OCMF signature data (SD)');
		else
			return {
				ok: false,
				reason: `unsupported OCMF signature encoding (SE) "${String(SE).slice(0, 30)}"`
			};
	} catch (error) {
		return { ok: false, reason: (error as Error).message };
	}
	const rs = decodeSignatureBytes(signatureBytes, curve);
	if (!rs)
		return { ok: false, reason: `OCMF signature data is neither DER nor a raw ${curve} r‖s pair` };

	const key =
		publicKey instanceof OcmfVerifyingKey
			? publicKey.forCurve(curve)
			: prepare(publicKey, curve, true);
	if (!key.ok) return key;

	if (!verifyPreparedEcdsaSha256(key.key, rs, utf8Encode(parsed.payloadText))) {
		return { ok: false, reason: 'OCMF signature does not match the payload and public key' };
	}
	return { ok: true, payload: parsed.payload, payloadText: parsed.payloadText, curve };
}

/**
 * Signs a payload with a secp256k1 key (32 bytes or 64 hex chars) and returns the full record.
 * A string payload is signed exactly as given; an object is serialised with JSON.stringify.
 * Signatures are deterministic (RFC 6979) and low-S, DER in upper-case hex.
 */
export function signOcmf(payload: string | OcmfPayload, privateKey: Uint8Array | string): string {
	const payloadText = typeof payload === 'string' ? payload : JSON.stringify(payload);
	const parsed = readLenientJson(payloadText, 0);
	if (parsed.value === null || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
		throw new Error('OCMF payload must be a JSON object');
	}
	if (skipWhitespace(payloadText, parsed.end) !== payloadText.length) {
		throw new Error('OCMF payload has characters after its JSON object');
	}
	const key = typeof privateKey === 'string' ? hexToBytes(privateKey, 'private key') : privateKey;
	if (key.length !== 32) throw new Error('private key must be 32 bytes');
	const der = secp256k1.sign(sha256(utf8Encode(payloadText)), key, {
		prehash: false,
		format: 'der'
	});
	const signature = JSON.stringify({
		SA: OCMF_SIGNATURE_ALGORITHM,
		SD: bytesToHex(der).toUpperCase()
	});
	return `OCMF|${payloadText}|${signature}`;
}

/** Formats unix ms as an OCMF timestamp in UTC: `2026-11-22T10:15:30,123+0000 S`. */
export function formatOcmfTime(unixMs: number, status: 'U' | 'I' | 'S' | 'R' = 'S'): string {
	if (!Number.isSafeInteger(unixMs) || unixMs < 0)
		throw new Error('OCMF time must be a non-negative integer of unix ms');
	const date = new Date(unixMs);
	const pad = (value: number, width = 2) => String(value).padStart(width, '0');
	return (
		`${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
		`T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}` +
		`,${pad(date.getUTCMilliseconds(), 3)}+0000 ${status}`
	);
}

const OCMF_TIME =
	/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[,.](\d{1,9}))?([+-])(\d{2}):?(\d{2})(?: ([UISR]))?$/;

/**
 * Reads an OCMF timestamp (any offset; `,` or `.` before the fraction; optional time status)
 * into unix ms. Returns null when it is not a timestamp.
 */
export function parseOcmfTime(
	text: string
): { unixMs: number; status: 'U' | 'I' | 'S' | 'R' | null } | null {
	const match = OCMF_TIME.exec(text);
	if (!match) return null;
	const [
		,
		year,
		month,
		day,
		hour,
		minute,
		second,
		fraction,
		sign,
		offsetHours,
		offsetMinutes,
		status
	] = match;
	const numbers = [year, month, day, hour, minute, second].map(Number) as [
		number,
		number,
		number,
		number,
		number,
		number
	];
	const [y, mo, d, h, mi, s] = numbers;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
	const local = Date.UTC(
		y,
		mo - 1,
		d,
		h,
		mi,
		s,
		Number((fraction ?? '0').padEnd(3, '0').slice(0, 3))
	);
	if (new Date(local).getUTCDate() !== d) return null; // e.g. 31 February
	const offsetMs =
		(Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000 * (sign === '-' ? -1 : 1);
	return {
		unixMs: local - offsetMs,
		status: (status as 'U' | 'I' | 'S' | 'R' | undefined) ?? null
	};
}

/** Integer Wh as kWh text with exactly three decimals, without floating-point rounding. */
export function formatKwh(energyWh: number): string {
	if (!Number.isSafeInteger(energyWh) || energyWh < 0)
		throw new Error('energy must be a non-negative integer of Wh');
	return `${Math.floor(energyWh / 1000)}.${String(energyWh % 1000).padStart(3, '0')}`;
}

export interface OcmfPayloadInput {
	/** The station id (OCMF gateway serial, GS). */
	stationId: string;
	/** Gateway (kiosk software) version, GV. */
	gatewayVersion: string;
	/** Pagination counter: written as `T<n>`. */
	pagination: number;
	meter: { vendor: string; model: string; serial: string };
	identification: { type: string; data: string; flags?: string[] };
	reading: { at: number; tx: OcmfTransaction; energyWh: number };
}

/**
 * Writes the payload text of one Lightcharge reading. Field order is fixed and RV carries
 * three decimals, so the same reading always produces the same signed bytes.
 */
export function buildOcmfPayloadText(input: OcmfPayloadInput): string {
	if (!Number.isSafeInteger(input.pagination) || input.pagination < 1) {
		throw new Error('OCMF pagination must be a positive integer');
	}
	const field = (key: string, value: unknown) => `${JSON.stringify(key)}:${JSON.stringify(value)}`;
	const reading = [
		field('TM', formatOcmfTime(input.reading.at)),
		field('TX', input.reading.tx),
		`"RV":${formatKwh(input.reading.energyWh)}`,
		field('RI', OBIS_IMPORT_ENERGY),
		field('RU', 'kWh'),
		field('RT', 'AC'),
		field('EF', ''),
		field('ST', 'G')
	];
	const fields = [
		field('FV', '1.0'),
		field('GI', 'Lightcharge'),
		field('GS', input.stationId),
		field('GV', input.gatewayVersion),
		field('PG', `T${input.pagination}`),
		field('MV', input.meter.vendor),
		field('MM', input.meter.model),
		field('MS', input.meter.serial),
		field('IS', true),
		field('IF', input.identification.flags ?? []),
		field('IT', input.identification.type),
		field('ID', input.identification.data),
		`"RD":[{${reading.join(',')}}]`
	];
	return `{${fields.join(',')}}`;
}

/** Public key (compressed, hex) for a secp256k1 private key — what the station publishes. */
export function ocmfPublicKeyHex(privateKey: Uint8Array | string): string {
	const key = typeof privateKey === 'string' ? hexToBytes(privateKey, 'private key') : privateKey;
	return bytesToHex(secp256k1.getPublicKey(key, true));
}
