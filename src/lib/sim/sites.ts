// Charging sites: the queue, plugging in the moment a connector frees, energy flowing at the
// allocated power between events, a reading every meter interval, the end of a session at the
// exact second its target is reached, and the feeder's power shared again after every change.
import { ReadingVerifier } from '../protocol';
import { bill } from './billing';
import { acceptedPowerKw } from './charging';
import { stopWaiting } from './errands';
import { addReading, anchor } from './metering';
import {
	TICK_SECONDS,
	type ChargingSession,
	type FeederState,
	type SimContext,
	type StationState,
	type Vehicle
} from './model';
import { allocatePower } from './power';

/** Energy short of the target below which a session counts as done (float rounding), Wh. */
const DONE_EPSILON_WH = 1e-6;

/** The vehicle joins the station's queue and plugs in at once if a connector is free. */
export async function joinQueue(ctx: SimContext, station: StationState, v: Vehicle): Promise<void> {
	v.phase = 'waiting';
	const e = v.errand!;
	e.waitingSince = ctx.now;
	e.queueToken++;
	station.waiting.push(v);
	if (Number.isFinite(e.patienceSeconds))
		ctx.queue.push(ctx.now + e.patienceSeconds, { k: 'renege', v, token: e.queueToken });
	await changeFeeder(ctx, station.feeder, () => plugInWaiting(ctx, station));
}

/** Removes a vehicle from its station's queue (it gives up). */
export function leaveQueue(ctx: SimContext, station: StationState, v: Vehicle): void {
	const i = station.waiting.indexOf(v);
	if (i >= 0) station.waiting.splice(i, 1);
	stopWaiting(v.errand!, ctx.now);
}

/** Brings a feeder's energy up to now, applies a change, and shares its power again. */
async function changeFeeder(
	ctx: SimContext,
	feeder: FeederState,
	change: () => Promise<void>
): Promise<void> {
	advance(feeder, ctx.now);
	await change();
	reallocate(ctx, feeder);
}

/** Energy delivered at the current allocation since the last update. */
function advance(feeder: FeederState, t: number): void {
	for (const site of feeder.sites) {
		for (const s of site.connectors) {
			if (!s) continue;
			const dt = t - s.updatedAt;
			if (dt > 0) {
				s.deliveredWh = Math.min(s.targetWh, s.deliveredWh + (s.kw * dt) / 3.6);
				s.vehicle.socKwh = s.socAtPlugKwh + s.deliveredWh / 1000;
			}
			s.updatedAt = t;
		}
	}
}

async function plugInWaiting(ctx: SimContext, station: StationState): Promise<void> {
	for (let c = 0; c < station.connectors.length && station.waiting.length > 0; c++) {
		if (station.connectors[c]) continue;
		await plugIn(ctx, station, c, station.waiting.shift()!);
	}
}

async function plugIn(
	ctx: SimContext,
	station: StationState,
	c: number,
	v: Vehicle
): Promise<void> {
	const e = v.errand!;
	stopWaiting(e, ctx.now);
	const id = `SIM-${ctx.scenario.options.seed}-${ctx.config.policy}-${ctx.metrics.sessionsStarted + 1}`;
	const target = Math.max(1, Math.round((v.spec.targetSoc * v.spec.batteryKwh - v.socKwh) * 1000));
	const s: ChargingSession = {
		id,
		vehicle: v,
		station,
		connector: c,
		sampled: e.sampled,
		plugAt: ctx.now,
		endAt: null,
		beginWh: station.registersWh[c]!,
		socAtPlugKwh: v.socKwh,
		deliveredWh: 0,
		targetWh: target,
		kw: 0,
		updatedAt: ctx.now,
		pending: [],
		first: null!,
		last: null!,
		readingCount: 0,
		payloadTemplate: null,
		lastAnchoredSeq: 0,
		beginAnchor: null,
		endAnchor: null,
		anchors: 0,
		verified: new Map(),
		verifier: e.sampled
			? new ReadingVerifier({
					stationId: station.spec.id,
					sessionId: id,
					publicKey: station.publicKey
				})
			: null,
		billedWh: null,
		amountMsat: null,
		paymentHash: null,
		paidAt: null,
		paid: 0,
		feeMsat: 0n,
		closed: false
	};
	station.connectors[c] = s;
	ctx.metrics.sessionsStarted++;
	v.session = s;
	v.phase = 'charging';
	addReading(ctx, s, 'B', ctx.now, s.beginWh);
	const tx = await ctx.ledgerCall(() =>
		ctx.ledger.openSession({ stationId: station.spec.id, sessionId: id, driverRef: v.spec.id })
	);
	if (tx) ctx.feed('ledger', `${station.spec.id} opened session for ${v.spec.id}`);
}

/** Shares the feeder's power for the next interval and schedules the next session end in it. */
function reallocate(ctx: SimContext, feeder: FeederState): void {
	const now = ctx.now;
	const sites = feeder.sites.map((site) => {
		const sessions: ChargingSession[] = [];
		for (const s of site.connectors) if (s) sessions.push(s);
		return { site, sessions };
	});
	const policy = ctx.scenario.options.powerPolicy ?? ctx.config.power;
	const shares = allocatePower(
		policy,
		sites.map(({ site, sessions }) => ({
			limitKw: site.spec.siteLimitKw,
			sessions: sessions.map((s) => ({
				maxKw: Math.min(
					site.spec.connectorKw,
					acceptedPowerKw(s.vehicle.spec.maxChargeKw, s.vehicle.socKwh / s.vehicle.spec.batteryKwh)
				),
				remainingWh: s.targetWh - s.deliveredWh,
				deadline: s.vehicle.errand?.deadline ?? now
			}))
		})),
		feeder.limitKw,
		now
	);
	feeder.version++;
	let feederLoad = 0;
	let nextEnd = Infinity;
	sites.forEach(({ site, sessions }, i) => {
		let load = 0;
		sessions.forEach((s, j) => {
			s.kw = shares[i]![j]!;
			load += s.kw;
			if (s.kw > 0) nextEnd = Math.min(nextEnd, now + ((s.targetWh - s.deliveredWh) * 3.6) / s.kw);
		});
		site.loadKw = load;
		feederLoad += load;
		const ratio = load / site.spec.siteLimitKw;
		if (ratio > ctx.metrics.maxSiteLoadRatio) ctx.metrics.maxSiteLoadRatio = ratio;
		if (load > site.peakLoadKw) site.peakLoadKw = load;
	});
	feeder.loadKw = feederLoad;
	if (feederLoad > feeder.peakLoadKw) feeder.peakLoadKw = feederLoad;
	if (Number.isFinite(feeder.limitKw)) {
		const ratio = feederLoad / feeder.limitKw;
		if (ratio > ctx.metrics.maxFeederLoadRatio) ctx.metrics.maxFeederLoadRatio = ratio;
	}
	// Sessions ending before the next tick end at their exact second; later ones are seen then.
	const nextTick = (Math.floor(now / TICK_SECONDS) + 1) * TICK_SECONDS;
	if (nextEnd < nextTick)
		ctx.queue.push(Math.max(now, nextEnd), { k: 'endCheck', feeder, version: feeder.version });
}

/** A session on the feeder may have reached its target: end it now, plug in the next vehicle. */
export async function endCheck(
	ctx: SimContext,
	feeder: FeederState,
	version: number
): Promise<void> {
	if (version !== feeder.version) return;
	await changeFeeder(ctx, feeder, async () => {
		for (const site of feeder.sites) {
			for (const s of site.connectors)
				if (s && s.targetWh - s.deliveredWh <= DONE_EPSILON_WH) await endSession(ctx, s);
			await plugInWaiting(ctx, site);
		}
	});
}

function isBusy(feeder: FeederState): boolean {
	for (const site of feeder.sites) {
		if (site.waiting.length > 0) return true;
		for (const c of site.connectors) if (c !== null) return true;
	}
	return false;
}

/** The minute tick: readings (each meter interval), ends, plug-ins, power shared again. */
export async function tick(ctx: SimContext): Promise<void> {
	const reading = Math.round(ctx.now) % ctx.scenario.options.meterIntervalSeconds === 0;
	let totalKw = 0;
	let worstFeeder = 0;
	for (const feeder of ctx.feeders) {
		if (isBusy(feeder)) {
			// changeFeeder's steps, inline (this runs for every busy feeder every minute).
			advance(feeder, ctx.now);
			for (const site of feeder.sites) {
				for (const s of site.connectors) {
					if (!s) continue;
					if (s.targetWh - s.deliveredWh <= DONE_EPSILON_WH) await endSession(ctx, s);
					else if (reading && ctx.now > s.last.at) {
						addReading(ctx, s, 'T', ctx.now, s.beginWh + Math.floor(s.deliveredWh));
						const anchoring = anchor(ctx, s);
						if (anchoring) await anchoring;
					}
				}
				if (site.waiting.length > 0) await plugInWaiting(ctx, site);
			}
			reallocate(ctx, feeder);
		}
		totalKw += feeder.loadKw;
		if (Number.isFinite(feeder.limitKw))
			worstFeeder = Math.max(worstFeeder, feeder.loadKw / feeder.limitKw);
	}
	const minute = Math.round(ctx.now / 60);
	if (minute < ctx.metrics.loadKw.length) {
		ctx.metrics.loadKw[minute] = totalKw;
		ctx.metrics.feederPeakRatio[minute] = worstFeeder;
	}
}

async function endSession(ctx: SimContext, s: ChargingSession): Promise<void> {
	const station = s.station;
	s.deliveredWh = s.targetWh;
	s.vehicle.socKwh = s.socAtPlugKwh + s.targetWh / 1000;
	// The end reading lands at the second the target was reached, after the previous reading.
	const at = Math.max(ctx.now, s.last.at + 0.001);
	station.registersWh[s.connector] = s.beginWh + s.targetWh;
	addReading(ctx, s, 'E', at, station.registersWh[s.connector]!);
	await anchor(ctx, s);
	s.endAt = at;
	s.kw = 0;
	station.connectors[s.connector] = null;
	station.finishedSessions++;
	ctx.metrics.sessionsFinished++;
	const minutes = (at - s.plugAt) / 60;
	station.meanSessionMin +=
		(minutes - station.meanSessionMin) / Math.min(station.finishedSessions, 20);
	await bill(ctx, s);
}
