import { describe, expect, it } from 'vitest';
import {
	ALL_STATUS_TOPICS,
	driverTopic,
	eventsTopic,
	invoicesTopic,
	isValidId,
	parseTopic,
	readingsTopic,
	sessionWildcard,
	stationWildcard,
	statusTopic,
	walletSubscriptions
} from './topics';

describe('topics', () => {
	it('builds the documented topic names', () => {
		expect(statusTopic('st-1')).toBe('lightcharge/v1/stations/st-1/status');
		expect(readingsTopic('st-1', 's.9')).toBe('lightcharge/v1/stations/st-1/sessions/s.9/readings');
		expect(invoicesTopic('st-1', 's_9')).toBe('lightcharge/v1/stations/st-1/sessions/s_9/invoices');
		expect(eventsTopic('A', 'B')).toBe('lightcharge/v1/stations/A/sessions/B/events');
		expect(driverTopic('A', 'B')).toBe('lightcharge/v1/stations/A/sessions/B/driver');
		expect(sessionWildcard('A', 'B')).toBe('lightcharge/v1/stations/A/sessions/B/+');
		expect(stationWildcard('A')).toBe('lightcharge/v1/stations/A/#');
		expect(walletSubscriptions('A', 'B')).toEqual([statusTopic('A'), sessionWildcard('A', 'B')]);
		expect(ALL_STATUS_TOPICS).toBe('lightcharge/v1/stations/+/status');
	});

	it('refuses ids that could break topic structure', () => {
		for (const bad of ['', 'a/b', 'a+', '#', 'x'.repeat(65), 'ä', 'a b']) {
			expect(isValidId(bad)).toBe(false);
			expect(() => statusTopic(bad)).toThrow(/station id must/);
		}
		expect(() => readingsTopic('ok', 'no/slash')).toThrow(/session id must be 1 to 64 characters/);
		expect(isValidId('x'.repeat(64))).toBe(true);
	});

	it('parses every topic it builds back, and nothing else', () => {
		expect(parseTopic(statusTopic('st-1'))).toEqual({ kind: 'status', stationId: 'st-1' });
		for (const [build, kind] of [
			[readingsTopic, 'readings'],
			[invoicesTopic, 'invoices'],
			[eventsTopic, 'events'],
			[driverTopic, 'driver']
		] as const) {
			expect(parseTopic(build('st-1', 'sess-2'))).toEqual({
				kind,
				stationId: 'st-1',
				sessionId: 'sess-2'
			});
		}
		for (const bad of [
			'lightcharge/v2/stations/a/status',
			'lightcharge/v1/stations/a/status/extra',
			'lightcharge/v1/stations/+/status',
			'lightcharge/v1/stations/a/sessions/b/other',
			'lightcharge/v1/stations/a/sessions/b',
			'lightcharge/v1/stations/a/sessions/#/readings',
			'lightcharge/v1/garages/a/status',
			''
		]) {
			expect(parseTopic(bad)).toBeNull();
		}
	});
});
