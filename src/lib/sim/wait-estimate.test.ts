import { describe, expect, it } from 'vitest';
import { delayToOthersMinutes, expectedWaitMinutes } from './wait-estimate';

describe('expectedWaitMinutes', () => {
	const now = 1000;
	const idle = { connectors: 2, busySince: [], waiting: 0, meanSessionMin: 40 };

	it('is zero with free connectors and grows with the reservations ahead', () => {
		expect(expectedWaitMinutes(idle, now, now + 600)).toBe(0);
		expect(expectedWaitMinutes(idle, now, now + 600, [now])).toBe(0);
		// Two connectors both taken from `now` for 40 min: arriving at +10 min waits 30 min.
		expect(expectedWaitMinutes(idle, now, now + 600, [now, now])).toBeCloseTo(30);
		// Reservations arriving after us do not delay us.
		expect(expectedWaitMinutes(idle, now, now + 600, [now + 1200, now + 1200])).toBe(0);
	});

	it('counts how long the occupants have been charging already', () => {
		// Both connectors busy, one for 35 of a typical 40 min: it frees in 5 min.
		const busy = { ...idle, busySince: [now - 35 * 60, now - 5 * 60] };
		expect(expectedWaitMinutes(busy, now, now)).toBeCloseTo(5);
		// A session past the typical length frees now, not 40 min from now.
		expect(expectedWaitMinutes({ ...idle, busySince: [now - 50 * 60, now] }, now, now)).toBe(0);
		// The queue takes the connectors as they free: the second in line waits for the second to free.
		expect(expectedWaitMinutes({ ...busy, waiting: 1 }, now, now)).toBeCloseTo(35);
	});
});

describe('look-ahead and the delay to others', () => {
	const now = 1000;
	const idle = { connectors: 2, busySince: [], waiting: 0, meanSessionMin: 40 };

	it('uses the published end of each session where there is one', () => {
		// Typical 40 min, but the station says the sessions end in 2 and 20 min.
		const busy = {
			...idle,
			busySince: [now - 35 * 60, now - 5 * 60],
			busyUntil: [now + 120, now + 1200]
		};
		expect(expectedWaitMinutes(busy, now, now)).toBeCloseTo(2);
		expect(expectedWaitMinutes({ ...busy, waiting: 1 }, now, now)).toBeCloseTo(20);
	});

	it('counts the wait a choice adds to the vehicles reserved after it', () => {
		// One connector, free now; a reservation due at +10 min. Arriving at +5 min for 30 min makes it wait 25.
		const one = { ...idle, connectors: 1 };
		expect(delayToOthersMinutes(one, now, now + 300, 1800, [now + 600])).toBeCloseTo(25);
		// Arriving after it delays nobody; with two connectors nobody is delayed either.
		expect(delayToOthersMinutes(one, now, now + 900, 1800, [now + 600])).toBe(0);
		expect(delayToOthersMinutes(idle, now, now + 300, 1800, [now + 600])).toBe(0);
		// The delay passes down the line: at +1 and +2 min (40 min each) both start 9 min later.
		expect(delayToOthersMinutes(one, now, now, 600, [now + 60, now + 120])).toBeCloseTo(9 + 9);
	});
});
