import { describe, expect, it } from 'vitest';
import { compare, formatComparison, runExperiment } from './experiment';

describe('runExperiment', () => {
	it('pools every errand of every seed into the distributions, without asking for records', async () => {
		const results = await runExperiment(
			{ vehicles: 40, stations: 3, hours: 12, gridSize: 8 },
			[1, 2],
			['live', 'optimal']
		);
		expect(results.every((r) => r.errands !== undefined && r.sessions === undefined)).toBe(true);
		const c = compare(results, 'live');
		for (const p of c.policies) {
			const runs = results.filter((r) => r.report.policy === p.policy);
			expect(p.wait!.n).toBe(runs.reduce((n, r) => n + r.report.summary.errandsStarted, 0));
			expect(p.wait!.p50).toBeLessThanOrEqual(p.wait!.p95);
			expect(p.wait!.p95).toBeLessThanOrEqual(p.wait!.max);
		}
		// The pooled column is filled in (a dash means no records).
		expect(formatComparison(c).split('\n')[2]).toMatch(/\d+\.\d \/ \d+\.\d \/ \d+$/);
	});
});
