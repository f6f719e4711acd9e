// Studies beside the policy comparison: the economics of streaming payments (hub fees and energy
// at risk against the increment) and the scaling curve (wall time and peak memory, 250 → 50,000
// vehicles, each run in a process of its own).
import { execFileSync } from 'node:child_process';
import { FEE_POLICIES, INCREMENTS_WH, leastIncrementUnderFeeShare, simulateStreamingSession, table, type ScenarioOptions } from '../src/lib/sim/index.js';
import type { SimArgs } from './sim-args.js';

export const PRICE_MSAT_PER_KWH = 250_000n;
const POWERS_KW = [11, 50, 150];

export async function economicsStudy(_args: SimArgs): Promise<void> {
	console.log(`streaming payments: 10 kWh at ${Number(PRICE_MSAT_PER_KWH) / 1000} sat/kWh, readings every 1 s, grace 50 Wh, invoice 150 ms, payment settles in 1 s (and 2.5 s)`);
	for (const policy of FEE_POLICIES) {
		const rows: string[][] = [];
		for (const settleDelayMs of [1000, 2500]) {
			for (const kw of POWERS_KW) {
				for (const wh of INCREMENTS_WH) {
					const r = simulateStreamingSession({ incrementWh: wh, graceWh: 50, powerKw: kw, sessionWh: 10_000, pricePerKwhMsat: PRICE_MSAT_PER_KWH, hubBaseFeeMsat: policy.baseMsat, hubFeePpm: policy.ppm, settleDelayMs });
					rows.push([String(settleDelayMs), String(kw), String(wh), String(r.payments), (r.feeShare * 100).toFixed(3), (r.feeMsat / 1000).toFixed(1), String(r.maxAtRiskWh), r.meanAtRiskWh.toFixed(0), String(r.suspensions), r.suspendedSeconds.toFixed(1)]);
				}
			}
		}
		console.log(`\n${policy.name}`);
		console.log(table(['settle ms', 'kW', 'increment Wh', 'payments', 'fee %', 'fees sat', 'max at risk Wh', 'mean at risk Wh', 'suspensions', 'suspended s'], rows).join('\n'));
		const best = leastIncrementUnderFeeShare(PRICE_MSAT_PER_KWH, policy.baseMsat, policy.ppm);
		console.log(`least increment with fees under 1 %: ${best === null ? 'none of those tried' : `${best} Wh`}`);
	}
}

/** Runs one scenario in a child process; returns its JSON line. */
export function runInOwnProcess(options: ScenarioOptions, policy = 'optimal'): Record<string, number | string> {
	const out = execFileSync(process.execPath, ['--import', 'tsx', new URL('./sim-city.ts', import.meta.url).pathname, JSON.stringify(options), policy], { encoding: 'utf8', maxBuffer: 1 << 20 });
	return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number | string>;
}

/** Street grid for a fleet: 20 × 20 up to 1,000 vehicles, growing with √vehicles to 40 × 40 at 50,000 (a 39 km city). */
export function gridFor(vehicles: number): number {
	return Math.max(20, Math.min(40, Math.round(20 * Math.sqrt(vehicles / 1000) / Math.sqrt(12.5))));
}

export const SCALE_STEPS = [250, 1000, 5000, 10_000, 25_000, 50_000];

export async function scalingStudy(args: SimArgs): Promise<void> {
	const sample = args.base.readingSample;
	console.log(`scaling: one station per 20 vehicles, ${args.base.hours} h, seed ${args.seeds[0]}, policy optimal, reading sample ${sample ?? 'default'}; each run in a process of its own`);
	const rows: string[][] = [];
	for (const vehicles of SCALE_STEPS) {
		const r = runInOwnProcess({ ...args.base, vehicles, stations: vehicles / 20, gridSize: gridFor(vehicles), seed: args.seeds[0]! });
		rows.push([String(vehicles), String(vehicles / 20), String(gridFor(vehicles)), String(r.errands), String(r.readings), String(r.signed), String(r.wallSeconds), String(r.peakRssMb)]);
		console.log(JSON.stringify(r));
	}
	console.log(table(['vehicles', 'stations', 'grid', 'errands', 'readings', 'signed', 'wall s', 'peak RSS MB'], rows).join('\n'));
}
