// What the ledger client offers (Ledger) and how it is connected (ConnectLedgerOptions).
import type { JsonRpcProvider } from 'ethers';
import type { SessionHistory, StationHistory } from './history';
import type { Hex32 } from './ids';
import type {
	AnchorRecord,
	LedgerAddresses,
	ReservationRecord,
	SessionRecord,
	StationRecord,
	StationRegistration,
	TxResult
} from './types';

export interface ConnectLedgerOptions {
	rpcUrl: string;
	addresses: LedgerAddresses;
	/** Refuse to connect to any other chain. */
	expectedChainId?: number;
	/** Private key (0x hex) of the account that writes; omit for a read-only ledger. */
	signerKey?: string;
	/** First block to scan for event logs (the deployment block). Default 0. */
	fromBlock?: number;
	/** Timeout of the initial chain id probe. Default 5000 ms. */
	connectTimeoutMs?: number;
	/** How often to poll for new blocks while waiting for receipts. Default 250 ms. */
	pollingIntervalMs?: number;
	/** Contracts this caller will not use, so their code is not checked (e.g. a wallet that only reads the registry). */
	skipCodeCheck?: (keyof LedgerAddresses)[];
	/**
	 * Block span of one eth_getLogs request when the node refuses a query over the whole chain
	 * (Besu's --rpc-max-logs-range defaults to 5000). Default 5000.
	 */
	logsBlockRange?: number;
}

export interface Ledger {
	readonly chainId: number;
	readonly rpcUrl: string;
	readonly addresses: LedgerAddresses;
	/** Checksummed address of the signer, or null when read-only. */
	readonly signerAddress: string | null;
	readonly provider: JsonRpcProvider;

	// StationRegistry
	getOperator(): Promise<string>;
	transferOperator(newOperator: string): Promise<TxResult>;
	registerStation(station: StationRegistration): Promise<TxResult>;
	updateStation(station: StationRegistration): Promise<TxResult>;
	setTariffRef(stationId: string, tariffRef: string): Promise<TxResult>;
	setLightningPubkey(stationId: string, lightningPubkey: string): Promise<TxResult>;
	retireStation(stationId: string): Promise<TxResult>;
	reactivateStation(stationId: string): Promise<TxResult>;
	getStation(stationId: string): Promise<StationRecord | null>;
	listStationIds(): Promise<Hex32[]>;

	// SessionLedger: a session is named by its station and its id (ids are unique only per station).
	openSession(args: { stationId: string; sessionId: string; driverRef: string }): Promise<TxResult>;
	anchorReadings(args: {
		stationId: string;
		sessionId: string;
		root: string;
		fromReading: number;
		toReading: number;
		energyWh: number;
	}): Promise<TxResult & { anchorIndex: number }>;
	closeSession(args: {
		stationId: string;
		sessionId: string;
		energyWh: number;
		amountMsat: bigint | string;
		paymentsRoot: string;
	}): Promise<TxResult>;
	getSession(stationId: string, sessionId: string): Promise<SessionRecord | null>;
	getAnchors(stationId: string, sessionId: string): Promise<AnchorRecord[]>;
	/** A station's state rebuilt from the registry's event logs alone (null: never registered). */
	rebuildStation(stationId: string): Promise<StationHistory | null>;
	/** A session's state and anchors rebuilt from the SessionLedger's event logs alone (null: never opened). */
	rebuildSession(stationId: string, sessionId: string): Promise<SessionHistory | null>;
	/** On-chain check (a free `view` call) of a reading's Merkle proof against stored anchor `anchorIndex`. */
	verifyReadingOnChain(
		stationId: string,
		sessionId: string,
		anchorIndex: number,
		ocmf: string,
		proof: readonly string[]
	): Promise<boolean>;

	// Reservations
	reserve(args: {
		stationId: string;
		vehicleRef: string;
		/** Unix seconds. */
		eta: number;
		/** Unix seconds; must be after the chain's current time and not before eta. */
		expiresAt: number;
	}): Promise<TxResult & { reservationId: number }>;
	cancelReservation(reservationId: number): Promise<TxResult>;
	expireReservation(reservationId: number): Promise<TxResult>;
	fulfilReservation(reservationId: number): Promise<TxResult>;
	getReservation(reservationId: number): Promise<ReservationRecord | null>;
	/**
	 * A station's queue: active, unexpired reservations, earliest ETA first — of the first `limit`
	 * queued (default 200), read a page at a time: a queue a stranger made long is never read whole.
	 */
	listReservations(stationId: string, limit?: number): Promise<ReservationRecord[]>;
	/** How many reservations a station's queue holds (including lapsed ones nobody has cleared yet). */
	queuedReservations(stationId: string): Promise<number>;

	// Chain
	/** Timestamp of the latest block, Unix seconds (what expiries are compared with). */
	getChainTime(): Promise<number>;
	/** QBFT validators (Besu qbft_ or GoQuorum istanbul_ API), or null when the node offers neither. */
	getValidators(): Promise<string[] | null>;
	/** Stops polling and releases the provider. */
	close(): void;
}
