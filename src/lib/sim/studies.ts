// Studies: each scenario option's effect, measured. A study is a list of variants, each a set of
// options applied on top of a baseline scenario, run for the same policies on the same seeds as
// that baseline (so the same trips); each figure is then a difference paired by seed against the
// baseline run of the same policy, with its 95 % interval. An interval that covers 0 is "no
// measurable effect at these seeds", and the table says so in words.
import type { RunRequest, RunResult } from './experiment';
import type { Policy, PowerPolicy, ScenarioOptions } from './options';
import type { PolicyReport } from './report';
import { meanInterval, pairedDifference, pairedReduction, type Interval } from './stats';

export interface StudyVariant {
	/** Short label for the table, e.g. "eta-noise 0.2". */
	name: string;
	/** Options applied on top of the study's base. */
	options: Partial<Omit<ScenarioOptions, 'seed'>>;
	/** Power policy for every policy of this variant (else each policy's own). */
	power?: PowerPolicy;
	/** The variant this one is paired against (by name; default the study's baseline). */
	against?: string;
}

export interface Study {
	name: string;
	base: Omit<ScenarioOptions, 'seed'>;
	policies: readonly Policy[];
	/** The first variant is the baseline (its options are usually empty). */
	variants: readonly StudyVariant[];
}

/** The figures a study compares, one number per run. */
export const STUDY_METRICS = {
	waitMin: (r: PolicyReport) => r.wait.mean,
	totalMin: (r: PolicyReport) => r.total.mean,
	unfinished: (r: PolicyReport) => r.summary.errandsUnfinished,
	late: (r: PolicyReport) => r.lateForDeadline,
	feeSharePct: (r: PolicyReport) =>
		r.summary.paidSat > 0 ? (100 * r.summary.hubFeesSat) / r.summary.paidSat : 0,
	energyKwh: (r: PolicyReport) => r.energy.deliveredKwh
} as const;
export type StudyMetric = keyof typeof STUDY_METRICS;

export interface StudyEffect {
	variant: string;
	against: string;
	policy: Policy;
	power: PowerPolicy;
	seeds: number;
	/** The variant's own mean per metric, over seeds. */
	level: Record<StudyMetric, Interval>;
	/** variant − baseline per metric, paired by seed. */
	difference: Record<StudyMetric, Interval>;
	/** 1 − variant/baseline for mean wait and mean total time, paired by seed. */
	waitReduction: Interval;
	totalReduction: Interval;
}

/** Every run a study needs: each variant × policy × seed. */
export function studyRequests(study: Study, seeds: readonly number[]): RunRequest[] {
	const requests: RunRequest[] = [];
	for (const variant of study.variants) {
		for (const policy of study.policies) {
			for (const seed of seeds) {
				requests.push({
					options: { ...study.base, ...variant.options, seed },
					policy,
					...(variant.power ? { power: variant.power } : {})
				});
			}
		}
	}
	return requests;
}

/** Pairs each variant's runs with its baseline's (same policy, same seed). `results` in `studyRequests` order. */
export function studyEffects(
	study: Study,
	seeds: readonly number[],
	results: readonly RunResult[]
): StudyEffect[] {
	const per = study.policies.length * seeds.length;
	if (results.length !== study.variants.length * per)
		throw new RangeError(
			`a study of ${study.variants.length} variants needs ${study.variants.length * per} runs, got ${results.length}`
		);
	const runsOf = (variantIndex: number, policyIndex: number) =>
		results.slice(
			variantIndex * per + policyIndex * seeds.length,
			variantIndex * per + (policyIndex + 1) * seeds.length
		);
	const indexOf = (name: string) => {
		const i = study.variants.findIndex((v) => v.name === name);
		if (i < 0)
			throw new RangeError(`study ${study.name}: no variant named "${name}" to pair against`);
		return i;
	};
	const baseline = study.variants[0]!.name;
	const effects: StudyEffect[] = [];
	study.variants.forEach((variant, vi) => {
		const against = variant.against ?? baseline;
		const ai = indexOf(against);
		if (ai === vi) return;
		study.policies.forEach((policy, pi) => {
			const runs = runsOf(vi, pi);
			const base = runsOf(ai, pi);
			runs.forEach((r, k) => {
				if (r.report.seed !== base[k]!.report.seed || r.report.policy !== policy)
					throw new RangeError('study runs out of order');
			});
			const level = {} as Record<StudyMetric, Interval>;
			const difference = {} as Record<StudyMetric, Interval>;
			for (const [name, f] of Object.entries(STUDY_METRICS) as [
				StudyMetric,
				(r: PolicyReport) => number
			][]) {
				const a = runs.map((r) => f(r.report));
				level[name] = meanInterval(a);
				difference[name] = pairedDifference(
					a,
					base.map((r) => f(r.report))
				);
			}
			effects.push({
				variant: variant.name,
				against,
				policy,
				power: runs[0]!.report.powerPolicy,
				seeds: seeds.length,
				level,
				difference,
				waitReduction: pairedReduction(
					runs.map((r) => r.report.wait.mean),
					base.map((r) => r.report.wait.mean)
				),
				totalReduction: pairedReduction(
					runs.map((r) => r.report.total.mean),
					base.map((r) => r.report.total.mean)
				)
			});
		});
	});
	return effects;
}

/** "measurable" when the 95 % interval of the paired difference excludes 0. */
export function measurable(i: Interval): boolean {
	return Number.isFinite(i.lo) && Number.isFinite(i.hi) && (i.lo > 0 || i.hi < 0);
}
