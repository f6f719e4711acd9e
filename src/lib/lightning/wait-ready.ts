// Waits until a Lightning node serves and is synced, instead of failing a station's start: a node
// that is still starting, restarting or catching up with the chain is waited for, with a sentence
// for the person watching. A macaroon or configuration error ends the wait at once.
import { retryWithBackoff, sleep } from '../core';
import { LightningError, type LightningNode, type NodeInfo } from './port';

export interface WaitReadyOptions {
	/** Whose node it is, as the sentences name it. Default "The station's Lightning node". */
	whose?: string;
	/** Called with what is being waited for (and again when that changes). */
	onWaiting?: (sentence: string) => void;
	/** Give up after this long (default: never). */
	maxWaitMs?: number;
	/** First pause between attempts, doubling up to 5 s. Default 500 ms. */
	firstPauseMs?: number;
	signal?: AbortSignal;
	sleep?: (ms: number) => Promise<void>;
}

/** Errors worth waiting out: the node is not up yet, or not serving yet. */
const TRANSIENT = new Set(['starting', 'unreachable', 'timeout']);

/** The node is serving but not synced yet: worth waiting for, like a transient error. */
class CatchingUp {
	constructor(readonly info: NodeInfo) {}
}

export async function waitUntilReady(
	node: Pick<LightningNode, 'getInfo'>,
	o: WaitReadyOptions = {}
): Promise<NodeInfo> {
	const started = Date.now();
	let last = '';
	const whose = o.whose ?? "The station's Lightning node";
	return retryWithBackoff(
		async () => {
			const info = await node.getInfo();
			if (info.syncedToChain) return info;
			throw new CatchingUp(info);
		},
		{
			attempts: Infinity,
			initialDelayMs: o.firstPauseMs ?? 500,
			maxDelayMs: 5000,
			sleep: o.sleep ?? ((ms) => sleep(ms)),
			shouldRetry: (e) =>
				e instanceof CatchingUp || (e instanceof LightningError && TRANSIENT.has(e.code)),
			onRetry: (e) => {
				const sentence =
					e instanceof CatchingUp
						? `${whose} is catching up with the chain (block ${e.info.blockHeight}); waiting for it.`
						: (e as LightningError).code === 'starting'
							? `${whose} is still starting; waiting for it.`
							: `${whose} does not answer yet; waiting for it (${(e as LightningError).message}).`;
				if (sentence !== last) {
					last = sentence;
					o.onWaiting?.(sentence);
				}
				if (o.signal?.aborted)
					throw new LightningError('timeout', 'Stopped waiting for the Lightning node.');
				if (o.maxWaitMs !== undefined && Date.now() - started >= o.maxWaitMs) {
					throw new LightningError(
						'timeout',
						`${sentence.replace(/; waiting for it.*$/, '')} — gave up after ${Math.round(o.maxWaitMs / 1000)} s.`
					);
				}
			}
		}
	);
}
