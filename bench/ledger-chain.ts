// The benchmark's chain in a process of its own (started by bench/ledger.ts): a ledger node never
// runs inside a station's process, and here the chain gets the second core while the bench's
// client hashes and signs. Prints one JSON line {rpcUrl, chainId, accounts, pid} once it listens,
// and stops when its parent closes stdin (so it never outlives the bench).
import { startChain } from '../devnet/chain.js';

const raw = process.env.BENCH_BLOCK_INTERVAL_MS ?? '0';
const blockIntervalMs = Number(raw);
if (!Number.isSafeInteger(blockIntervalMs) || blockIntervalMs < 0) {
	throw new Error(`BENCH_BLOCK_INTERVAL_MS must be a non-negative integer, got "${raw}"`);
}
const chain = await startChain({ port: 0, blockIntervalMs });
process.stdout.write(
	`${JSON.stringify({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, accounts: chain.accounts, pid: process.pid })}\n`
);
const stop = () => void chain.stop().finally(() => process.exit(0));
process.stdin.on('end', stop).on('close', stop).resume();
process.once('SIGTERM', stop);
