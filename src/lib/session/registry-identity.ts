// Is the station on the screen the one registered on the ledger? The wallet reads the station's
// registry entry from the trusted network's own RPC and judges the station's signed status by it.
// Anything that keeps the registry from being read is "cannot be checked", never a pass.
import { connectLedger, LedgerError } from '../ledger';
import type { StationStatus } from '../protocol';
import { judgeAgainstRegistry } from './identity';
import type { IdentityVerdict } from './ports';

export interface IdentityCheckOptions {
	rpcUrl: string;
	chainId: number;
	registry: string;
	status: StationStatus;
}

export async function checkStationIdentity(o: IdentityCheckOptions): Promise<IdentityVerdict> {
	const { status } = o;
	let station;
	try {
		// Only the registry is read here; the other contracts are not needed to check an identity.
		const ledger = await connectLedger({
			rpcUrl: o.rpcUrl,
			expectedChainId: o.chainId,
			addresses: { registry: o.registry, reservations: o.registry, sessions: o.registry },
			skipCodeCheck: ['reservations', 'sessions'],
			connectTimeoutMs: 4000
		});
		try {
			station = await ledger.getStation(status.stationId);
		} finally {
			ledger.close();
		}
	} catch (e) {
		const why = e instanceof LedgerError ? e.message : (e as Error).message;
		return {
			ok: false,
			reason: 'cannot_check',
			message: `The station's identity cannot be checked on the ledger: ${why}. Do not pay it until it can.`
		};
	}
	return judgeAgainstRegistry(
		status,
		station && {
			signer: station.signer,
			lightningPubkey: station.lightningPubkey,
			tariffRef: station.tariffRef,
			active: station.active
		}
	);
}
