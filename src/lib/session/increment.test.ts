import { describe, expect, test } from 'vitest';
import {
	chooseIncrement,
	feeOverhead,
	IncrementError,
	LND_DEFAULT_FEE,
	routingFeeMsat
} from './increment';

const PRICE = 250_000; // 250 sat/kWh, the devnet's and docs/sim.md's tariff

describe('feeOverhead', () => {
	test("docs/sim.md's economics table: 500 Wh → 0.80 %, 100 Wh → 4.0 % at LND's default fee", () => {
		expect(feeOverhead(500, PRICE, LND_DEFAULT_FEE)).toBeCloseTo(0.008, 6);
		expect(feeOverhead(100, PRICE, LND_DEFAULT_FEE)).toBeCloseTo(0.04, 6);
	});
	test("the issue: a 1 sat base fee on the demo's small increments is a large share", () => {
		expect(feeOverhead(20, PRICE, LND_DEFAULT_FEE)).toBeCloseTo(0.2, 6);
	});
	test('1 ppm rounds down to 0 msat on small payments, as LND does', () => {
		expect(routingFeeMsat(102_500, LND_DEFAULT_FEE)).toBe(1000);
		expect(routingFeeMsat(2_000_000, LND_DEFAULT_FEE)).toBe(1002);
	});
});

describe('chooseIncrement', () => {
	test('LND default fee at 250 sat/kWh: 410 Wh, the least 10 Wh step under 1 % (analytically > 400 Wh)', () => {
		const c = chooseIncrement({ pricePerKwhMsat: PRICE, maxPowerW: 11_000 });
		expect(c).toMatchObject({ incrementWh: 410, bound: 'fee', overTarget: false });
		expect(c.feeShare).toBeLessThan(0.01);
		expect(feeOverhead(400, PRICE, LND_DEFAULT_FEE)).toBeGreaterThanOrEqual(0.01);
	});
	test('a zero-base-fee hub: the payment round trip decides, 130 Wh at 150 kW, 10 Wh at 11 kW', () => {
		const zero = { baseMsat: 0, ppm: 1 };
		expect(
			chooseIncrement({ pricePerKwhMsat: PRICE, maxPowerW: 150_000, policy: zero })
		).toMatchObject({ incrementWh: 130, bound: 'payment-rate' });
		expect(
			chooseIncrement({ pricePerKwhMsat: PRICE, maxPowerW: 11_000, policy: zero })
		).toMatchObject({ incrementWh: 10 });
	});
	test('a dearer tariff needs less energy per payment for the same share', () => {
		expect(chooseIncrement({ pricePerKwhMsat: 500_000, maxPowerW: 11_000 }).incrementWh).toBe(210);
	});
	test("the station's limits win, and the choice says when its maximum breaks the target", () => {
		expect(
			chooseIncrement({ pricePerKwhMsat: PRICE, maxPowerW: 11_000, minWh: 1000 })
		).toMatchObject({ incrementWh: 1000, bound: 'station-min', overTarget: false });
		const capped = chooseIncrement({ pricePerKwhMsat: PRICE, maxPowerW: 11_000, maxWh: 100 });
		expect(capped).toMatchObject({ incrementWh: 100, bound: 'station-max', overTarget: true });
		expect(capped.feeShare).toBeCloseTo(0.04, 6);
	});
	test.each([
		[
			{ pricePerKwhMsat: 0, maxPowerW: 11_000 },
			'The price per kWh must be a positive number to choose an increment.'
		],
		[
			{ pricePerKwhMsat: Number.NaN, maxPowerW: 11_000 },
			'The price per kWh must be a positive number to choose an increment.'
		],
		[
			{ pricePerKwhMsat: PRICE, maxPowerW: -1 },
			"The connector's maximum power must be a positive number of watts."
		],
		[
			{ pricePerKwhMsat: PRICE, maxPowerW: 11_000, policy: { baseMsat: -1, ppm: 0 } },
			'A routing fee policy cannot be negative.'
		],
		[
			{ pricePerKwhMsat: PRICE, maxPowerW: 11_000, policy: { baseMsat: 1000, ppm: 20_000 } },
			'A 20000 ppm proportional fee alone is over the 1 % target: no increment can meet it.'
		],
		[
			{ pricePerKwhMsat: PRICE, maxPowerW: 11_000, targetShare: 2 },
			'The fee target is a share between 0 and 1 (0.01 = 1 %).'
		],
		[
			{ pricePerKwhMsat: PRICE, maxPowerW: 11_000, minWh: 500, maxWh: 100 },
			"The station's smallest increment is above its largest."
		]
	])('bad input %j: a sentence', (input, sentence) => {
		expect(() => chooseIncrement(input)).toThrow(new IncrementError(sentence));
	});
});
