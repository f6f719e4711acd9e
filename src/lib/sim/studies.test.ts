// Studies pair each variant with its baseline run of the same policy on the same seed: a variant
// equal to the baseline differs by exactly 0, a fee change moves the fee share and nothing else a
// driver sees, and runs that do not line up are refused.
import { describe, expect, it } from 'vitest';
import { runHere, type RunResult } from './experiment';
import { measurable, studyEffects, studyRequests, type Study } from './studies';

const study: Study = {
	name: 'test',
	base: { vehicles: 30, stations: 3, hours: 10, gridSize: 8 },
	policies: ['optimal', 'live'],
	variants: [
		{ name: 'baseline', options: {} },
		{ name: 'same again', options: {} },
		{ name: 'hub base fee 0', options: { hubBaseFeeMsat: 0 } },
		{ name: 'llf', options: {}, power: 'llf', against: 'same again' }
	]
};
const seeds = [1, 2, 3];

describe('studies', () => {
	it('pairs every variant with the same policy and seed of its baseline', async () => {
		const requests = studyRequests(study, seeds);
		expect(requests).toHaveLength(4 * 2 * 3);
		const results: RunResult[] = [];
		for (const r of requests) results.push(await runHere(r));
		const effects = studyEffects(study, seeds, results);
		expect(effects.map((e) => `${e.variant}/${e.policy}/${e.against}`)).toEqual([
			'same again/optimal/baseline',
			'same again/live/baseline',
			'hub base fee 0/optimal/baseline',
			'hub base fee 0/live/baseline',
			'llf/optimal/same again',
			'llf/live/same again'
		]);
		// The same scenario on the same seeds: every difference exactly 0.
		for (const e of effects.slice(0, 2)) {
			for (const d of Object.values(e.difference)) expect([d.mean, d.lo, d.hi]).toEqual([0, 0, 0]);
			expect(e.level.waitMin.n).toBe(3);
		}
		// No base fee: drivers pay less in fees on every seed; their trips and waits do not change.
		for (const e of effects.slice(2, 4)) {
			expect(e.difference.feeSharePct.hi).toBeLessThan(0);
			expect(measurable(e.difference.feeSharePct)).toBe(true);
			expect(e.difference.waitMin.mean).toBe(0);
			expect(e.difference.energyKwh.mean).toBe(0);
		}
		expect(effects[4]!.power).toBe('llf');
		// Out of order or short: refused with a sentence.
		expect(() => studyEffects(study, seeds, results.slice(1))).toThrow(/needs 24 runs, got 23/);
		expect(() => studyEffects(study, seeds, [...results].reverse())).toThrow(/out of order/);
	}, 120_000);

	it('calls an interval measurable only when it excludes 0', () => {
		expect(measurable({ mean: 1, lo: 0.1, hi: 2, n: 5 })).toBe(true);
		expect(measurable({ mean: -1, lo: -2, hi: -0.1, n: 5 })).toBe(true);
		expect(measurable({ mean: 1, lo: -0.1, hi: 2, n: 5 })).toBe(false);
		expect(measurable({ mean: 1, lo: NaN, hi: NaN, n: 1 })).toBe(false);
	});
});
