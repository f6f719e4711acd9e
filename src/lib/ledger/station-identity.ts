// Is the station on the screen the one registered on the ledger? The wallet compares the signing
// key and Lightning node the station announces with its registry entry before it joins.
import type { IdentityVerdict } from '../session/driver-runtime';
import type { StationStatus } from '../protocol/types';
import { connectLedger } from './client';
import { LedgerError } from './errors';

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
			skipCodeCheck: ['reservations', 'sessions']
		});
		station = await ledger.getStation(status.stationId);
		ledger.close();
	} catch (e) {
		const why = e instanceof LedgerError ? e.message : (e as Error).message;
		return { ok: false, message: `The station's identity could not be checked on the ledger: ${why}` };
	}
	if (!station) return { ok: false, message: `Station ${status.stationId} is not registered on the ledger. Do not pay it.` };
	if (!station.active) return { ok: false, message: `Station ${status.stationId} has been retired from the registry. Do not pay it.` };
	if (station.signer.toLowerCase() !== status.signerAddress.toLowerCase())
		return { ok: false, message: `Station ${status.stationId} signs with a key that is not the one registered on the ledger. Its readings cannot be trusted.` };
	if (station.lightningPubkey.toLowerCase() !== status.lightningPubkey.toLowerCase())
		return { ok: false, message: `Station ${status.stationId} asks to be paid to a Lightning node that is not the one registered on the ledger.` };
	return { ok: true, source: 'ledger', detail: `registered signer ${station.signer}` };
}
