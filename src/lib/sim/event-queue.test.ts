import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue';

describe('EventQueue', () => {
	it('pops in time order, ties in insertion order', () => {
		fc.assert(
			fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 3000 }), (times) => {
				const q = new EventQueue<number>();
				times.forEach((t, i) => q.push(t, i));
				const out: Array<{ time: number; item: number }> = [];
				for (let e = q.pop(); e; e = q.pop()) out.push(e);
				const expected = times
					.map((t, i) => ({ time: t, item: i }))
					.sort((a, b) => a.time - b.time || a.item - b.item);
				expect(out).toEqual(expected);
			})
		);
	});

	it('refuses a time that is not a number', () => {
		expect(() => new EventQueue<number>().push(NaN, 1)).toThrow(/event time must be finite/);
	});
});
