import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { POWER_POLICIES } from './options';
import { allocatePower, waterFill } from './power';

describe('waterFill', () => {
	it('never exceeds the site limit or a vehicle maximum, and uses the limit when demand exceeds it', () => {
		fc.assert(
			fc.property(
				fc.array(
					fc.record({
						maxKw: fc.double({ min: 0, max: 400, noNaN: true }),
						weight: fc.double({ min: 0.001, max: 10, noNaN: true })
					}),
					{ maxLength: 12 }
				),
				fc.double({ min: 0, max: 2000, noNaN: true }),
				(demands, limit) => {
					const shares = waterFill(demands, limit);
					const total = shares.reduce((a, b) => a + b, 0);
					expect(total).toBeLessThanOrEqual(limit + 1e-9);
					shares.forEach((s, i) => {
						expect(s).toBeGreaterThanOrEqual(0);
						expect(s).toBeLessThanOrEqual(demands[i]!.maxKw + 1e-9);
					});
					const wanted = demands.reduce((a, d) => a + d.maxKw, 0);
					expect(total).toBeCloseTo(Math.min(wanted, limit), 6);
				}
			)
		);
	});

	it('gives a heavier weight a larger share when both are capped', () => {
		const [urgent, relaxed] = waterFill(
			[
				{ maxKw: 150, weight: 3 },
				{ maxKw: 150, weight: 1 }
			],
			100
		);
		expect(urgent).toBeCloseTo(75);
		expect(relaxed).toBeCloseTo(25);
	});
});

describe('allocatePower', () => {
	const session = fc.record({
		maxKw: fc.double({ min: 0, max: 300, noNaN: true }),
		remainingWh: fc.double({ min: 1, max: 80_000, noNaN: true }),
		deadline: fc.double({ min: 0, max: 100_000, noNaN: true })
	});
	const site = fc.record({
		limitKw: fc.double({ min: 0, max: 600, noNaN: true }),
		sessions: fc.array(session, { maxLength: 6 })
	});

	it('every policy keeps each vehicle, each site and the feeder within limits, and uses what the limits allow', () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...POWER_POLICIES),
				fc.array(site, { minLength: 1, maxLength: 5 }),
				fc.option(fc.double({ min: 0, max: 1500, noNaN: true }), { nil: Infinity }),
				(policy, sites, feederLimit) => {
					const shares = allocatePower(policy, sites, feederLimit, 1000);
					let feederTotal = 0;
					let possible = 0;
					sites.forEach((s, i) => {
						let siteTotal = 0;
						let wanted = 0;
						s.sessions.forEach((d, j) => {
							const kw = shares[i]![j]!;
							expect(kw).toBeGreaterThanOrEqual(0);
							expect(kw).toBeLessThanOrEqual(d.maxKw + 1e-9);
							siteTotal += kw;
							wanted += d.maxKw;
						});
						expect(siteTotal).toBeLessThanOrEqual(s.limitKw + 1e-9);
						feederTotal += siteTotal;
						possible += Math.min(wanted, s.limitKw);
					});
					expect(feederTotal).toBeLessThanOrEqual(feederLimit + 1e-9);
					// Work-conserving: nothing is held back that a site and the feeder could deliver.
					expect(feederTotal).toBeCloseTo(Math.min(possible, feederLimit), 6);
				}
			)
		);
	});

	it('least laxity first serves the session that can least afford to wait', () => {
		const now = 0;
		// Both need 30 min at 100 kW; one must leave in 40 min, the other in 3 h.
		const sites = [
			{
				limitKw: 100,
				sessions: [
					{ maxKw: 100, remainingWh: 50_000, deadline: 3 * 3600 },
					{ maxKw: 100, remainingWh: 50_000, deadline: 40 * 60 }
				]
			}
		];
		expect(allocatePower('llf', sites, Infinity, now)[0]).toEqual([0, 100]);
		expect(allocatePower('edf', sites, Infinity, now)[0]).toEqual([0, 100]);
		expect(allocatePower('equal', sites, Infinity, now)[0]).toEqual([50, 50]);
	});

	it('a feeder limit binds across sites that are each within their own', () => {
		const sites = [
			{ limitKw: 150, sessions: [{ maxKw: 150, remainingWh: 10_000, deadline: 0 }] },
			{ limitKw: 150, sessions: [{ maxKw: 150, remainingWh: 10_000, deadline: 0 }] }
		];
		const shares = allocatePower('equal', sites, 200, 0);
		expect(shares[0]![0]! + shares[1]![0]!).toBeCloseTo(200);
		expect(shares[0]![0]).toBeCloseTo(100);
	});
});
