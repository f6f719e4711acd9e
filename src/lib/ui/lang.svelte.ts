// The language the screens speak and the number formats that go with it: from the browser's
// languages, switchable in the settings (kept in localStorage). Components read `lang.t(...)` and
// the formatters here, so a switch re-renders every sentence and number at once.
import * as f from '$lib/format';
import {
	isLocale,
	pickLocale,
	translate,
	type Locale,
	type MessageKey,
	type Params
} from '$lib/i18n';

const STORAGE_KEY = 'lightcharge-lang';

function initial(): Locale {
	if (typeof localStorage !== 'undefined') {
		const saved = localStorage.getItem(STORAGE_KEY);
		if (isLocale(saved)) return saved;
	}
	return pickLocale(typeof navigator !== 'undefined' ? navigator.languages : undefined);
}

export class Lang {
	#locale = $state<Locale>(initial());

	get locale(): Locale {
		return this.#locale;
	}
	set(locale: Locale): void {
		if (!isLocale(locale)) return;
		this.#locale = locale;
		localStorage.setItem(STORAGE_KEY, locale);
		document.documentElement.lang = locale;
	}
	t = (key: MessageKey, params?: Params): string => translate(this.#locale, key, params);
	sat = (msat: bigint): string => f.sat(msat, this.#locale);
	satNumber = (msat: bigint): string => f.satNumber(msat, this.#locale);
	fiat = (msat: bigint, rate: f.FiatRate | null | undefined): string =>
		f.fiat(msat, rate, this.#locale);
	feeShare = (feesMsat: bigint, paidMsat: bigint): string =>
		f.feeShare(feesMsat, paidMsat, this.#locale);
	kwh = (wh: number, digits = 3): string => f.kwh(wh, this.#locale, digits);
	kw = (w: number): string => f.kw(w, this.#locale);
	duration = (ms: number): string => f.duration(ms);
	count = (n: number): string => f.count(n, this.#locale);
	// A Date made to be formatted at once, not state: nothing to make reactive.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	time = (at: number): string => new Date(at).toLocaleTimeString(this.#locale);
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	dateTime = (at: number): string => new Date(at).toLocaleString(this.#locale);
}

export const lang = new Lang();
