import { describe, expect, it } from 'vitest';
import { readLenientJson } from './lenient-json';

describe('readLenientJson', () => {
	it('reads what meters write and reports where the value ended', () => {
		const text = '{"a":0100.50,"b":"x\\qy","c":"tab\there","a2":[1,{"d":null}],"a2":true}|rest';
		const { value, end } = readLenientJson(text, 0);
		expect(value).toEqual({ a: 100.5, b: 'xqy', c: 'tab\there', a2: true });
		expect(text.slice(end)).toBe('|rest');
	});

	it('keeps "__proto__" as data and refuses runaway nesting and bad syntax', () => {
		const { value } = readLenientJson('{"__proto__":{"polluted":1}}', 0);
		expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
		expect(Object.keys(value as object)).toEqual(['__proto__']);
		expect(() => readLenientJson('['.repeat(100) + ']'.repeat(100), 0)).toThrow(/nested deeper/);
		expect(() => readLenientJson('{"a" 1}', 0)).toThrow(
			'expected ":" after a member name at character 5'
		);
		expect(() => readLenientJson('"open', 0)).toThrow(/unterminated string/);
	});
});
