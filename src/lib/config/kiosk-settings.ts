// The kiosk operator's settings, entered on the setup screen (behind a PIN) and kept in the kiosk's
// IndexedDB. When set, they replace the devnet manifest: broker, chain, Lightning, tariff, meter.
// Each value is checked here so a typo gets a sentence on the setup screen instead of a broken kiosk.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { isValidId, type Tariff } from '../protocol';

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
	chain: { rpcUrl: string; chainId: number; registry: string; sessions: string; reservations: string } | null;
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

function url(field: string, value: unknown, protocols: string[]): string {
	if (typeof value !== 'string' || value.trim() === '') throw new SettingsError(field, `${field}: enter an address.`);
	let u: URL;
	try {
		u = new URL(value.trim());
	} catch {
		throw new SettingsError(field, `${field}: "${value}" is not a web address.`);
	}
	if (!protocols.includes(u.protocol)) throw new SettingsError(field, `${field} must start with ${protocols.map((p) => `${p}//`).join(' or ')}.`);
	return u.toString();
}
function num(field: string, value: unknown, min: number, max: number, integer = true): number {
	const n = typeof value === 'string' ? Number(value) : value;
	if (typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
		throw new SettingsError(field, `${field} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`);
	}
	return n;
}
const address = (field: string, value: unknown): string => {
	if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value.trim())) throw new SettingsError(field, `${field} must be a contract address (0x and 40 hex digits).`);
	return value.trim();
};

/** Validates settings from the setup form or from storage. */
export function parseKioskSettings(raw: unknown): KioskSettings {
	const v = (raw ?? {}) as Record<string, any>;
	if (!isValidId(v.stationId)) throw new SettingsError('Station id', 'Station id: 1 to 64 letters, digits, ".", "_" or "-".');
	const name = typeof v.name === 'string' && v.name.trim() ? v.name.trim().slice(0, 80) : v.stationId;
	const broker = {
		url: url('Broker address', v.broker?.url, ['ws:', 'wss:']),
		...(v.broker?.username ? { username: String(v.broker.username) } : {}),
		...(v.broker?.password ? { password: String(v.broker.password) } : {})
	};
	const chain =
		v.chain && v.chain.rpcUrl
			? {
					rpcUrl: url('Chain RPC', v.chain.rpcUrl, ['http:', 'https:']),
					chainId: num('Chain id', v.chain.chainId, 1, 2 ** 31),
					registry: address('Registry contract', v.chain.registry),
					sessions: address('Sessions contract', v.chain.sessions),
					reservations: address('Reservations contract', v.chain.reservations)
				}
			: null;
	const macaroonHex = String(v.lightning?.macaroonHex ?? '').trim().toLowerCase();
	if (!/^([0-9a-f]{2})+$/.test(macaroonHex)) throw new SettingsError('Macaroon', 'Macaroon: paste the invoice macaroon as hex (xxd -p -c0 invoice.macaroon).');
	const lightning = { restUrl: url('LND REST address', v.lightning?.restUrl, ['http:', 'https:']), macaroonHex };
	const tariff = {
		pricePerKwhSat: num('Price per kWh', v.tariff?.pricePerKwhSat, 0, 10_000_000, false),
		startFeeSat: num('Start fee', v.tariff?.startFeeSat, 0, 10_000_000),
		incrementWh: num('Increment', v.tariff?.incrementWh, 1, 100_000),
		graceWh: num('Grace energy', v.tariff?.graceWh, 0, 100_000)
	};
	const fiat =
		v.fiat && v.fiat.currency
			? { currency: String(v.fiat.currency).trim().toUpperCase().slice(0, 5), perBtc: num('Fiat rate', v.fiat.perBtc, 0.000001, 1e12, false) }
			: null;
	const maxPowerW = num('Maximum power', v.maxPowerW ?? 11_000, 100, 1_000_000);
	let meter: MeterSetting;
	if (v.meter?.kind === 'serial') {
		if (typeof v.meter.profile !== 'string' || !v.meter.profile) throw new SettingsError('Meter profile', 'Choose the meter profile.');
		meter = {
			kind: 'serial',
			profile: v.meter.profile,
			unitId: num('Modbus address', v.meter.unitId ?? 1, 1, 247),
			baudRate: num('Baud rate', v.meter.baudRate ?? 9600, 1200, 115_200),
			...(v.meter.serial ? { serial: String(v.meter.serial) } : {})
		};
	} else meter = { kind: 'simulated', maxPowerW };
	const charger = parseChargerSetting(v.charger, meter);
	return { version: 1, stationId: v.stationId, name, broker, chain, lightning, tariff, fiat, meter, charger, maxPowerW, walletUrl: url('Wallet address', v.walletUrl, ['http:', 'https:']) };
}

/** The charger choice, checked against the meter it must work with. */
export function parseChargerSetting(raw: unknown, meter: MeterSetting): ChargerSetting {
	const c = (raw ?? null) as Record<string, unknown> | null;
	const kind = c?.kind ?? (meter.kind === 'simulated' ? 'simulated' : 'manual');
	switch (kind) {
		case 'simulated':
			// The simulated charger is the simulated car's contactor: there is nothing else it could switch.
			if (meter.kind !== 'simulated') throw new SettingsError('Charger', 'Charger: the simulated charger works only with the simulated meter (devnet). Choose manual, SmartEVSE or evcc.');
			return { kind: 'simulated' };
		case 'manual':
			return { kind: 'manual' };
		case 'smartevse': {
			if (meter.kind !== 'serial') throw new SettingsError('Charger', 'Charger: SmartEVSE shares the meter’s RS-485 bus, so choose “Meter on RS-485” first.');
			const unitId = num('SmartEVSE Modbus address', c?.unitId, 1, 247);
			if (unitId === meter.unitId) throw new SettingsError('SmartEVSE Modbus address', `SmartEVSE Modbus address: ${unitId} is the meter’s address; two devices on one bus need different addresses.`);
			return { kind: 'smartevse', unitId };
		}
		case 'evcc': {
			const topicPrefix = typeof c?.topicPrefix === 'string' && c.topicPrefix.trim() ? c.topicPrefix.trim() : 'evcc';
			if (/[+#\u0000]/.test(topicPrefix) || topicPrefix.startsWith('/') || topicPrefix.endsWith('/') || topicPrefix.includes('//')) {
				throw new SettingsError('evcc topic', `evcc topic: "${topicPrefix}" is not an MQTT topic root (evcc’s mqtt.topic setting, e.g. evcc; no +, # or outer slashes).`);
			}
			return { kind: 'evcc', topicPrefix, loadpointId: num('evcc loadpoint', c?.loadpointId ?? 1, 1, 99) };
		}
		default:
			throw new SettingsError('Charger', `Charger: "${String(kind)}" is not one of simulated, manual, SmartEVSE or evcc.`);
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
		return new Intl.NumberFormat('en-US', { style: 'currency', currency: fiat.currency, maximumFractionDigits: amount < 1 ? 3 : 2 }).format(amount);
	} catch {
		return `${amount.toFixed(2)} ${fiat.currency}`;
	}
}

/** The stored form of a PIN: salted SHA-256 (the PIN keeps passers-by out of the setup screen, not a determined thief). */
export function hashPin(pin: string, salt: string): string {
	if (!/^\d{4,12}$/.test(pin)) throw new SettingsError('PIN', 'The PIN is 4 to 12 digits.');
	return bytesToHex(sha256(new TextEncoder().encode(`${salt}:${pin}`)));
}
