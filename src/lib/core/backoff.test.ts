import { describe, expect, it } from 'vitest';
import { backoffDelay, retryWithBackoff, sleep } from './backoff';

describe('backoffDelay', () => {
	it('doubles from the first delay and stops at the cap', () => {
		const o = { initialDelayMs: 500, maxDelayMs: 4000 };
		expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, o))).toEqual([
			500, 1000, 2000, 4000, 4000, 4000
		]);
	});

	it('stays finite however long the outage', () => {
		expect(backoffDelay(5000, { initialDelayMs: 500, maxDelayMs: 30_000 })).toBe(30_000);
	});

	it('spreads by the jitter fraction and never past the cap', () => {
		expect(backoffDelay(1, { initialDelayMs: 1000, jitter: 0.2, random: () => 0 })).toBe(800);
		expect(backoffDelay(1, { initialDelayMs: 1000, jitter: 0.2, random: () => 0.999999 })).toBe(
			1200
		);
		expect(
			backoffDelay(9, {
				initialDelayMs: 1000,
				maxDelayMs: 2000,
				jitter: 0.2,
				random: () => 0.999999
			})
		).toBe(2000);
	});

	it('refuses a retry number below 1', () => {
		expect(() => backoffDelay(0)).toThrow(RangeError);
	});
});

describe('retryWithBackoff', () => {
	it('retries until the operation succeeds, waiting the doubling delays', async () => {
		const waits: number[] = [];
		let calls = 0;
		const got = await retryWithBackoff(
			async (attempt) => {
				calls++;
				if (attempt < 4) throw new Error(`down ${attempt}`);
				return 'up';
			},
			{ initialDelayMs: 100, sleep: async (ms) => void waits.push(ms) }
		);
		expect(got).toBe('up');
		expect(calls).toBe(4);
		expect(waits).toEqual([100, 200, 400]);
	});

	it('throws the last error when the attempts are used up', async () => {
		let calls = 0;
		await expect(
			retryWithBackoff(
				async (attempt) => {
					calls++;
					throw new Error(`down ${attempt}`);
				},
				{ attempts: 3, sleep: async () => {} }
			)
		).rejects.toThrow('down 3');
		expect(calls).toBe(3);
	});

	it('does not retry an error shouldRetry declines', async () => {
		let calls = 0;
		await expect(
			retryWithBackoff(
				async () => {
					calls++;
					throw new TypeError('bug');
				},
				{ shouldRetry: (e) => !(e instanceof TypeError), sleep: async () => {} }
			)
		).rejects.toThrow(TypeError);
		expect(calls).toBe(1);
	});

	it('stops with what onRetry throws', async () => {
		const told: [number, number][] = [];
		await expect(
			retryWithBackoff(
				async () => {
					throw new Error('down');
				},
				{
					attempts: Infinity,
					initialDelayMs: 10,
					sleep: async () => {},
					onRetry: (_e, attempt, delayMs) => {
						told.push([attempt, delayMs]);
						if (attempt === 3) throw new Error('deadline');
					}
				}
			)
		).rejects.toThrow('deadline');
		expect(told).toEqual([
			[1, 10],
			[2, 20],
			[3, 40]
		]);
	});

	it('an abort cuts the wait short and no further attempt runs', async () => {
		const stop = new AbortController();
		let calls = 0;
		const run = retryWithBackoff(
			async () => {
				calls++;
				throw new Error('down');
			},
			{ initialDelayMs: 60_000, signal: stop.signal }
		);
		stop.abort(new Error('stopped'));
		await expect(run).rejects.toThrow('stopped');
		expect(calls).toBe(1);
	});
});

describe('sleep', () => {
	it('rejects at once with the reason of an aborted signal', async () => {
		await expect(sleep(60_000, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
	});
});
