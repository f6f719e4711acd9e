// The one way both apps (and their sentences) write amounts, energy, power and time for people.
// Framework-free: the locale is passed in (see src/lib/i18n for how it is chosen).
//
// Amounts: whole satoshis with the locale's grouping ("31 sat", "12.345 sat" in German); the
// millisatoshis are shown only where they matter, under 10 sat ("0.25 sat", "1.001 sat").
// Fiat beside sats only when the driver or the operator configured a rate.

export interface FiatRate {
	/** ISO 4217 code, e.g. "EUR". */
	currency: string;
	/** Price of one bitcoin in that currency. */
	perBtc: number;
}

const cache = new Map<string, Intl.NumberFormat>();
function nf(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
	const key = `${locale}|${JSON.stringify(options)}`;
	let f = cache.get(key);
	if (!f) {
		f = new Intl.NumberFormat(locale, options);
		cache.set(key, f);
	}
	return f;
}

/** Below this many millisatoshis the msat digits are shown (they are a visible share of the amount). */
export const MSAT_SHOWN_BELOW = 10_000n;

/** The number of satoshis in `msat`, for people: "1,234" / "1.234" / "0.25". No unit. */
export function satNumber(msat: bigint, locale = 'en'): string {
	const neg = msat < 0n;
	const abs = neg ? -msat : msat;
	let text: string;
	if (abs < MSAT_SHOWN_BELOW && abs % 1000n !== 0n) {
		text = nf(locale, { minimumFractionDigits: 0, maximumFractionDigits: 3 }).format(
			Number(abs) / 1000
		);
	} else {
		// Round half up to whole sat in bigint, so large amounts stay exact.
		text = nf(locale, { maximumFractionDigits: 0 }).format((abs + 500n) / 1000n);
	}
	return neg ? `−${text}` : text;
}

/** "1,234 sat" with a no-break space, so the unit never wraps onto its own line. */
export function sat(msat: bigint, locale = 'en'): string {
	return `${satNumber(msat, locale)}\u00a0sat`;
}

/**
 * Every millisatoshi of `msat`: "12,345 sat", "1,234,567.891 sat" (bigint throughout, so exact at
 * any size). For the English sentences src/lib keeps for logs and the CLI, where a refusal compares
 * two amounts that may differ by one msat; screens show sat().
 */
export function satExact(msat: bigint, locale = 'en'): string {
	const neg = msat < 0n;
	const abs = neg ? -msat : msat;
	const whole = nf(locale, { maximumFractionDigits: 0 }).format(abs / 1000n);
	const rest = abs % 1000n;
	const point =
		nf(locale, { minimumFractionDigits: 1 })
			.formatToParts(0.5)
			.find((p) => p.type === 'decimal')?.value ?? '.';
	const fraction = rest === 0n ? '' : point + rest.toString().padStart(3, '0').replace(/0+$/, '');
	return `${neg ? '-' : ''}${whole}${fraction} sat`;
}

/** The fiat value of `msat` at `rate`, or '' when no (valid) rate is configured. */
export function fiat(msat: bigint, rate: FiatRate | null | undefined, locale = 'en'): string {
	if (!rate || !(rate.perBtc > 0) || !/^[A-Z]{3}$/.test(rate.currency)) return '';
	const value = (Number(msat) / 1e11) * rate.perBtc;
	// Under one unit a price per kWh needs its tenth of a cent (0.225 €/kWh), as fuel prices do.
	const digits = Math.abs(value) < 1 ? 3 : 2;
	try {
		return nf(locale, {
			style: 'currency',
			currency: rate.currency,
			minimumFractionDigits: 2,
			maximumFractionDigits: digits
		}).format(value);
	} catch {
		return `${nf(locale, { minimumFractionDigits: 2, maximumFractionDigits: digits }).format(value)} ${rate.currency}`;
	}
}

/**
 * Fees as a share of what they were paid on, e.g. "0.8%" / "0,8 %", or '' when nothing was paid
 * yet. One decimal; a share that is not zero but rounds to 0.0 is shown as "<0.1%".
 */
export function feeShare(feesMsat: bigint, paidMsat: bigint, locale = 'en'): string {
	if (paidMsat <= 0n || feesMsat < 0n) return '';
	const share = Number(feesMsat) / Number(paidMsat);
	const f = nf(locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
	if (share > 0 && share < 0.0005) return `<${f.format(0.001)}`;
	return f.format(share);
}

/** kWh with a fixed number of decimals (3 = watt-hours, what a meter counts). */
export function kwh(wh: number, locale = 'en', digits = 3): string {
	return nf(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
		wh / 1000
	);
}

/** kW with one decimal. */
export function kw(w: number, locale = 'en'): string {
	return nf(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(w / 1000);
}

/** A plain count with the locale's grouping. */
export function count(n: number, locale = 'en'): string {
	return nf(locale, { maximumFractionDigits: 0 }).format(n);
}

/** Elapsed time: "m:ss", or "h:mm:ss" from an hour on. Negative durations show as 0:00. */
export function duration(ms: number): string {
	const s = Number.isFinite(ms) ? Math.max(0, Math.floor(ms / 1000)) : 0;
	const h = Math.floor(s / 3600),
		m = Math.floor((s % 3600) / 60),
		sec = s % 60;
	return h > 0
		? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
		: `${m}:${String(sec).padStart(2, '0')}`;
}

/** A long hex string shortened to its ends: "73ff7d1d…0a45ca55". */
export const shortHex = (hex: string, n = 8): string =>
	hex.length > 2 * n ? `${hex.slice(0, n)}…${hex.slice(-n)}` : hex;

export { smoothPowerW, powerSeries, POWER_WINDOW_MS, type EnergyPoint } from './power.js';
