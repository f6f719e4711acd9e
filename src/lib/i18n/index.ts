// The apps' sentences in English, German and Italian. Framework-free: `translate` takes the
// locale; src/lib/ui/lang.svelte.ts holds the chosen one for the screens.
//
// A catalogue value is a sentence with {placeholders}, or a plural set chosen with
// Intl.PluralRules by the `n` parameter. English is the reference: every language must have every
// key with the same placeholders (src/lib/i18n/catalogue.test.ts fails otherwise, and so does
// svelte-check through the `Catalogue` type).
import { de } from './de.js';
import { en, type MessageKey } from './en.js';
import { it } from './it.js';

import type { Catalogue, Message } from './types.js';

export type { MessageKey } from './en.js';
export type { Catalogue, Message, Plural } from './types.js';

export const LOCALES = ['en', 'de', 'it'] as const;
export type Locale = (typeof LOCALES)[number];
export const LANGUAGE_NAMES: Record<Locale, string> = {
	en: 'English',
	de: 'Deutsch',
	it: 'Italiano'
};
export const CATALOGUES: Record<Locale, Catalogue> = { en, de, it };

export function isLocale(x: unknown): x is Locale {
	return typeof x === 'string' && (LOCALES as readonly string[]).includes(x);
}

/** The first of the browser's languages (navigator.languages) the apps speak, else English. */
export function pickLocale(preferred: readonly string[] | undefined): Locale {
	for (const tag of preferred ?? []) {
		const primary = String(tag).toLowerCase().split(/[-_]/)[0];
		if (isLocale(primary)) return primary;
	}
	return 'en';
}

export type Params = Record<string, string | number>;

/** The sentence `key` in `locale` with its {placeholders} filled. A missing parameter stays visible as {name}. */
export function translate(locale: Locale, key: MessageKey, params: Params = {}): string {
	const msg: Message | undefined = CATALOGUES[locale]?.[key] ?? en[key];
	if (msg === undefined) throw new Error(`No sentence "${key}" in the catalogue.`);
	let text: string;
	if (typeof msg === 'string') text = msg;
	else {
		const n = Number(params.n);
		text =
			new Intl.PluralRules(locale).select(Number.isFinite(n) ? n : 0) === 'one'
				? msg.one
				: msg.other;
	}
	return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
		name in params ? String(params[name]) : whole
	);
}

/** The placeholders a message uses, sorted (for the catalogue test). */
export function placeholders(msg: Message): string[] {
	const texts = typeof msg === 'string' ? [msg] : [msg.one, msg.other];
	return [...new Set(texts.flatMap((t) => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)))].sort();
}

/** The catalogue key for a typed refusal reason of the wallet's invoice guard. */
export function refusalKey(reason: string | undefined): MessageKey | null {
	const key = `refusal.${reason}`;
	return key in en ? (key as MessageKey) : null;
}
