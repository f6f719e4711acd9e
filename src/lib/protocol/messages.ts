// Validators for every payload of the protocol (types.ts), written by hand so that each
// refusal is a short sentence a person can act on. parseMessage() is the one entry
// point used at every MQTT boundary; the parseX functions throw a ProtocolError.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, utf8Decode, utf8Encode } from './bytes';
import { billingRecordHash, buildBillingRecord, isMsatString } from './billing';
import { ALL_NETWORKS } from './networks';
import { parseOcmf } from './ocmf';
import { isValidId, parseTopic, type ParsedTopic, type SessionTopicKind } from './topics';
import {
	PROTOCOL_VERSION,
	type BillingRecord,
	type Connector,
	type DriverMessage,
	type InvoiceMessage,
	type PaymentMode,
	type ReadingMessage,
	type SessionEvent,
	type SessionEventKind,
	type StationState,
	type StationStatus,
	type Tariff
} from './types';

export class ProtocolError extends Error {}

/** Payloads larger than this are refused before parsing (a status or invoice is ~1–2 KB). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/**
 * Tighter limits per topic kind, checked before JSON parsing: a stranger's flood costs the receiver
 * as little as possible. Each is several times what the station or wallet really sends.
 */
export const MAX_PAYLOAD_BYTES_BY_KIND = {
	status: 8 * 1024,
	readings: 20 * 1024,
	invoices: 16 * 1024,
	events: 4 * 1024,
	driver: 4 * 1024
} as const;

const STATION_STATES: readonly StationState[] = [
	'available',
	'occupied',
	'suspended',
	'faulted',
	'offline'
];
const PAYMENT_MODES: readonly PaymentMode[] = ['stream', 'postpaid'];
const EVENT_KINDS: readonly SessionEventKind[] = [
	'started',
	'suspended',
	'resumed',
	'stopped',
	'paid',
	'anchored',
	'closed',
	'fault'
];

type Json = Record<string, unknown>;

/** Field checks bound to a message name, so every error reads "<message>: <field> must …". */
class Fields {
	constructor(
		private readonly context: string,
		private readonly data: Json
	) {}

	fail(message: string): never {
		throw new ProtocolError(`${this.context}: ${message}`);
	}

	private present(name: string): unknown {
		const value = this.data[name];
		if (value === undefined) this.fail(`${name} is missing`);
		return value;
	}

	version(): 1 {
		const v = this.data.v;
		if (v !== PROTOCOL_VERSION)
			this.fail(`unsupported version ${JSON.stringify(v ?? null)}, expected ${PROTOCOL_VERSION}`);
		return PROTOCOL_VERSION;
	}

	literal<T extends string>(name: string, expected: T): T {
		const value = this.present(name);
		if (value !== expected) this.fail(`${name} must be "${expected}"`);
		return expected;
	}

	id(name: string): string {
		const value = this.present(name);
		if (!isValidId(value))
			this.fail(`${name} must be 1 to 64 characters of letters, digits, ".", "_" or "-"`);
		return value;
	}

	text(name: string, maxLength: number, minLength = 1): string {
		const value = this.present(name);
		if (typeof value !== 'string' || value.length < minLength || value.length > maxLength) {
			this.fail(`${name} must be a string of ${minLength} to ${maxLength} characters`);
		}
		return value;
	}

	integer(name: string, min: number): number {
		const value = this.present(name);
		if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
			this.fail(`${name} must be an integer ≥ ${min}`);
		}
		return value;
	}

	unixMs(name: string): number {
		const value = this.present(name);
		if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
			this.fail(`${name} must be a time in unix milliseconds`);
		}
		return value;
	}

	msat(name: string): string {
		const value = this.present(name);
		if (!isMsatString(value)) this.fail(`${name} must be a decimal string of millisatoshis`);
		return value;
	}

	oneOf<T extends string>(name: string, allowed: readonly T[]): T {
		const value = this.present(name);
		const match = allowed.find((item) => item === value);
		if (match === undefined) this.fail(`${name} must be one of ${allowed.join(', ')}`);
		return match;
	}

	hex(name: string, bytes: number, prefix = ''): string {
		const value = this.present(name);
		const pattern = new RegExp(`^${prefix}[0-9a-f]{${bytes * 2}}$`);
		if (typeof value !== 'string' || !pattern.test(value)) {
			this.fail(
				`${name} must be ${prefix ? `"${prefix}" and ` : ''}${bytes * 2} lower-case hex digits`
			);
		}
		return value;
	}

	compressedPoint(name: string): string {
		const value = this.hex(name, 33);
		try {
			secp256k1.Point.fromHex(value).assertValidity();
		} catch {
			this.fail(`${name} must be a compressed secp256k1 public key`);
		}
		return value;
	}

	object(name: string): Json {
		const value = this.present(name);
		if (!isPlainObject(value)) this.fail(`${name} must be an object`);
		return value;
	}

	array(name: string, maxLength: number): unknown[] {
		const value = this.present(name);
		if (!Array.isArray(value) || value.length > maxLength)
			this.fail(`${name} must be an array of at most ${maxLength} items`);
		return value;
	}

	has(name: string): boolean {
		return this.data[name] !== undefined;
	}

	/** Copies the optional proofs (`sig`, `mac`) when present, checking only their form. */
	proofs<T extends object>(target: T, names: readonly ('sig' | 'mac')[] = ['sig', 'mac']): T {
		const out = target as T & { sig?: string; mac?: string };
		if (names.includes('sig') && this.has('sig')) out.sig = this.hex('sig', 64);
		if (names.includes('mac') && this.has('mac')) out.mac = this.hex('mac', 32);
		return out;
	}
}

function isPlainObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldsOf(context: string, value: unknown): Fields {
	if (!isPlainObject(value)) throw new ProtocolError(`${context}: payload must be a JSON object`);
	return new Fields(context, value);
}

/** Ethereum address (EIP-55 checksum) of a secp256k1 public key. */
export function ethereumAddressOf(publicKeyHex: string): string {
	const uncompressed = secp256k1.Point.fromHex(publicKeyHex).toBytes(false);
	const address = bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12));
	const hash = bytesToHex(keccak_256(utf8Encode(address)));
	let checksummed = '0x';
	for (let i = 0; i < address.length; i++) {
		const char = address[i] as string;
		checksummed += parseInt(hash[i] as string, 16) >= 8 ? char.toUpperCase() : char;
	}
	return checksummed;
}

function parseTariff(value: unknown): Tariff {
	const f = fieldsOf('status message: tariff', value);
	return {
		pricePerKwhMsat: f.msat('pricePerKwhMsat'),
		startFeeMsat: f.msat('startFeeMsat'),
		incrementWh: f.integer('incrementWh', 1),
		graceWh: f.integer('graceWh', 0),
		mode: f.oneOf('mode', PAYMENT_MODES),
		invoiceExpirySeconds: f.integer('invoiceExpirySeconds', 1)
	};
}

function parseConnector(value: unknown, index: number): Connector {
	const f = fieldsOf(`status message: connectors[${index}]`, value);
	return { id: f.integer('id', 0), type: f.text('type', 64), maxPowerW: f.integer('maxPowerW', 1) };
}

export function parseStatus(value: unknown): StationStatus {
	const f = fieldsOf('status message', value);
	f.version();
	f.literal('type', 'status');
	const signingKey = f.compressedPoint('signingKey');
	const signerAddress = f.text('signerAddress', 42, 42);
	if (!/^0x[0-9a-fA-F]{40}$/.test(signerAddress))
		f.fail('signerAddress must be an Ethereum address');
	const expectedAddress = ethereumAddressOf(signingKey);
	if (signerAddress !== expectedAddress && signerAddress !== expectedAddress.toLowerCase()) {
		f.fail('signerAddress is not the address of signingKey');
	}
	const status: StationStatus = {
		v: PROTOCOL_VERSION,
		type: 'status',
		stationId: f.id('stationId'),
		name: f.text('name', 100),
		state: f.oneOf('state', STATION_STATES),
		tariff: parseTariff(f.object('tariff')),
		connectors: f.array('connectors', 64).map(parseConnector),
		signingKey,
		signerAddress,
		lightningPubkey: f.compressedPoint('lightningPubkey'),
		network: f.oneOf('network', ALL_NETWORKS),
		updatedAt: f.unixMs('updatedAt')
	};
	if (f.has('sessionId')) status.sessionId = f.id('sessionId');
	return f.proofs(status);
}

export function parseReading(value: unknown): ReadingMessage {
	const f = fieldsOf('reading message', value);
	f.version();
	f.literal('type', 'reading');
	const reading: ReadingMessage = {
		v: PROTOCOL_VERSION,
		type: 'reading',
		sessionId: f.id('sessionId'),
		seq: f.integer('seq', 0),
		ocmf: f.text('ocmf', 16 * 1024, 5)
	};
	try {
		parseOcmf(reading.ocmf);
	} catch (error) {
		f.fail(`ocmf is not a valid OCMF record (${(error as Error).message})`);
	}
	return f.proofs(reading, ['mac']);
}

export function parseBillingRecord(value: unknown, context = 'billing record'): BillingRecord {
	const f = fieldsOf(context, value);
	f.version();
	const tariffFields = fieldsOf(`${context}: tariff`, f.object('tariff'));
	const record: BillingRecord = {
		v: PROTOCOL_VERSION,
		stationId: f.id('stationId'),
		sessionId: f.id('sessionId'),
		seq: f.integer('seq', 1),
		fromReading: f.integer('fromReading', 0),
		toReading: f.integer('toReading', 0),
		fromWh: f.integer('fromWh', 0),
		toWh: f.integer('toWh', 0),
		energyWh: f.integer('energyWh', 0),
		tariff: {
			pricePerKwhMsat: tariffFields.msat('pricePerKwhMsat'),
			startFeeMsat: tariffFields.msat('startFeeMsat')
		},
		amountMsat: f.msat('amountMsat')
	};
	if (record.toReading <= record.fromReading) f.fail('toReading must be after fromReading');
	if (record.toWh < record.fromWh) f.fail('toWh must not be below fromWh');
	if (record.energyWh !== record.toWh - record.fromWh) f.fail('energyWh must equal toWh − fromWh');
	const recomputed = buildBillingRecord({
		stationId: record.stationId,
		sessionId: record.sessionId,
		seq: record.seq,
		from: { seq: record.fromReading, energyWh: record.fromWh },
		to: { seq: record.toReading, energyWh: record.toWh },
		tariff: record.tariff
	});
	if (recomputed.amountMsat !== record.amountMsat) {
		f.fail(
			`amountMsat ${record.amountMsat} does not match the energy and tariff (${recomputed.amountMsat})`
		);
	}
	return record;
}

export function parseInvoiceMessage(value: unknown): InvoiceMessage {
	const f = fieldsOf('invoice message', value);
	f.version();
	f.literal('type', 'invoice');
	const message: InvoiceMessage = {
		v: PROTOCOL_VERSION,
		type: 'invoice',
		sessionId: f.id('sessionId'),
		seq: f.integer('seq', 1),
		record: parseBillingRecord(f.object('record'), 'invoice message: record'),
		recordHash: f.hex('recordHash', 32),
		bolt11: f.text('bolt11', 4096, 8)
	};
	if (!/^ln[a-z0-9]+$/.test(message.bolt11.toLowerCase()))
		f.fail('bolt11 must be a BOLT11 payment request');
	if (message.record.sessionId !== message.sessionId)
		f.fail('record.sessionId must equal sessionId');
	if (message.record.seq !== message.seq) f.fail('record.seq must equal seq');
	if (billingRecordHash(message.record) !== message.recordHash) {
		f.fail("recordHash is not the SHA-256 of the record's canonical JSON");
	}
	return f.proofs(message);
}

export function parseEvent(value: unknown): SessionEvent {
	const f = fieldsOf('event message', value);
	f.version();
	f.literal('type', 'event');
	const event: SessionEvent = {
		v: PROTOCOL_VERSION,
		type: 'event',
		sessionId: f.id('sessionId'),
		seq: f.integer('seq', 1),
		event: f.oneOf('event', EVENT_KINDS),
		at: f.unixMs('at')
	};
	if (f.has('reason')) event.reason = f.text('reason', 500, 0);
	if (f.has('invoiceSeq')) event.invoiceSeq = f.integer('invoiceSeq', 1);
	if (f.has('paymentHash')) event.paymentHash = f.hex('paymentHash', 32);
	if (f.has('txHash')) event.txHash = f.hex('txHash', 32, '0x');
	if (f.has('root')) event.root = f.hex('root', 32, '0x');
	if (f.has('fromReading')) event.fromReading = f.integer('fromReading', 0);
	if (f.has('toReading')) event.toReading = f.integer('toReading', 0);
	if (f.has('energyWh')) event.energyWh = f.integer('energyWh', 0);
	if (f.has('amountMsat')) event.amountMsat = f.msat('amountMsat');
	// The fields without which an event says nothing checkable.
	const required: Partial<Record<SessionEventKind, Array<keyof SessionEvent>>> = {
		paid: ['invoiceSeq', 'paymentHash'],
		anchored: ['txHash', 'root', 'fromReading', 'toReading']
	};
	for (const name of required[event.event] ?? []) {
		if (event[name] === undefined) f.fail(`a "${event.event}" event needs ${name}`);
	}
	if (
		event.fromReading !== undefined &&
		event.toReading !== undefined &&
		event.toReading < event.fromReading
	) {
		f.fail('toReading must not be before fromReading');
	}
	return f.proofs(event);
}

export function parseDriverMessage(value: unknown): DriverMessage {
	const f = fieldsOf('driver message', value);
	f.version();
	const type = f.oneOf('type', ['join', 'budget', 'stop', 'reinvoice'] as const);
	const sessionId = f.id('sessionId');
	let message: DriverMessage;
	switch (type) {
		case 'join':
			message = {
				v: PROTOCOL_VERSION,
				type,
				sessionId,
				budgetMsat: f.msat('budgetMsat'),
				driverRef: f.text('driverRef', 128),
				at: f.unixMs('at')
			};
			if (f.has('driverKey')) message.driverKey = f.compressedPoint('driverKey');
			break;
		case 'budget':
			message = {
				v: PROTOCOL_VERSION,
				type,
				sessionId,
				budgetMsat: f.msat('budgetMsat'),
				at: f.unixMs('at')
			};
			break;
		case 'stop':
			message = { v: PROTOCOL_VERSION, type, sessionId, at: f.unixMs('at') };
			break;
		case 'reinvoice':
			message = {
				v: PROTOCOL_VERSION,
				type,
				sessionId,
				seq: f.integer('seq', 1),
				at: f.unixMs('at')
			};
			break;
	}
	if (f.has('n')) message.n = f.integer('n', 1);
	return f.proofs(message);
}

export type ParsedMessage =
	| { ok: true; kind: 'status'; stationId: string; sessionId?: undefined; message: StationStatus }
	| { ok: true; kind: 'readings'; stationId: string; sessionId: string; message: ReadingMessage }
	| { ok: true; kind: 'invoices'; stationId: string; sessionId: string; message: InvoiceMessage }
	| { ok: true; kind: 'events'; stationId: string; sessionId: string; message: SessionEvent }
	| { ok: true; kind: 'driver'; stationId: string; sessionId: string; message: DriverMessage };

export type ParseMessageResult = ParsedMessage | { ok: false; error: string };

const SESSION_PARSERS = {
	readings: parseReading,
	invoices: parseInvoiceMessage,
	events: parseEvent,
	driver: parseDriverMessage
} as const satisfies Record<SessionTopicKind, (value: unknown) => { sessionId: string }>;

/** A message's topic and its payload as JSON, before the schema is applied. */
export type RawMessage =
	{ ok: true; where: ParsedTopic; data: unknown } | { ok: false; error: string };

/**
 * The cheap first step of reading an MQTT message: a Lightcharge topic, a payload within the limit
 * of its kind, UTF-8 JSON. Receivers may check a MAC on `data` before paying for the schema.
 */
export function readRawMessage(topic: string, payload: Uint8Array | string): RawMessage {
	const where = parseTopic(topic);
	if (!where)
		return { ok: false, error: `"${String(topic).slice(0, 200)}" is not a Lightcharge topic` };
	try {
		const size = typeof payload === 'string' ? payload.length : payload.byteLength;
		const limit = Math.min(MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES_BY_KIND[where.kind]);
		if (size > limit)
			return { ok: false, error: `a ${where.kind} payload is larger than ${limit} bytes` };
		const text = typeof payload === 'string' ? payload : utf8Decode(payload, 'payload');
		return { ok: true, where, data: JSON.parse(text) };
	} catch (error) {
		return {
			ok: false,
			error: error instanceof SyntaxError ? 'payload is not valid JSON' : (error as Error).message
		};
	}
}

/** Applies the schema of the topic's kind; the ids in the payload must match the topic's. Never throws. */
export function parseMessageData(where: ParsedTopic, data: unknown): ParseMessageResult {
	try {
		if (where.kind === 'status') {
			const message = parseStatus(data);
			if (message.stationId !== where.stationId) {
				return { ok: false, error: 'status message: stationId does not match the topic' };
			}
			return { ok: true, kind: 'status', stationId: where.stationId, message };
		}
		const message = SESSION_PARSERS[where.kind](data);
		if (message.sessionId !== where.sessionId) {
			return { ok: false, error: `${where.kind} message: sessionId does not match the topic` };
		}
		if (
			where.kind === 'invoices' &&
			(message as InvoiceMessage).record.stationId !== where.stationId
		) {
			return { ok: false, error: 'invoice message: record.stationId does not match the topic' };
		}
		return {
			ok: true,
			kind: where.kind,
			stationId: where.stationId,
			sessionId: where.sessionId,
			message
		} as ParsedMessage;
	} catch (error) {
		if (error instanceof ProtocolError) return { ok: false, error: error.message };
		return { ok: false, error: `${where.kind} message: ${(error as Error).message}` };
	}
}

/**
 * Validates one MQTT message: the topic must be a Lightcharge topic, the payload UTF-8 JSON
 * of the shape that topic carries, and the ids in the payload must match the topic's.
 * Never throws.
 */
export function parseMessage(topic: string, payload: Uint8Array | string): ParseMessageResult {
	const raw = readRawMessage(topic, payload);
	return raw.ok ? parseMessageData(raw.where, raw.data) : raw;
}

type AnyMessage = StationStatus | ReadingMessage | InvoiceMessage | SessionEvent | DriverMessage;

/** Validates a message with the same rules receivers apply, then serialises it as JSON. Throws a ProtocolError. */
export function encodeMessage(message: AnyMessage): string {
	switch (message.type) {
		case 'status':
			return JSON.stringify(parseStatus(message));
		case 'reading':
			return JSON.stringify(parseReading(message));
		case 'invoice':
			return JSON.stringify(parseInvoiceMessage(message));
		case 'event':
			return JSON.stringify(parseEvent(message));
		case 'join':
		case 'budget':
		case 'stop':
		case 'reinvoice':
			return JSON.stringify(parseDriverMessage(message));
		default:
			throw new ProtocolError(
				`cannot encode a message of type ${JSON.stringify((message as { type?: unknown }).type)}`
			);
	}
}
