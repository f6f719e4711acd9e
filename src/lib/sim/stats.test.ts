import { describe, expect, it } from 'vitest';
import { Rng } from './random';
import {
	distribution,
	meanInterval,
	pairedDifference,
	pairedReduction,
	percentile,
	t975
} from './stats';

describe('percentile (nearest rank)', () => {
	it('is the smallest value with at least p % of the data at or below it', () => {
		const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
		expect(percentile(xs, 50)).toBe(5);
		expect(percentile(xs, 95)).toBe(10);
		expect(percentile(xs, 90)).toBe(9);
		expect(percentile(xs, 0)).toBe(1);
		expect(percentile(xs, 100)).toBe(10);
		expect(percentile([], 50)).toBeNaN();
		expect(distribution([3, 1, 2])).toEqual({ n: 3, mean: 2, p50: 2, p95: 3, max: 3 });
	});
});

describe('meanInterval', () => {
	it('uses Student’s t', () => {
		expect(t975(1)).toBe(12.706);
		expect(t975(9)).toBe(2.262);
		expect(t975(60)).toBeCloseTo(2.0003, 3);
		expect(t975(1000)).toBeCloseTo(1.9623, 3);
		const i = meanInterval([1, 2, 3, 4, 5]);
		expect(i.mean).toBe(3);
		// s = √2.5, half-width = 2.776 · s / √5
		expect(i.hi - i.mean).toBeCloseTo((2.776 * Math.sqrt(2.5)) / Math.sqrt(5), 9);
		expect(meanInterval([4]).lo).toBeNaN();
	});

	it('covers the true mean about 95 % of the time', () => {
		const rng = new Rng(42);
		let covered = 0;
		const trials = 2000;
		for (let t = 0; t < trials; t++) {
			const xs = Array.from({ length: 10 }, () => 5 + rng.normal());
			const i = meanInterval(xs);
			if (i.lo <= 5 && 5 <= i.hi) covered++;
		}
		expect(covered / trials).toBeGreaterThan(0.93);
		expect(covered / trials).toBeLessThan(0.97);
	});

	it('pairs differences and reductions seed by seed', () => {
		const a = [8, 9, 10];
		const b = [10, 12, 10];
		expect(pairedDifference(a, b).mean).toBeCloseTo(-5 / 3);
		expect(pairedReduction(a, b).mean).toBeCloseTo((0.2 + 0.25 + 0) / 3);
		expect(() => pairedDifference([1], [1, 2])).toThrow(/same length/);
	});
});

describe('formatInterval', () => {
	it('prints mean [lo, hi], and a value that rounds to zero as 0, never -0', async () => {
		const { formatInterval } = await import('./experiment');
		expect(formatInterval({ n: 3, mean: 2.04, lo: -0.04, hi: 4.1 }, 1)).toBe('2.0 [0.0, 4.1]');
		expect(formatInterval({ n: 3, mean: -0.3, lo: -0.5, hi: -0.001 }, 0)).toBe('0 [-1, 0]');
		expect(formatInterval({ n: 3, mean: -1.25, lo: -2.5, hi: 0 }, 1)).toBe('-1.3 [-2.5, 0.0]');
		expect(formatInterval({ n: 1, mean: 5, lo: Number.NaN, hi: Number.NaN }, 1)).toBe('5.0');
	});
});
