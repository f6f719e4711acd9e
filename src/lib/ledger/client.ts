// Typed ethers v6 client for StationRegistry, Reservations and SessionLedger. Runs in browsers
// and Node. Every transaction carries gasPrice 0 (QBFT networks are gas-free, and ethers would
// otherwise price a zero-base-fee chain at eth_gasPrice); one signer's transactions are submitted
// one at a time through a NonceManager. By concern: api.ts (the Ledger interface), connection.ts
// (provider, contracts, reads and writes), stations.ts, sessions.ts, reservations.ts (the methods).
import { getAddress } from 'ethers';
import { LedgerError, toLedgerError } from './errors';
import type { ConnectLedgerOptions, Ledger } from './api';
import { openConnection } from './connection';
import { stationMethods } from './stations';
import { sessionMethods } from './sessions';
import { reservationMethods } from './reservations';
export { probeChainId } from './connection';
export type { ConnectLedgerOptions, Ledger } from './api';

export async function connectLedger(opts: ConnectLedgerOptions): Promise<Ledger> {
	const c = await openConnection(opts);
	const { chainId, rpcUrl, addresses, signerAddress, provider, read } = c;
	const ledger: Ledger = {
		chainId,
		rpcUrl,
		addresses,
		signerAddress,
		provider,

		async getChainTime() {
			const block = await read('reading the latest block', () => provider.getBlock('latest'));
			if (!block) throw new LedgerError('rpc-error', 'the node returned no latest block');
			return block.timestamp;
		},

		async getValidators() {
			for (const method of ['qbft_getValidatorsByBlockNumber', 'istanbul_getValidators']) {
				try {
					const result: unknown = await provider.send(method, ['latest']);
					if (Array.isArray(result) && result.every((v) => typeof v === 'string')) {
						return result.map((v: string) => getAddress(v));
					}
				} catch (error) {
					const ledgerError = toLedgerError(error, method, rpcUrl);
					if (ledgerError.code === 'unreachable') throw ledgerError;
					// Method not offered by this node: try the next dialect.
				}
			}
			return null;
		},

		close() {
			provider.destroy();
		},

		...stationMethods(c),
		...sessionMethods(c),
		...reservationMethods(c)
	};
	return ledger;
}
