// The chain in its own process: killed (as the kernel's OOM killer would), it comes back on the
// same port with its journal, and the process that started it never noticed more than a pause.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { startChainProcess } from './chain-process';

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
	});
	return ((await res.json()) as { result?: unknown }).result;
}

describe('the chain process', () => {
	it('runs apart from this process, and after a kill -9 is back on its port with every transaction', async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-chainproc-'));
		const lines: string[] = [];
		const chain = await startChainProcess({
			port: 0,
			blockIntervalMs: 0,
			stateDir: dir,
			log: (l) => lines.push(l)
		});
		try {
			expect(chain.pid()).not.toBe(process.pid);
			const provider = new JsonRpcProvider(chain.rpcUrl, 1337, { staticNetwork: true });
			const sender = Wallet.createRandom().connect(provider);
			const tx = await sender.sendTransaction({ to: sender.address, gasPrice: 0n, type: 0 });
			await tx.wait();
			provider.destroy();
			const pid = chain.pid()!;
			process.kill(pid, 'SIGKILL');
			const deadline = Date.now() + 30_000;
			while (chain.restarts() === 0 && Date.now() < deadline)
				await new Promise((r) => setTimeout(r, 100));
			expect(chain.restarts()).toBe(1);
			expect(chain.pid()).not.toBe(pid);
			expect(
				((await rpc(chain.rpcUrl, 'eth_getTransactionReceipt', [tx.hash])) as { status: string })
					.status
			).toBe('0x1');
			expect(lines.join('\n')).toMatch(
				/the chain process died \(SIGKILL\); starting it again from its journal/
			);
		} finally {
			await chain.stop();
			rmSync(dir, { recursive: true, force: true });
		}
		// Stopped: nothing answers on its port any more.
		await expect(fetch(chain.rpcUrl, { method: 'POST', body: '{}' })).rejects.toThrow();
	}, 60_000);
});
