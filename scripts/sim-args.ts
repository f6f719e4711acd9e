// The headless simulator's command line: every scenario option as a flag, checked with a sentence.
import { parseArgs } from 'node:util';
import {
	DEFAULT_READING_SAMPLE,
	POLICIES,
	POWER_POLICIES,
	type Policy,
	type PowerPolicy,
	type ScenarioOptions
} from '../src/lib/sim/index.js';

export const USAGE = `usage: npm run sim -- [options]
 scenario   --vehicles N (1000) --stations N (50) --hours H (24) --grid N (20) --seed S (1) --seeds K (1)
 policies   --policy optimal,lookahead,reserve,live,nearest,random|all (all) --power equal|slack|llf|edf|srpt (each policy's own)
            --baseline POLICY (live)
 behaviour  --eta-noise σ (0) --reserving-share F (1) --no-show-rate F (0) --balk-queue N (0)
            --patience-min M (0) --block-seconds S (1) --reservation-grace-min M (15)
 grid       --feeder-sites N (0) --feeder-limit-share F (0.6)
 lightning  --channel-share F (0) --hub-base-fee-msat N (1000) --hub-fee-ppm N (1) --onchain-fee N sat/vB (10)
 crypto     --reading-sample F (${DEFAULT_READING_SAMPLE}) --meter-interval S (60)
 ledger     --ledger memory|devnet (memory) --rpc URL --key 0x…
 output     --out FILE (sim-report.json) --report DIR (CSV, table, SVG plots) --parallel N (cores)
 studies    --studies (each option's effect, paired against the baseline; --study NAME,… for some:
            options, power, load)  --economics (streaming-payment fees and energy at risk)
            --scale (the scaling curve)`;

export function fail(message: string): never {
	console.error(`sim: ${message}\n${USAGE}`);
	process.exit(2);
}

const FLAGS = {
	vehicles: 'int',
	stations: 'int',
	hours: 'num',
	grid: 'int',
	seed: 'int',
	seeds: 'int',
	'eta-noise': 'num',
	'reserving-share': 'num',
	'no-show-rate': 'num',
	'balk-queue': 'int',
	'patience-min': 'num',
	'block-seconds': 'num',
	'reservation-grace-min': 'num',
	'feeder-sites': 'int',
	'feeder-limit-share': 'num',
	'channel-share': 'num',
	'hub-base-fee-msat': 'int',
	'hub-fee-ppm': 'int',
	'onchain-fee': 'num',
	'reading-sample': 'num',
	'meter-interval': 'int',
	parallel: 'int'
} as const;

export interface SimArgs {
	base: Omit<ScenarioOptions, 'seed'>;
	seeds: number[];
	policies: Policy[];
	power: PowerPolicy | undefined;
	baseline: Policy;
	ledger: 'memory' | 'devnet';
	rpc: string | undefined;
	key: string | undefined;
	out: string;
	report: string | undefined;
	parallel: number | undefined;
	economics: boolean;
	studies: string[] | null;
	scale: boolean;
}

export function parseSimArgs(argv: string[]): SimArgs {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			options: {
				...Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }])),
				policy: { type: 'string' },
				power: { type: 'string' },
				baseline: { type: 'string' },
				ledger: { type: 'string' },
				rpc: { type: 'string' },
				key: { type: 'string' },
				out: { type: 'string' },
				report: { type: 'string' },
				economics: { type: 'boolean' },
				studies: { type: 'boolean' },
				study: { type: 'string' },
				scale: { type: 'boolean' },
				help: { type: 'boolean', short: 'h' }
			},
			strict: true
		});
	} catch (error) {
		fail(error instanceof Error ? error.message : String(error));
	}
	const v = parsed.values as Record<string, string | boolean | undefined>;
	if (v.help) {
		console.log(USAGE);
		process.exit(0);
	}
	const n: Record<string, number | undefined> = {};
	for (const [name, kind] of Object.entries(FLAGS)) {
		const raw = v[name];
		if (raw === undefined) continue;
		const x = Number(raw);
		if (!Number.isFinite(x) || (kind === 'int' && !Number.isInteger(x)))
			fail(
				`--${name} must be ${kind === 'int' ? 'a whole number' : 'a number'}, got "${String(raw)}"`
			);
		n[name] = x;
	}
	const policyArg = (v.policy as string | undefined) ?? 'all';
	const policies =
		policyArg === 'all'
			? [...POLICIES]
			: policyArg
					.split(',')
					.map((p) =>
						POLICIES.includes(p as Policy)
							? (p as Policy)
							: fail(`--policy must be one of ${POLICIES.join(', ')} or all, got "${p}"`)
					);
	const power = v.power as string | undefined;
	if (power !== undefined && !POWER_POLICIES.includes(power as PowerPolicy))
		fail(`--power must be one of ${POWER_POLICIES.join(', ')}, got "${power}"`);
	const baseline = ((v.baseline as string | undefined) ?? 'live') as Policy;
	if (!POLICIES.includes(baseline))
		fail(`--baseline must be one of ${POLICIES.join(', ')}, got "${baseline}"`);
	const ledger = (v.ledger as string | undefined) ?? 'memory';
	if (ledger !== 'memory' && ledger !== 'devnet')
		fail(`--ledger must be memory or devnet, got "${ledger}"`);
	if (v.rpc !== undefined && ledger !== 'devnet') fail('--rpc only applies with --ledger devnet');
	const STUDY_NAMES = ['options', 'power', 'load'];
	const studyArg = v.study as string | undefined;
	const studies =
		v.studies === true || studyArg !== undefined
			? (studyArg ?? STUDY_NAMES.join(','))
					.split(',')
					.map((x) =>
						STUDY_NAMES.includes(x)
							? x
							: fail(`--study must be one of ${STUDY_NAMES.join(', ')}, got "${x}"`)
					)
			: null;
	const seed = n.seed ?? 1;
	const count = n.seeds ?? 1;
	if (count < 1 || count > 1000) fail(`--seeds must be 1..1000, got ${count}`);
	if (ledger === 'devnet' && count > 1)
		fail('--ledger devnet runs one seed (every reading is a real transaction)');
	const defined = <T extends object>(o: T): T =>
		Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
	const base: Omit<ScenarioOptions, 'seed'> = {
		vehicles: n.vehicles ?? 1000,
		stations: n.stations ?? 50,
		hours: n.hours ?? 24,
		...defined({
			gridSize: n.grid,
			readingSample: n['reading-sample'],
			meterIntervalSeconds: n['meter-interval'],
			etaNoise: n['eta-noise'],
			reservingShare: n['reserving-share'],
			noShowRate: n['no-show-rate'],
			balkQueue: n['balk-queue'],
			patienceMin: n['patience-min'],
			blockSeconds: n['block-seconds'],
			reservationGraceMin: n['reservation-grace-min'],
			feederSites: n['feeder-sites'],
			feederLimitShare: n['feeder-limit-share'],
			channelShare: n['channel-share'],
			hubBaseFeeMsat: n['hub-base-fee-msat'],
			hubFeePpm: n['hub-fee-ppm'],
			onchainFeeSatPerVb: n['onchain-fee']
		})
	};
	return {
		base,
		seeds: Array.from({ length: count }, (_, i) => seed + i),
		policies,
		power: power as PowerPolicy | undefined,
		baseline,
		ledger,
		rpc: v.rpc as string | undefined,
		key: v.key as string | undefined,
		out: (v.out as string | undefined) ?? 'sim-report.json',
		report: v.report as string | undefined,
		parallel: n.parallel,
		economics: v.economics === true,
		studies: studies,
		scale: v.scale === true
	};
}
