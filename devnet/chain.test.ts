import { createServer, type Server } from 'node:net';
import { JsonRpcProvider, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	Reservations,
	SessionLedger,
	StationRegistry
} from '../src/lib/ledger/generated/contracts.js';
import { startChain, type RunningChain } from './chain.js';

/** The opcodes of EVM bytecode (PUSH data skipped, the CBOR metadata trailer left off). */
function opcodes(bytecode: string): number[] {
	const bytes = Buffer.from(bytecode.replace(/^0x/, ''), 'hex');
	const metadataLength = bytes.readUInt16BE(bytes.length - 2) + 2;
	const code = bytes.subarray(0, bytes.length - metadataLength);
	const ops: number[] = [];
	for (let i = 0; i < code.length; i++) {
		const op = code[i]!;
		ops.push(op);
		if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
	}
	return ops;
}

describe('the contracts on a berlin chain', () => {
	it('use no opcode newer than berlin (BASEFEE 0x48, PUSH0 0x5f, TLOAD/TSTORE/MCOPY 0x5c-0x5e, BLOBHASH 0x49, BLOBBASEFEE 0x4a)', () => {
		for (const [name, contract] of Object.entries({
			StationRegistry,
			Reservations,
			SessionLedger
		})) {
			const ops = opcodes(contract.bytecode);
			expect(ops.length, name).toBeGreaterThan(100);
			const newer = ops.filter((op) => [0x48, 0x49, 0x4a, 0x5c, 0x5d, 0x5e, 0x5f].includes(op));
			expect(newer, name).toEqual([]);
		}
	});
});

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
	const response = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
	});
	const body = (await response.json()) as { result?: unknown; error?: { message: string } };
	if (body.error) throw new Error(body.error.message);
	return body.result;
}

describe('startChain', () => {
	let chain: RunningChain;
	beforeAll(async () => {
		chain = await startChain({ port: 0, blockIntervalMs: 300 });
	});
	afterAll(async () => {
		await chain?.stop();
	});

	it('serves chain 1337 on berlin (no base fee at all) with the hardhat dev accounts', async () => {
		expect(chain.chainId).toBe(1337);
		expect(await rpc(chain.rpcUrl, 'eth_chainId')).toBe('0x539');
		const block = (await rpc(chain.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as {
			baseFeePerGas?: string;
		};
		expect(block.baseFeePerGas).toBeUndefined();
		expect(chain.accounts).toHaveLength(10);
		for (const account of chain.accounts)
			expect(new Wallet(account.privateKey).address).toBe(account.address);
		expect(chain.accounts[0]!.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
	});

	it('mines blocks on the interval, and accepts gasPrice 0 from an account with no funds', async () => {
		const before = Number(await rpc(chain.rpcUrl, 'eth_blockNumber'));
		await new Promise((resolve) => setTimeout(resolve, 800));
		const after = Number(await rpc(chain.rpcUrl, 'eth_blockNumber'));
		expect(after - before).toBeGreaterThanOrEqual(2);

		const provider = new JsonRpcProvider(chain.rpcUrl, 1337, {
			staticNetwork: true,
			pollingInterval: 100
		});
		const pauper = Wallet.createRandom().connect(provider);
		expect(await provider.getBalance(pauper.address)).toBe(0n);
		const tx = await pauper.sendTransaction({
			to: chain.accounts[1]!.address,
			value: 0n,
			gasPrice: 0n
		});
		const receipt = await tx.wait();
		expect(receipt?.status).toBe(1);
		provider.destroy();
	});

	it('says which port is taken and how to change it', async () => {
		const port = Number(new URL(chain.rpcUrl).port);
		await expect(startChain({ port })).rejects.toThrow(
			`port ${port} is already in use — pass --chain-port`
		);
	});

	it('rejects nonsense options', async () => {
		await expect(startChain({ port: 70000 })).rejects.toThrow(
			'chain port must be an integer 0..65535'
		);
		await expect(startChain({ port: 0, blockIntervalMs: -1 })).rejects.toThrow(
			'blockIntervalMs must be a non-negative integer'
		);
	});
});

describe('startChain with automine, on a fixed port', () => {
	it('mines each transaction at once, keeps chains separate, and frees the port on stop', async () => {
		// Find a free port, then release it for the chain.
		const probe: Server = createServer();
		const port = await new Promise<number>((resolve) =>
			probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port))
		);
		await new Promise((resolve) => probe.close(resolve));

		const chain = await startChain({ port, blockIntervalMs: 0 });
		expect(chain.rpcUrl).toBe(`http://127.0.0.1:${port}`);
		const provider = new JsonRpcProvider(chain.rpcUrl, 1337, { staticNetwork: true });
		const sender = new Wallet(chain.accounts[2]!.privateKey, provider);
		const tx = await sender.sendTransaction({
			to: chain.accounts[3]!.address,
			value: 1n,
			gasPrice: 0n
		});
		expect((await provider.getTransactionReceipt(tx.hash))?.status).toBe(1); // mined before we asked
		provider.destroy();
		await chain.stop();
		await expect(rpc(chain.rpcUrl, 'eth_chainId')).rejects.toThrow();

		const again = await startChain({ port, blockIntervalMs: 0 });
		expect(await rpc(again.rpcUrl, 'eth_blockNumber')).toBe('0x0'); // a fresh chain, not the old state
		await again.stop();
	});
});

describe('a chain kept in a state dir', () => {
	it('comes back after a restart with every transaction, balance and block, at the times they were made', async () => {
		const { mkdtempSync, rmSync, writeFileSync, appendFileSync, readFileSync } =
			await import('node:fs');
		const { tmpdir } = await import('node:os');
		const { join } = await import('node:path');
		const dir = mkdtempSync(join(tmpdir(), 'lightcharge-chain-'));
		try {
			let chain = await startChain({ port: 0, blockIntervalMs: 0, stateDir: dir });
			expect(chain.replayed).toBe(0);
			const provider = new JsonRpcProvider(chain.rpcUrl, 1337, { staticNetwork: true });
			const sender = Wallet.createRandom().connect(provider);
			const to = Wallet.createRandom().address;
			const hashes: string[] = [];
			for (let nonce = 0; nonce < 3; nonce++) {
				const tx = await sender.sendTransaction({
					to,
					data: `0x0${nonce + 1}`,
					gasPrice: 0n,
					gasLimit: 30_000n,
					nonce,
					type: 0
				});
				await tx.wait();
				hashes.push(tx.hash);
			}
			const height = Number(await rpc(chain.rpcUrl, 'eth_blockNumber'));
			const lastTime = Number(
				(
					(await rpc(chain.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as {
						timestamp: string;
					}
				).timestamp
			);
			provider.destroy();
			await chain.stop();
			// A kill -9 mid-write leaves a torn last line: that transaction was never answered, and is skipped.
			appendFileSync(join(dir, 'journal.ndjson'), '{"raw":"0xf8');

			chain = await startChain({ port: 0, blockIntervalMs: 0, stateDir: dir });
			try {
				expect(chain.replayed).toBe(3);
				expect(Number(await rpc(chain.rpcUrl, 'eth_blockNumber'))).toBe(height);
				for (const hash of hashes)
					expect(
						((await rpc(chain.rpcUrl, 'eth_getTransactionReceipt', [hash])) as { status: string })
							.status
					).toBe('0x1');
				expect(await rpc(chain.rpcUrl, 'eth_getTransactionCount', [sender.address, 'latest'])).toBe(
					'0x3'
				);
				const replayedTime = Number(
					(
						(await rpc(chain.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as {
							timestamp: string;
						}
					).timestamp
				);
				expect(Math.abs(replayedTime - lastTime)).toBeLessThanOrEqual(2);
				// New blocks follow the wall clock again.
				const next = await new Wallet(
					Wallet.createRandom().privateKey,
					new JsonRpcProvider(chain.rpcUrl, 1337, { staticNetwork: true })
				).sendTransaction({ to, gasPrice: 0n, type: 0 });
				await next.wait();
				const now = Number(
					(
						(await rpc(chain.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as {
							timestamp: string;
						}
					).timestamp
				);
				expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(5);
			} finally {
				await chain.stop();
			}
			// A journal damaged in the middle is named, not half-replayed.
			const lines = readFileSync(join(dir, 'journal.ndjson'), 'utf8').split('\n');
			lines[1] = 'garbage';
			writeFileSync(join(dir, 'journal.ndjson'), lines.join('\n'));
			await expect(startChain({ port: 0, blockIntervalMs: 0, stateDir: dir })).rejects.toThrow(
				/journal.ndjson line 2 is not a journal entry .* remove the chain folder/
			);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}, 60_000);
});
