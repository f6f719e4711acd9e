// Power from a meter's energy register, smoothed over a time window.
//
// A meter counts whole watt-hours and its reading times wobble (taken on a timer, stamped when
// read): at a steady 30 kW one second may show 8 Wh and the next 12 Wh, 28.8 and 43.2 kW if each
// second is taken alone. The least-squares slope of energy over time across the last `windowMs`
// averages both the quantisation and the timing noise away, and still falls to zero within one
// window once no energy flows.

export interface EnergyPoint {
	/** Unix ms of the reading. */
	at: number;
	/** The meter's energy register, Wh. */
	energyWh: number;
}

export const POWER_WINDOW_MS = 10_000;

/** Least-squares slope (W) of points[from..to] (inclusive); null if their times do not differ. */
function slopeW(points: readonly EnergyPoint[], from: number, to: number): number | null {
	const n = to - from + 1;
	if (n < 2) return null;
	const t0 = points[from]!.at;
	let st = 0,
		se = 0;
	for (let i = from; i <= to; i++) {
		st += points[i]!.at - t0;
		se += points[i]!.energyWh;
	}
	const mt = st / n,
		me = se / n;
	let num = 0,
		den = 0;
	for (let i = from; i <= to; i++) {
		const dt = points[i]!.at - t0 - mt;
		num += dt * (points[i]!.energyWh - me);
		den += dt * dt;
	}
	return den > 0 ? (num / den) * 3_600_000 : null;
}

/** The first index whose reading lies within `windowMs` before reading `i` (at least i − 1). */
function windowStart(
	points: readonly EnergyPoint[],
	i: number,
	windowMs: number,
	from = 0
): number {
	let j = from;
	while (j < i && points[j]!.at < points[i]!.at - windowMs) j++;
	return Math.min(j, i - 1);
}

/** The smoothed power (W) at the newest reading; 0 without two readings. */
export function smoothPowerW(points: readonly EnergyPoint[], windowMs = POWER_WINDOW_MS): number {
	const last = points.length - 1;
	if (last < 1) return 0;
	return Math.max(0, slopeW(points, windowStart(points, last, windowMs), last) ?? 0);
}

/** The smoothed power (kW) at every reading (null at the first), for a chart. */
export function powerSeries(
	points: readonly EnergyPoint[],
	windowMs = POWER_WINDOW_MS
): (number | null)[] {
	const out: (number | null)[] = [];
	let from = 0;
	for (let i = 0; i < points.length; i++) {
		if (i === 0) {
			out.push(null);
			continue;
		}
		from = windowStart(points, i, windowMs, from);
		const w = slopeW(points, from, i);
		out.push(w === null ? null : Math.max(0, w) / 1000);
	}
	return out;
}
