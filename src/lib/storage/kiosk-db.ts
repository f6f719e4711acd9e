// The kiosk's durable state behind one interface, so the browser keeps it in IndexedDB and Node
// (the headless station, the benchmark, unit tests) keeps it in memory or in a JSON file:
//  - two ordered queues: the MQTT outbox and the ledger jobs (append, remove on success, list in order);
//  - the running session's snapshot and its signed readings (a reload resumes from them);
//  - small settings (operator setup, the encrypted station key).
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ReadingMessage } from '../protocol';
import type { DurableQueue, KioskStore, QueuedItem } from '../session/ports';

const clone = <T>(v: T): T => structuredClone(v);

class MemoryQueue<T> implements DurableQueue<T> {
	private next = 1;
	constructor(
		readonly items: Map<number, T>,
		private readonly onChange: () => void
	) {
		for (const id of items.keys()) this.next = Math.max(this.next, id + 1);
	}
	async append(value: T): Promise<number> {
		const id = this.next++;
		this.items.set(id, clone(value));
		this.onChange();
		return id;
	}
	async remove(id: number): Promise<void> {
		if (this.items.delete(id)) this.onChange();
	}
	async list(): Promise<QueuedItem<T>[]> {
		return [...this.items.entries()]
			.sort((a, b) => a[0] - b[0])
			.map(([id, value]) => ({ id, value: clone(value) }));
	}
}

interface MemoryState {
	queues: Record<string, [number, unknown][]>;
	snapshots: Record<string, unknown>;
	readings: Record<string, ReadingMessage[]>;
	settings: Record<string, unknown>;
}

/**
 * Everything in memory; with `onChange`, the caller can persist `dump()` (the file-backed store
 * below does). Values are cloned in and out, as IndexedDB would, so callers cannot share objects.
 */
export class MemoryKioskStore implements KioskStore {
	private readonly queues = new Map<string, MemoryQueue<unknown>>();
	private readonly snapshots = new Map<string, unknown>();
	private readonly readingsByStation = new Map<string, ReadingMessage[]>();
	private readonly settings = new Map<string, unknown>();

	constructor(
		initial?: MemoryState,
		private readonly onChange: () => void = () => {}
	) {
		if (!initial) return;
		for (const [name, items] of Object.entries(initial.queues))
			this.queues.set(name, new MemoryQueue(new Map(items), onChange));
		for (const [k, v] of Object.entries(initial.snapshots)) this.snapshots.set(k, v);
		for (const [k, v] of Object.entries(initial.readings)) this.readingsByStation.set(k, v);
		for (const [k, v] of Object.entries(initial.settings)) this.settings.set(k, v);
	}

	queue<T>(name: 'outbox' | 'ledger'): DurableQueue<T> {
		let q = this.queues.get(name);
		if (!q) this.queues.set(name, (q = new MemoryQueue(new Map(), this.onChange)));
		return q as DurableQueue<T>;
	}
	async saveSnapshot(stationId: string, snapshot: unknown): Promise<void> {
		this.snapshots.set(stationId, clone(snapshot));
		this.onChange();
	}
	async loadSnapshot<T>(stationId: string): Promise<T | null> {
		const s = this.snapshots.get(stationId);
		return s === undefined ? null : (clone(s) as T);
	}
	async putReading(stationId: string, reading: ReadingMessage): Promise<void> {
		const list = this.readingsByStation.get(stationId) ?? [];
		if (!list.some((r) => r.sessionId === reading.sessionId && r.seq === reading.seq))
			list.push(clone(reading));
		this.readingsByStation.set(stationId, list);
		this.onChange();
	}
	async readings(stationId: string, sessionId: string): Promise<ReadingMessage[]> {
		return (this.readingsByStation.get(stationId) ?? [])
			.filter((r) => r.sessionId === sessionId)
			.sort((a, b) => a.seq - b.seq)
			.map(clone);
	}
	async dropReadings(stationId: string, exceptSessionId: string): Promise<void> {
		const list = this.readingsByStation.get(stationId);
		if (list)
			this.readingsByStation.set(
				stationId,
				list.filter((r) => r.sessionId === exceptSessionId)
			);
		this.onChange();
	}
	async getSetting<T>(key: string): Promise<T | null> {
		const v = this.settings.get(key);
		return v === undefined ? null : (clone(v) as T);
	}
	async putSetting(key: string, value: unknown): Promise<void> {
		this.settings.set(key, clone(value));
		this.onChange();
	}
	async deleteSetting(key: string): Promise<void> {
		this.settings.delete(key);
		this.onChange();
	}

	dump(): MemoryState {
		return {
			queues: Object.fromEntries(
				[...this.queues].map(([name, q]) => [name, [...q.items.entries()]])
			),
			snapshots: Object.fromEntries(this.snapshots),
			readings: Object.fromEntries(this.readingsByStation),
			settings: Object.fromEntries(this.settings)
		};
	}
}

// ---- IndexedDB (the kiosk in a browser) ----

interface KioskSchema extends DBSchema {
	outbox: { key: number; value: { id?: number; value: unknown } };
	ledger: { key: number; value: { id?: number; value: unknown } };
	snapshots: { key: string; value: unknown };
	readings: {
		key: [string, string, number];
		value: ReadingMessage & { stationId: string };
		indexes: { bySession: [string, string] };
	};
	settings: { key: string; value: unknown };
}

export type KioskDb = IDBPDatabase<KioskSchema>;

export const KIOSK_DB_NAME = 'lightcharge-kiosk';

class IdbQueue<T> implements DurableQueue<T> {
	constructor(
		private readonly db: KioskDb,
		private readonly name: 'outbox' | 'ledger'
	) {}
	async append(value: T): Promise<number> {
		return this.db.add(this.name, { value });
	}
	async remove(id: number): Promise<void> {
		await this.db.delete(this.name, id);
	}
	async list(): Promise<QueuedItem<T>[]> {
		const tx = this.db.transaction(this.name);
		const out: QueuedItem<T>[] = [];
		for await (const cursor of tx.store.iterate())
			out.push({ id: cursor.key, value: cursor.value.value as T });
		return out;
	}
}

/** The kiosk's IndexedDB, versioned with explicit upgrade steps so later schemas migrate old data. */
export class IdbKioskStore implements KioskStore {
	private constructor(private readonly db: KioskDb) {}

	static async open(name = KIOSK_DB_NAME): Promise<IdbKioskStore> {
		const db = await openDB<KioskSchema>(name, 1, {
			upgrade(db, oldVersion) {
				if (oldVersion < 1) {
					db.createObjectStore('outbox', { keyPath: 'id', autoIncrement: true });
					db.createObjectStore('ledger', { keyPath: 'id', autoIncrement: true });
					db.createObjectStore('snapshots');
					const readings = db.createObjectStore('readings', {
						keyPath: ['stationId', 'sessionId', 'seq']
					});
					readings.createIndex('bySession', ['stationId', 'sessionId']);
					db.createObjectStore('settings');
				}
			}
		});
		return new IdbKioskStore(db);
	}

	queue<T>(name: 'outbox' | 'ledger'): DurableQueue<T> {
		return new IdbQueue<T>(this.db, name);
	}
	async saveSnapshot(stationId: string, snapshot: unknown): Promise<void> {
		await this.db.put('snapshots', snapshot, stationId);
	}
	async loadSnapshot<T>(stationId: string): Promise<T | null> {
		return ((await this.db.get('snapshots', stationId)) as T | undefined) ?? null;
	}
	async putReading(stationId: string, reading: ReadingMessage): Promise<void> {
		await this.db.put('readings', { ...reading, stationId });
	}
	async readings(stationId: string, sessionId: string): Promise<ReadingMessage[]> {
		const rows = await this.db.getAllFromIndex('readings', 'bySession', [stationId, sessionId]);
		return rows.sort((a, b) => a.seq - b.seq).map(({ stationId: _s, ...r }) => r as ReadingMessage);
	}
	async dropReadings(stationId: string, exceptSessionId: string): Promise<void> {
		const tx = this.db.transaction('readings', 'readwrite');
		for await (const cursor of tx.store.iterate()) {
			if (cursor.value.stationId === stationId && cursor.value.sessionId !== exceptSessionId)
				await cursor.delete();
		}
		await tx.done;
	}
	async getSetting<T>(key: string): Promise<T | null> {
		return ((await this.db.get('settings', key)) as T | undefined) ?? null;
	}
	async putSetting(key: string, value: unknown): Promise<void> {
		await this.db.put('settings', value, key);
	}
	async deleteSetting(key: string): Promise<void> {
		await this.db.delete('settings', key);
	}
}
