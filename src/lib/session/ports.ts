// The ports the charging session needs from the world, in one module the session owns. The
// adapters implement them: `ledger/` the StationLedger, `storage/` the PaymentJournal (IndexedDB)
// and the KioskStore with its DurableQueues, `session/registry-identity.ts` the CheckIdentity over
// the ledger's registry. This module depends on `protocol/` types only, so an adapter that names a
// port here pulls in nothing else of the session; it is the one file of `session/` an adapter may
// import (`npm run check` enforces that, see docs/architecture.md).
import type { ReadingMessage, StationStatus, Tariff } from '../protocol';

// ---- the ledger, station side ----

/** A ledger write waiting in the station's durable queue. */
export type LedgerJob =
	| { kind: 'open'; sessionId: string; driverRef: string }
	| {
			kind: 'anchor';
			sessionId: string;
			ocmf: string[];
			fromReading: number;
			toReading: number;
			energyWh: number;
	  }
	| {
			kind: 'close';
			sessionId: string;
			energyWh: number;
			amountMsat: string;
			paymentHashes: string[];
	  };

/** What the station needs of the ledger; `ledger/` provides it, queued when the RPC is down. */
export interface StationLedger {
	openSession(sessionId: string, driverRef: string): Promise<string>;
	anchorReadings(
		sessionId: string,
		ocmfRecords: string[],
		range: { fromReading: number; toReading: number; energyWh: number }
	): Promise<{ txHash: string; root: string }>;
	closeSession(
		sessionId: string,
		totals: { energyWh: number; amountMsat: bigint; paymentHashes: string[] }
	): Promise<{ txHash: string; root: string }>;
	/**
	 * After the chain refused a write as already made: null when it holds exactly this write by this
	 * station's signer (a retry after a lost answer), else what it holds instead, in words.
	 */
	recorded?(job: LedgerJob): Promise<string | null>;
}

// ---- the wallet's payment journal ----

export interface JournalEntry {
	paymentHash: string;
	stationId: string;
	sessionId: string;
	seq: number;
	amountMsat: string;
	bolt11: string;
	status: 'sending' | 'succeeded' | 'failed';
	feeMsat?: string;
	preimage?: string;
	failure?: string;
	at: number;
}

/** Where the wallet remembers every payment it sent; `storage/` keeps it in IndexedDB. */
export interface PaymentJournal {
	isUsed(paymentHash: string): boolean;
	/** Persisted before the payment is sent; rejects when the hash is already in the journal. */
	reserve(entry: JournalEntry): Promise<void>;
	complete(
		paymentHash: string,
		result: Pick<JournalEntry, 'status' | 'feeMsat' | 'preimage' | 'failure'>
	): Promise<void>;
	entries(): JournalEntry[];
}

// ---- the kiosk's durable state ----

export interface QueuedItem<T> {
	/** Increasing with each append: the order items are replayed in. */
	id: number;
	value: T;
}

/** An append-only, ordered, durable queue. `append` resolves once the item is stored. */
export interface DurableQueue<T> {
	append(value: T): Promise<number>;
	remove(id: number): Promise<void>;
	/** Every item still queued, oldest first. */
	list(): Promise<QueuedItem<T>[]>;
}

/** The kiosk's durable state; `storage/` keeps it in IndexedDB, in memory or in a JSON file. */
export interface KioskStore {
	queue<T>(name: 'outbox' | 'ledger'): DurableQueue<T>;
	/** The snapshot of the station's session (one per station id). */
	saveSnapshot(stationId: string, snapshot: unknown): Promise<void>;
	loadSnapshot<T>(stationId: string): Promise<T | null>;
	/** Signed readings of a session, kept until the next session starts. */
	putReading(stationId: string, reading: ReadingMessage): Promise<void>;
	readings(stationId: string, sessionId: string): Promise<ReadingMessage[]>;
	/** Forget a finished session's readings. */
	dropReadings(stationId: string, exceptSessionId: string): Promise<void>;
	getSetting<T>(key: string): Promise<T | null>;
	putSetting(key: string, value: unknown): Promise<void>;
	deleteSetting(key: string): Promise<void>;
}

// ---- the station's identity, as the wallet checks it ----

/** What the wallet holds the station to for the whole session. */
export interface StationPin {
	/** Compressed secp256k1 key that signs readings, status, invoices and events. */
	signingKey: string;
	signerAddress: string;
	/** The only node invoices may pay. From the registry, never from a status message. */
	lightningPubkey: string;
	tariff: Tariff;
	/** True when the registry holds this tariff's reference (else it is the station's signed word). */
	tariffRegistered: boolean;
}

export type IdentityFailure =
	/** No identity check was configured: fail closed. */
	| 'not_checked'
	/** The registry could not be read (unreachable node, wrong chain, no contract). */
	| 'cannot_check'
	| 'unregistered'
	| 'retired'
	| 'signer'
	| 'payee'
	| 'tariff'
	/** A network checked by first use: the station now shows other keys than when first seen. */
	| 'changed';

export type IdentityVerdict =
	| { ok: true; source: 'ledger' | 'pinned'; detail: string; pin: StationPin }
	| { ok: false; reason: IdentityFailure; message: string };

/** Checks a station's (signed) status against the wallet's record of it; returns the verdict. */
export type CheckIdentity = (status: StationStatus) => Promise<IdentityVerdict>;

/** What the registry says of a station. */
export interface RegistryEntry {
	signer: string;
	lightningPubkey: string;
	tariffRef: string;
	active: boolean;
}
