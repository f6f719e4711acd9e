// The devnet's only link to the ledger library: deploy the contracts and register the stations.
// Keep the import path here, in one place.
import { connectLedger, deployLedger } from '../src/lib/ledger/index';

export interface LedgerContracts {
	registry: string;
	reservations: string;
	sessions: string;
}

export interface StationToRegister {
	stationId: string;
	/** Ethereum address of the station's OCMF signing key. */
	signerAddress: string;
	/** The station's Lightning node pubkey (66 hex). */
	lightningPubkey: string;
	location: string;
}

/** No tariff document is anchored at registration; the station (its signer may) sets one later with setTariffRef. */
const NO_TARIFF_REF = `0x${'00'.repeat(32)}`;

/**
 * Deploys the contracts with `operatorKey` (which becomes the registry's operator) and registers
 * every station. Returns the contract addresses.
 */
export async function deployAndRegister(opts: {
	rpcUrl: string;
	chainId: number;
	operatorKey: string;
	stations: StationToRegister[];
}): Promise<LedgerContracts> {
	const contracts = await deployLedger(opts.rpcUrl, opts.operatorKey);
	await registerStations({ ...opts, contracts });
	return {
		registry: contracts.registry,
		reservations: contracts.reservations,
		sessions: contracts.sessions
	};
}

/** Registers `stations` on deployed contracts with the operator's key (a kiosk enrolled while the devnet runs). */
export async function registerStations(opts: {
	rpcUrl: string;
	chainId: number;
	operatorKey: string;
	contracts: LedgerContracts;
	stations: StationToRegister[];
	/** Leave stations the registry already has alone. */
	skipRegistered?: boolean;
}): Promise<void> {
	const ledger = await connectLedger({
		rpcUrl: opts.rpcUrl,
		addresses: opts.contracts,
		expectedChainId: opts.chainId,
		signerKey: opts.operatorKey
	});
	try {
		for (const station of opts.stations) {
			// A kept chain has them already (registered before the restart).
			if (opts.skipRegistered && (await ledger.getStation(station.stationId)) !== null) continue;
			await ledger.registerStation({
				stationId: station.stationId,
				signer: station.signerAddress,
				lightningPubkey: station.lightningPubkey,
				tariffRef: NO_TARIFF_REF,
				location: station.location
			});
		}
	} finally {
		ledger.close();
	}
}
