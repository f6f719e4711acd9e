// Battery physics and site power sharing.

/**
 * Highest power (kW) a battery accepts at a state of charge: full power up to 80 %, then a linear
 * taper to 10 % of it at 100 % (the CC-CV shape of lithium-ion charging).
 */
export function acceptedPowerKw(maxKw: number, soc: number): number {
	if (soc <= 0.8) return maxKw;
	if (soc >= 1) return 0.1 * maxKw;
	return maxKw * (1 - 0.9 * ((soc - 0.8) / 0.2));
}

/** Minutes to charge from `fromSoc` to `toSoc` at up to `limitKw`, integrating the taper in 1 % steps. */
export function chargeMinutes(batteryKwh: number, maxKw: number, fromSoc: number, toSoc: number, limitKw: number): number {
	if (toSoc <= fromSoc) return 0;
	let minutes = 0;
	const step = 0.01;
	for (let soc = fromSoc; soc < toSoc - 1e-9; soc += step) {
		const slice = Math.min(step, toSoc - soc);
		const kw = Math.min(limitKw, acceptedPowerKw(maxKw, soc + slice / 2));
		if (kw <= 0) return Infinity;
		minutes += ((slice * batteryKwh) / kw) * 60;
	}
	return minutes;
}

export interface PowerDemand {
	/** Highest power this vehicle can take now (connector and battery), kW. */
	maxKw: number;
	/** Relative priority: more weight gets a larger share once capped vehicles are satisfied. */
	weight: number;
}

/**
 * Weighted water-filling: finds a level λ so each vehicle gets min(maxKw, λ·weight) and the total
 * equals the site limit (or every vehicle gets its maximum when the limit allows). The sum never
 * exceeds `limitKw`.
 */
export function waterFill(demands: readonly PowerDemand[], limitKw: number): number[] {
	const n = demands.length;
	const out = new Array<number>(n).fill(0);
	if (n === 0 || limitKw <= 0) return out;
	let wanted = 0;
	for (const d of demands) wanted += Math.max(0, d.maxKw);
	if (wanted <= limitKw) return demands.map((d) => Math.max(0, d.maxKw));
	// Vehicles saturate in order of maxKw / weight; past that point they hold their cap.
	const order = demands.map((_, i) => i).sort((i, j) => ratio(demands[i]!) - ratio(demands[j]!));
	let remaining = limitKw;
	let weightLeft = 0;
	for (const d of demands) weightLeft += d.weight;
	for (let k = 0; k < n; k++) {
		const i = order[k]!;
		const d = demands[i]!;
		const level = remaining / weightLeft;
		const share = level * d.weight;
		if (Math.max(0, d.maxKw) <= share) {
			out[i] = Math.max(0, d.maxKw);
		} else {
			// Every later vehicle saturates above this level: all of them get level × weight.
			for (let m = k; m < n; m++) {
				const j = order[m]!;
				out[j] = level * demands[j]!.weight;
			}
			break;
		}
		remaining -= out[i]!;
		weightLeft -= d.weight;
	}
	// Float rounding must never push the site over its limit.
	const total = out.reduce((a, b) => a + b, 0);
	if (total > limitKw) {
		const scale = limitKw / total;
		for (let i = 0; i < n; i++) out[i] = out[i]! * scale;
	}
	return out;
}

function ratio(d: PowerDemand): number {
	return d.weight > 0 ? Math.max(0, d.maxKw) / d.weight : Infinity;
}
