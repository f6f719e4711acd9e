import { describe, expect, it } from 'vitest';
import { LightningError, type NodeInfo } from './port';
import { waitUntilReady } from './wait-ready';

const info = (synced: boolean): NodeInfo => ({
	pubkey: '02'.padEnd(66, 'a'),
	alias: 'station',
	network: 'regtest',
	blockHeight: 540,
	syncedToChain: synced
});

/** A node answering from a script: an error to throw or an info to return, one per call. */
function scripted(steps: (LightningError | Error | NodeInfo)[]) {
	let calls = 0;
	return {
		get calls() {
			return calls;
		},
		getInfo: async () => {
			const step = steps[Math.min(calls++, steps.length - 1)]!;
			if (step instanceof Error) throw step;
			return step;
		}
	};
}

describe('waitUntilReady', () => {
	it('waits out a node that is down, then starting, then syncing, saying each once', async () => {
		const node = scripted([
			new LightningError('unreachable', 'cannot be reached'),
			new LightningError('starting', 'in the process of starting up'),
			new LightningError('starting', 'in the process of starting up'),
			info(false),
			info(true)
		]);
		const said: string[] = [];
		const pauses: number[] = [];
		const got = await waitUntilReady(node, {
			onWaiting: (s) => said.push(s),
			sleep: async (ms) => void pauses.push(ms)
		});
		expect(got.syncedToChain).toBe(true);
		expect(node.calls).toBe(5);
		expect(said).toEqual([
			"The station's Lightning node does not answer yet; waiting for it (cannot be reached).",
			"The station's Lightning node is still starting; waiting for it.",
			"The station's Lightning node is catching up with the chain (block 540); waiting for it."
		]);
		expect(pauses).toEqual([500, 1000, 2000, 4000]);
	});

	it('does not wait out a macaroon the node refuses, or anything that is not a Lightning error', async () => {
		await expect(
			waitUntilReady(scripted([new LightningError('unauthorized', 'refused the macaroon')]), {
				sleep: async () => {}
			})
		).rejects.toMatchObject({ code: 'unauthorized' });
		await expect(
			waitUntilReady(scripted([new Error('bug')]), { sleep: async () => {} })
		).rejects.toThrow('bug');
	});

	it('gives up after maxWaitMs with what it was waiting for', async () => {
		const node = scripted([new LightningError('starting', 'x')]);
		await expect(waitUntilReady(node, { maxWaitMs: 0, sleep: async () => {} })).rejects.toThrow(
			/still starting — gave up after 0 s/
		);
	});
});
