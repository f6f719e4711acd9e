// A charging errand's bookkeeping: its own random stream, its start, its queueing time over every
// station tried, and its record when it ends (or, at the horizon, what it has cost so far).
import type { Errand, SimContext, Vehicle } from './model';
import type { ErrandRecord } from './metrics';
import { hashString, Rng } from './random';

/** Choices an errand may make again (balk, renege, re-plan, no-show) before the driver just waits. */
export const MAX_RECHOICES = 3;

export function newErrand(ctx: SimContext, v: Vehicle): Errand {
	const index = v.errandsStarted++;
	// Seeded by vehicle and errand number: the draws are the same whatever the policy did before.
	const rng = new Rng(hashString(`${v.spec.errandSeed}:${index}`));
	const o = ctx.scenario.options;
	// A fixed number of draws, in a fixed order, whether or not an option uses them.
	const slackMin = rng.range(10, 90);
	const sampled = rng.next() < o.readingSample;
	const patienceDraw = -Math.log(1 - rng.next());
	const noShowDraw = rng.next();
	// One standard normal per drive this errand may make (the first choice and each choice again).
	const etaNormals = Array.from({ length: MAX_RECHOICES + 2 }, () => rng.normal());
	return {
		index,
		start: ctx.now,
		deadline: ctx.now + slackMin * 60,
		waitedSeconds: 0,
		waitingSince: null,
		rechoices: 0,
		replans: 0,
		sampled,
		patienceSeconds: o.patienceMin > 0 ? patienceDraw * o.patienceMin * 60 : Infinity,
		queueToken: 0,
		noShowDraw,
		etaNormals,
		drives: 0,
		predictedMinutes: 0,
		excluded: new Set<number>()
	};
}

/** Ends a stay in a queue (plug-in, or leaving it): its time counts towards the errand's wait. */
export function stopWaiting(e: Errand, now: number): void {
	if (e.waitingSince === null) return;
	e.waitedSeconds += now - e.waitingSince;
	e.waitingSince = null;
	e.queueToken++;
}

function record(
	v: Vehicle,
	e: Errand,
	now: number,
	finished: boolean,
	lateForDeadline: boolean
): ErrandRecord {
	const queued = e.waitingSince === null ? 0 : now - e.waitingSince;
	const s = v.session;
	const charged = s ? ((s.endAt ?? now) - s.plugAt) / 60 : 0;
	const paying = s?.endAt != null ? (now - s.endAt) / 60 : 0;
	return {
		vehicle: v.spec.id,
		start: e.start,
		end: finished ? now : null,
		waitMin: (e.waitedSeconds + queued) / 60,
		totalMin: (now - e.start) / 60,
		rechoices: e.rechoices,
		chargeMin: charged,
		payMin: paying,
		lateForDeadline
	};
}

/** The payment settled: the errand is done and the driver drives on a minute later (call before the session is let go). */
export function finishErrand(ctx: SimContext, v: Vehicle, lateForDeadline: boolean): void {
	const e = v.errand;
	if (!e) return;
	ctx.metrics.errands.push(record(v, e, ctx.now, true, lateForDeadline));
	v.errand = null;
	ctx.queue.push(ctx.now + 60, { k: 'tripStart', v });
}

/** Errands still under way at `now`, censored there: their wait and time so far. */
export function openErrands(vehicles: readonly Vehicle[], now: number): ErrandRecord[] {
	const out: ErrandRecord[] = [];
	for (const v of vehicles)
		if (v.errand) out.push(record(v, v.errand, now, false, v.errand.deadline < now));
	return out;
}
