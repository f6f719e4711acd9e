import { describe, expect, it } from 'vitest';
import { canonicalize } from './canonical-json';

describe('canonicalize (RFC 8785)', () => {
	it('reproduces the RFC 8785 §3.2.2 sample', () => {
		const input = JSON.parse(
			'{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
				'"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}'
		);
		expect(canonicalize(input)).toBe(
			'{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
				'"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
		);
	});

	it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3 sample)', () => {
		const input = {
			'\u20ac': 'Euro Sign',
			'\r': 'Carriage Return',
			'\ufb33': 'Hebrew Letter Dalet With Dagesh',
			'1': 'One',
			'\ud83d\ude00': 'Emoji: Grinning Face',
			'\u0080': 'Control',
			'\u00f6': 'Latin Small Letter O With Diaeresis'
		};
		// Object.keys would list "1" first (array-index keys), so check the text itself.
		expect(canonicalize(input)).toBe(
			'{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
				'"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
				'"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
		);
	});

	it('serialises numbers as ECMAScript does (RFC 8785 appendix B values)', () => {
		const cases: Array<[number, string]> = [
			[0, '0'],
			[-0, '0'],
			[5e-324, '5e-324'],
			[-5e-324, '-5e-324'],
			[1.7976931348623157e308, '1.7976931348623157e+308'],
			[9007199254740992, '9007199254740992'],
			[295147905179352830000, '295147905179352830000'],
			[9.999999999999997e22, '9.999999999999997e+22'],
			[1e23, '1e+23'],
			[0.000001, '0.000001'],
			[9.999999999999997e-7, '9.999999999999997e-7']
		];
		for (const [value, text] of cases) expect(canonicalize(value)).toBe(text);
	});

	it('nests, omits undefined members and writes no whitespace', () => {
		expect(canonicalize({ b: [1, { d: 1, c: 'x' }], a: undefined, e: {} })).toBe(
			'{"b":[1,{"c":"x","d":1}],"e":{}}'
		);
	});

	it('refuses what JSON cannot carry unambiguously', () => {
		expect(() => canonicalize(Number.NaN)).toThrow(/NaN/);
		expect(() => canonicalize({ a: Infinity })).toThrow(/\$\.a is Infinity/);
		expect(() => canonicalize({ a: 1n })).toThrow(/bigint/);
		expect(() => canonicalize([undefined])).toThrow(/undefined/);
		expect(() => canonicalize('\ud800')).toThrow(/unpaired surrogate/);
		expect(() => canonicalize({ when: new Date(0) })).toThrow(/not a plain object/);
		const loop: Record<string, unknown> = {};
		loop.self = loop;
		expect(() => canonicalize(loop)).toThrow(/refers back/);
	});

	it('allows the same object twice when it is not a cycle', () => {
		const shared = { x: 1 };
		expect(canonicalize({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
	});
});
