// The kiosk operator's settings, entered on the setup screen (behind a PIN) and kept in the kiosk's
// IndexedDB. When set, they replace the devnet manifest: broker, chain, Lightning, tariff, meter.
// Each value is checked here so a typo gets a sentence on the setup screen instead of a broken kiosk.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import * as v from 'valibot';
import { isValidId, type Tariff } from '../protocol';
import { firstSentence } from './schema';

export type MeterSetting =
	| { kind: 'simulated'; maxPowerW: number }
	| { kind: 'serial'; profile: string; unitId: number; baudRate: number; serial?: string };

/** What the kiosk acts on to let the car charge or make it stop (src/lib/charger). */
export type ChargerSetting =
	| { kind: 'simulated' }
	| { kind: 'manual' }
	| { kind: 'smartevse'; unitId: number }
	| { kind: 'evcc'; topicPrefix: string; loadpointId: number };

export const CHARGER_KINDS = ['simulated', 'manual', 'smartevse', 'evcc'] as const;

export interface KioskSettings {
	version: 1;
	stationId: string;
	name: string;
	/** MQTT over WebSockets (wss:// in production), with the station's own credentials. */
	broker: { url: string; username?: string; password?: string };
	/** null: no ledger (sessions are not anchored). */
	chain: {
		rpcUrl: string;
		chainId: number;
		registry: string;
		sessions: string;
		reservations: string;
	} | null;
	lightning: { restUrl: string; macaroonHex: string };
	tariff: { pricePerKwhSat: number; startFeeSat: number; incrementWh: number; graceWh: number };
	/** Optional fiat display: how many units of `currency` one bitcoin buys (entered by the operator). */
	fiat: { currency: string; perBtc: number } | null;
	meter: MeterSetting;
	/** Absent in settings saved before chargers were selectable: simulated with the simulated meter, else manual. */
	charger: ChargerSetting;
	maxPowerW: number;
	/** The wallet app the session QR code opens. */
	walletUrl: string;
}

export const KIOSK_SETTINGS_KEY = 'kiosk-settings';
export const KIOSK_PIN_KEY = 'kiosk-pin';

export class SettingsError extends Error {
	constructor(
		readonly field: string,
		message: string
	) {
		super(message);
	}
}

// Each field is checked by a valibot schema (the one schema library, see schema.ts) whose messages
// are the setup screen's sentences; the rules across fields (no ledger without an RPC address,
// which charger fits which meter) are the code in parseKioskSettings around them.

/** The value if `schema` accepts it, else a SettingsError naming `field` with the schema's sentence. */
function take<T>(field: string, schema: v.GenericSchema<unknown, T>, value: unknown): T {
	const r = v.safeParse(schema, value, { abortPipeEarly: true });
	if (r.success) return r.output;
	throw new SettingsError(field, firstSentence(r.issues).message);
}

const canParseUrl = (s: string) => {
	try {
		new URL(s);
		return true;
	} catch {
		return false;
	}
};

const urlSchema = (field: string, protocols: string[]) =>
	v.pipe(
		v.unknown(),
		v.check((x) => typeof x === 'string' && x.trim() !== '', `${field}: enter an address.`),
		v.transform((x) => x as string),
		v.check(
			(s) => canParseUrl(s.trim()),
			(issue) => `${field}: "${String(issue.input)}" is not a web address.`
		),
		v.check(
			(s) => protocols.includes(new URL(s.trim()).protocol),
			`${field} must start with ${protocols.map((p) => `${p}//`).join(' or ')}.`
		),
		v.transform((s) => new URL(s.trim()).toString())
	);

const numberSchema = (field: string, min: number, max: number, integer: boolean) =>
	v.pipe(
		v.unknown(),
		v.transform((x) => (typeof x === 'string' ? Number(x) : x)),
		v.check(
			(n) =>
				typeof n === 'number' &&
				Number.isFinite(n) &&
				(!integer || Number.isInteger(n)) &&
				n >= min &&
				n <= max,
			`${field} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`
		),
		v.transform((n) => n as number)
	);

const addressSchema = (field: string) =>
	v.pipe(
		v.string(`${field} must be a contract address (0x and 40 hex digits).`),
		v.trim(),
		v.regex(/^0x[0-9a-fA-F]{40}$/, `${field} must be a contract address (0x and 40 hex digits).`)
	);

const url = (field: string, value: unknown, protocols: string[]): string =>
	take(field, urlSchema(field, protocols), value);
const num = (field: string, value: unknown, min: number, max: number, integer = true): number =>
	take(field, numberSchema(field, min, max, integer), value);
const address = (field: string, value: unknown): string => take(field, addressSchema(field), value);
const MacaroonSchema = v.pipe(
	v.unknown(),
	v.transform((x) =>
		String(x ?? '')
			.trim()
			.toLowerCase()
	),
	v.regex(
		/^([0-9a-f]{2})+$/,
		'Macaroon: paste the invoice macaroon as hex (xxd -p -c0 invoice.macaroon).'
	)
);

/** Validates settings from the setup form or from storage. */
export function parseKioskSettings(raw: unknown): KioskSettings {
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw form or storage input: every field read here goes through a check below
	const input = (raw ?? {}) as Record<string, any>;
	if (!isValidId(input.stationId))
		throw new SettingsError('Station id', 'Station id: 1 to 64 letters, digits, ".", "_" or "-".');
	const name =
		typeof input.name === 'string' && input.name.trim()
			? input.name.trim().slice(0, 80)
			: input.stationId;
	const broker = {
		url: url('Broker address', input.broker?.url, ['ws:', 'wss:']),
		...(input.broker?.username ? { username: String(input.broker.username) } : {}),
		...(input.broker?.password ? { password: String(input.broker.password) } : {})
	};
	const chain =
		input.chain && input.chain.rpcUrl
			? {
					rpcUrl: url('Chain RPC', input.chain.rpcUrl, ['http:', 'https:']),
					chainId: num('Chain id', input.chain.chainId, 1, 2 ** 31),
					registry: address('Registry contract', input.chain.registry),
					sessions: address('Sessions contract', input.chain.sessions),
					reservations: address('Reservations contract', input.chain.reservations)
				}
			: null;
	const macaroonHex = take('Macaroon', MacaroonSchema, input.lightning?.macaroonHex);
	const lightning = {
		restUrl: url('LND REST address', input.lightning?.restUrl, ['http:', 'https:']),
		macaroonHex
	};
	const tariff = {
		pricePerKwhSat: num('Price per kWh', input.tariff?.pricePerKwhSat, 0, 10_000_000, false),
		startFeeSat: num('Start fee', input.tariff?.startFeeSat, 0, 10_000_000),
		incrementWh: num('Increment', input.tariff?.incrementWh, 1, 100_000),
		graceWh: num('Grace energy', input.tariff?.graceWh, 0, 100_000)
	};
	const fiat =
		input.fiat && input.fiat.currency
			? {
					currency: String(input.fiat.currency).trim().toUpperCase().slice(0, 5),
					perBtc: num('Fiat rate', input.fiat.perBtc, 0.000001, 1e12, false)
				}
			: null;
	const maxPowerW = num('Maximum power', input.maxPowerW ?? 11_000, 100, 1_000_000);
	let meter: MeterSetting;
	if (input.meter?.kind === 'serial') {
		if (typeof input.meter.profile !== 'string' || !input.meter.profile)
			throw new SettingsError('Meter profile', 'Choose the meter profile.');
		meter = {
			kind: 'serial',
			profile: input.meter.profile,
			unitId: num('Modbus address', input.meter.unitId ?? 1, 1, 247),
			baudRate: num('Baud rate', input.meter.baudRate ?? 9600, 1200, 115_200),
			...(input.meter.serial ? { serial: String(input.meter.serial) } : {})
		};
	} else meter = { kind: 'simulated', maxPowerW };
	const charger = parseChargerSetting(input.charger, meter);
	return {
		version: 1,
		stationId: input.stationId,
		name,
		broker,
		chain,
		lightning,
		tariff,
		fiat,
		meter,
		charger,
		maxPowerW,
		walletUrl: url('Wallet address', input.walletUrl, ['http:', 'https:'])
	};
}

/** The charger choice, checked against the meter it must work with. */
export function parseChargerSetting(raw: unknown, meter: MeterSetting): ChargerSetting {
	const c = (raw ?? null) as Record<string, unknown> | null;
	const kind = c?.kind ?? (meter.kind === 'simulated' ? 'simulated' : 'manual');
	switch (kind) {
		case 'simulated':
			// The simulated charger is the simulated car's contactor: there is nothing else it could switch.
			if (meter.kind !== 'simulated')
				throw new SettingsError(
					'Charger',
					'Charger: the simulated charger works only with the simulated meter (devnet). Choose manual, SmartEVSE or evcc.'
				);
			return { kind: 'simulated' };
		case 'manual':
			return { kind: 'manual' };
		case 'smartevse': {
			if (meter.kind !== 'serial')
				throw new SettingsError(
					'Charger',
					'Charger: SmartEVSE shares the meter’s RS-485 bus, so choose “Meter on RS-485” first.'
				);
			const unitId = num('SmartEVSE Modbus address', c?.unitId, 1, 247);
			if (unitId === meter.unitId)
				throw new SettingsError(
					'SmartEVSE Modbus address',
					`SmartEVSE Modbus address: ${unitId} is the meter’s address; two devices on one bus need different addresses.`
				);
			return { kind: 'smartevse', unitId };
		}
		case 'evcc': {
			const topicPrefix =
				typeof c?.topicPrefix === 'string' && c.topicPrefix.trim() ? c.topicPrefix.trim() : 'evcc';
			if (
				/[+#\u0000]/.test(topicPrefix) ||
				topicPrefix.startsWith('/') ||
				topicPrefix.endsWith('/') ||
				topicPrefix.includes('//')
			) {
				throw new SettingsError(
					'evcc topic',
					`evcc topic: "${topicPrefix}" is not an MQTT topic root (evcc’s mqtt.topic setting, e.g. evcc; no +, # or outer slashes).`
				);
			}
			return {
				kind: 'evcc',
				topicPrefix,
				loadpointId: num('evcc loadpoint', c?.loadpointId ?? 1, 1, 99)
			};
		}
		default:
			throw new SettingsError(
				'Charger',
				`Charger: "${String(kind)}" is not one of simulated, manual, SmartEVSE or evcc.`
			);
	}
}

/** The protocol's tariff (msat strings) from the operator's (sats). */
export function tariffOf(s: KioskSettings['tariff'], invoiceExpirySeconds = 600): Tariff {
	return {
		pricePerKwhMsat: String(Math.round(s.pricePerKwhSat * 1000)),
		startFeeMsat: String(Math.round(s.startFeeSat * 1000)),
		incrementWh: s.incrementWh,
		graceWh: s.graceWh,
		mode: 'stream',
		invoiceExpirySeconds
	};
}

/** A fiat amount for a msat figure at the operator's rate, e.g. "€0.42"; null without a rate. */
export function fiatOf(msat: bigint, fiat: KioskSettings['fiat']): string | null {
	if (!fiat) return null;
	const btc = Number(msat) / 1e11;
	const amount = btc * fiat.perBtc;
	try {
		return new Intl.NumberFormat('en-US', {
			style: 'currency',
			currency: fiat.currency,
			maximumFractionDigits: amount < 1 ? 3 : 2
		}).format(amount);
	} catch {
		return `${amount.toFixed(2)} ${fiat.currency}`;
	}
}

/** The stored form of a PIN: salted SHA-256 (the PIN keeps passers-by out of the setup screen, not a determined thief). */
export function hashPin(pin: string, salt: string): string {
	if (!/^\d{4,12}$/.test(pin)) throw new SettingsError('PIN', 'The PIN is 4 to 12 digits.');
	return bytesToHex(sha256(new TextEncoder().encode(`${salt}:${pin}`)));
}
