// The station's retained status message, one builder for every use: the runtime publishes it on
// each change, and the kiosk's MQTT last will (the "offline" status the broker sends when the
// kiosk vanishes) is the same message with state `offline`, signed the same way.
import { encodeMessage, signStationMessage, type StationStatus, type Tariff } from '../protocol';

export interface StationIdentity {
	stationId: string;
	name: string;
	/** secp256k1 private key (hex): signs OCMF readings and the station's ledger transactions. */
	signingKeyHex: string;
	signingKey: string;
	signerAddress: string;
	maxPowerW: number;
}

export interface StatusFacts {
	identity: StationIdentity;
	tariff: Tariff;
	state: StationStatus['state'];
	/** The station's own Lightning node, as it reports itself (key and network). */
	lightningPubkey: string;
	network: StationStatus['network'];
	sessionId?: string;
	at: number;
}

/** The station's status message (unsigned); absent optional fields are left out. */
export function stationStatus(f: StatusFacts): StationStatus {
	const status: StationStatus = {
		v: 1,
		type: 'status',
		stationId: f.identity.stationId,
		name: f.identity.name,
		state: f.state,
		tariff: f.tariff,
		connectors: [{ id: 1, type: 'Type 2', maxPowerW: f.identity.maxPowerW }],
		signingKey: f.identity.signingKey,
		signerAddress: f.identity.signerAddress,
		lightningPubkey: f.lightningPubkey,
		network: f.network,
		updatedAt: f.at
	};
	if (f.sessionId) status.sessionId = f.sessionId;
	return status;
}

/**
 * The kiosk's last will: its status with state `offline`, signed by the station key (no session
 * MAC: the broker sends it whenever the kiosk vanishes, in no session).
 */
export function offlineStatusPayload(f: Omit<StatusFacts, 'state' | 'sessionId'>): string {
	return encodeMessage(
		signStationMessage(
			stationStatus({ ...f, state: 'offline' }),
			f.identity.stationId,
			f.identity.signingKeyHex
		)
	);
}
