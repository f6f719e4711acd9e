// Message shapes between kiosk and wallet (MQTT topic root `lightcharge/v1`).
// Every payload carries `v` and `type`, and is validated by `messages.ts` at every boundary.
// Amounts travel as decimal strings of millisatoshis (JSON has no int64); energy as integer Wh.
import type { Network } from './networks';

export const PROTOCOL_VERSION = 1 as const;

export type PaymentMode = 'stream' | 'postpaid';

export interface Tariff {
	/** Price of one kWh, in millisatoshis, decimal string. */
	pricePerKwhMsat: string;
	/** Charged once with the first increment, in millisatoshis, decimal string. */
	startFeeMsat: string;
	/** Energy per invoice in `stream` mode. Default 100 Wh. */
	incrementWh: number;
	/** Energy the station will deliver past an unpaid increment before it suspends. */
	graceWh: number;
	mode: PaymentMode;
	/** Seconds an increment's invoice stays payable. */
	invoiceExpirySeconds: number;
}

export type StationState = 'available' | 'occupied' | 'suspended' | 'faulted' | 'offline';

export interface Connector {
	id: number;
	type: string;
	maxPowerW: number;
}

export interface StationStatus {
	v: 1;
	type: 'status';
	stationId: string;
	name: string;
	state: StationState;
	tariff: Tariff;
	connectors: Connector[];
	/** Compressed secp256k1 public key that signs the OCMF readings, hex (66 chars). */
	signingKey: string;
	/** The same key's Ethereum address (checksummed), as registered on the ledger. */
	signerAddress: string;
	/** The station's Lightning node pubkey, hex (66 chars). */
	lightningPubkey: string;
	/** Lightning network the station invoices on. */
	network: Network;
	/** The session currently offered or running, if any. */
	sessionId?: string;
	/** Unix ms. */
	updatedAt: number;
	/** The station's signature (protocol/authentication.ts); receivers drop a status without a valid one. */
	sig?: string;
	/** While a session is offered or running: the tag under that session's station MAC key. */
	mac?: string;
}

/** Proofs a station message may carry (protocol/authentication.ts); receivers decide which they require. */
export interface StationProofs {
	/** secp256k1 signature by the station's registered key, 128 hex. */
	sig?: string;
	/** HMAC-SHA256 under the session's station MAC key, 64 hex. */
	mac?: string;
}

export interface ReadingMessage {
	v: 1;
	type: 'reading';
	sessionId: string;
	/** Equals the OCMF pagination number; strictly increasing within a session. */
	seq: number;
	/** `OCMF|{payload}|{signature}`. */
	ocmf: string;
	/** The session's MAC (the OCMF record itself carries the station's signature). */
	mac?: string;
}

export interface BillingRecord {
	v: 1;
	stationId: string;
	sessionId: string;
	/** 1, 2, 3… per session. */
	seq: number;
	/** Pagination (seq) of the reading the increment starts from, and ends at. */
	fromReading: number;
	toReading: number;
	/** Meter register at those readings, Wh. */
	fromWh: number;
	toWh: number;
	/** toWh - fromWh. */
	energyWh: number;
	tariff: { pricePerKwhMsat: string; startFeeMsat: string };
	/** Energy × price, plus the start fee on seq 1; decimal string msat. */
	amountMsat: string;
}

export interface InvoiceMessage {
	v: 1;
	type: 'invoice';
	sessionId: string;
	seq: number;
	record: BillingRecord;
	/** Hex SHA-256 of the record's RFC 8785 canonical JSON; equals the invoice's `h` tag. */
	recordHash: string;
	bolt11: string;
	sig?: string;
	mac?: string;
}

export type SessionEventKind =
	'started' | 'suspended' | 'resumed' | 'stopped' | 'paid' | 'anchored' | 'closed' | 'fault';

export interface SessionEvent {
	v: 1;
	type: 'event';
	sessionId: string;
	/** Per-session event counter, for dedup and gap detection. */
	seq: number;
	event: SessionEventKind;
	/** Unix ms. */
	at: number;
	/** Human-readable reason (suspended / fault). */
	reason?: string;
	/** For `paid`: invoice seq and payment hash. */
	invoiceSeq?: number;
	paymentHash?: string;
	/** For `anchored` / `closed`: transaction hash, Merkle root and reading range. */
	txHash?: string;
	root?: string;
	fromReading?: number;
	toReading?: number;
	/** For `stopped` / `closed`: totals. */
	energyWh?: number;
	amountMsat?: string;
	sig?: string;
	mac?: string;
}

/** Proofs a driver message may carry: `join` needs `driverKey` and `mac`; later ones `n`, `sig` and `mac`. */
export interface DriverProofs {
	/** Counter of this driver's messages after the join (1, 2, …): a replayed one is refused. */
	n?: number;
	/** Signature by the driver key registered at join. */
	sig?: string;
	/** HMAC under the session's driver MAC key (for `join`: the proof of the join secret). */
	mac?: string;
}

export type DriverMessage =
	| ({
			v: 1;
			type: 'join';
			sessionId: string;
			budgetMsat: string;
			driverRef: string;
			at: number;
			driverKey?: string;
	  } & DriverProofs)
	| ({ v: 1; type: 'budget'; sessionId: string; budgetMsat: string; at: number } & DriverProofs)
	| ({ v: 1; type: 'stop'; sessionId: string; at: number } & DriverProofs)
	/** After a failed payment: please invoice increment `seq` again (a new invoice for the same record). */
	| ({ v: 1; type: 'reinvoice'; sessionId: string; seq: number; at: number } & DriverProofs);

/**
 * What the kiosk's QR code / session link carries in the wallet URL's fragment: which of the
 * wallet's trusted networks, which station and session, and the session's one-time join secret.
 * No broker, chain or registry: trust anchors come from the wallet's own configuration, and a
 * short link makes a low-version QR code that old phone cameras read.
 */
export interface SessionLink {
	v: 2;
	/** 8 hex digits selecting one of the wallet's trusted networks (see config/trusted-networks). */
	network: string;
	stationId: string;
	sessionId: string;
	/**
	 * One-time join secret, base64url of 16 random bytes. Shown only on the kiosk's screen, never
	 * published on the broker: it proves the join and keys the session's message MACs.
	 */
	secret: string;
}

/** The first link format (`#join=<base64url JSON>`): it named its own broker, chain and registry. */
export interface LegacySessionLink {
	v: 1;
	stationId: string;
	sessionId: string;
	broker: string;
	chainId: number;
	registry: string;
	rpc?: string;
}
