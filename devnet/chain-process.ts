// Runs the chain (chain.ts) in a child process of its own and brings it back if it dies: with a
// state dir the journal makes it come back with every transaction. Node only.
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChainOptions, RunningChain } from './chain.js';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), 'chain-main.ts');

export interface ChainProcess extends RunningChain {
	/** How many times the chain died and was started again. */
	restarts(): number;
	/** The chain's process id (for tests that kill it). */
	pid(): number | undefined;
}

type Ready = {
	type: 'ready';
	rpcUrl: string;
	chainId: number;
	replayed: number;
	accounts: RunningChain['accounts'];
};

function launch(opts: ChainOptions): Promise<{ child: ChildProcess; ready: Ready }> {
	return new Promise((resolvePromise, reject) => {
		const child = fork(MAIN, [JSON.stringify(opts)], {
			execArgv: ['--import', 'tsx'],
			stdio: ['ignore', 'inherit', 'inherit', 'ipc']
		});
		const onExit = (code: number | null, signal: string | null) =>
			reject(new Error(`the chain process exited (${signal ?? code}) before it was ready`));
		child.once('exit', onExit);
		child.once('message', (m: Ready | { type: 'error'; message: string }) => {
			child.off('exit', onExit);
			if (m.type === 'ready') resolvePromise({ child, ready: m });
			else {
				child.kill('SIGKILL');
				reject(new Error(m.message));
			}
		});
	});
}

/**
 * The chain in its own process, on the port it first got (so the gateways keep their target).
 * `log` hears when it died and came back.
 */
export async function startChainProcess(
	opts: ChainOptions & { log?: (line: string) => void }
): Promise<ChainProcess> {
	const { log, ...chainOpts } = opts;
	let { child, ready } = await launch(chainOpts);
	const port = Number(new URL(ready.rpcUrl).port);
	let restarts = 0;
	let stopping = false;
	const watch = (c: ChildProcess) => {
		c.once('exit', (code, signal) => {
			if (stopping) return;
			log?.(
				`the chain process died (${signal ?? `exit ${code}`}); starting it again${chainOpts.stateDir ? ' from its journal' : ' (empty: no state dir)'}`
			);
			const again = async (attempt: number): Promise<void> => {
				try {
					({ child, ready } = await launch({ ...chainOpts, port }));
					restarts++;
					watch(child);
					log?.(`chain        back at ${ready.rpcUrl} (${ready.replayed} transactions replayed)`);
				} catch (err) {
					if (stopping) return;
					if (attempt >= 5)
						return log?.(
							`the chain could not be started again: ${err instanceof Error ? err.message : String(err)}`
						);
					await new Promise((r) => setTimeout(r, 500 * attempt));
					return again(attempt + 1);
				}
			};
			void again(1);
		});
	};
	watch(child);
	let stopped: Promise<void> | null = null;
	return {
		rpcUrl: ready.rpcUrl,
		chainId: ready.chainId,
		replayed: ready.replayed,
		accounts: ready.accounts,
		restarts: () => restarts,
		pid: () => child.pid,
		stop() {
			stopping = true;
			stopped ??= new Promise<void>((r) => {
				if (child.exitCode !== null || child.signalCode !== null) return r();
				const force = setTimeout(() => child.kill('SIGKILL'), 5000);
				child.once('exit', () => {
					clearTimeout(force);
					r();
				});
				child.send('stop');
			});
			return stopped;
		}
	};
}
