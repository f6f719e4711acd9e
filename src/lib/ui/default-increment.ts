// The increment a station bills by default when its operator (or the demo URL) names none: the
// least energy per invoice that keeps the driver's routing fee under 1 % at LND's default fee
// (chooseIncrement, session/increment.ts), floored by the payment round trip at the
// connector's power, within the station's own limits on it.
import { chooseIncrement, type IncrementChoice } from '../session';

export interface IncrementLimits {
	/** The station's smallest increment, Wh. */
	minWh?: number;
	/** The station's largest increment, Wh (less energy on credit; may break the 1 % target). */
	maxWh?: number;
}

export function defaultIncrement(
	pricePerKwhMsat: number,
	maxPowerW: number,
	limits: IncrementLimits = {}
): IncrementChoice {
	return chooseIncrement({ pricePerKwhMsat, maxPowerW, minWh: limits.minWh, maxWh: limits.maxWh });
}

/** The station's limits from the kiosk's URL (`?minIncrementWh=…&maxIncrementWh=…`); a value that is not a positive number is ignored. */
export function limitsFromQuery(q: URLSearchParams): IncrementLimits {
	const read = (name: string) => {
		const raw = q.get(name);
		const n = raw === null ? NaN : Number(raw);
		return Number.isFinite(n) && n > 0 ? Math.round(n) : undefined;
	};
	return { minWh: read('minIncrementWh'), maxWh: read('maxIncrementWh') };
}
