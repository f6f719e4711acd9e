import { describe, expect, it } from 'vitest';
import { benchFlags, percentile, wholeNumber } from './common';

describe('bench flags', () => {
	const spec = {
		payments: { number: 2000 },
		broker: { text: 'aedes' },
		brokers: { list: ['aedes', 'mosquitto'] }
	};

	it('gives the defaults when no flag is set', () => {
		expect(benchFlags(spec, [])).toEqual({
			payments: 2000,
			broker: 'aedes',
			brokers: ['aedes', 'mosquitto']
		});
	});

	it('reads --flag value for numbers, texts and comma lists', () => {
		expect(
			benchFlags(spec, [
				'--payments',
				'30',
				'--broker',
				'mosquitto',
				'--brokers',
				'mosquitto, aedes'
			])
		).toEqual({ payments: 30, broker: 'mosquitto', brokers: ['mosquitto', 'aedes'] });
	});

	it('refuses an unknown flag and names the known ones', () => {
		expect(() => benchFlags(spec, ['--payment', '3'])).toThrow(
			/Known flags: --payments, --broker, --brokers/
		);
	});

	it('refuses a number flag that is not a number ≥ 0', () => {
		expect(() => benchFlags(spec, ['--payments', 'many'])).toThrow(
			'--payments must be a number ≥ 0, not "many".'
		);
		expect(() => benchFlags(spec, ['--payments=-1'])).toThrow(/--payments must be a number/);
		expect(() => benchFlags(spec, ['--payments', ''])).toThrow(/--payments must be a number/);
	});

	it('checks whole numbers with the flag name', () => {
		expect(wholeNumber('pairs', 4)).toBe(4);
		expect(() => wholeNumber('pairs', 0)).toThrow('--pairs must be a whole number ≥ 1, not 0.');
		expect(() => wholeNumber('pairs', 1.5)).toThrow(/whole number/);
	});
});

describe('one percentile definition', () => {
	it('is nearest rank: the smallest value with at least p % of the values at or below it', () => {
		const values = Array.from({ length: 20 }, (_, i) => i + 1);
		expect(percentile(values, 50)).toBe(10);
		expect(percentile(values, 95)).toBe(19);
		expect(percentile(values, 100)).toBe(20);
		expect(percentile([7], 95)).toBe(7);
		expect(percentile([], 95)).toBeNaN();
	});
});
