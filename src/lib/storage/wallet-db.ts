// The wallet's IndexedDB: payments (the journal that prevents paying an invoice twice) and
// receipts. Versioned with explicit upgrade steps so later schema changes migrate old data.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { JournalEntry, PaymentJournal } from '../session/driver-runtime';

export interface ReceiptRecord {
	sessionId: string;
	stationId: string;
	stationName: string;
	startedAt: number;
	updatedAt: number;
	energyWh: number;
	paidMsat: string;
	feesMsat: string;
	/** The whole session evidence as the wallet saw it (readings, invoices, preimages, anchors). */
	evidence: unknown;
}

interface WalletSchema extends DBSchema {
	payments: { key: string; value: JournalEntry; indexes: { bySession: string } };
	receipts: { key: string; value: ReceiptRecord; indexes: { byUpdated: number } };
}

export type WalletDb = IDBPDatabase<WalletSchema>;

export function openWalletDb(name = 'lightcharge-wallet'): Promise<WalletDb> {
	return openDB<WalletSchema>(name, 1, {
		upgrade(db, oldVersion) {
			if (oldVersion < 1) {
				const payments = db.createObjectStore('payments', { keyPath: 'paymentHash' });
				payments.createIndex('bySession', 'sessionId');
				const receipts = db.createObjectStore('receipts', { keyPath: 'sessionId' });
				receipts.createIndex('byUpdated', 'updatedAt');
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

	async complete(paymentHash: string, result: Pick<JournalEntry, 'status' | 'feeMsat' | 'preimage' | 'failure'>): Promise<void> {
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

export async function saveReceipt(db: WalletDb, r: ReceiptRecord): Promise<void> {
	await db.put('receipts', r);
}

export async function listReceipts(db: WalletDb): Promise<ReceiptRecord[]> {
	return (await db.getAllFromIndex('receipts', 'byUpdated')).reverse();
}
