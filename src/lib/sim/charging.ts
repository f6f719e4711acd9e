// Battery physics: how much power a battery accepts, and how long a charge takes.

/** State of charge where the taper starts, and the share of full power left at 100 %. */
const TAPER_FROM = 0.8;
const TAPER_SLOPE = 0.9 / (1 - TAPER_FROM);

/**
 * Highest power (kW) a battery accepts at a state of charge: full power up to 80 %, then a linear
 * taper to 10 % of it at 100 % (the CC-CV shape of lithium-ion charging).
 */
export function acceptedPowerKw(maxKw: number, soc: number): number {
	if (soc <= TAPER_FROM) return maxKw;
	if (soc >= 1) return 0.1 * maxKw;
	return maxKw * (1 - TAPER_SLOPE * (soc - TAPER_FROM));
}

/**
 * Minutes to charge from `fromSoc` to `toSoc` at up to `limitKw`: the exact integral of
 * battery × dSoC / min(limit, accepted power). Closed form, O(1): a station choice asks it for
 * every candidate station.
 */
export function chargeMinutes(
	batteryKwh: number,
	maxKw: number,
	fromSoc: number,
	toSoc: number,
	limitKw: number
): number {
	const a = Math.max(0, fromSoc);
	const b = Math.min(1, toSoc);
	if (b <= a) return 0;
	const flatKw = Math.min(limitKw, maxKw);
	if (flatKw <= 0) return Infinity;
	let hours = 0;
	// Below the taper, and in the taper while the limit is lower than what the battery accepts.
	const limitedUntil =
		limitKw >= maxKw ? TAPER_FROM : Math.min(1, TAPER_FROM + (1 - limitKw / maxKw) / TAPER_SLOPE);
	const flatEnd = Math.min(b, limitedUntil);
	if (flatEnd > a) hours += ((flatEnd - a) * batteryKwh) / flatKw;
	// Where the battery's taper is the limit: ∫ B ds / (M (1 − k (s − 0.8))) = B/(M k) · ln(…).
	const s1 = Math.max(a, limitedUntil);
	if (b > s1) {
		const accepted = (s: number) => 1 - TAPER_SLOPE * (s - TAPER_FROM);
		hours += (batteryKwh / (maxKw * TAPER_SLOPE)) * Math.log(accepted(s1) / accepted(b));
	}
	return hours * 60;
}
