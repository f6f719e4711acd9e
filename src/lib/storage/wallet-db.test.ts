import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeReading } from '../protocol';
import { describePaymentJournal, journalEntry } from '../session/ports.testing';
import {
	IdbJournal,
	decryptKey,
	encryptKey,
	getReceipt,
	listReceipts,
	openWalletDb,
	saveReceipt,
	wipeWallet,
	type ReceiptRecord,
	type WalletDb
} from './wallet-db';

describe('ledger key encryption', () => {
	it('round-trips under the passphrase and refuses another', async () => {
		const secret = crypto.getRandomValues(new Uint8Array(32));
		const enc = await encryptKey(secret, 'correct horse', 1000);
		expect(enc.data).not.toContain(btoa(String.fromCharCode(...secret)).slice(0, 10));
		expect(await decryptKey(enc, 'correct horse')).toEqual(secret);
		await expect(decryptKey(enc, 'wrong horse!')).rejects.toThrow(
			'That passphrase does not unlock your ledger key.'
		);
	});
	it('refuses a short passphrase', async () => {
		await expect(encryptKey(new Uint8Array(32), 'short')).rejects.toThrow(/at least 10 characters/);
	});
});

let dbCount = 0;
const opened: WalletDb[] = [];
afterEach(() => {
	for (const db of opened.splice(0)) db.close();
});
async function freshDb(name = `wallet-test-${++dbCount}`): Promise<WalletDb> {
	const db = await openWalletDb(name);
	opened.push(db);
	return db;
}

describePaymentJournal('IdbJournal', () => {
	const name = `journal-test-${++dbCount}`;
	return {
		open: async () => IdbJournal.open(await freshDb(name)),
		reopen: async () => IdbJournal.open(await freshDb(name))
	};
});

describe('IdbJournal across tabs', () => {
	it('lets the database refuse a hash another tab reserved first', async () => {
		const name = `journal-tabs-${++dbCount}`;
		const tabA = await IdbJournal.open(await freshDb(name));
		const tabB = await IdbJournal.open(await freshDb(name));
		await tabA.reserve(journalEntry('aa'));
		expect(tabB.isUsed('aa')).toBe(false);
		await expect(tabB.reserve(journalEntry('aa'))).rejects.toMatchObject({
			name: 'ConstraintError'
		});
		expect(tabB.isUsed('aa')).toBe(true);
	});
});

// ---- receipts: readings are stored append-only ----

const KEY = '5'.repeat(63) + '1';
const METER = { vendor: 'Lightcharge', model: 'sim', serial: 'SIM-1' };
const START = 1_800_000_000_000;
/** Real signed readings (the OCMF strings are what makes a receipt big). */
function signedReadings(n: number, sessionId = 'sess-1'): { seq: number; ocmf: string }[] {
	return Array.from({ length: n }, (_, i) => ({
		seq: i + 1,
		ocmf: makeReading(
			{
				seq: i + 1,
				tx: i === 0 ? 'B' : 'T',
				energyWh: i * 2,
				at: START + i * 1000,
				meter: METER,
				stationId: 'st-1',
				sessionId
			},
			KEY
		).ocmf
	}));
}

interface TestSnapshot {
	phase: string;
	readings: { seq: number; ocmf: string }[];
	invoices: { seq: number; bolt11: string }[];
}

function record(
	readings: TestSnapshot['readings'],
	o: Partial<ReceiptRecord<TestSnapshot>> = {}
): ReceiptRecord<TestSnapshot> {
	return {
		sessionId: 'sess-1',
		stationId: 'st-1',
		stationName: 'Test station',
		startedAt: START,
		updatedAt: START + readings.length * 1000,
		energyWh: readings.length * 2,
		paidMsat: '0',
		feesMsat: '0',
		link: {
			v: 2,
			network: '0a1b2c3d',
			stationId: 'st-1',
			sessionId: 'sess-1',
			secret: 'c2VjcmV0'
		} as ReceiptRecord['link'],
		ledger: null,
		snapshot: { phase: 'charging', readings, invoices: [] },
		...o
	};
}

/** Counts what is written to IndexedDB (put, add and cursor updates), in JSON characters per store. */
function countWrites() {
	const written = new Map<string, { writes: number; chars: number }>();
	const wrap = (
		proto: object,
		method: 'put' | 'add' | 'update',
		storeOf: (self: unknown) => string
	) => {
		const original = (proto as Record<string, (...a: unknown[]) => unknown>)[method]!;
		(proto as Record<string, unknown>)[method] = function (
			this: unknown,
			value: unknown,
			...rest: unknown[]
		) {
			const store = storeOf(this);
			const w = written.get(store) ?? { writes: 0, chars: 0 };
			w.writes++;
			w.chars += JSON.stringify(value).length;
			written.set(store, w);
			return original.call(this, value, ...rest);
		};
		return () => ((proto as Record<string, unknown>)[method] = original);
	};
	const restore = [
		wrap(IDBObjectStore.prototype, 'put', (s) => (s as IDBObjectStore).name),
		wrap(IDBObjectStore.prototype, 'add', (s) => (s as IDBObjectStore).name),
		wrap(IDBCursor.prototype, 'update', (s) => ((s as IDBCursor).source as IDBObjectStore).name)
	];
	return { written, restore: () => restore.forEach((r) => r()) };
}

describe('wallet receipts', () => {
	let hour: { seq: number; ocmf: string }[];
	beforeAll(() => {
		hour = signedReadings(3600);
	});

	it('gives back a stored session with all its readings, in order', async () => {
		const db = await freshDb();
		const readings = hour.slice(0, 5);
		await saveReceipt(db, record(readings.slice(0, 2)));
		await saveReceipt(db, record(readings));
		const back = await getReceipt<TestSnapshot>(db, 'sess-1');
		expect(back).toEqual(record(readings));
		expect(await getReceipt(db, 'sess-2')).toBeUndefined();
	});

	it('writes each reading once however often the session is saved (one hour at 1 Hz)', async () => {
		const db = await freshDb();
		const count = countWrites();
		try {
			for (let n = 1; n <= hour.length; n++) await saveReceipt(db, record(hour.slice(0, n)));
		} finally {
			count.restore();
		}
		const readings = count.written.get('readings')!;
		expect(readings.writes).toBe(3600);
		const eachOnce = hour.reduce(
			(sum, r) => sum + JSON.stringify({ sessionId: 'sess-1', ...r }).length,
			0
		);
		expect(readings.chars).toBe(eachOnce);
		// The session record itself is written once per save and carries no reading.
		const receipts = count.written.get('receipts')!;
		expect(receipts.writes).toBe(3600);
		expect(receipts.chars / receipts.writes).toBeLessThan(1000);
		// What the old whole-record write cost for the same hour: every save rewrote every reading
		// (the record of n readings is the empty record plus n readings and n - 1 commas).
		const empty = JSON.stringify(record([])).length;
		let prefix = 0;
		let wholeRecords = 0;
		for (const [i, r] of hour.entries()) {
			prefix += JSON.stringify(r).length;
			wholeRecords += empty + prefix + i;
		}
		console.log(
			`one hour at 1 Hz: ${(wholeRecords / 1e6).toFixed(0)} MB of JSON written as whole records, ${((readings.chars + receipts.chars) / 1e6).toFixed(1)} MB append-only (${(readings.chars / 1e6).toFixed(1)} MB readings, ${(receipts.chars / 1e6).toFixed(1)} MB session records)`
		);
		expect(wholeRecords).toBeGreaterThan(300 * (readings.chars + receipts.chars));
		const back = await getReceipt<TestSnapshot>(db, 'sess-1');
		expect(back?.snapshot?.readings).toEqual(hour);
	});

	it('keeps the readings of each session apart', async () => {
		const db = await freshDb();
		const other = signedReadings(3, 'sess-2');
		await saveReceipt(db, record(hour.slice(0, 4)));
		await saveReceipt(db, record(other, { sessionId: 'sess-2', updatedAt: START + 99_000 }));
		expect((await getReceipt<TestSnapshot>(db, 'sess-1'))?.snapshot?.readings).toEqual(
			hour.slice(0, 4)
		);
		expect((await getReceipt<TestSnapshot>(db, 'sess-2'))?.snapshot?.readings).toEqual(other);
	});

	it('lists sessions newest first, without their readings', async () => {
		const db = await freshDb();
		await saveReceipt(db, record(hour.slice(0, 3)));
		await saveReceipt(
			db,
			record(hour.slice(0, 2), { sessionId: 'sess-2', updatedAt: START + 99_000 })
		);
		const list = await listReceipts<TestSnapshot>(db);
		expect(list.map((r) => r.sessionId)).toEqual(['sess-2', 'sess-1']);
		expect(list[1]!.snapshot).toEqual({ phase: 'charging', invoices: [] });
	});

	it('moves the readings of sessions stored by version 3 into their own store', async () => {
		const name = `wallet-v3-${++dbCount}`;
		const v3 = await openDB(name, 3, {
			upgrade(db) {
				const receipts = db.createObjectStore('receipts', { keyPath: 'sessionId' });
				receipts.createIndex('byUpdated', 'updatedAt');
				db.createObjectStore('payments', { keyPath: 'paymentHash' }).createIndex(
					'bySession',
					'sessionId'
				);
				db.createObjectStore('kv');
				db.createObjectStore('stationPins', { keyPath: 'key' });
			}
		});
		const old = record(hour.slice(0, 7));
		await v3.put('receipts', old);
		await v3.put('receipts', record([], { sessionId: 'sess-0', snapshot: null }));
		v3.close();
		const db = await freshDb(name);
		expect(await getReceipt<TestSnapshot>(db, 'sess-1')).toEqual(old);
		expect(await getReceipt(db, 'sess-0')).toEqual(
			record([], { sessionId: 'sess-0', snapshot: null })
		);
		// Saving the migrated session again appends nothing twice.
		await saveReceipt(db, record(hour.slice(0, 8)));
		expect((await getReceipt<TestSnapshot>(db, 'sess-1'))?.snapshot?.readings).toEqual(
			hour.slice(0, 8)
		);
		expect(
			(await db.getAll('receipts')).every((r) => !r.snapshot || r.snapshot.readings.length === 0)
		).toBe(true);
	});

	it('forgets the readings too when the wallet is wiped', async () => {
		const db = await freshDb();
		await saveReceipt(db, record(hour.slice(0, 3)));
		await wipeWallet(db);
		expect(await getReceipt(db, 'sess-1')).toBeUndefined();
		expect(await db.count('readings')).toBe(0);
	});
});
