import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
	CATALOGUES,
	LOCALES,
	pickLocale,
	placeholders,
	refusalKey,
	translate,
	type MessageKey
} from './index';
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
				for (const m of readFileSync(p, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z]+\.[a-zA-Z_.]+)'/g))
					out.push({ file: p, key: m[1]! });
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

/** Markup without its script, style and `{…}` expressions (braces balanced). */
function markupText(source: string): string {
	const noCode = source
		.replace(/<script[\s\S]*?<\/script>/g, '')
		.replace(/<style[\s\S]*?<\/style>/g, '');
	let out = '';
	let depth = 0;
	for (const ch of noCode) {
		if (ch === '{') depth++;
		else if (ch === '}') depth = Math.max(0, depth - 1);
		else if (depth === 0) out += ch;
	}
	return out;
}

/** Two words in a row in a screen's markup or in a placeholder, label or title: a sentence not from the catalogue. */
function sentencesInMarkup(file: string): string[] {
	const text = markupText(readFileSync(file, 'utf8'));
	const found: string[] = [];
	const twoWords = /[A-Za-zÀ-ÿ’']{2,}[ ,]+[A-Za-zÀ-ÿ’']{2,}/;
	for (const m of text.matchAll(/>([^<>]+)</g))
		if (twoWords.test(m[1]!) && !BRANDS.includes(m[1]!.trim())) found.push(m[1]!.trim());
	for (const m of text.matchAll(/\b(?:placeholder|aria-label|title|alt)="([^"]*)"/g))
		if (twoWords.test(m[1]!)) found.push(m[0]);
	return found;
}
/** Names, not sentences. */
const BRANDS = ['Lightcharge Kiosk', 'Setup · Lightcharge Kiosk'];

describe('no sentence outside the catalogue', () => {
	// The driver's and the station's screens (the fleet simulator at /sim is a developer's tool, in English).
	const screens: string[] = [];
	const walk = (dir: string) => {
		for (const name of readdirSync(dir)) {
			const p = join(dir, name);
			if (statSync(p).isDirectory()) {
				if (!p.endsWith(join('routes', 'sim'))) walk(p);
			} else if (name.endsWith('.svelte')) screens.push(p);
		}
	};
	walk('src/routes');
	walk('kiosk/routes');
	test('the scan reads the screens', () => {
		expect(screens.length).toBeGreaterThan(10);
		expect(sentencesInMarkup).toBeTypeOf('function');
	});
	test.each(screens)('%s', (file) => {
		expect(sentencesInMarkup(file)).toEqual([]);
	});
	test('it would find one', () => {
		expect(markupText('<p>Hello {name}, <b>{t("x")}</b> welcome back</p><style>p{}</style>')).toBe(
			'<p>Hello , <b></b> welcome back</p>'
		);
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
		expect(() => translate('en', 'no.such' as MessageKey)).toThrow(
			'No sentence "no.such" in the catalogue.'
		);
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
		const codes = [
			'record_mismatch',
			'record_hash',
			'sequence',
			'overlap',
			'already_paid',
			'budget',
			'identity',
			'malformed',
			'network',
			'expired',
			'amount',
			'description_hash',
			'payee',
			'no_amount',
			'route',
			'fallback'
		];
		for (const c of codes) expect(refusalKey(c), c).not.toBeNull();
		expect(refusalKey('payment_failed')).toBeNull();
		expect(refusalKey(undefined)).toBeNull();
	});
});
