// What every benchmark shares:
// - one percentile definition (nearest rank, the simulator's: the smallest value with at least p % of
//   the values at or below it);
// - one argument style: `npm run bench:<name> -- --flag value` (flags only, no environment variables);
// - the machine's load printed at start and end (figures from a shared machine mean little without it).
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

export { percentile } from '../src/lib/sim/index.js';

export function loadLine(when: 'start' | 'end'): string {
	return `load average at ${when}: ${loadavg()
		.map((l) => l.toFixed(2))
		.join(' ')} (1, 5, 15 min) on ${cpus().length} cores`;
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

type FlagSpec = { number: number } | { text: string } | { list: string[] };

/**
 * Reads `--name value` flags. `spec` gives each flag's default (a number, a text or a comma list);
 * an unknown flag or a value of the wrong kind stops the bench with a sentence naming the flag.
 */
export function benchFlags<S extends Record<string, FlagSpec>>(
	spec: S,
	argv = process.argv.slice(2)
): {
	[K in keyof S]: S[K] extends { number: number }
		? number
		: S[K] extends { text: string }
			? string
			: string[];
} {
	let values: Record<string, string | undefined>;
	try {
		values = parseArgs({
			args: argv,
			options: Object.fromEntries(Object.keys(spec).map((k) => [k, { type: 'string' as const }])),
			strict: true
		}).values as Record<string, string | undefined>;
	} catch (e) {
		throw new Error(
			`${(e as Error).message}. Known flags: ${Object.keys(spec)
				.map((k) => `--${k}`)
				.join(', ')}.`
		);
	}
	const out: Record<string, unknown> = {};
	for (const [name, s] of Object.entries(spec)) {
		const raw = values[name];
		if ('number' in s) {
			const v = raw === undefined ? s.number : Number(raw);
			if (raw !== undefined && (raw.trim() === '' || !Number.isFinite(v) || v < 0))
				throw new Error(`--${name} must be a number ≥ 0, not "${raw}".`);
			out[name] = v;
		} else if ('text' in s) out[name] = raw ?? s.text;
		else
			out[name] =
				raw === undefined
					? s.list
					: raw
							.split(',')
							.map((x) => x.trim())
							.filter(Boolean);
	}
	return out as never;
}

/** A whole number ≥ min, or a sentence naming the flag. */
export function wholeNumber(name: string, value: number, min = 1): number {
	if (!Number.isSafeInteger(value) || value < min)
		throw new Error(`--${name} must be a whole number ≥ ${min}, not ${value}.`);
	return value;
}
