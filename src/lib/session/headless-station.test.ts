import { describe, expect, test } from 'vitest';
import { DEFAULT_TARIFF, stationTariff } from './headless-station';
import { feeOverhead, LND_DEFAULT_FEE } from './increment';

describe('stationTariff (npm run station without --increment-wh)', () => {
	test('bills the kiosk default at the devnet price and 11 kW: 410 Wh, under 1 % fee overhead', () => {
		const tariff = stationTariff();
		expect(tariff.incrementWh).toBe(410);
		const price = Number(tariff.pricePerKwhMsat);
		expect(feeOverhead(tariff.incrementWh, price, LND_DEFAULT_FEE)).toBeLessThan(0.01);
		// The increment just below would break the target: it is the least one.
		expect(feeOverhead(tariff.incrementWh - 10, price, LND_DEFAULT_FEE)).toBeGreaterThanOrEqual(
			0.01
		);
		expect({ ...tariff, incrementWh: DEFAULT_TARIFF.incrementWh }).toEqual(DEFAULT_TARIFF);
	});

	test('a faster connector gets a larger increment from the payment round trip', () => {
		// At most one invoice per 3 s: 600 kW needs 500 Wh per invoice, above the fee bound's 410 Wh.
		expect(stationTariff(600_000).incrementWh).toBe(500);
	});
});
