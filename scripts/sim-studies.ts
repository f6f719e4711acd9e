// Studies beside the policy comparison: the economics of streaming payments (hub fees and energy
// at risk against the increment) and the scaling curve (wall time and peak memory, 250 → 50,000
// vehicles, each run in a process of its own).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
	FEE_POLICIES,
	INCREMENTS_WH,
	compare,
	formatInterval,
	leastIncrementUnderFeeShare,
	measurable,
	runExperiment,
	simulateStreamingSession,
	studyEffects,
	studyRequests,
	table,
	type Comparison,
	type Policy,
	type PowerPolicy,
	type RunResult,
	type ScenarioOptions,
	type Study,
	type StudyEffect
} from '../src/lib/sim/index.js';
import type { SimArgs } from './sim-args.js';
import { simWorkerPool, type WorkerPool } from './sim-workers.js';

export const PRICE_MSAT_PER_KWH = 250_000n;
const POWERS_KW = [11, 50, 150];

export async function economicsStudy(_args: SimArgs): Promise<void> {
	console.log(
		`streaming payments: 10 kWh at ${Number(PRICE_MSAT_PER_KWH) / 1000} sat/kWh, readings every 1 s, grace 50 Wh, invoice 150 ms, payment settles in 1 s (and 2.5 s)`
	);
	for (const policy of FEE_POLICIES) {
		const rows: string[][] = [];
		for (const settleDelayMs of [1000, 2500]) {
			for (const kw of POWERS_KW) {
				for (const wh of INCREMENTS_WH) {
					const r = simulateStreamingSession({
						incrementWh: wh,
						graceWh: 50,
						powerKw: kw,
						sessionWh: 10_000,
						pricePerKwhMsat: PRICE_MSAT_PER_KWH,
						hubBaseFeeMsat: policy.baseMsat,
						hubFeePpm: policy.ppm,
						settleDelayMs
					});
					rows.push([
						String(settleDelayMs),
						String(kw),
						String(wh),
						String(r.payments),
						(r.feeShare * 100).toFixed(3),
						(r.feeMsat / 1000).toFixed(1),
						String(r.maxAtRiskWh),
						r.meanAtRiskWh.toFixed(0),
						String(r.suspensions),
						r.suspendedSeconds.toFixed(1)
					]);
				}
			}
		}
		console.log(`\n${policy.name}`);
		console.log(
			table(
				[
					'settle ms',
					'kW',
					'increment Wh',
					'payments',
					'fee %',
					'fees sat',
					'max at risk Wh',
					'mean at risk Wh',
					'suspensions',
					'suspended s'
				],
				rows
			).join('\n')
		);
		const best = leastIncrementUnderFeeShare(PRICE_MSAT_PER_KWH, policy.baseMsat, policy.ppm);
		console.log(
			`least increment with fees under 1 %: ${best === null ? 'none of those tried' : `${best} Wh`}`
		);
	}
}

/**
 * V8 flags of a run in its own process. A 64 MB semi-space (V8's default here is 16 MB): a city
 * run allocates ~20 GB of short-lived objects (a reading, its text, hashes and anchor every minute
 * per session), and with the default young generation a quarter of its time went to ~1,600
 * scavenges copying objects only minutes old; 64 MB cuts that to ~400 (measured at 50,000
 * vehicles: scavenges 21.0 s → 6.3 s; the same report). --expose-gc lets the run report the
 * heap it still holds after a full collection at its end (sim-city.ts).
 */
export const RUN_NODE_FLAGS = ['--max-semi-space-size=64', '--expose-gc'];

/** Runs one scenario in a child process; returns its JSON line. */
export function runInOwnProcess(
	options: ScenarioOptions,
	policy = 'optimal'
): Record<string, number | string> {
	const out = execFileSync(
		process.execPath,
		[
			...RUN_NODE_FLAGS,
			'--import',
			'tsx',
			new URL('./sim-city.ts', import.meta.url).pathname,
			JSON.stringify(options),
			policy
		],
		{ encoding: 'utf8', maxBuffer: 1 << 20 }
	);
	return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number | string>;
}

/** Street grid for a fleet: 20 × 20 up to 1,000 vehicles, growing with √vehicles to 40 × 40 at 50,000 (a 39 km city). */
export function gridFor(vehicles: number): number {
	return Math.max(
		20,
		Math.min(40, Math.round((20 * Math.sqrt(vehicles / 1000)) / Math.sqrt(12.5)))
	);
}

export const SCALE_STEPS = [250, 1000, 5000, 10_000, 25_000, 50_000];

export async function scalingStudy(args: SimArgs): Promise<void> {
	const sample = args.base.readingSample;
	console.log(
		`scaling: one station per 20 vehicles, ${args.base.hours} h, seed ${args.seeds[0]}, policy optimal, reading sample ${sample ?? 'default'}; each run in a process of its own`
	);
	const rows: string[][] = [];
	for (const vehicles of SCALE_STEPS) {
		const stations = Math.max(1, Math.round(vehicles / 20));
		const r = runInOwnProcess({
			...args.base,
			vehicles,
			stations,
			gridSize: gridFor(vehicles),
			seed: args.seeds[0]!
		});
		rows.push([
			String(vehicles),
			String(stations),
			String(gridFor(vehicles)),
			String(r.errands),
			String(r.readings),
			String(r.signed),
			String(r.wallSeconds),
			String(r.cpuSeconds),
			String(r.peakRssMb),
			String(r.heapAfterMb)
		]);
		console.log(JSON.stringify(r));
	}
	console.log(
		table(
			[
				'vehicles',
				'stations',
				'grid',
				'errands',
				'readings',
				'signed',
				'wall s',
				'CPU s',
				'peak RSS MB',
				'heap after MB'
			],
			rows
		).join('\n')
	);
}

// ---- option studies: each scenario option's effect, paired by seed against the baseline ----

/** Each information, behaviour, grid and Lightning option at one telling level, for a fair baseline (live) and the optimiser. */
export function optionsStudy(base: Omit<ScenarioOptions, 'seed'>): Study {
	return {
		name: 'options',
		base,
		policies: ['optimal', 'live'],
		variants: [
			{ name: 'baseline', options: {} },
			{ name: 'eta-noise 0.2', options: { etaNoise: 0.2 } },
			{ name: 'eta-noise 0.4', options: { etaNoise: 0.4 } },
			{ name: 'reserving-share 0.5', options: { reservingShare: 0.5 } },
			{ name: 'no-show-rate 0.2', options: { noShowRate: 0.2 } },
			{ name: 'balk-queue 2', options: { balkQueue: 2 } },
			{ name: 'patience-min 20', options: { patienceMin: 20 } },
			{ name: 'block-seconds 60', options: { blockSeconds: 60 } },
			{ name: 'channel-share 1', options: { channelShare: 1 } },
			{ name: 'hub base fee 0', options: { hubBaseFeeMsat: 0 } },
			{ name: 'feeders 4 sites @60 %', options: { feederSites: 4, feederLimitShare: 0.6 } }
		]
	};
}

const POWER_STUDIED: PowerPolicy[] = ['equal', 'slack', 'llf', 'edf', 'srpt'];

/** The optimiser's station choice under every power policy, with each site on its own connection and with feeders shared by 4 sites at 60 % and 40 % of their sum. */
export function powerStudy(base: Omit<ScenarioOptions, 'seed'>): Study {
	const grids: Array<{ label: string; options: Partial<ScenarioOptions> }> = [
		{ label: 'own connection', options: {} },
		{ label: 'feeders 4 @60 %', options: { feederSites: 4, feederLimitShare: 0.6 } },
		{ label: 'feeders 4 @40 %', options: { feederSites: 4, feederLimitShare: 0.4 } }
	];
	return {
		name: 'power',
		base,
		policies: ['optimal'],
		variants: grids.flatMap((g) =>
			POWER_STUDIED.map((power) => ({
				name: `${power}, ${g.label}`,
				options: g.options,
				power,
				against: `equal, ${g.label}`
			}))
		)
	};
}

/** Fleet sizes for the load study: light, benchmark and high load on the same 50 stations. */
export const LOAD_STEPS = [500, 1000, 1500, 2000];

/** The smallest difference each column shows (its last digit). */
const RESOLUTION = {
	waitMin: 0.01,
	totalMin: 0.01,
	unfinished: 0.1,
	late: 0.1,
	feeSharePct: 0.001
} as const;

function effectRows(effects: readonly StudyEffect[]): string[][] {
	return effects.map((e) => {
		const d = e.difference;
		// Measurable: the interval excludes 0 and the mean shows at the table's resolution.
		const moved = (Object.keys(RESOLUTION) as Array<keyof typeof RESOLUTION>).filter(
			(m) => measurable(d[m]) && Math.abs(d[m].mean) >= RESOLUTION[m] / 2
		);
		return [
			e.variant,
			e.policy,
			e.power,
			formatInterval(e.level.waitMin, 2),
			formatInterval(d.waitMin, 2),
			formatInterval(d.totalMin, 2),
			formatInterval(d.unfinished, 1),
			formatInterval(d.late, 1),
			formatInterval(d.feeSharePct, 3),
			moved.length === 0
				? 'none measurable'
				: moved.map((m) => `${m} ${d[m].mean > 0 ? '+' : '−'}`).join(' ')
		];
	});
}

const EFFECT_HEADER = [
	'variant',
	'policy',
	'power',
	'mean wait min',
	'Δ wait min',
	'Δ total min',
	'Δ unfinished',
	'Δ late',
	'Δ fee %',
	'measurable (95 %)'
];

async function runStudy(
	study: Study,
	seeds: readonly number[],
	pool: WorkerPool | null
): Promise<{ effects: StudyEffect[]; results: RunResult[] }> {
	const requests = studyRequests(study, seeds);
	const runner = pool?.runner;
	const results = new Array<RunResult>(requests.length);
	let next = 0;
	let done = 0;
	const started = performance.now();
	const worker = async () => {
		while (next < requests.length) {
			const i = next++;
			results[i] = await (runner
				? runner(requests[i]!)
				: (await import('../src/lib/sim/index.js')).runHere(requests[i]!));
			done++;
			if (done % 10 === 0 || done === requests.length)
				console.log(
					`  ${study.name}: ${done}/${requests.length} runs, ${((performance.now() - started) / 1000).toFixed(0)} s`
				);
		}
	};
	await Promise.all(Array.from({ length: pool?.size ?? 1 }, worker));
	return { effects: studyEffects(study, seeds, results), results };
}

export async function optionStudies(args: SimArgs, which: readonly string[]): Promise<void> {
	const seeds = args.seeds;
	const base = args.base;
	console.log(
		`studies ${which.join(', ')}: ${base.vehicles} vehicles, ${base.stations} stations, ${base.hours} h, seeds ${seeds[0]}..${seeds.at(-1)} (${seeds.length}); every variant on the same seeds (the same trips) as its baseline; differences paired by seed, mean [95 % interval]`
	);
	const pool = args.parallel === 1 ? null : simWorkerPool(args.parallel ?? availableParallelism());
	const started = performance.now();
	const out: Record<string, unknown> = { scenario: { ...base, seeds } };
	try {
		for (const name of which) {
			if (name === 'load') {
				const loads: Array<{ vehicles: number; comparison: Comparison }> = [];
				const policies: Policy[] = ['optimal', 'reserve', 'live'];
				for (const vehicles of LOAD_STEPS) {
					const results = await runExperiment({ ...base, vehicles }, seeds, policies, {
						...(pool ? { runner: pool.runner, parallel: pool.size } : {})
					});
					loads.push({ vehicles, comparison: compare(results, 'live') });
					console.log(
						`  load: ${vehicles} vehicles done, ${((performance.now() - started) / 1000).toFixed(0)} s`
					);
				}
				const rows = loads.flatMap(({ vehicles, comparison }) =>
					comparison.paired.map((p) => {
						const s = (policy: Policy) => comparison.policies.find((x) => x.policy === policy)!;
						return [
							String(vehicles),
							p.policy,
							formatInterval(s('live').meanWaitMin, 2),
							formatInterval(s(p.policy).meanWaitMin, 2),
							formatInterval(s('live').meanTotalMin, 1),
							formatInterval(s(p.policy).meanTotalMin, 1),
							formatInterval(p.waitReduction, 1, 100),
							formatInterval(p.totalTimeReduction, 1, 100),
							formatInterval(s(p.policy).unfinished, 1)
						];
					})
				);
				console.log(
					`\nload study: ${base.stations} stations, fleets ${LOAD_STEPS.join(', ')}; each policy against live (same trips), paired by seed`
				);
				console.log(
					table(
						[
							'vehicles',
							'policy',
							'live wait',
							'wait',
							'live total',
							'total',
							'wait reduction %',
							'total-time reduction %',
							'unfinished'
						],
						rows
					).join('\n')
				);
				out.load = loads;
				continue;
			}
			const study = name === 'options' ? optionsStudy(base) : powerStudy(base);
			const { effects } = await runStudy(study, seeds, pool);
			console.log(
				`\n${study.name} study (each variant against ${name === 'options' ? 'the baseline scenario, same policy' : 'equal sharing on the same grid'}):`
			);
			console.log(table(EFFECT_HEADER, effectRows(effects)).join('\n'));
			out[study.name] = effects;
		}
	} finally {
		await pool?.close();
	}
	console.log(`\nstudies took ${((performance.now() - started) / 1000).toFixed(0)} s wall`);
	writeFileSync(args.out, JSON.stringify(out, null, 2) + '\n');
	console.log(`report written to ${args.out}`);
}
