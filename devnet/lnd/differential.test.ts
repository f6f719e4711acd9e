// The simnet held to real LND: the same script of REST calls (devnet/lnd/differential.ts) against
// the devnet's simnet and against real LND on regtest, compared by what our code can observe:
// status codes, stream lines, field names and JSON types, enum values, error codes and messages.
// The simnet may leave out a field real LND sends only if the LND REST backend never reads it.
// Skipped only when the LND binaries are absent and LIGHTCHARGE_REQUIRE_ALL is unset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLightningSimnet, type LightningSimnet } from '../lightning.js';
import { ensurePortFree } from '../ports.js';
import { lndBinariesPresent } from './binaries.js';
import { runScript, shapeDiff, type Observed } from './differential.js';
import { pinnedFetch } from './pinned-fetch.js';
import { startLndRegtest, type LndRegtest } from './regtest.js';

const backendSource = readFileSync(
	path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/lib/lightning/lnd-rest.ts'),
	'utf8'
);
/** Whether the LND REST backend reads a field of that name. */
const readByBackend = (field: string) => new RegExp(`[.'"\`]${field}\\b`).test(backendSource);

async function freeBase(): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const base = 44_000 + Math.floor(Math.random() * 1000) * 10;
		try {
			for (let p = base; p < base + 10; p++) await ensurePortFree(p, '127.0.0.1', 'probe', 'probe');
			return base;
		} catch {
			// taken
		}
	}
	throw new Error('no 10 free consecutive ports found');
}

/** The differences our code could observe between the simnet's answers (a) and real LND's (b). */
export function observableDifferences(a: Observed[], b: Observed[]): string[] {
	const out: string[] = [];
	for (let i = 0; i < Math.max(a.length, b.length); i++) {
		const s = a[i];
		const l = b[i];
		if (!s || !l) {
			out.push(`step ${i}: only one side ran it`);
			continue;
		}
		if (s.status !== l.status)
			out.push(`${s.step}: HTTP ${s.status} on the simnet, ${l.status} on LND`);
		if (s.shapes.length !== l.shapes.length)
			out.push(
				`${s.step}: ${s.shapes.length} stream lines on the simnet, ${l.shapes.length} on LND`
			);
		for (let j = 0; j < Math.min(s.shapes.length, l.shapes.length); j++) {
			for (const d of shapeDiff(s.shapes[j]!, l.shapes[j]!)) {
				const missing = /^(.*)\.([^.[\]]+): missing in the first$/.exec(d);
				if (missing && !readByBackend(missing[2]!)) continue; // LND sends it, our code never reads it
				out.push(
					`${s.step}: ${d.replace('missing in the first', 'missing on the simnet').replace('missing in the second', 'not sent by LND')}`
				);
			}
		}
	}
	return out;
}

describe('observableDifferences', () => {
	const step = (shapes: Observed['shapes'], status = 200): Observed[] => [
		{ step: 'x', status, shapes }
	];
	it('ignores a field LND adds that the backend never reads, not one it reads', () => {
		expect(
			observableDifferences(
				step([{ a: 'string' }]),
				step([{ a: 'string', custom_channel_data: 'string' }])
			)
		).toEqual([]);
		expect(observableDifferences(step([{}]), step([{ settle_date: 'string(int)' }]))).toEqual([
			'x: $.settle_date: missing on the simnet'
		]);
	});
	it('reports a field LND does not send, another status, type or enum value', () => {
		expect(observableDifferences(step([{ extra: 'string' }]), step([{}]))).toEqual([
			'x: $.extra: not sent by LND'
		]);
		expect(observableDifferences(step([{}], 401), step([{}], 500))).toEqual([
			'x: HTTP 401 on the simnet, 500 on LND'
		]);
		expect(
			observableDifferences(step([{ state: 'string:OPEN' }]), step([{ state: 'string:SETTLED' }]))
		).toHaveLength(1);
		expect(
			observableDifferences(step([{ n: 'number' }]), step([{ n: 'string(int)' }]))
		).toHaveLength(1);
	});
});

describe.skipIf(!lndBinariesPresent() && process.env.LIGHTCHARGE_REQUIRE_ALL !== '1')(
	'the simnet against real LND',
	() => {
		let sim: LightningSimnet;
		let net: LndRegtest;
		let dir: string;
		beforeAll(async () => {
			dir = mkdtempSync(path.join(tmpdir(), 'lnd-diff-'));
			sim = await startLightningSimnet({ port: 0 });
			net = await startLndRegtest({ dir, portBase: await freeBase() });
		}, 240_000);
		afterAll(async () => {
			await net?.stop();
			await sim?.stop();
			if (dir) rmSync(dir, { recursive: true, force: true });
		}, 60_000);

		it('answers the same script with nothing our code could tell apart', async () => {
			const simNode = (name: string) => sim.nodes.find((n) => n.name === name)!;
			const simnet = await runScript({
				restUrl: (n) => simNode(n).restUrl,
				macaroon: (n) => simNode(n).macaroonHex,
				fetch
			});
			const fetches = new Map(net.nodes.map((n) => [n.restUrl, pinnedFetch(n.tlsCertPem)]));
			const real = await runScript({
				restUrl: (n) => net.node(n).restUrl,
				macaroon: (n) => net.node(n).appMacaroonHex,
				fetch: (input, init) =>
					fetches.get(/^https:\/\/[^/]+/.exec(String(input))![0])!(input, init)
			});
			expect(real.map((o) => o.step)).toEqual(simnet.map((o) => o.step));
			expect(observableDifferences(simnet, real)).toEqual([]);
		}, 120_000);
	}
);
