import { describe, expect, it } from 'vitest';
import { Emitter } from './emitter';

describe('Emitter', () => {
	it('delivers typed arguments to every listener in subscription order, once each', () => {
		const e = new Emitter<[state: string, detail?: string]>();
		const got: string[] = [];
		const a = (s: string, d?: string) => got.push(`a:${s}:${d ?? ''}`);
		e.on(a);
		e.on(a);
		e.on((s) => got.push(`b:${s}`));
		e.emit('up', 'fine');
		expect(got).toEqual(['a:up:fine', 'b:up']);
		expect(e.size).toBe(2);
	});

	it('stops calling a listener once it unsubscribes, even during delivery', () => {
		const e = new Emitter<[number]>();
		const got: string[] = [];
		let offB = () => {};
		e.on((n) => {
			got.push(`a${n}`);
			offB();
		});
		offB = e.on((n) => got.push(`b${n}`));
		e.emit(1);
		e.emit(2);
		expect(got).toEqual(['a1', 'a2']);
		const c = (n: number) => got.push(`c${n}`);
		e.on(c);
		e.off(c);
		e.emit(3);
		expect(got).toEqual(['a1', 'a2', 'a3']);
	});

	it('a listener added during delivery hears from the next event on', () => {
		const e = new Emitter<[number]>();
		const got: string[] = [];
		e.on((n) => {
			got.push(`a${n}`);
			if (n === 1) e.on((m) => got.push(`late${m}`));
		});
		e.emit(1);
		e.emit(2);
		expect(got).toEqual(['a1', 'a2', 'late2']);
	});

	it('without onListenerError a throwing listener reaches the emitter; with it, the others still run', () => {
		const plain = new Emitter<[]>();
		plain.on(() => {
			throw new Error('listener bug');
		});
		expect(() => plain.emit()).toThrow('listener bug');

		const errors: unknown[] = [];
		const isolated = new Emitter<[]>({ onListenerError: (err) => errors.push(err) });
		let after = 0;
		isolated.on(() => {
			throw new Error('listener bug');
		});
		isolated.on(() => after++);
		isolated.emit();
		expect(after).toBe(1);
		expect(errors).toHaveLength(1);
		isolated.clear();
		isolated.emit();
		expect(after).toBe(1);
	});
});
