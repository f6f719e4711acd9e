import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
	DEFAULT_SETTINGS,
	loadSettings,
	openWalletDb,
	rejectedSettings,
	saveSettings,
	type WalletSettings
} from './wallet-db';
import { WalletSettingsError, parseWalletSettings, readWalletSettings } from './wallet-settings';

const network = {
	name: 'Test QBFT',
	chainId: 1337,
	registry: '0x' + '11'.repeat(20),
	sessions: '0x' + '22'.repeat(20),
	reservations: '0x' + '33'.repeat(20),
	rpcUrl: 'https://rpc.example/',
	brokers: [{ url: 'wss://broker.example/mqtt' }],
	identity: 'ledger' as const
};
const good: WalletSettings = {
	...DEFAULT_SETTINGS,
	lightning: { kind: 'lnd-rest', restUrl: 'https://node.example:8080', macaroonHex: 'AB01' },
	networks: [network],
	fiat: { currency: 'eur', perBtc: 90_000 }
};

function refusal(raw: unknown): WalletSettingsError {
	try {
		parseWalletSettings(raw);
	} catch (e) {
		if (e instanceof WalletSettingsError) return e;
		throw e;
	}
	throw new Error('accepted');
}

describe('wallet settings on save', () => {
	it('accepts good settings and normalises what a person types', () => {
		const s = parseWalletSettings(good);
		expect(s.lightning).toEqual({
			kind: 'lnd-rest',
			restUrl: 'https://node.example:8080',
			macaroonHex: 'ab01'
		});
		expect(s.fiat).toEqual({ currency: 'EUR', perBtc: 90_000 });
		expect(s.networks).toEqual([network]);
	});

	it("keeps an LNC pairing with its mailbox, and one without (lnc-web's default mailbox)", () => {
		expect(
			parseWalletSettings({
				...good,
				lightning: { kind: 'lnc', namespace: 'lightcharge', serverHost: '127.0.0.1:23120' }
			}).lightning
		).toEqual({
			kind: 'lnc',
			namespace: 'lightcharge',
			serverHost: '127.0.0.1:23120'
		});
		expect(
			parseWalletSettings({ ...good, lightning: { kind: 'lnc', namespace: 'lightcharge' } })
				.lightning
		).toEqual({ kind: 'lnc', namespace: 'lightcharge' });
	});

	it.each([
		[
			'a budget of 0',
			{ ...good, defaultBudgetSat: 0 },
			'defaultBudgetSat',
			'Default budget must be at least 1 sat.'
		],
		[
			'a fractional fee limit',
			{ ...good, feeLimitSat: 1.5 },
			'feeLimitSat',
			'Most routing fee must be a whole number of sat.'
		],
		[
			'a budget typed as text',
			{ ...good, defaultBudgetSat: '2000' },
			'defaultBudgetSat',
			'Default budget must be a number.'
		],
		[
			'an ftp node address',
			{ ...good, lightning: { kind: 'lnd-rest', restUrl: 'ftp://node', macaroonHex: 'ab' } },
			'lightning',
			'LND REST address must be a web address starting with http:// or https://.'
		],
		[
			'a macaroon that is not hex',
			{ ...good, lightning: { kind: 'lnd-rest', restUrl: 'https://n', macaroonHex: 'xyz' } },
			'lightning',
			'Macaroon: paste it as hex (xxd -p -c0 the.macaroon).'
		],
		[
			'an LNC mailbox that is not host:port',
			{ ...good, lightning: { kind: 'lnc', namespace: 'lightcharge', serverHost: 'wss://x/' } },
			'lightning',
			'LNC mailbox: host:port, for example mailbox.terminal.lightning.today:443.'
		],
		[
			'an unknown backend',
			{ ...good, lightning: { kind: 'carrier-pigeon' } },
			'lightning',
			'Lightning: choose the devnet, LND REST or Lightning Node Connect.'
		],
		[
			'a currency of four letters',
			{ ...good, fiat: { currency: 'EURO', perBtc: 1 } },
			'fiat',
			'Currency: enter a three-letter code such as EUR.'
		],
		[
			'a rate of 0',
			{ ...good, fiat: { currency: 'EUR', perBtc: 0 } },
			'fiat',
			'Fiat rate must be more than 0.'
		],
		[
			'a broken network',
			{ ...good, networks: [{ ...network, registry: 'nope' }] },
			'networks',
			'A network in your list is not readable; add it again.'
		],
		[
			'an identity address that is not one',
			{
				...good,
				identity: { address: '0x12', key: { salt: '', iv: '', data: '', iterations: 310_000 } }
			},
			'identity',
			'Ledger identity: the address must be 0x and 40 hex digits.'
		],
		['not an object', 'settings', 'settings', 'The settings are not readable.']
	])('refuses %s with a sentence naming the field', (_what, raw, field, sentence) => {
		const e = refusal(raw);
		expect(e.field).toBe(field);
		expect(e.message).toBe(sentence);
	});

	it('stores nothing when a value is bad', async () => {
		const db = await openWalletDb(`settings-${Math.random()}`);
		try {
			await saveSettings(db, good);
			await expect(saveSettings(db, { ...good, defaultBudgetSat: -5 })).rejects.toThrow(
				'Default budget must be at least 1 sat.'
			);
			expect((await loadSettings(db)).defaultBudgetSat).toBe(good.defaultBudgetSat);
		} finally {
			db.close();
		}
	});
});

describe('wallet settings read back', () => {
	it('an older record (a dropped ledger field, no networks, no fee limit) reads with defaults and nothing rejected', () => {
		const { settings, rejected } = readWalletSettings(
			{
				lightning: { kind: 'devnet', node: 'vehicle-2' },
				ledger: { rpcUrl: 'x' },
				identity: null,
				defaultBudgetSat: 500,
				fiat: null
			},
			DEFAULT_SETTINGS
		);
		expect(rejected).toEqual([]);
		expect(settings).toEqual({
			...DEFAULT_SETTINGS,
			lightning: { kind: 'devnet', node: 'vehicle-2' },
			defaultBudgetSat: 500
		});
	});

	it('a damaged field takes its default, the rest is kept, and the stored record is set aside with why', async () => {
		const db = await openWalletDb(`settings-${Math.random()}`);
		try {
			const damaged = { ...good, feeLimitSat: 'lots', networks: [network, { name: 'broken' }] };
			await db.put('kv', damaged, 'settings');
			const s = await loadSettings(db);
			expect(s.feeLimitSat).toBe(DEFAULT_SETTINGS.feeLimitSat);
			expect(s.lightning).toEqual({ ...good.lightning, macaroonHex: 'ab01' });
			expect(s.networks).toEqual([network]);
			const aside = await rejectedSettings(db);
			expect(aside?.stored).toEqual(damaged);
			expect(aside?.rejected).toEqual([
				'1 stored network(s) were not readable and are left out.',
				'Most routing fee must be a number. (the default is used)'
			]);
		} finally {
			db.close();
		}
	});

	it('a record that is not an object reads as the defaults, said once', () => {
		expect(readWalletSettings(42, DEFAULT_SETTINGS)).toEqual({
			settings: DEFAULT_SETTINGS,
			rejected: ['The stored settings were not readable; the defaults are used.']
		});
		expect(readWalletSettings(undefined, DEFAULT_SETTINGS)).toEqual({
			settings: DEFAULT_SETTINGS,
			rejected: []
		});
	});
});
