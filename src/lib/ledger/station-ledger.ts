// The station's view of the ledger (it implements the session's StationLedger port): open,
// anchor Merkle roots of signed readings, and close with the root of the payment hashes, all for
// this station's sessions only. When the chain refuses a write as already made, `recorded` says
// whether what is there is exactly this station's own earlier write (a retry after a lost answer)
// or anything else (an operator alarm).
import type { LedgerJob, StationLedger } from '../session/ports';
import { connectLedger } from './client';
import { driverRefToBytes32 } from './ids';
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

/** A session that delivered nothing has no payments: its payments root is zero. */
function paymentsRootOf(paymentHashes: string[]): string {
	return paymentHashes.length === 0
		? ZERO_ROOT
		: buildHashTree(paymentHashes.map((h) => (h.startsWith('0x') ? h : `0x${h}`))).root;
}

export async function createStationLedger(o: StationLedgerOptions): Promise<StationLedger> {
	const ledger = await connectLedger({
		rpcUrl: o.rpcUrl,
		addresses: o.addresses,
		expectedChainId: o.chainId,
		signerKey: o.signerKey
	});
	const { stationId } = o;
	const me = ledger.signerAddress!.toLowerCase();
	return {
		async openSession(sessionId, driverRef) {
			const r = await ledger.openSession({
				stationId,
				sessionId,
				driverRef: driverRef || 'anonymous'
			});
			return r.txHash;
		},
		async anchorReadings(sessionId, ocmfRecords, range) {
			const tree = buildReadingsTree(ocmfRecords);
			const r = await ledger.anchorReadings({ stationId, sessionId, root: tree.root, ...range });
			return { txHash: r.txHash, root: tree.root };
		},
		async closeSession(sessionId, totals) {
			const paymentsRoot = paymentsRootOf(totals.paymentHashes);
			const r = await ledger.closeSession({
				stationId,
				sessionId,
				energyWh: totals.energyWh,
				amountMsat: totals.amountMsat,
				paymentsRoot
			});
			return { txHash: r.txHash, root: paymentsRoot };
		},
		async recorded(job: LedgerJob) {
			const s = await ledger.getSession(stationId, job.sessionId);
			if (!s)
				return `the ledger refused it as already done, but holds no session ${job.sessionId} of this station`;
			if (s.signer.toLowerCase() !== me)
				return `session ${job.sessionId} of this station was opened on the ledger by ${s.signer}, not by this station's signer`;
			switch (job.kind) {
				case 'open':
					return s.driverRef === driverRefToBytes32(job.driverRef || 'anonymous')
						? null
						: `session ${job.sessionId} is on the ledger for another driver`;
				case 'anchor': {
					const root = buildReadingsTree(job.ocmf).root.toLowerCase();
					const a = (await ledger.getAnchors(stationId, job.sessionId)).find(
						(x) => x.fromReading === job.fromReading
					);
					if (!a)
						return `the ledger holds no anchor of readings ${job.fromReading}..${job.toReading} of session ${job.sessionId}`;
					if (
						a.toReading !== job.toReading ||
						a.energyWh !== job.energyWh ||
						a.root.toLowerCase() !== root
					)
						return `the ledger's anchor of readings ${a.fromReading}..${a.toReading} (${a.energyWh} Wh) of session ${job.sessionId} is not the one this station signed (${job.fromReading}..${job.toReading}, ${job.energyWh} Wh)`;
					return null;
				}
				case 'close': {
					const root = paymentsRootOf(job.paymentHashes).toLowerCase();
					if (s.state !== 'closed') return `session ${job.sessionId} is still open on the ledger`;
					if (
						s.energyWh !== job.energyWh ||
						s.amountMsat !== BigInt(job.amountMsat) ||
						s.paymentsRoot?.toLowerCase() !== root
					)
						return `session ${job.sessionId} was closed on the ledger with ${s.energyWh} Wh and ${s.amountMsat} msat, not the ${job.energyWh} Wh and ${job.amountMsat} msat this station counted`;
					return null;
				}
			}
		}
	};
}
