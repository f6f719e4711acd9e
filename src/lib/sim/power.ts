// Sharing power among the sessions of a feeder: each site has its own limit (its grid
// connection), and the sites of a feeder share the feeder's limit. Two families of policy:
// water-filling by weight (equal shares, or weighted by slack to the deadline) and strict priority
// (least laxity first and earliest deadline first, as in Caltech's ACN-Sim, and shortest remaining
// charge first). Every result respects each vehicle's maximum, each site's limit and the feeder's.
import type { PowerPolicy } from './options';

export interface PowerDemand {
	/** Highest power this vehicle can take now (connector and battery), kW. */
	maxKw: number;
	/** Relative priority: more weight gets a larger share once capped vehicles are satisfied. */
	weight: number;
}

/**
 * Weighted water-filling: finds a level λ so each vehicle gets min(maxKw, λ·weight) and the total
 * equals the limit (or every vehicle gets its maximum when the limit allows). The sum never
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
	return clampTotal(out, limitKw);
}

function ratio(d: PowerDemand): number {
	return d.weight > 0 ? Math.max(0, d.maxKw) / d.weight : Infinity;
}

/** Float rounding must never push a site over its limit. */
function clampTotal(out: number[], limitKw: number): number[] {
	let total = 0;
	for (const x of out) total += x;
	if (total > limitKw) {
		const scale = limitKw / total;
		for (let i = 0; i < out.length; i++) out[i] = out[i]! * scale;
	}
	return out;
}

export interface SessionDemand {
	maxKw: number;
	/** Energy still wanted, Wh. */
	remainingWh: number;
	/** Simulated seconds by which the driver wants to leave. */
	deadline: number;
}

export interface SiteDemand {
	limitKw: number;
	sessions: readonly SessionDemand[];
}

/**
 * Allocates a feeder's power for the next interval: kW per session, per site. `feederLimitKw`
 * is Infinity for a site with a grid connection of its own.
 */
export function allocatePower(
	policy: PowerPolicy,
	sites: readonly SiteDemand[],
	feederLimitKw: number,
	nowSeconds: number
): number[][] {
	if (policy === 'llf' || policy === 'edf' || policy === 'srpt')
		return byPriority(policy, sites, feederLimitKw, nowSeconds);
	const weight = (s: SessionDemand) => {
		if (policy === 'equal') return 1;
		// Least slack first: slack = minutes to the deadline minus minutes still needed at full rate.
		const slackMin = (s.deadline - nowSeconds) / 60 - minutesAtFullRate(s);
		return 1 / Math.max(5, slackMin + 30);
	};
	// Each site shares its own limit; then, if the feeder is short, the feeder shares its limit
	// with every session capped at what its site gave it (which keeps every site within its limit).
	const perSite = sites.map((site) =>
		waterFill(
			site.sessions.map((s) => ({ maxKw: s.maxKw, weight: weight(s) })),
			site.limitKw
		)
	);
	if (!Number.isFinite(feederLimitKw)) return perSite;
	let total = 0;
	for (const shares of perSite) for (const x of shares) total += x;
	if (total <= feederLimitKw) return perSite;
	const flat: PowerDemand[] = [];
	sites.forEach((site, i) =>
		site.sessions.forEach((s, j) => flat.push({ maxKw: perSite[i]![j]!, weight: weight(s) }))
	);
	const shares = waterFill(flat, feederLimitKw);
	let k = 0;
	return sites.map((site) => site.sessions.map(() => shares[k++]!));
}

function minutesAtFullRate(s: SessionDemand): number {
	return (s.remainingWh / 1000 / Math.max(s.maxKw, 1)) * 60;
}

/** Strict priority: in order, each session gets as much as its site and the feeder have left. */
function byPriority(
	policy: 'llf' | 'edf' | 'srpt',
	sites: readonly SiteDemand[],
	feederLimitKw: number,
	nowSeconds: number
): number[][] {
	const out = sites.map((site) => new Array<number>(site.sessions.length).fill(0));
	const order: Array<{ site: number; session: number; key: number }> = [];
	sites.forEach((site, i) =>
		site.sessions.forEach((s, j) => {
			const key =
				policy === 'edf'
					? s.deadline
					: policy === 'srpt'
						? minutesAtFullRate(s)
						: // Laxity: how long the session could wait and still meet its deadline at full rate.
							(s.deadline - nowSeconds) / 60 - minutesAtFullRate(s);
			order.push({ site: i, session: j, key });
		})
	);
	order.sort((a, b) => a.key - b.key || a.site - b.site || a.session - b.session);
	const siteLeft = sites.map((s) => s.limitKw);
	let feederLeft = feederLimitKw;
	for (const { site, session } of order) {
		const give = Math.max(
			0,
			Math.min(sites[site]!.sessions[session]!.maxKw, siteLeft[site]!, feederLeft)
		);
		out[site]![session] = give;
		siteLeft[site]! -= give;
		feederLeft -= give;
	}
	return out;
}
