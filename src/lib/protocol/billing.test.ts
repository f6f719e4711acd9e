import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8Encode } from './bytes';
import {
	amountForEnergyMsat,
	billingRecordHash,
	buildBillingRecord,
	isMsatString
} from './billing';

const tariff = { pricePerKwhMsat: '250000000', startFeeMsat: '1000000' }; // 250 000 sat/kWh, 1 000 sat start

describe('amountForEnergyMsat', () => {
	it('multiplies exactly and floors to the msat', () => {
		expect(amountForEnergyMsat(100, 250_000_000n)).toBe(25_000_000n);
		expect(amountForEnergyMsat(1, 1_999n)).toBe(1n); // 1.999 msat → 1
		expect(amountForEnergyMsat(3, 333n)).toBe(0n); // 0.999 msat → 0
		expect(amountForEnergyMsat(0, 5n)).toBe(0n);
		// beyond float precision: 9e15 Wh × 1e12 msat/kWh stays exact
		expect(amountForEnergyMsat(9_000_000_000_000_000 - 1, 10n ** 12n)).toBe(
			((9_000_000_000_000_000n - 1n) * 10n ** 12n) / 1000n
		);
	});

	it('refuses fractional or negative energy and negative prices', () => {
		expect(() => amountForEnergyMsat(1.5, 1n)).toThrow(/integer of Wh/);
		expect(() => amountForEnergyMsat(-1, 1n)).toThrow(/non-negative/);
		expect(() => amountForEnergyMsat(1, -1n)).toThrow(/price/);
	});
});

describe('buildBillingRecord', () => {
	const base = { stationId: 'st-1', sessionId: 'sess-1', tariff };

	it('charges the start fee on the first increment only', () => {
		const first = buildBillingRecord({
			...base,
			seq: 1,
			from: { seq: 1, energyWh: 1000 },
			to: { seq: 7, energyWh: 1100 }
		});
		expect(first).toEqual({
			v: 1,
			stationId: 'st-1',
			sessionId: 'sess-1',
			seq: 1,
			fromReading: 1,
			toReading: 7,
			fromWh: 1000,
			toWh: 1100,
			energyWh: 100,
			tariff,
			amountMsat: '26000000'
		});
		const second = buildBillingRecord({
			...base,
			seq: 2,
			from: { seq: 7, energyWh: 1100 },
			to: { seq: 12, energyWh: 1203 }
		});
		expect(second.amountMsat).toBe('25750000');
	});

	it('refuses inconsistent input', () => {
		expect(() =>
			buildBillingRecord({
				...base,
				seq: 0,
				from: { seq: 1, energyWh: 0 },
				to: { seq: 2, energyWh: 1 }
			})
		).toThrow(/seq/);
		expect(() =>
			buildBillingRecord({
				...base,
				seq: 1,
				from: { seq: 2, energyWh: 0 },
				to: { seq: 2, energyWh: 1 }
			})
		).toThrow(/later reading/);
		expect(() =>
			buildBillingRecord({
				...base,
				seq: 1,
				from: { seq: 1, energyWh: 5 },
				to: { seq: 2, energyWh: 4 }
			})
		).toThrow(/decrease/);
		expect(() =>
			buildBillingRecord({
				...base,
				tariff: { ...tariff, pricePerKwhMsat: '01' },
				seq: 1,
				from: { seq: 1, energyWh: 0 },
				to: { seq: 2, energyWh: 1 }
			})
		).toThrow('tariff pricePerKwhMsat must be a decimal string of millisatoshis');
		expect(() =>
			buildBillingRecord({
				...base,
				stationId: 'a/b',
				seq: 1,
				from: { seq: 1, energyWh: 0 },
				to: { seq: 2, energyWh: 1 }
			})
		).toThrow(/station id/);
	});
});

describe('billingRecordHash', () => {
	const record = buildBillingRecord({
		stationId: 'st-1',
		sessionId: 'sess-1',
		seq: 1,
		from: { seq: 1, energyWh: 0 },
		to: { seq: 3, energyWh: 100 },
		tariff
	});

	it('is SHA-256 of the canonical JSON, independent of key order', () => {
		const canonical =
			'{"amountMsat":"26000000","energyWh":100,"fromReading":1,"fromWh":0,"seq":1,"sessionId":"sess-1",' +
			'"stationId":"st-1","tariff":{"pricePerKwhMsat":"250000000","startFeeMsat":"1000000"},"toReading":3,"toWh":100,"v":1}';
		const expected = bytesToHex(sha256(utf8Encode(canonical)));
		expect(billingRecordHash(record)).toBe(expected);
		const reordered = Object.fromEntries(Object.entries(record).reverse()) as typeof record;
		expect(billingRecordHash(reordered)).toBe(expected);
		expect(billingRecordHash({ ...record, amountMsat: '26000001' })).not.toBe(expected);
	});

	it('recognises msat strings', () => {
		expect(isMsatString('0')).toBe(true);
		expect(isMsatString('18446744073709551615')).toBe(true);
		for (const bad of ['18446744073709551616', '-1', '1.0', '01', '', ' 1', 1])
			expect(isMsatString(bad)).toBe(false);
	});
});
