import { describe, expect, it } from 'vitest';
import { SettingsError, fiatOf, hashPin, parseKioskSettings, tariffOf } from './kiosk-settings';

const good = {
	stationId: 'station-9',
	name: 'Market square',
	broker: { url: 'wss://mqtt.example.org:8884/mqtt', username: 'station-9', password: 'pw' },
	chain: {
		rpcUrl: 'https://rpc.example.org',
		chainId: '1337',
		registry: '0x' + '1'.repeat(40),
		sessions: '0x' + '2'.repeat(40),
		reservations: '0x' + '3'.repeat(40)
	},
	lightning: { restUrl: 'https://lnd.local:8080', macaroonHex: '0201AB' },
	tariff: { pricePerKwhSat: '250', startFeeSat: 10, incrementWh: 100, graceWh: 50 },
	fiat: { currency: 'eur', perBtc: 90000 },
	meter: { kind: 'serial', profile: 'sdm630', unitId: 1, baudRate: 9600 },
	walletUrl: 'https://wallet.example.org/'
};

describe('kiosk settings', () => {
	it('accepts a complete setup and normalises it', () => {
		const s = parseKioskSettings(good);
		expect(s.chain?.chainId).toBe(1337);
		expect(s.lightning.macaroonHex).toBe('0201ab');
		expect(s.fiat).toEqual({ currency: 'EUR', perBtc: 90000 });
		expect(tariffOf(s.tariff)).toMatchObject({
			pricePerKwhMsat: '250000',
			startFeeMsat: '10000',
			incrementWh: 100,
			graceWh: 50
		});
	});

	it('names the field that is wrong, in a sentence', () => {
		expect(() => parseKioskSettings({ ...good, broker: { url: 'http://x' } })).toThrow(
			/Broker address must start with ws:\/\/ or wss:\/\//
		);
		expect(() =>
			parseKioskSettings({ ...good, lightning: { ...good.lightning, macaroonHex: 'zz' } })
		).toThrow(/Macaroon/);
		expect(() =>
			parseKioskSettings({ ...good, tariff: { ...good.tariff, incrementWh: 0 } })
		).toThrow(/Increment must be a whole number from 1/);
		expect(() => parseKioskSettings({ ...good, stationId: 'a/b' })).toThrow(/Station id/);
		expect(() =>
			parseKioskSettings({ ...good, chain: { ...good.chain, registry: '0x12' } })
		).toThrow(/Registry contract/);
	});

	it.each([
		[
			'no broker address',
			{ ...good, broker: {} },
			'Broker address',
			'Broker address: enter an address.'
		],
		[
			'a broker address that is not one',
			{ ...good, broker: { url: 'wss//nope' } },
			'Broker address',
			'Broker address: "wss//nope" is not a web address.'
		],
		[
			'a chain id in words',
			{ ...good, chain: { ...good.chain, chainId: 'one' } },
			'Chain id',
			'Chain id must be a whole number from 1 to 2147483648.'
		],
		[
			'a sessions contract of the wrong length',
			{ ...good, chain: { ...good.chain, sessions: '0x1234' } },
			'Sessions contract',
			'Sessions contract must be a contract address (0x and 40 hex digits).'
		],
		[
			'a macaroon of odd length',
			{ ...good, lightning: { ...good.lightning, macaroonHex: 'abc' } },
			'Macaroon',
			'Macaroon: paste the invoice macaroon as hex (xxd -p -c0 invoice.macaroon).'
		],
		[
			'a negative price',
			{ ...good, tariff: { ...good.tariff, pricePerKwhSat: -1 } },
			'Price per kWh',
			'Price per kWh must be a number from 0 to 10000000.'
		],
		[
			'a fiat rate of 0',
			{ ...good, fiat: { currency: 'EUR', perBtc: 0 } },
			'Fiat rate',
			'Fiat rate must be a number from 0.000001 to 1000000000000.'
		],
		[
			'a baud rate no meter speaks',
			{ ...good, meter: { ...good.meter, baudRate: 300 } },
			'Baud rate',
			'Baud rate must be a whole number from 1200 to 115200.'
		],
		[
			'a wallet address over ftp',
			{ ...good, walletUrl: 'ftp://wallet' },
			'Wallet address',
			'Wallet address must start with http:// or https://.'
		]
	])(
		'refuses %s: a SettingsError for that field with its sentence',
		(_what, raw, field, sentence) => {
			let error: unknown;
			try {
				parseKioskSettings(raw);
			} catch (e) {
				error = e;
			}
			expect(error).toBeInstanceOf(SettingsError);
			expect((error as SettingsError).field).toBe(field);
			expect((error as SettingsError).message).toBe(sentence);
		}
	);

	it('shows fiat at the operator’s rate and hashes PINs', () => {
		expect(fiatOf(25_000n, { currency: 'EUR', perBtc: 100_000 })).toBe('€0.025');
		expect(fiatOf(25_000_000n, { currency: 'EUR', perBtc: 100_000 })).toBe('€25.00');
		expect(fiatOf(1n, null)).toBeNull();
		expect(hashPin('1234', 'a')).not.toBe(hashPin('1234', 'b'));
		expect(() => hashPin('12', 'a')).toThrow(/4 to 12 digits/);
	});

	describe('charger', () => {
		const simulatedMeter = { ...good, meter: { kind: 'simulated' } };
		it('defaults to the simulated charger with the simulated meter and to manual with a serial meter (settings saved before chargers were selectable)', () => {
			expect(parseKioskSettings(simulatedMeter).charger).toEqual({ kind: 'simulated' });
			expect(parseKioskSettings(good).charger).toEqual({ kind: 'manual' });
		});

		it('parses each backend with its fields and defaults', () => {
			expect(parseKioskSettings({ ...good, charger: { kind: 'manual' } }).charger).toEqual({
				kind: 'manual'
			});
			expect(
				parseKioskSettings({ ...simulatedMeter, charger: { kind: 'manual' } }).charger
			).toEqual({ kind: 'manual' });
			expect(
				parseKioskSettings({ ...good, charger: { kind: 'smartevse', unitId: '2' } }).charger
			).toEqual({ kind: 'smartevse', unitId: 2 });
			expect(parseKioskSettings({ ...good, charger: { kind: 'evcc' } }).charger).toEqual({
				kind: 'evcc',
				topicPrefix: 'evcc',
				loadpointId: 1
			});
			expect(
				parseKioskSettings({
					...good,
					charger: { kind: 'evcc', topicPrefix: ' home/evcc ', loadpointId: '3' }
				}).charger
			).toEqual({ kind: 'evcc', topicPrefix: 'home/evcc', loadpointId: 3 });
			expect(
				parseKioskSettings({ ...simulatedMeter, charger: { kind: 'evcc', topicPrefix: '' } })
					.charger
			).toEqual({ kind: 'evcc', topicPrefix: 'evcc', loadpointId: 1 });
		});

		it('refuses combinations that cannot work, naming the field', () => {
			expect(() => parseKioskSettings({ ...good, charger: { kind: 'simulated' } })).toThrow(
				/simulated charger works only with the simulated meter/
			);
			expect(() =>
				parseKioskSettings({ ...simulatedMeter, charger: { kind: 'smartevse', unitId: 2 } })
			).toThrow(/SmartEVSE shares the meter’s RS-485 bus/);
			expect(() =>
				parseKioskSettings({ ...good, charger: { kind: 'smartevse', unitId: 1 } })
			).toThrow(/1 is the meter’s address/);
			expect(() =>
				parseKioskSettings({ ...good, charger: { kind: 'smartevse', unitId: 300 } })
			).toThrow(/SmartEVSE Modbus address must be a whole number from 1 to 247/);
			expect(() =>
				parseKioskSettings({ ...good, charger: { kind: 'evcc', loadpointId: 0 } })
			).toThrow(/evcc loadpoint must be a whole number from 1 to 99/);
			expect(() =>
				parseKioskSettings({ ...good, charger: { kind: 'evcc', loadpointId: 1.5 } })
			).toThrow(/evcc loadpoint/);
			for (const topicPrefix of ['evcc/#', 'a/+/b', '/evcc', 'evcc/', 'a//b']) {
				expect(() =>
					parseKioskSettings({ ...good, charger: { kind: 'evcc', topicPrefix } })
				).toThrow(/evcc topic: .* is not an MQTT topic root/);
			}
			expect(() => parseKioskSettings({ ...good, charger: { kind: 'ocpp' } })).toThrow(
				/"ocpp" is not one of simulated, manual, SmartEVSE or evcc/
			);
		});
	});
});
