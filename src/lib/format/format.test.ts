import { describe, expect, test } from 'vitest';
import {
	count,
	duration,
	feeShare,
	fiat,
	kw,
	kwh,
	powerSeries,
	sat,
	satExact,
	satNumber,
	shortHex,
	smoothPowerW
} from './index';

const NBSP = '\u00a0';
describe('satNumber', () => {
	test.each([
		[31_000n, 'en', '31'],
		[31_000n, 'de', '31'],
		[12_345_000n, 'en', '12,345'],
		[12_345_000n, 'de', '12.345'],
		[12_345_000n, 'it', '12.345'],
		[1_234_567_891n, 'en', '1,234,568'],
		[250n, 'en', '0.25'],
		[250n, 'de', '0,25'],
		[1_001n, 'en', '1.001'],
		[9_999n, 'en', '9.999'],
		[10_400n, 'en', '10'],
		[10_500n, 'en', '11'],
		[2_000n, 'en', '2'],
		[0n, 'en', '0'],
		[-1_500n, 'en', '−1.5']
	])('%s msat in %s is "%s"', (msat, locale, text) => {
		expect(satNumber(msat, locale)).toBe(text);
	});
	test('issue 15: 31 sat of hub fees never reads as thirty-one thousand', () => {
		expect(sat(31_000n, 'en')).toBe(`31${NBSP}sat`);
		expect(sat(31_000n, 'de')).not.toContain('.');
	});
	test('a 10^21 msat amount stays exact (bigint, not a float)', () => {
		expect(satNumber(1_000_000_000_000_000_000_000n, 'en')).toBe('1,000,000,000,000,000,000');
	});
});

describe('satExact (src/lib sentences for logs and the CLI)', () => {
	test('every millisatoshi, exact beyond 2^53 msat', () => {
		expect(satExact(12_345_000n)).toBe('12,345 sat');
		expect(satExact(1_500n)).toBe('1.5 sat');
		expect(satExact(1_234_567_891n)).toBe('1,234,567.891 sat');
		expect(satExact(0n)).toBe('0 sat');
		expect(satExact(-1_001n)).toBe('-1.001 sat');
		expect(satExact(9_007_199_254_740_993_001n)).toBe('9,007,199,254,740,993.001 sat');
		expect(satExact(12_345_670n, 'de')).toBe('12.345,67 sat');
	});
});

describe('fiat', () => {
	const eur = { currency: 'EUR', perBtc: 90_000 };
	test('a price per kWh keeps its tenth of a cent (AFIR: price per kWh in local currency)', () => {
		// 250 sat = 250e-8 BTC × 90,000 = 0.225 €
		expect(fiat(250_000n, eur, 'en')).toBe('€0.225');
		expect(fiat(250_000n, eur, 'de')).toBe(`0,225${NBSP}€`);
	});
	test('amounts over one unit in cents', () => {
		expect(fiat(2_000_000n, eur, 'de')).toBe(`1,80${NBSP}€`);
	});
	test.each([
		[null],
		[undefined],
		[{ currency: 'EUR', perBtc: 0 }],
		[{ currency: 'EUR', perBtc: Number.NaN }],
		[{ currency: 'euro', perBtc: 1 }]
	])('no or bad rate %j → nothing shown', (rate) => {
		expect(fiat(1_000n, rate, 'en')).toBe('');
	});
});

describe('feeShare', () => {
	test('issue 15: 31 sat of fees on 161 sat is 19.3 %', () => {
		expect(feeShare(31_000n, 161_000n, 'en')).toBe('19.3%');
		expect(feeShare(31_000n, 161_000n, 'de')).toBe(`19,3${NBSP}%`);
	});
	test('nothing paid yet → empty (not NaN %)', () => {
		expect(feeShare(0n, 0n)).toBe('');
	});
	test('a tiny but real share is not shown as 0.0 %', () => {
		expect(feeShare(1n, 10_000_000n)).toBe('<0.1%');
		expect(feeShare(0n, 10_000_000n)).toBe('0.0%');
	});
});

describe('units', () => {
	test('kWh and kW with the locale decimal sign', () => {
		expect(kwh(1234, 'en')).toBe('1.234');
		expect(kwh(1234, 'de')).toBe('1,234');
		expect(kw(30_000, 'it')).toBe('30,0');
		expect(count(12_000, 'de')).toBe('12.000');
	});
	test.each([
		[0, '0:00'],
		[59_999, '0:59'],
		[61_000, '1:01'],
		[3_600_000, '1:00:00'],
		[-5, '0:00'],
		[Number.NaN, '0:00']
	])('duration(%s) = %s', (ms, text) => {
		expect(duration(ms)).toBe(text);
	});
	test('shortHex keeps both ends', () => {
		expect(shortHex('73ff7d1d' + '0'.repeat(48) + '0a45ca55')).toBe('73ff7d1d…0a45ca55');
		expect(shortHex('abcd')).toBe('abcd');
	});
});

describe('smoothed power', () => {
	/** A meter at a steady `w` watts read every `stepMs`, counting whole Wh, with jitter in the arrival time. */
	function steady(
		w: number,
		n: number,
		stepMs = 1000,
		jitter = (_i: number) => 0
	): { at: number; energyWh: number }[] {
		return Array.from({ length: n }, (_, i) => {
			const t = i * stepMs;
			return { at: 1_700_000_000_000 + t + jitter(i), energyWh: Math.floor((w * t) / 3_600_000) };
		});
	}
	test('issue 15: at a steady 30 kW the per-second figure jumps, the 10 s one stays within ±0.5 kW', () => {
		const r = steady(30_000, 120, 1000, (i) => (i % 7 === 3 ? 400 : 0));
		const raw = r
			.slice(1)
			.map((b, i) => ((b.energyWh - r[i]!.energyWh) * 3_600_000) / (b.at - r[i]!.at) / 1000);
		expect(Math.max(...raw) - Math.min(...raw)).toBeGreaterThan(5); // the jump the issue saw
		const smooth = powerSeries(r).slice(11) as number[];
		for (const p of smooth) expect(Math.abs(p - 30)).toBeLessThan(0.5);
		expect(Math.abs(smoothPowerW(r) - 30_000)).toBeLessThan(500);
	});
	test('a stop shows within the window: power falls to 0 once no energy flows for 10 s', () => {
		const r = steady(30_000, 30);
		const last = r.at(-1)!;
		for (let i = 1; i <= 11; i++) r.push({ at: last.at + i * 1000, energyWh: last.energyWh });
		expect(smoothPowerW(r)).toBe(0);
	});
	test('one reading or none → 0 / null, never NaN', () => {
		expect(smoothPowerW([])).toBe(0);
		expect(smoothPowerW([{ at: 1, energyWh: 5 }])).toBe(0);
		expect(powerSeries([{ at: 1, energyWh: 5 }])).toEqual([null]);
		expect(
			smoothPowerW([
				{ at: 1, energyWh: 5 },
				{ at: 1, energyWh: 6 }
			])
		).toBe(0);
	});
	test('readings further apart than the window use the previous one', () => {
		expect(
			smoothPowerW([
				{ at: 0, energyWh: 0 },
				{ at: 60_000, energyWh: 500 }
			])
		).toBe(30_000);
	});
});
