// Waits until a Lightning node serves and is synced, instead of failing a station's start: a node
// that is still starting, restarting or catching up with the chain is waited for, with a sentence
// for the person watching. A macaroon or configuration error ends the wait at once.
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

export async function waitUntilReady(node: Pick<LightningNode, 'getInfo'>, o: WaitReadyOptions = {}): Promise<NodeInfo> {
	const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
	const started = Date.now();
	let pause = o.firstPauseMs ?? 500;
	let last = '';
	const whose = o.whose ?? "The station's Lightning node";
	for (;;) {
		let sentence: string;
		try {
			const info = await node.getInfo();
			if (info.syncedToChain) return info;
			sentence = `${whose} is catching up with the chain (block ${info.blockHeight}); waiting for it.`;
		} catch (e) {
			if (!(e instanceof LightningError) || !TRANSIENT.has(e.code)) throw e;
			sentence =
				e.code === 'starting'
					? `${whose} is still starting; waiting for it.`
					: `${whose} does not answer yet; waiting for it (${e.message}).`;
		}
		if (sentence !== last) {
			last = sentence;
			o.onWaiting?.(sentence);
		}
		if (o.signal?.aborted) throw new LightningError('timeout', 'Stopped waiting for the Lightning node.');
		if (o.maxWaitMs !== undefined && Date.now() - started >= o.maxWaitMs) {
			throw new LightningError('timeout', `${sentence.replace(/; waiting for it.*$/, '')} — gave up after ${Math.round(o.maxWaitMs / 1000)} s.`);
		}
		await sleep(pause);
		pause = Math.min(pause * 2, 5000);
	}
}
