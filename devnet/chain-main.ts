// The devnet's chain in a process of its own (started by chain-process.ts): one call that exhausts
// it cannot take the broker, the Lightning simnet or the app servers with it. It stops when told,
// and on its own when the devnet that started it is gone (the IPC channel closes, even on kill -9).
import { startChain, type ChainOptions } from './chain.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as ChainOptions;
try {
	const chain = await startChain(opts);
	const stop = () => void chain.stop().finally(() => process.exit(0));
	process.on('message', (m) => {
		if (m === 'stop') stop();
	});
	process.on('disconnect', stop);
	process.send?.({
		type: 'ready',
		rpcUrl: chain.rpcUrl,
		chainId: chain.chainId,
		replayed: chain.replayed,
		accounts: chain.accounts
	});
} catch (err) {
	process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
	process.exit(1);
}
