// One simulation worker thread: runs each request it is sent and posts the result back.
import { parentPort } from 'node:worker_threads';
import { runHere, type RunRequest } from '../src/lib/sim/index.js';

// The handler catches everything and posts it back: no rejection escapes.
// eslint-disable-next-line @typescript-eslint/no-misused-promises
parentPort!.on('message', async (request: RunRequest) => {
	try {
		const result = await runHere(request);
		const transfer = [result.loadKw?.buffer, result.feederPeakRatio?.buffer].filter(
			(b): b is ArrayBuffer => b instanceof ArrayBuffer
		);
		parentPort!.postMessage({ ok: true, result }, transfer);
	} catch (error) {
		parentPort!.postMessage({
			ok: false,
			error: error instanceof Error ? (error.stack ?? error.message) : String(error)
		});
	}
});
