import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CATALOGUES, LOCALES, pickLocale, placeholders, refusalKey, translate, type MessageKey } from './index';
import { en } from './en';

const keys = Object.keys(en) as MessageKey[];

describe.each(LOCALES.filter((l) => l !== 'en'))('catalogue %s', (locale) => {
	const cat = CATALOGUES[locale];
	test('has every English key, and no key English lacks', () => {
		expect(Object.keys(cat).filter((k) => !(k in en))).toEqual([]);
		expect(keys.filter((k) => !(k in cat))).toEqual([]);
	});
	test.each(keys)('%s: same placeholders and plural shape as English, not empty', (key) => {
		const msg = cat[key];
		expect(typeof msg).toBe(typeof en[key]);
		expect(placeholders(msg)).toEqual(placeholders(en[key]));
		const texts = typeof msg === 'string' ? [msg] : [msg.one, msg.other];
		for (const t of texts) expect(t.trim().length).toBeGreaterThan(0);
	});
});

/** Every `t('key')` / `lang.t('key')` in the apps' screens and state classes. */
function usedKeys(): { file: string; key: string }[] {
	const roots = ['src/routes', 'kiosk/routes', 'src/lib/ui'];
	const out: { file: string; key: string }[] = [];
	const walk = (dir: string) => {
		for (const name of readdirSync(dir)) {
			const p = join(dir, name);
			if (statSync(p).isDirectory()) walk(p);
			else if (/\.(svelte|ts)$/.test(name) && !name.endsWith('.test.ts'))
				for (const m of readFileSync(p, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z]+\.[a-zA-Z_.]+)'/g)) out.push({ file: p, key: m[1]! });
		}
	};
	for (const r of roots) walk(r);
	return out;
}

describe('keys used by the screens', () => {
	const used = usedKeys();
	test('the scan finds the screens’ keys (so the next test cannot pass on nothing)', () => {
		expect(used.length).toBeGreaterThan(50);
		expect(used.some((u) => u.file.includes('session'))).toBe(true);
		expect(used.some((u) => u.file.includes('kiosk'))).toBe(true);
	});
	test('every key a screen uses is defined', () => {
		expect(used.filter((u) => !(u.key in en)).map((u) => `${u.file}: ${u.key}`)).toEqual([]);
	});
});

describe('translate', () => {
	test('fills placeholders and picks the plural by n', () => {
		expect(translate('en', 'session.pending', { n: 1 })).toBe('1 payment pending');
		expect(translate('en', 'session.pending', { n: 3 })).toBe('3 payments pending');
		expect(translate('de', 'session.pending', { n: 2 })).toBe('2 Zahlungen unterwegs');
		expect(translate('it', 'session.pending', { n: 1 })).toBe('1 pagamento in corso');
	});
	test('a missing parameter stays visible instead of printing "undefined"', () => {
		expect(translate('en', 'session.paused')).toBe('Paused: {why}');
	});
	test('an unknown key throws a sentence naming it', () => {
		expect(() => translate('en', 'no.such' as MessageKey)).toThrow('No sentence "no.such" in the catalogue.');
	});
	test.each([
		[['de-DE', 'en'], 'de'],
		[['it-IT'], 'it'],
		[['fr-FR', 'it'], 'it'],
		[['fr'], 'en'],
		[[], 'en'],
		[undefined, 'en'],
		[['DE_at'], 'de']
	])('pickLocale(%j) = %s', (langs, locale) => {
		expect(pickLocale(langs)).toBe(locale);
	});
	test('every typed refusal code of the wallet guard has a sentence', () => {
		const codes = ['record_mismatch', 'record_hash', 'sequence', 'overlap', 'already_paid', 'budget', 'identity', 'malformed', 'network', 'expired', 'amount', 'description_hash', 'payee', 'no_amount', 'route', 'fallback'];
		for (const c of codes) expect(refusalKey(c), c).not.toBeNull();
		expect(refusalKey('payment_failed')).toBeNull();
		expect(refusalKey(undefined)).toBeNull();
	});
});
