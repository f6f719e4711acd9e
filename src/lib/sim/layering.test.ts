// The simulator's modules import one way: no module reaches itself through others (the engine
// uses the report's builder; the report never needs the engine), and the live view, the CLI and
// the benchmark use only the contract, index.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '../../..');

describe('sim layering', () => {
	it('has no import cycle between its modules', () => {
		const files = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
		const deps = new Map(
			files.map((f) => [
				f,
				[...readFileSync(join(here, f), 'utf8').matchAll(/from '\.\/([\w-]+)(?:\.js)?'/g)].map(
					(m) => `${m[1]}.ts`
				)
			])
		);
		const cycles: string[] = [];
		const state = new Map<string, 1 | 2>();
		const stack: string[] = [];
		const visit = (f: string) => {
			state.set(f, 1);
			stack.push(f);
			for (const d of deps.get(f) ?? []) {
				if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].join(' → '));
				else if (!state.has(d)) visit(d);
			}
			stack.pop();
			state.set(f, 2);
		};
		for (const f of files) if (!state.has(f)) visit(f);
		expect(cycles).toEqual([]);
		expect(files.length).toBeGreaterThan(20);
	});

	it('is used from outside only through index.ts', () => {
		const users = [
			...readdirSync(join(root, 'src/routes/sim')).map((f) => join(root, 'src/routes/sim', f)),
			...[
				'scripts/sim.ts',
				'scripts/sim-args.ts',
				'scripts/sim-city.ts',
				'scripts/sim-studies.ts',
				'scripts/sim-worker.ts',
				'scripts/sim-workers.ts',
				'bench/sim.ts',
				'tests/sim.spec.ts'
			].map((f) => join(root, f))
		];
		const deep = users.flatMap((file) =>
			[...readFileSync(file, 'utf8').matchAll(/from '([^']*lib\/sim\/(?!index)[^']*)'/g)].map(
				(m) => `${file}: ${m[1]}`
			)
		);
		expect(deep).toEqual([]);
	});
});
