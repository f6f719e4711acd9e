// The files of a report a researcher can use: every session and every errand as CSV, the
// comparison table, and SVG plots of the wait distributions per policy and of the grid load
// against its limits. Pure functions from run results to file contents; the CLI writes them.
import { formatComparison, type Comparison, type RunResult } from './experiment';
import type { Policy } from './options';
import { cdfPoints, linePlot, PALETTE, type Series } from './svg';

const csvCell = (x: unknown) => {
	const s = x === null || x === undefined ? '' : String(x);
	return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (header: string[], rows: unknown[][]) =>
	[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
const min = (seconds: number | null) =>
	seconds === null ? null : Math.round((seconds / 60) * 1000) / 1000;

export function sessionsCsv(results: readonly RunResult[]): string {
	const rows: unknown[][] = [];
	for (const r of results) {
		for (const s of r.sessions ?? []) {
			rows.push([
				r.report.policy,
				r.report.seed,
				s.id,
				s.vehicle,
				s.station,
				s.feeder,
				min(s.plugAt),
				min(s.endAt),
				min(s.paidAt),
				s.energyWh,
				s.amountMsat,
				s.feeMsat,
				s.sampled,
				Math.round(s.waitMin * 1000) / 1000
			]);
		}
	}
	return csv(
		[
			'policy',
			'seed',
			'session',
			'vehicle',
			'station',
			'feeder',
			'plug_in_min',
			'end_min',
			'paid_min',
			'energy_wh',
			'amount_msat',
			'hub_fee_msat',
			'signed_sample',
			'errand_wait_min'
		],
		rows
	);
}

export function errandsCsv(results: readonly RunResult[]): string {
	const rows: unknown[][] = [];
	for (const r of results) {
		for (const e of r.errands ?? []) {
			rows.push([
				r.report.policy,
				r.report.seed,
				e.vehicle,
				min(e.start),
				min(e.end),
				e.end !== null,
				+e.waitMin.toFixed(3),
				+e.totalMin.toFixed(3),
				+e.chargeMin.toFixed(3),
				+e.payMin.toFixed(3),
				e.rechoices,
				e.lateForDeadline
			]);
		}
	}
	return csv(
		[
			'policy',
			'seed',
			'vehicle',
			'start_min',
			'end_min',
			'finished',
			'wait_min',
			'total_min',
			'charge_min',
			'pay_min',
			'rechoices',
			'late_for_deadline'
		],
		rows
	);
}

/** One row per policy and seed: the figures a paper's table is built from. */
export function runsCsv(results: readonly RunResult[]): string {
	return csv(
		[
			'policy',
			'power',
			'seed',
			'errands',
			'unfinished',
			'mean_wait_min',
			'p50_wait_min',
			'p95_wait_min',
			'max_wait_min',
			'mean_total_min',
			'late_for_deadline',
			'sessions',
			'energy_kwh',
			'hub_fees_sat',
			'paid_sat',
			'ledger_tx',
			'wall_s'
		],
		results.map(({ report: p }) => [
			p.policy,
			p.powerPolicy,
			p.seed,
			p.summary.errandsStarted,
			p.summary.errandsUnfinished,
			p.wait.mean,
			p.wait.p50,
			p.wait.p95,
			p.wait.max,
			p.total.mean,
			p.lateForDeadline,
			p.summary.sessionsFinished,
			p.energy.deliveredKwh,
			p.payments.hubFeesSat,
			p.payments.amountSat,
			p.ledger.transactions,
			p.wallSeconds ?? null
		])
	);
}

const colourOf = (policies: readonly Policy[]) => (p: Policy) =>
	PALETTE[policies.indexOf(p) % PALETTE.length]!;

export function waitDistributionSvg(
	results: readonly RunResult[],
	policies: readonly Policy[]
): string {
	const colour = colourOf(policies);
	const series: Series[] = policies.map((p) => ({
		name: p,
		colour: colour(p),
		points: cdfPoints(
			results
				.filter((r) => r.report.policy === p)
				.flatMap((r) => (r.errands ?? []).map((e) => e.waitMin))
		)
	}));
	// Show up to the 99th percentile of the worst policy: the tail beyond is in the CSV.
	let xMax = 1;
	for (const s of series) {
		const i = s.points.findIndex(([, y]) => y >= 0.99);
		if (i >= 0) xMax = Math.max(xMax, s.points[i]![0]);
	}
	return linePlot({
		title: 'Wait per errand (all seeds pooled): share of errands waiting at most x minutes',
		xLabel: 'wait, minutes (arrival at a station → plug-in, every station tried)',
		yLabel: 'share of errands',
		series,
		xMax: Math.ceil(xMax),
		yMax: 1
	});
}

export function gridLoadSvg(
	results: readonly RunResult[],
	policies: readonly Policy[],
	seed: number
): string {
	const colour = colourOf(policies);
	const runs = policies
		.map((p) => results.find((r) => r.report.policy === p && r.report.seed === seed))
		.filter((r): r is RunResult => r?.loadKw !== undefined);
	const series: Series[] = runs.map((r) => ({
		name: r.report.policy,
		colour: colour(r.report.policy),
		points: downsample(r.loadKw!)
	}));
	const first = runs[0];
	if (first) {
		const hours = first.report.simHours;
		const site = first.report.power.totalSiteLimitKw;
		series.push({
			name: 'Σ site limits',
			colour: '#000',
			points: [
				[0, site],
				[hours, site]
			],
			dashed: true
		});
		if (first.report.power.feeders > 0) {
			const feeder = first.report.power.totalFeederLimitKw;
			series.push({
				name: 'Σ feeder limits',
				colour: '#888',
				points: [
					[0, feeder],
					[hours, feeder]
				],
				dashed: true
			});
		}
	}
	return linePlot({
		title: `Grid load of all sites against their limits (seed ${seed})`,
		xLabel: 'simulated hour',
		yLabel: 'kW drawn',
		series
	});
}

export function feederLoadSvg(
	results: readonly RunResult[],
	policies: readonly Policy[],
	seed: number
): string {
	const colour = colourOf(policies);
	const runs = policies
		.map((p) => results.find((r) => r.report.policy === p && r.report.seed === seed))
		.filter((r): r is RunResult => r?.feederPeakRatio !== undefined);
	const series: Series[] = runs.map((r) => ({
		name: r.report.policy,
		colour: colour(r.report.policy),
		points: downsample(r.feederPeakRatio!)
	}));
	series.push({
		name: 'limit',
		colour: '#000',
		points: [
			[0, 1],
			[runs[0]?.report.simHours ?? 24, 1]
		],
		dashed: true
	});
	return linePlot({
		title: `Busiest feeder: load ÷ limit per minute (seed ${seed})`,
		xLabel: 'simulated hour',
		yLabel: 'load ÷ feeder limit',
		series,
		yMax: 1.1
	});
}

/** Per-minute values as [hour, value], averaged over 5-minute bins. */
function downsample(perMinute: Float32Array): Array<[number, number]> {
	const out: Array<[number, number]> = [];
	for (let i = 0; i < perMinute.length; i += 5) {
		let sum = 0;
		let n = 0;
		for (let j = i; j < Math.min(i + 5, perMinute.length); j++, n++) sum += perMinute[j]!;
		out.push([i / 60, sum / n]);
	}
	return out;
}

export interface ReportFile {
	name: string;
	content: string;
}

export function reportFiles(
	results: readonly RunResult[],
	comparison: Comparison,
	header: string
): ReportFile[] {
	const policies = comparison.policies.map((p) => p.policy);
	const seed = comparison.seeds[0]!;
	const files: ReportFile[] = [
		{ name: 'sessions.csv', content: sessionsCsv(results) },
		{ name: 'errands.csv', content: errandsCsv(results) },
		{ name: 'runs.csv', content: runsCsv(results) },
		{ name: 'comparison.txt', content: `${header}\n\n${formatComparison(comparison)}\n` },
		{ name: 'wait-distribution.svg', content: waitDistributionSvg(results, policies) },
		{ name: 'grid-load.svg', content: gridLoadSvg(results, policies, seed) }
	];
	if (results.some((r) => r.report.power.feeders > 0))
		files.push({ name: 'feeder-load.svg', content: feederLoadSvg(results, policies, seed) });
	return files;
}
