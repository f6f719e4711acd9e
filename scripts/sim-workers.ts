// Runs simulation requests on worker threads (one simulation per thread at a time): the runs of
// an experiment are independent, so two cores finish it in about half the time.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RunRequest, RunResult, Runner } from '../src/lib/sim/index.js';

export interface WorkerPool {
	runner: Runner;
	size: number;
	close(): Promise<void>;
}

export function simWorkerPool(size = availableParallelism()): WorkerPool {
	const idle: Worker[] = [];
	const waiting: Array<(w: Worker) => void> = [];
	const all: Worker[] = [];
	for (let i = 0; i < size; i++) {
		// A worker starts without the parent's TypeScript loader: register tsx, then load the worker.
		const entry = new URL('./sim-worker.ts', import.meta.url).href;
		const w = new Worker(
			`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`,
			{ eval: true }
		);
		all.push(w);
		idle.push(w);
	}
	const take = () =>
		new Promise<Worker>((resolve) =>
			idle.length > 0 ? resolve(idle.pop()!) : waiting.push(resolve)
		);
	const release = (w: Worker) => {
		const next = waiting.shift();
		if (next) next(w);
		else idle.push(w);
	};
	const runner: Runner = async (request: RunRequest) => {
		const w = await take();
		try {
			return await new Promise<RunResult>((resolve, reject) => {
				const onMessage = (m: { ok: true; result: RunResult } | { ok: false; error: string }) => {
					w.off('error', onError);
					if (m.ok) resolve(m.result);
					else reject(new Error(m.error));
				};
				const onError = (e: Error) => {
					w.off('message', onMessage);
					reject(e);
				};
				w.once('message', onMessage);
				w.once('error', onError);
				w.postMessage(request);
			});
		} finally {
			release(w);
		}
	};
	return {
		runner,
		size,
		close: async () => void (await Promise.all(all.map((w) => w.terminate())))
	};
}
