import { describe, expect, it } from 'vitest';
import { acceptedPowerKw, chargeMinutes } from './charging';

describe('charging curve', () => {
	it('tapers near full and takes longer to charge the last 20 %', () => {
		expect(acceptedPowerKw(100, 0.5)).toBe(100);
		expect(acceptedPowerKw(100, 0.9)).toBeCloseTo(55);
		expect(chargeMinutes(60, 100, 0.8, 1, 1000)).toBeGreaterThan(
			chargeMinutes(60, 100, 0.2, 0.4, 1000)
		);
	});

	it('the closed form equals a numerical integration of battery × dSoC / power', () => {
		for (const [battery, maxKw, from, to, limit] of [
			[60, 100, 0.2, 0.9, 1000],
			[77, 150, 0.1, 0.95, 60],
			[100, 200, 0.5, 0.85, 120],
			[50, 50, 0.82, 0.99, 40]
		] as const) {
			let hours = 0;
			const steps = 200_000;
			const ds = (to - from) / steps;
			for (let i = 0; i < steps; i++) {
				const s = from + (i + 0.5) * ds;
				hours += (battery * ds) / Math.min(limit, acceptedPowerKw(maxKw, s));
			}
			expect(chargeMinutes(battery, maxKw, from, to, limit)).toBeCloseTo(hours * 60, 3);
		}
	});
});
