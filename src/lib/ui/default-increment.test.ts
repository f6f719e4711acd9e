import { describe, expect, it } from 'vitest';
import { defaultIncrement, limitsFromQuery } from './default-increment';

describe("the kiosk's default increment", () => {
	it('is chosen from the tariff and the route fee (under 1 % at LND 1 sat + 1 ppm), not a fixed 100 Wh', () => {
		// 250 sat/kWh at 11 kW: 410 Wh keeps 1 sat + 1 ppm under 1 % (100 Wh would cost 4 %).
		expect(defaultIncrement(250_000, 11_000)).toMatchObject({
			incrementWh: 410,
			bound: 'fee',
			overTarget: false
		});
		expect(defaultIncrement(250_000, 11_000).feeShare).toBeLessThan(0.01);
		// A dearer tariff needs less energy per payment for the same share.
		expect(defaultIncrement(500_000, 11_000).incrementWh).toBe(210);
	});

	it("keeps within the station's limits and says when its maximum breaks the target", () => {
		expect(defaultIncrement(250_000, 11_000, { maxWh: 200 })).toMatchObject({
			incrementWh: 200,
			bound: 'station-max',
			overTarget: true
		});
		expect(defaultIncrement(250_000, 11_000, { minWh: 1000 })).toMatchObject({
			incrementWh: 1000,
			bound: 'station-min',
			overTarget: false
		});
	});

	it('reads the limits from the URL and ignores what is not a positive number', () => {
		expect(limitsFromQuery(new URLSearchParams('minIncrementWh=50&maxIncrementWh=300'))).toEqual({
			minWh: 50,
			maxWh: 300
		});
		expect(limitsFromQuery(new URLSearchParams('minIncrementWh=-5&maxIncrementWh=abc'))).toEqual({
			minWh: undefined,
			maxWh: undefined
		});
		expect(limitsFromQuery(new URLSearchParams(''))).toEqual({
			minWh: undefined,
			maxWh: undefined
		});
	});
});
