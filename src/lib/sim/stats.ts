// Statistics for reports: one percentile definition (nearest rank), a mean with its 95 % interval
// over independent replications (Student's t), and paired differences between policies run on
// the same seeds.

/**
 * The p-th percentile by nearest rank: the smallest value with at least p % of the data at or
 * below it (sorted ascending). NaN for no data.
 */
export function percentile(sorted: readonly number[], p: number): number {
	if (sorted.length === 0) return NaN;
	const rank = Math.ceil((p / 100) * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Distribution {
	n: number;
	mean: number;
	p50: number;
	p95: number;
	max: number;
}

export function distribution(values: readonly number[]): Distribution {
	const sorted = Float64Array.from(values).sort();
	const list = Array.from(sorted);
	let sum = 0;
	for (const x of list) sum += x;
	return {
		n: list.length,
		mean: list.length ? sum / list.length : NaN,
		p50: percentile(list, 50),
		p95: percentile(list, 95),
		max: list.length ? list[list.length - 1]! : NaN
	};
}

export interface Interval {
	mean: number;
	/** 95 % confidence interval of the mean (NaN with fewer than two values). */
	lo: number;
	hi: number;
	n: number;
}

/** Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
	12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
	2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
	2.045, 2.042
];

/** Student's t quantile for a 95 % two-sided interval with `df` degrees of freedom. */
export function t975(df: number): number {
	if (df < 1) return NaN;
	if (df <= 30) return T975[df - 1]!;
	// Cornish–Fisher expansion about the normal quantile: within 1e-3 above 30 degrees of freedom.
	const z = 1.959964;
	return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** Mean of independent values with its 95 % t interval. */
export function meanInterval(values: readonly number[]): Interval {
	const n = values.length;
	if (n === 0) return { mean: NaN, lo: NaN, hi: NaN, n };
	let sum = 0;
	for (const x of values) sum += x;
	const mean = sum / n;
	if (n < 2) return { mean, lo: NaN, hi: NaN, n };
	let ss = 0;
	for (const x of values) ss += (x - mean) ** 2;
	const half = t975(n - 1) * Math.sqrt(ss / (n - 1) / n);
	return { mean, lo: mean - half, hi: mean + half, n };
}

/** Per seed: `a − b`, with its interval (the paired difference; both ran on the same seeds). */
export function pairedDifference(a: readonly number[], b: readonly number[]): Interval {
	if (a.length !== b.length) throw new RangeError('paired samples must have the same length');
	return meanInterval(a.map((x, i) => x - b[i]!));
}

/** Per seed: the relative reduction `1 − a/b` of a against the baseline b, with its interval. */
export function pairedReduction(a: readonly number[], baseline: readonly number[]): Interval {
	if (a.length !== baseline.length)
		throw new RangeError('paired samples must have the same length');
	return meanInterval(a.map((x, i) => (baseline[i]! > 0 ? 1 - x / baseline[i]! : 0)));
}
