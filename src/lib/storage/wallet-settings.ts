// The wallet's settings at the storage boundary, checked with one schema (valibot) on the way in
// (the Settings screen saves) and on the way out (an older or damaged record is read back):
// a bad value on save is refused with a sentence and nothing is written; a bad field read back
// falls back to its default, and the record as it was stored is kept aside (`settings-rejected`)
// with the sentences, so nothing is lost and the drop is counted.
import * as v from 'valibot';
import { firstSentence, trustedNetwork, type TrustedNetworkInput } from '../config';
import type { SealedSecret } from './vault';

export type LightningSettings =
	| { kind: 'devnet'; node: string }
	| { kind: 'lnd-rest'; restUrl: string; macaroonHex: string }
	/** Paired through Lightning Node Connect; lnc-web keeps the credentials, encrypted, under `namespace`. */
	| {
			kind: 'lnc';
			namespace: string;
			/** host:port of the LNC mailbox (lnc-web's serverHost); lnc-web's default when absent. */ serverHost?: string;
	  };

/** The driver's ledger key as the vault sealed it (vault.ts): salt, iv, ciphertext, iteration count. */
export type EncryptedKey = SealedSecret;

export interface WalletSettings {
	lightning: LightningSettings;
	/** Networks the driver added (or marked as offline) in Settings; the build's and this devnet's are not stored. */
	networks: TrustedNetworkInput[];
	/** The driver's ledger identity (for reservations): an address and its key encrypted under a passphrase. */
	identity: { address: string; key: EncryptedKey } | null;
	defaultBudgetSat: number;
	/** Display only: amounts shown in this currency at the driver's own rate (no price feed). */
	fiat: { currency: string; perBtc: number } | null;
	/** Most routing fee per payment, sat. */
	feeLimitSat: number;
}

export const DEFAULT_SETTINGS: WalletSettings = {
	lightning: { kind: 'devnet', node: 'vehicle-1' },
	networks: [],
	identity: null,
	defaultBudgetSat: 2000,
	fiat: null,
	feeLimitSat: 20
};

export class WalletSettingsError extends Error {
	constructor(
		readonly field: string,
		message: string
	) {
		super(message);
		this.name = 'WalletSettingsError';
	}
}

const httpUrl = (what: string) =>
	v.pipe(
		v.string(`${what}: enter an address.`),
		v.trim(),
		v.maxLength(2048, `${what}: the address is too long.`),
		v.check((s) => {
			try {
				return ['http:', 'https:'].includes(new URL(s).protocol);
			} catch {
				return false;
			}
		}, `${what} must be a web address starting with http:// or https://.`)
	);

const wholeSat = (what: string, min: number, max: number) =>
	v.pipe(
		v.number(`${what} must be a number.`),
		v.integer(`${what} must be a whole number of sat.`),
		v.minValue(min, `${what} must be at least ${min} sat.`),
		v.maxValue(max, `${what} must be at most ${max.toLocaleString('en-US')} sat.`)
	);

const LightningSchema = v.variant(
	'kind',
	[
		v.object({
			kind: v.literal('devnet'),
			node: v.pipe(
				v.string(),
				v.trim(),
				v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'Devnet node: 1 to 64 letters, digits, ".", "_" or "-".')
			)
		}),
		v.object({
			kind: v.literal('lnd-rest'),
			restUrl: httpUrl('LND REST address'),
			macaroonHex: v.pipe(
				v.string('Macaroon: paste it as hex.'),
				v.trim(),
				v.toLowerCase(),
				v.regex(/^([0-9a-f]{2}){1,4096}$/, 'Macaroon: paste it as hex (xxd -p -c0 the.macaroon).')
			)
		}),
		v.object({
			kind: v.literal('lnc'),
			namespace: v.pipe(
				v.string(),
				v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'LNC pairing: its name is broken; pair again.')
			),
			serverHost: v.optional(
				v.pipe(
					v.string(),
					v.regex(
						/^[A-Za-z0-9.\-[\]:]{1,255}:\d{1,5}$/,
						'LNC mailbox: host:port, for example mailbox.terminal.lightning.today:443.'
					)
				)
			)
		})
	],
	'Lightning: choose the devnet, LND REST or Lightning Node Connect.'
);

const SealedSchema = v.object(
	{
		salt: v.string(),
		iv: v.string(),
		data: v.string(),
		iterations: v.pipe(v.number(), v.integer(), v.minValue(1000))
	},
	'Ledger identity: its stored key is not readable.'
);

const IdentitySchema = v.nullable(
	v.object(
		{
			address: v.pipe(
				v.string(),
				v.regex(/^0x[0-9a-fA-F]{40}$/, 'Ledger identity: the address must be 0x and 40 hex digits.')
			),
			key: SealedSchema
		},
		'Ledger identity: it is not readable.'
	)
);

const FiatSchema = v.nullable(
	v.object(
		{
			currency: v.pipe(
				v.string('Currency: enter a three-letter code such as EUR.'),
				v.trim(),
				v.toUpperCase(),
				v.regex(/^[A-Z]{3}$/, 'Currency: enter a three-letter code such as EUR.')
			),
			perBtc: v.pipe(
				v.number('Fiat rate must be a number.'),
				v.finite('Fiat rate must be a number.'),
				v.minValue(0.000001, 'Fiat rate must be more than 0.'),
				v.maxValue(1e12, 'Fiat rate is too large.')
			)
		},
		'Display currency: it is not readable.'
	)
);

const NetworkSchema = v.custom<TrustedNetworkInput>((input) => {
	try {
		trustedNetwork(input, 'user');
		return true;
	} catch {
		return false;
	}
}, 'A network in your list is not readable; add it again.');

const FIELDS = {
	lightning: LightningSchema,
	networks: v.pipe(
		v.array(NetworkSchema, 'Networks: the list is not readable.'),
		v.maxLength(32, 'Networks: at most 32.')
	),
	identity: IdentitySchema,
	defaultBudgetSat: wholeSat('Default budget', 1, 100_000_000),
	fiat: FiatSchema,
	feeLimitSat: wholeSat('Most routing fee', 0, 1_000_000)
} as const;

const WalletSettingsSchema: v.GenericSchema<unknown, WalletSettings> = v.object(
	FIELDS,
	'The settings are not readable.'
);

/** Checks settings before they are stored; a WalletSettingsError names the first bad field in a sentence. */
export function parseWalletSettings(raw: unknown): WalletSettings {
	const r = v.safeParse(WalletSettingsSchema, raw);
	if (r.success) return r.output;
	const { path, message } = firstSentence(r.issues);
	throw new WalletSettingsError(path.split(/[.[]/)[0] || 'settings', message);
}

/**
 * Settings as read back from storage: each field checked alone; a missing one takes its default, a
 * bad one too, with a sentence in `rejected` (the caller keeps the stored record aside). An older
 * record's `ledger` field (before trusted networks) is dropped silently, as it always was.
 */
export function readWalletSettings(
	stored: unknown,
	defaults: WalletSettings
): { settings: WalletSettings; rejected: string[] } {
	const rejected: string[] = [];
	if (stored === undefined || stored === null) return { settings: { ...defaults }, rejected };
	if (typeof stored !== 'object' || Array.isArray(stored))
		return {
			settings: { ...defaults },
			rejected: ['The stored settings were not readable; the defaults are used.']
		};
	const record = stored as Record<string, unknown>;
	const out: Record<string, unknown> = {};
	for (const [name, schema] of Object.entries(FIELDS) as [
		keyof WalletSettings,
		v.GenericSchema
	][]) {
		if (!(name in record) || record[name] === undefined) {
			out[name] = defaults[name];
			continue;
		}
		if (name === 'networks' && Array.isArray(record.networks)) {
			// One bad entry does not cost the others.
			const kept = record.networks.filter((n) => v.is(NetworkSchema, n));
			if (kept.length < record.networks.length)
				rejected.push(
					`${record.networks.length - kept.length} stored network(s) were not readable and are left out.`
				);
			out.networks = kept.slice(0, 32);
			continue;
		}
		const r = v.safeParse(schema, record[name]);
		if (r.success) out[name] = r.output;
		else {
			out[name] = defaults[name];
			rejected.push(`${firstSentence(r.issues).message} (the default is used)`);
		}
	}
	return { settings: out as unknown as WalletSettings, rejected };
}
