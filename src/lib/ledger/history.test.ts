import { describe, expect, it } from 'vitest';
import {
	InconsistentLogError,
	foldSessionEvents,
	foldStationEvents,
	type SessionEvent,
	type StationEvent
} from './history';

const ID = `0x${'aa'.repeat(32)}` as const;
const ROOT = `0x${'33'.repeat(32)}` as const;
const ZERO = `0x${'00'.repeat(32)}` as const;
let log = 0;
const pos = (blockNumber: number) => ({
	blockNumber,
	logIndex: log++,
	txHash: `0x${String(blockNumber).padStart(64, '0')}`
});

const opened: SessionEvent = {
	...pos(1),
	type: 'SessionOpened',
	stationId: ID,
	sessionId: ID,
	driverRef: ZERO,
	signer: '0xS',
	timestamp: 100
};
const anchored = (
	block: number,
	anchorIndex: number,
	fromReading: number,
	toReading: number,
	energyWh: number
): SessionEvent => ({
	...pos(block),
	type: 'ReadingsAnchored',
	anchorIndex,
	root: ROOT,
	fromReading,
	toReading,
	energyWh
});
const closed = (block: number): SessionEvent => ({
	...pos(block),
	type: 'SessionClosed',
	energyWh: 700,
	amountMsat: 5n,
	paymentsRoot: ROOT,
	timestamp: 200
});

describe('foldSessionEvents', () => {
	it('folds events in chain order whatever order they arrive in', () => {
		const events = [closed(5), anchored(3, 1, 61, 120, 600), opened, anchored(2, 0, 1, 60, 300)];
		const session = foldSessionEvents(ID, events)!;
		expect(session).toMatchObject({
			state: 'closed',
			openedAt: 100,
			closedAt: 200,
			lastReading: 120,
			energyWh: 700,
			amountMsat: 5n,
			anchorCount: 2
		});
		expect(session.anchors.map((a) => [a.anchorIndex, a.fromReading, a.toReading])).toEqual([
			[0, 1, 60],
			[1, 61, 120]
		]);
		expect(session.events.map((e) => e.blockNumber)).toEqual([1, 2, 3, 5]);
	});

	it('returns null for a session that has no events', () => {
		expect(foldSessionEvents(ID, [])).toBeNull();
	});

	it('notices withheld or impossible logs', () => {
		const fold = (events: SessionEvent[]) => () => foldSessionEvents(ID, events);
		expect(fold([anchored(2, 0, 1, 60, 1)])).toThrow(
			/ReadingsAnchored of session .* before it was opened/
		);
		expect(fold([opened, anchored(2, 1, 61, 120, 1)])).toThrow(
			/expected anchor #0, found #1 \(a log is missing/
		);
		expect(fold([opened, anchored(2, 0, 1, 60, 1), anchored(3, 1, 70, 80, 1)])).toThrow(
			/starts at reading #70, expected #61/
		);
		expect(fold([opened, closed(2), anchored(3, 0, 1, 2, 1)])).toThrow(/after it closed/);
		expect(fold([opened, { ...opened, ...pos(2) }])).toThrow(InconsistentLogError);
	});
});

describe('foldStationEvents', () => {
	const registered: StationEvent = {
		...pos(1),
		type: 'StationRegistered',
		signer: '0xA',
		lightningPubkey: '02aa',
		tariffRef: ZERO,
		location: 'here'
	};

	it('applies updates, key and tariff changes, retire and reactivate', () => {
		const station = foldStationEvents(ID, [
			{ ...pos(4), type: 'StationRetired' },
			registered,
			{
				...pos(2),
				type: 'StationUpdated',
				signer: '0xB',
				lightningPubkey: '03bb',
				tariffRef: ROOT,
				location: 'there'
			},
			{ ...pos(3), type: 'LightningPubkeyChanged', lightningPubkey: '02cc', by: '0xB' },
			{ ...pos(3), type: 'TariffRefChanged', tariffRef: ZERO, by: '0xB' }
		])!;
		expect(station).toMatchObject({
			stationId: ID,
			signer: '0xB',
			lightningPubkey: '02cc',
			tariffRef: ZERO,
			location: 'there',
			active: false
		});
		expect(
			foldStationEvents(ID, [
				registered,
				{ ...pos(5), type: 'StationRetired' },
				{ ...pos(6), type: 'StationReactivated' }
			])?.active
		).toBe(true);
		expect(foldStationEvents(ID, [])).toBeNull();
	});

	it('notices impossible logs', () => {
		expect(() => foldStationEvents(ID, [{ ...pos(1), type: 'StationRetired' }])).toThrow(
			/StationRetired of station .* before its registration/
		);
		expect(() => foldStationEvents(ID, [registered, { ...registered, ...pos(2) }])).toThrow(
			/registered a second time/
		);
		expect(() =>
			foldStationEvents(ID, [registered, { ...pos(2), type: 'StationReactivated' }])
		).toThrow(/reactivated while active/);
		expect(() =>
			foldStationEvents(ID, [
				registered,
				{ ...pos(2), type: 'StationRetired' },
				{ ...pos(3), type: 'StationRetired' }
			])
		).toThrow(/retired twice/);
	});
});
