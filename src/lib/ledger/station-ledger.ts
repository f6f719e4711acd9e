// The station's view of the ledger (the StationLedger port of the session runtime): open,
// anchor Merkle roots of signed readings, and close with the root of the payment hashes.
import type { StationLedger } from '../session/station-runtime';
import { connectLedger } from './client';
import { buildHashTree, buildReadingsTree } from './merkle';
import type { LedgerAddresses } from './types';

const ZERO_ROOT = `0x${'0'.repeat(64)}`;

export interface StationLedgerOptions {
	rpcUrl: string;
	chainId: number;
	addresses: LedgerAddresses;
	stationId: string;
	/** The station's secp256k1 key (the same one that signs its readings), hex. */
	signerKey: string;
}

export async function createStationLedger(o: StationLedgerOptions): Promise<StationLedger> {
	const ledger = await connectLedger({ rpcUrl: o.rpcUrl, addresses: o.addresses, expectedChainId: o.chainId, signerKey: o.signerKey });
	return {
		async openSession(sessionId, driverRef) {
			const r = await ledger.openSession({ stationId: o.stationId, sessionId, driverRef: driverRef || 'anonymous' });
			return r.txHash;
		},
		async anchorReadings(sessionId, ocmfRecords, range) {
			const tree = buildReadingsTree(ocmfRecords);
			const r = await ledger.anchorReadings({ sessionId, root: tree.root, ...range });
			return { txHash: r.txHash, root: tree.root };
		},
		async closeSession(sessionId, totals) {
			// A session that delivered nothing has no payments: its payments root is zero.
			const paymentsRoot =
				totals.paymentHashes.length === 0 ? ZERO_ROOT : buildHashTree(totals.paymentHashes.map((h) => (h.startsWith('0x') ? h : `0x${h}`))).root;
			const r = await ledger.closeSession({ sessionId, energyWh: totals.energyWh, amountMsat: totals.amountMsat, paymentsRoot });
			return { txHash: r.txHash, root: paymentsRoot };
		}
	};
}
