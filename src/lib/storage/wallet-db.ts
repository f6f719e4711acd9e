// The wallet's IndexedDB: payments (the journal that prevents paying an invoice twice), sessions
// (everything needed to resume one after a reload and to write its receipt), stations' keys
// pinned at first sight, and settings. Versioned with explicit upgrade steps so later schema
// changes migrate old data.
//
// A session is stored after every change, that is about once a second while it charges. Its
// signed readings live in their own store and only the new ones are written each time (append
// only): rewriting the whole receipt with every OCMF string made the traffic of a session grow
// with the square of its length (wallet-db.test.ts measures one hour at 1 Hz).
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { LegacySessionLink, SessionLink } from '../protocol';
import type { JournalEntry, PaymentJournal } from '../session/ports';
import {
	DEFAULT_SETTINGS,
	parseWalletSettings,
	readWalletSettings,
	type EncryptedKey,
	type WalletSettings
} from './wallet-settings';
import {
	VAULT_ITERATIONS,
	VaultError,
	needsReseal,
	openSecret,
	resealed,
	sealSecret
} from './vault';

/** Where a session's anchors live on the ledger. */
export interface LedgerRef {
	chainId: number;
	rpcUrl: string;
	registry: string;
	sessions: string;
}

/** One signed reading of a session, as the wallet verified it. */
export interface StoredReading {
	seq: number;
	ocmf: string;
}

/** What storage needs to know of a session's snapshot (the session's DriverSnapshot): its readings. */
export interface SnapshotWithReadings {
	readings: StoredReading[];
}

export interface ReceiptRecord<S extends SnapshotWithReadings = SnapshotWithReadings> {
	sessionId: string;
	stationId: string;
	stationName: string;
	startedAt: number;
	updatedAt: number;
	energyWh: number;
	paidMsat: string;
	feesMsat: string;
	/** Sessions stored before links carried a network and a join secret have the old shape. */
	link: SessionLink | LegacySessionLink;
	ledger: LedgerRef | null;
	/** The session as the wallet last saw it (v2). */
	snapshot: S | null;
	/** The anchors read from the ledger, once fetched. */
	ledgerAnchors?: {
		anchorIndex: number;
		root: string;
		fromReading: number;
		toReading: number;
		txHash: string;
	}[];
	/** Version 1 records kept their evidence untyped; kept for old data. */
	evidence?: unknown;
}

/**
 * A station's keys as first seen on one network, for an identity check on a network the driver
 * marked as offline. Keyed by network and station: a check against another registry never touches it.
 */
export interface PinnedStation {
	/** `${network fingerprint}/${stationId}`. */
	key: string;
	network: string;
	stationId: string;
	signingKey: string;
	signerAddress: string;
	lightningPubkey: string;
	firstSeen: number;
	/** Whether the ledger confirmed these keys at some point. */
	confirmedOnLedger: boolean;
}

export {
	DEFAULT_SETTINGS,
	type EncryptedKey,
	type LightningSettings,
	type WalletSettings
} from './wallet-settings';

/** A stored session without its readings, as the list of sessions shows it. */
export type ReceiptSummary<S extends SnapshotWithReadings = SnapshotWithReadings> = Omit<
	ReceiptRecord<S>,
	'snapshot'
> & {
	snapshot: Omit<S, 'readings'> | null;
};

interface WalletSchema extends DBSchema {
	payments: { key: string; value: JournalEntry; indexes: { bySession: string } };
	/** Sessions, each stored without its readings (`snapshot.readings` is empty here). */
	receipts: { key: string; value: ReceiptRecord; indexes: { byUpdated: number } };
	/** Every session's signed readings, one record each, appended as they come. */
	readings: { key: [string, number]; value: StoredReading & { sessionId: string } };
	stationPins: { key: string; value: PinnedStation };
	kv: { key: string; value: unknown };
}

export type WalletDb = IDBPDatabase<WalletSchema>;
export const WALLET_DB_NAME = 'lightcharge-wallet';

export function openWalletDb(name = WALLET_DB_NAME): Promise<WalletDb> {
	return openDB<WalletSchema>(name, 4, {
		// eslint-disable-next-line @typescript-eslint/no-misused-promises -- idb runs upgrade inside the versionchange transaction; it awaits only that transaction's requests
		async upgrade(db, oldVersion, _newVersion, tx) {
			if (oldVersion < 1) {
				const payments = db.createObjectStore('payments', { keyPath: 'paymentHash' });
				payments.createIndex('bySession', 'sessionId');
				const receipts = db.createObjectStore('receipts', { keyPath: 'sessionId' });
				receipts.createIndex('byUpdated', 'updatedAt');
			}
			if (oldVersion < 2) db.createObjectStore('kv');
			if (oldVersion < 3) {
				// Pins of version 2 named no network, and a check against any registry could rewrite them: dropped.
				if ((db.objectStoreNames as DOMStringList).contains('pins'))
					(db as unknown as IDBPDatabase).deleteObjectStore('pins');
				db.createObjectStore('stationPins', { keyPath: 'key' });
			}
			if (oldVersion < 4) {
				// Readings move out of the sessions into their own store, one record each.
				const readings = db.createObjectStore('readings', { keyPath: ['sessionId', 'seq'] });
				for (
					let cursor = await tx.objectStore('receipts').openCursor();
					cursor;
					cursor = await cursor.continue()
				) {
					const r = cursor.value;
					if (!r.snapshot?.readings?.length) continue;
					for (const reading of r.snapshot.readings)
						await readings.put({ sessionId: r.sessionId, seq: reading.seq, ocmf: reading.ocmf });
					await cursor.update({ ...r, snapshot: { ...r.snapshot, readings: [] } });
				}
			}
		}
	});
}

/** The payment journal in IndexedDB; all entries are read at open so `isUsed` answers at once. */
export class IdbJournal implements PaymentJournal {
	private constructor(
		private readonly db: WalletDb,
		private readonly cache: Map<string, JournalEntry>
	) {}

	static async open(db: WalletDb): Promise<IdbJournal> {
		const all = await db.getAll('payments');
		return new IdbJournal(db, new Map(all.map((e) => [e.paymentHash, e])));
	}

	isUsed(paymentHash: string): boolean {
		return this.cache.has(paymentHash);
	}

	async reserve(entry: JournalEntry): Promise<void> {
		if (this.cache.has(entry.paymentHash)) throw new Error('payment hash already used');
		this.cache.set(entry.paymentHash, entry);
		// `add` fails if another tab stored the same hash first: the database is the arbiter.
		await this.db.add('payments', entry);
	}

	async complete(
		paymentHash: string,
		result: Pick<JournalEntry, 'status' | 'feeMsat' | 'preimage' | 'failure'>
	): Promise<void> {
		const e = this.cache.get(paymentHash);
		if (!e) return;
		const next = { ...e, ...result };
		this.cache.set(paymentHash, next);
		await this.db.put('payments', next);
	}

	entries(): JournalEntry[] {
		return [...this.cache.values()];
	}
}

const sessionReadings = (sessionId: string) =>
	IDBKeyRange.bound([sessionId, -Infinity], [sessionId, Infinity]);

/**
 * Stores a session: the record without its readings, and those of its readings that are not
 * stored yet (readings only grow: a reading once stored is never written again).
 */
export async function saveReceipt<S extends SnapshotWithReadings>(
	db: WalletDb,
	r: ReceiptRecord<S>
): Promise<void> {
	const tx = db.transaction(['receipts', 'readings'], 'readwrite');
	const readings = tx.objectStore('readings');
	const last = await readings.openCursor(sessionReadings(r.sessionId), 'prev');
	const storedUpTo = last ? last.value.seq : -Infinity;
	const writes: Promise<unknown>[] = [];
	for (const reading of r.snapshot?.readings ?? [])
		if (reading.seq > storedUpTo)
			writes.push(readings.put({ sessionId: r.sessionId, seq: reading.seq, ocmf: reading.ocmf }));
	writes.push(
		tx
			.objectStore('receipts')
			.put({ ...r, snapshot: r.snapshot && { ...r.snapshot, readings: [] } })
	);
	await Promise.all([...writes, tx.done]);
}

/** A stored session with all its readings, in order. */
export async function getReceipt<S extends SnapshotWithReadings = SnapshotWithReadings>(
	db: WalletDb,
	sessionId: string
): Promise<ReceiptRecord<S> | undefined> {
	const tx = db.transaction(['receipts', 'readings'], 'readonly');
	const [record, readings] = await Promise.all([
		tx.objectStore('receipts').get(sessionId),
		tx.objectStore('readings').getAll(sessionReadings(sessionId)),
		tx.done
	]);
	if (!record) return undefined;
	const snapshot = record.snapshot && {
		...record.snapshot,
		readings: readings.map(({ seq, ocmf }) => ({ seq, ocmf }))
	};
	return { ...record, snapshot } as ReceiptRecord<S>;
}

/** Every stored session, most recently updated first, without its readings. */
export async function listReceipts<S extends SnapshotWithReadings = SnapshotWithReadings>(
	db: WalletDb
): Promise<ReceiptSummary<S>[]> {
	const all = (await db.getAllFromIndex('receipts', 'byUpdated')).reverse();
	return all.map(({ snapshot, ...rest }) => {
		if (!snapshot) return { ...rest, snapshot: null };
		const { readings: _stored, ...withoutReadings } = snapshot;
		return { ...rest, snapshot: withoutReadings } as ReceiptSummary<S>;
	});
}

export async function paymentsOfSession(db: WalletDb, sessionId: string): Promise<JournalEntry[]> {
	return db.getAllFromIndex('payments', 'bySession', sessionId);
}

export async function getPin(
	db: WalletDb,
	network: string,
	stationId: string
): Promise<PinnedStation | undefined> {
	return db.get('stationPins', `${network}/${stationId}`);
}

export async function savePin(db: WalletDb, pin: Omit<PinnedStation, 'key'>): Promise<void> {
	await db.put('stationPins', { ...pin, key: `${pin.network}/${pin.stationId}` });
}

/** The settings as stored, checked field by field (wallet-settings.ts); a bad field takes its default and the stored record is kept aside. */
export async function loadSettings(db: WalletDb): Promise<WalletSettings> {
	const stored = await db.get('kv', 'settings');
	const { settings, rejected } = readWalletSettings(stored, DEFAULT_SETTINGS);
	if (rejected.length > 0) {
		// Nothing is lost: the record as it was, with why each part was not used, until the next one.
		await db.put('kv', { at: Date.now(), stored, rejected }, 'settings-rejected');
	}
	return settings;
}

/** What loadSettings last set aside: the stored record and a sentence per field it could not use. */
export async function rejectedSettings(
	db: WalletDb
): Promise<{ at: number; stored: unknown; rejected: string[] } | undefined> {
	return (await db.get('kv', 'settings-rejected')) as
		{ at: number; stored: unknown; rejected: string[] } | undefined;
}

/** Stores settings after checking them: a WalletSettingsError (a sentence naming the field) and nothing written when one is bad. */
export async function saveSettings(db: WalletDb, s: WalletSettings): Promise<void> {
	await db.put('kv', parseWalletSettings(s), 'settings');
}

/** Ids of the reservations this phone made (its own are listed even deep in a long queue). */
export async function myReservations(db: WalletDb): Promise<number[]> {
	const ids = (await db.get('kv', 'reservations')) as number[] | undefined;
	return Array.isArray(ids) ? ids : [];
}

export async function saveMyReservations(db: WalletDb, ids: number[]): Promise<void> {
	await db.put('kv', [...new Set(ids)].slice(-50), 'reservations');
}

/** Deletes everything the wallet stored on this device. */
export async function wipeWallet(db: WalletDb): Promise<void> {
	const stores = ['payments', 'receipts', 'readings', 'stationPins', 'kv'] as const;
	const tx = db.transaction([...stores], 'readwrite');
	await Promise.all([...stores.map((name) => tx.objectStore(name).clear()), tx.done]);
}

/** Encrypts a private key under the driver's passphrase, in the one vault (vault.ts); `iterations` for tests only. */
export async function encryptKey(
	secret: Uint8Array,
	passphrase: string,
	iterations = VAULT_ITERATIONS
): Promise<EncryptedKey> {
	return sealSecret(secret, passphrase, iterations);
}

function walletSentence(e: unknown): unknown {
	if (e instanceof VaultError && e.code === 'wrong_passphrase')
		return new Error('That passphrase does not unlock your ledger key.');
	if (e instanceof VaultError && e.code === 'unreadable')
		return new Error('Your stored ledger key is not readable; create a new identity in Settings.');
	return e;
}

/** Decrypts a key stored by `encryptKey` (or by an older wallet); a wrong passphrase is an error in words. */
export async function decryptKey(enc: EncryptedKey, passphrase: string): Promise<Uint8Array> {
	try {
		return await openSecret(enc, passphrase);
	} catch (e) {
		throw walletSentence(e);
	}
}

/**
 * The driver's ledger key, unlocked with their passphrase. A key an older wallet stored with fewer
 * iterations (210,000, before the one vault) is sealed again at today's count and saved.
 */
export async function unlockIdentity(db: WalletDb, passphrase: string): Promise<Uint8Array> {
	const settings = await loadSettings(db);
	if (!settings.identity)
		throw new Error('This wallet has no ledger identity: create one in Settings.');
	const stored = settings.identity.key;
	if (!needsReseal(stored)) return decryptKey(stored, passphrase);
	let upgraded: Awaited<ReturnType<typeof resealed>>;
	try {
		upgraded = await resealed(stored, passphrase);
	} catch (e) {
		throw walletSentence(e);
	}
	await saveSettings(db, { ...settings, identity: { ...settings.identity, key: upgraded.sealed } });
	return upgraded.secret;
}
