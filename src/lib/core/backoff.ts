// One retry-with-backoff for every loop that waits for something to come back: the station's
// ledger job queue (an RPC node that is down), the LNC backend's reconnect (a mailbox that dropped),
// waiting for a Lightning node to start, and the ledger's own retry of an unreachable node.
// The delay before the n-th retry is `initialDelayMs · 2^(n−1)`, capped at `maxDelayMs`, optionally
// spread by ±`jitter` (a fraction) so that many clients do not retry in step.

export interface BackoffOptions {
	/** Delay before the first retry, doubled for each one after. Default 500 ms. */
	initialDelayMs?: number;
	/** No delay is longer than this. Default 30 s. */
	maxDelayMs?: number;
	/** Spread each delay by up to ± this fraction of it (0.2 = ±20 %). Default 0: exact delays. */
	jitter?: number;
	/** Randomness for the jitter, in [0, 1). Default Math.random. */
	random?: () => number;
}

/** The delay before retry number `retry` (1 for the first retry). */
export function backoffDelay(retry: number, o: BackoffOptions = {}): number {
	const initial = o.initialDelayMs ?? 500;
	const max = o.maxDelayMs ?? 30_000;
	if (!Number.isFinite(retry) || retry < 1)
		throw new RangeError(`A retry is counted from 1, not ${retry}.`);
	// 2^(retry−1) overflows to Infinity for a long outage; the cap keeps the delay finite.
	const base = Math.min(max, initial * 2 ** (retry - 1));
	const jitter = o.jitter ?? 0;
	if (jitter === 0) return base;
	const spread = 1 - jitter + (o.random ?? Math.random)() * 2 * jitter;
	return Math.min(max, Math.round(base * spread));
}

export interface RetryOptions extends BackoffOptions {
	/** Attempts in all, the first included (at least 1). Default 5; Infinity retries until stopped. */
	attempts?: number;
	/** Whether to retry after this error. Default: every error. */
	shouldRetry?: (error: unknown, attempt: number) => boolean;
	/**
	 * Told before each wait, with the attempt that failed (from 1) and the delay; it may throw to
	 * stop retrying with that error instead (a deadline, a stop the caller checks itself).
	 */
	onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
	/** Stops the retries: checked before each attempt, and it cuts a wait short (rejects with its reason). */
	signal?: AbortSignal;
	/** How to wait. Default: a timer that the signal cuts short. Tests pass a recorder. */
	sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** A timer that resolves after `ms`, or rejects with the signal's reason when it is aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason);
		const onAbort = () => {
			clearTimeout(timer);
			reject(signal!.reason);
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}

/** Runs `operation` until it succeeds, an error is not worth retrying, or the attempts are used up (the last error is thrown). */
export async function retryWithBackoff<T>(
	operation: (attempt: number) => Promise<T>,
	opts: RetryOptions = {}
): Promise<T> {
	const attempts = Math.max(1, opts.attempts ?? 5);
	const wait = opts.sleep ?? sleep;
	for (let attempt = 1; ; attempt++) {
		opts.signal?.throwIfAborted();
		try {
			return await operation(attempt);
		} catch (error) {
			if (attempt >= attempts || (opts.shouldRetry && !opts.shouldRetry(error, attempt)))
				throw error;
			const delayMs = backoffDelay(attempt, opts);
			opts.onRetry?.(error, attempt, delayMs);
			await wait(delayMs, opts.signal);
		}
	}
}
