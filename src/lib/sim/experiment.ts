// Experiments: every policy on the same seeds, then statistics over the seeds — each figure a
// mean with its 95 % interval (a seed is one independent replication of a day), differences and
// relative reductions paired by seed against a baseline, and the pooled distributions of every
// errand. Runs go through a `runner`, so a Node script can spread them over worker threads.
import type { ErrandRecord, SessionRecord } from './metrics';
import { policyConfig, type Policy, type PowerPolicy, type ScenarioOptions } from './options';
import { allErrands, type PolicyReport } from './report';
import { runPolicySim } from './run';
import { buildScenario } from './scenario';
import {
	distribution,
	meanInterval,
	pairedDifference,
	pairedReduction,
	type Distribution,
	type Interval
} from './stats';

export interface RunRequest {
	options: ScenarioOptions;
	policy: Policy;
	power?: PowerPolicy;
	/** Return the per-session records and the load curve too (the per-errand records come always). */
	records?: boolean;
}

export interface RunResult {
	request: RunRequest;
	report: PolicyReport;
	errands?: ErrandRecord[];
	sessions?: SessionRecord[];
	/** kW drawn by all sites per minute, and the busiest feeder's load ÷ limit per minute. */
	loadKw?: Float32Array;
	feederPeakRatio?: Float32Array;
}

export type Runner = (request: RunRequest) => Promise<RunResult>;

/** Runs one request in this thread. */
export const runHere: Runner = async (request) => {
	const scenario = buildScenario(request.options);
	const { sim, report } = await runPolicySim(
		scenario,
		policyConfig(request.policy, request.power),
		{ keepSessionRecords: request.records ?? false }
	);
	// The errand records always (one small record per errand: the pooled distributions rest on
	// them); sessions and the load curve only when asked for.
	if (!request.records) return { request, report, errands: allErrands(sim) };
	return {
		request,
		report,
		errands: allErrands(sim),
		sessions: sim.metrics.sessionRecords ?? [],
		loadKw: sim.metrics.loadKw,
		feederPeakRatio: sim.metrics.feederPeakRatio
	};
};

/** Every policy on every seed, `parallel` runs at a time. Results in request order. */
export async function runExperiment(
	base: Omit<ScenarioOptions, 'seed'>,
	seeds: readonly number[],
	policies: readonly Policy[],
	o: {
		runner?: Runner;
		parallel?: number;
		records?: boolean;
		power?: PowerPolicy;
		onResult?: (r: RunResult) => void;
	} = {}
): Promise<RunResult[]> {
	const requests: RunRequest[] = [];
	for (const seed of seeds) {
		for (const policy of policies)
			requests.push({
				options: { ...base, seed },
				policy,
				...(o.power ? { power: o.power } : {}),
				records: o.records ?? false
			});
	}
	const runner = o.runner ?? runHere;
	const results = new Array<RunResult>(requests.length);
	let next = 0;
	const worker = async () => {
		while (next < requests.length) {
			const i = next++;
			results[i] = await runner(requests[i]!);
			o.onResult?.(results[i]!);
		}
	};
	const parallel = o.parallel ?? 1;
	if (!Number.isInteger(parallel) || parallel < 1)
		throw new RangeError(`parallel must be a whole number ≥ 1, got ${parallel}`);
	await Promise.all(Array.from({ length: parallel }, worker));
	return results;
}

export interface PolicySummary {
	policy: Policy;
	power: PowerPolicy;
	/** Each an interval over seeds of that seed's figure. */
	meanWaitMin: Interval;
	p95WaitMin: Interval;
	meanTotalMin: Interval;
	unfinished: Interval;
	lateForDeadline: Interval;
	sessions: Interval;
	wallSeconds: Interval;
	/** Over every errand of every seed (when the runs returned their records). */
	wait: Distribution | null;
	total: Distribution | null;
	/** Where an errand's time goes, minutes (mean over every errand of every seed). */
	breakdown: { wait: number; charge: number; pay: number; travelAndDeciding: number } | null;
}

export interface PairedComparison {
	policy: Policy;
	baseline: Policy;
	/** policy − baseline, minutes. */
	waitDifferenceMin: Interval;
	totalDifferenceMin: Interval;
	/** 1 − policy/baseline, per seed. */
	waitReduction: Interval;
	totalTimeReduction: Interval;
}

export interface Comparison {
	seeds: number[];
	policies: PolicySummary[];
	baseline: Policy;
	paired: PairedComparison[];
}

export function compare(results: readonly RunResult[], baseline: Policy = 'live'): Comparison {
	const seeds = [...new Set(results.map((r) => r.report.seed))].sort((a, b) => a - b);
	const policies = [...new Set(results.map((r) => r.report.policy))];
	const of = (policy: Policy) =>
		seeds.map((seed) => {
			const r = results.find((x) => x.report.policy === policy && x.report.seed === seed);
			if (!r) throw new RangeError(`no run of ${policy} on seed ${seed}`);
			return r;
		});
	const summaries = policies.map((policy): PolicySummary => {
		const runs = of(policy);
		const pooled = (f: (e: ErrandRecord) => number) =>
			runs.flatMap((r) => (r.errands ?? []).map(f));
		const hasRecords = runs.every((r) => r.errands);
		return {
			policy,
			power: runs[0]!.report.powerPolicy,
			meanWaitMin: meanInterval(runs.map((r) => r.report.wait.mean)),
			p95WaitMin: meanInterval(runs.map((r) => r.report.wait.p95)),
			meanTotalMin: meanInterval(runs.map((r) => r.report.total.mean)),
			unfinished: meanInterval(runs.map((r) => r.report.summary.errandsUnfinished)),
			lateForDeadline: meanInterval(runs.map((r) => r.report.lateForDeadline)),
			sessions: meanInterval(runs.map((r) => r.report.summary.sessionsFinished)),
			wallSeconds: meanInterval(runs.map((r) => r.report.wallSeconds ?? NaN)),
			wait: hasRecords ? distribution(pooled((e) => e.waitMin)) : null,
			total: hasRecords ? distribution(pooled((e) => e.totalMin)) : null,
			breakdown: hasRecords ? breakdown(runs.flatMap((r) => r.errands!)) : null
		};
	});
	const base = policies.includes(baseline) ? of(baseline) : null;
	const paired: PairedComparison[] = [];
	if (base) {
		const bw = base.map((r) => r.report.wait.mean);
		const bt = base.map((r) => r.report.total.mean);
		for (const policy of policies) {
			if (policy === baseline) continue;
			const runs = of(policy);
			const w = runs.map((r) => r.report.wait.mean);
			const t = runs.map((r) => r.report.total.mean);
			paired.push({
				policy,
				baseline,
				waitDifferenceMin: pairedDifference(w, bw),
				totalDifferenceMin: pairedDifference(t, bt),
				waitReduction: pairedReduction(w, bw),
				totalTimeReduction: pairedReduction(t, bt)
			});
		}
	}
	return { seeds, policies: summaries, baseline, paired };
}

function breakdown(errands: readonly ErrandRecord[]): PolicySummary['breakdown'] {
	const mean = (f: (e: ErrandRecord) => number) =>
		errands.reduce((a, e) => a + f(e), 0) / Math.max(1, errands.length);
	const wait = mean((e) => e.waitMin);
	const charge = mean((e) => e.chargeMin);
	const pay = mean((e) => e.payMin);
	return { wait, charge, pay, travelAndDeciding: mean((e) => e.totalMin) - wait - charge - pay };
}

// A value that rounds to zero prints as 0, never -0.
const num = (x: number, d: number) =>
	Number.isFinite(x) ? x.toFixed(d).replace(/^-(0\.?0*)$/, '$1') : '–';
/** "12.3 [11.0, 13.6]" */
export function formatInterval(i: Interval, digits = 1, scale = 1): string {
	return i.n < 2
		? num(i.mean * scale, digits)
		: `${num(i.mean * scale, digits)} [${num(i.lo * scale, digits)}, ${num(i.hi * scale, digits)}]`;
}

/** The comparison as a fixed-width table (one row per policy), then the paired reductions. */
export function formatComparison(c: Comparison): string {
	const header = [
		'policy',
		'power',
		'mean wait min',
		'p95 wait min',
		'mean total min',
		'unfinished',
		'late',
		'wait p50/p95/max (pooled)'
	];
	const rows = c.policies.map((p) => [
		p.policy,
		p.power,
		formatInterval(p.meanWaitMin, 2),
		formatInterval(p.p95WaitMin, 1),
		formatInterval(p.meanTotalMin, 1),
		formatInterval(p.unfinished, 1),
		formatInterval(p.lateForDeadline, 0),
		p.wait ? `${num(p.wait.p50, 1)} / ${num(p.wait.p95, 1)} / ${num(p.wait.max, 0)}` : '–'
	]);
	const lines = table(header, rows);
	if (c.paired.length > 0) {
		lines.push(
			'',
			`paired by seed against ${c.baseline} (${c.seeds.length} seeds; mean [95 % interval]):`
		);
		lines.push(
			...table(
				['policy', 'wait Δ min', 'wait reduction %', 'total Δ min', 'total-time reduction %'],
				c.paired.map((p) => [
					p.policy,
					formatInterval(p.waitDifferenceMin, 2),
					formatInterval(p.waitReduction, 1, 100),
					formatInterval(p.totalDifferenceMin, 2),
					formatInterval(p.totalTimeReduction, 1, 100)
				])
			)
		);
	}
	return lines.join('\n');
}

export function table(header: string[], rows: string[][]): string[] {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (row: string[]) =>
		row
			.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
			.join('  ');
	return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}
