import { describe, expect, it } from 'vitest';
import { fiatOf, hashPin, parseKioskSettings, tariffOf } from './kiosk-settings';

const good = {
	stationId: 'station-9',
	name: 'Market square',
	broker: { url: 'wss://mqtt.example.org:8884/mqtt', username: 'station-9', password: 'pw' },
	chain: { rpcUrl: 'https://rpc.example.org', chainId: '1337', registry: '0x' + '1'.repeat(40), sessions: '0x' + '2'.repeat(40), reservations: '0x' + '3'.repeat(40) },
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
		expect(tariffOf(s.tariff)).toMatchObject({ pricePerKwhMsat: '250000', startFeeMsat: '10000', incrementWh: 100, graceWh: 50 });
	});

	it('names the field that is wrong, in a sentence', () => {
		expect(() => parseKioskSettings({ ...good, broker: { url: 'http://x' } })).toThrow(/Broker address must start with ws:\/\/ or wss:\/\//);
		expect(() => parseKioskSettings({ ...good, lightning: { ...good.lightning, macaroonHex: 'zz' } })).toThrow(/Macaroon/);
		expect(() => parseKioskSettings({ ...good, tariff: { ...good.tariff, incrementWh: 0 } })).toThrow(/Increment must be a whole number from 1/);
		expect(() => parseKioskSettings({ ...good, stationId: 'a/b' })).toThrow(/Station id/);
		expect(() => parseKioskSettings({ ...good, chain: { ...good.chain, registry: '0x12' } })).toThrow(/Registry contract/);
	});

	it('shows fiat at the operator’s rate and hashes PINs', () => {
		expect(fiatOf(25_000n, { currency: 'EUR', perBtc: 100_000 })).toBe('€0.025');
		expect(fiatOf(25_000_000n, { currency: 'EUR', perBtc: 100_000 })).toBe('€25.00');
		expect(fiatOf(1n, null)).toBeNull();
		expect(hashPin('1234', 'a')).not.toBe(hashPin('1234', 'b'));
		expect(() => hashPin('12', 'a')).toThrow(/4 to 12 digits/);
	});
});
