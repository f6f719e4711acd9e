import type { Hex32 } from './ids';

/** Where the three contracts live on a chain. */
export interface LedgerAddresses {
	registry: string;
	reservations: string;
	sessions: string;
}

/** A mined transaction. */
export interface TxResult {
	txHash: string;
	blockNumber: number;
	gasUsed: bigint;
}

export interface StationRegistration {
	/** Human station id; stored as stationIdToBytes32(stationId). */
	stationId: string;
	/** Ethereum address of the station's OCMF signing key (the only account that writes its sessions). */
	signer: string;
	/** Compressed secp256k1 pubkey of the station's Lightning node, 66 hex chars (0x optional). */
	lightningPubkey: string;
	/** 0x + 64 hex: e.g. the SHA-256 of the tariff's canonical JSON. */
	tariffRef: string;
	location: string;
}

export interface StationRecord {
	stationId: Hex32;
	signer: string;
	/** 66 hex chars, no 0x (as in StationStatus.lightningPubkey). */
	lightningPubkey: string;
	tariffRef: Hex32;
	location: string;
	active: boolean;
}

export interface SessionRecord {
	/** keccak256(abi.encode(stationId, sessionId)): where the contract keeps it, and its logs' first topic. */
	sessionKey: Hex32;
	sessionId: Hex32;
	stationId: Hex32;
	/** The account that opened the session: the only one that writes for it. */
	signer: string;
	driverRef: Hex32;
	state: 'open' | 'closed';
	/** Unix seconds (block time). */
	openedAt: number;
	closedAt: number | null;
	/** Pagination of the last anchored reading, 0 before the first anchor. */
	lastReading: number;
	/** Energy at the last anchor, or the total once closed. */
	energyWh: number;
	/** Total paid, set at close (0 while open). */
	amountMsat: bigint;
	anchorCount: number;
	/** Root of the payment hashes, set at close. */
	paymentsRoot: Hex32 | null;
}

export interface AnchorRecord {
	anchorIndex: number;
	root: Hex32;
	fromReading: number;
	toReading: number;
	energyWh: number;
	txHash: string;
	blockNumber: number;
}

export type ReservationStatus = 'active' | 'cancelled' | 'expired' | 'fulfilled';

export interface ReservationRecord {
	reservationId: number;
	stationId: Hex32;
	reserver: string;
	vehicleRef: Hex32;
	/** Unix seconds. */
	eta: number;
	expiresAt: number;
	createdAt: number;
	/** 'active' as stored; a reservation past expiresAt is unusable even before someone expires it. */
	status: ReservationStatus;
}
