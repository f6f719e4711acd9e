// Vehicles: a working shift of trips to demand-weighted destinations; below its reserve a vehicle
// starts a charging errand — choose a station (policy.ts), reserve it, drive there (the drive may
// take longer or shorter than predicted), and on arrival check in, or leave: a driver may balk at
// a long queue, give up after waiting a while, re-plan (optimal), or never have meant to come
// (a no-show, whose reservation stays on the ledger until it expires).
import { drawDemandNode, roadKmBetween, travelMinutes } from './city';
import { ensureChannel } from './billing';
import { MAX_RECHOICES, newErrand } from './errands';
import {
	DECISION_SECONDS,
	type SimContext,
	type StationState,
	type Trip,
	type Vehicle
} from './model';
import { chooseStation, stationLoad, stationLoadAhead, type StationChoice } from './policy';
import { hashString, Rng } from './random';
import { joinQueue, leaveQueue } from './sites';
import { expectedWaitMinutes } from './wait-estimate';

function inShift(ctx: SimContext, v: Vehicle): boolean {
	return ctx.now >= v.spec.shiftStart && ctx.now < v.spec.shiftEnd;
}

/** The vehicle is parked at v.node and free: charge, drive on, or end its day. */
export function afterStop(ctx: SimContext, v: Vehicle): void | Promise<void> {
	if (v.socKwh < v.spec.reserveSoc * v.spec.batteryKwh && inShift(ctx, v))
		return startErrand(ctx, v);
	if (inShift(ctx, v)) {
		ctx.queue.push(ctx.now + nextTrip(v).stopSeconds, { k: 'tripStart', v });
	} else if (ctx.now >= v.spec.shiftEnd && v.node !== v.spec.home) {
		beginMove(ctx, v, v.spec.home, 'idle', 1);
	}
}

/**
 * The vehicle's next trip: the stop before it and its destination, drawn from a stream of its
 * own (vehicle, trip number), so trip k is the same whatever the policy did before it. A trip to
 * where the vehicle already is (it charged there) is a stop of zero length.
 */
function nextTrip(v: Vehicle): Trip {
	if (v.nextTrip?.index === v.tripsMade) return v.nextTrip;
	const rng = new Rng(hashString(`${v.spec.tripSeed}:${v.tripsMade}`));
	const stopSeconds = rng.range(4, 20) * 60;
	const trip = { index: v.tripsMade, stopSeconds, to: -1 };
	v.nextTrip = trip;
	return trip;
}

export function startTrip(ctx: SimContext, v: Vehicle): void | Promise<void> {
	if (v.phase === 'done') v.phase = 'idle';
	if (!inShift(ctx, v)) return afterStop(ctx, v);
	const trip = nextTrip(v);
	if (trip.to < 0)
		trip.to = drawDemandNode(
			ctx.scenario.city,
			new Rng(hashString(`${v.spec.tripSeed}:${trip.index}:to`))
		);
	const kwh = roadKmBetween(ctx.scenario.city, v.node, trip.to) * v.spec.consumption;
	// Never start a trip that would leave less than 8 % in the battery: charge first (the same trip follows).
	if (v.socKwh - kwh < 0.08 * v.spec.batteryKwh) return startErrand(ctx, v);
	v.tripsMade++;
	ctx.onTrip?.(v, trip.index, trip.to);
	beginMove(ctx, v, trip.to, 'idle', 1);
}

export function endTrip(ctx: SimContext, v: Vehicle): void | Promise<void> {
	finishMove(v);
	return afterStop(ctx, v);
}

/** A drive; `durationFactor` is how much longer (or shorter) it takes than predicted. */
function beginMove(
	ctx: SimContext,
	v: Vehicle,
	to: number,
	phase: 'idle' | 'go',
	durationFactor: number
): void {
	const minutes = travelMinutes(ctx.scenario.city, v.node, to, ctx.now) * durationFactor;
	v.tripKwh = roadKmBetween(ctx.scenario.city, v.node, to) * v.spec.consumption;
	v.move = { from: v.node, to, depart: ctx.now, arrive: ctx.now + minutes * 60 };
	v.phase = phase;
	ctx.queue.push(v.move.arrive, phase === 'go' ? { k: 'arrive', v } : { k: 'tripEnd', v });
}

function finishMove(v: Vehicle): void {
	if (!v.move) return;
	v.node = v.move.to;
	v.socKwh = Math.max(0, v.socKwh - v.tripKwh);
	v.tripKwh = 0;
	v.move = null;
}

async function startErrand(ctx: SimContext, v: Vehicle): Promise<void> {
	v.errand = newErrand(ctx, v);
	// Paper A's missing step: a vehicle without a channel opens one before its first payment.
	ensureChannel(ctx, v);
	return calculate(ctx, v);
}

/** Choose a station and reserve it; leave once the reservation is sent. */
async function calculate(ctx: SimContext, v: Vehicle, preset?: StationChoice): Promise<void> {
	const e = v.errand!;
	v.phase = 'calculating';
	let choice = preset ?? (await chooseStation(ctx, v, e.excluded));
	// The driver wants to be done some time after the first estimate (deadline = start + slack so far).
	if (e.rechoices === 0 && !preset) e.deadline += choice.expectedMinutes * 60;
	await reserve(ctx, v, choice);
	// A no-show reserves, then goes elsewhere without cancelling (the reservation stays until it expires).
	const o = ctx.scenario.options;
	if (
		o.noShowRate > 0 &&
		v.reservationId !== null &&
		e.rechoices < MAX_RECHOICES &&
		ctx.stations.length > e.excluded.size + 1 &&
		e.noShowDraw < o.noShowRate
	) {
		ctx.metrics.behaviour.noShows++;
		e.rechoices++;
		e.excluded.add(choice.stationIndex);
		v.reservationId = null;
		choice = await chooseStation(ctx, v, e.excluded);
		await reserve(ctx, v, choice);
	}
	v.stationIndex = choice.stationIndex;
	e.predictedMinutes = choice.travelMinutes;
	ctx.queue.push(ctx.now + DECISION_SECONDS, { k: 'decided', v });
}

async function reserve(ctx: SimContext, v: Vehicle, choice: StationChoice): Promise<void> {
	v.reservationId = null;
	if (!v.spec.reserves || !ctx.config.reservations) return;
	const station = ctx.stations[choice.stationIndex]!;
	const eta = ctx.unix(ctx.now + DECISION_SECONDS + choice.travelMinutes * 60);
	const expiresAt = eta + Math.round(ctx.scenario.options.reservationGraceMin * 60);
	const tx = await ctx.ledgerCall(() =>
		ctx.ledger.reserve({ stationId: station.spec.id, vehicleRef: v.spec.id, eta, expiresAt })
	);
	if (!tx) return;
	v.reservationId = tx.reservationId;
	v.reservationExpires = expiresAt;
	ctx.feed(
		'ledger',
		`${v.spec.id} reserved ${station.spec.id} (#${tx.reservationId}, ETA ${Math.round(choice.travelMinutes)} min)`
	);
}

export async function depart(ctx: SimContext, v: Vehicle): Promise<void> {
	const station = ctx.stations[v.stationIndex!]!;
	if (station.spec.node === v.node) {
		v.phase = 'go';
		return arrive(ctx, v);
	}
	// Drives take longer or shorter than predicted: a log-normal error with mean 1.
	const sigma = ctx.scenario.options.etaNoise;
	const e = v.errand!;
	const z = e.etaNormals[Math.min(e.drives++, e.etaNormals.length - 1)]!;
	const factor = sigma > 0 ? Math.exp(sigma * z - (sigma * sigma) / 2) : 1;
	beginMove(ctx, v, station.spec.node, 'go', factor);
}

export async function arrive(ctx: SimContext, v: Vehicle): Promise<void> {
	finishMove(v);
	const station = ctx.stations[v.stationIndex!]!;
	const e = v.errand!;
	const canChooseAgain = e.rechoices < MAX_RECHOICES && ctx.stations.length > e.excluded.size + 1;
	const o = ctx.scenario.options;
	if (canChooseAgain && o.balkQueue > 0 && station.waiting.length >= o.balkQueue) {
		ctx.metrics.behaviour.balks++;
		return leave(ctx, v, station, 'queue too long');
	}
	// The optimiser's driver finds a longer queue than the ledger suggested (sessions running
	// long, arrivals bunching): if another station is clearly sooner, go there instead — once.
	if (
		ctx.config.replan &&
		e.replans === 0 &&
		canChooseAgain &&
		station.waiting.length >= station.spec.connectors
	) {
		const stayMin = expectedWaitMinutes(
			ctx.config.lookahead ? stationLoadAhead(station, ctx.now) : stationLoad(station),
			ctx.now,
			ctx.now
		);
		const alternative = await chooseStation(ctx, v, new Set([...e.excluded, station.spec.index]));
		if (alternative.travelMinutes + alternative.waitMinutes + DECISION_SECONDS / 60 < stayMin) {
			e.replans++;
			ctx.metrics.behaviour.replans++;
			return leave(ctx, v, station, 'queue longer than expected', alternative);
		}
	}
	await checkIn(ctx, v);
	await joinQueue(ctx, station, v);
}

/** The reservation is used: fulfil it on the ledger (a late driver's has expired: nothing to do). */
async function checkIn(ctx: SimContext, v: Vehicle): Promise<void> {
	const id = v.reservationId;
	v.reservationId = null;
	if (id === null) return;
	if (ctx.unix(ctx.now) > v.reservationExpires) {
		ctx.metrics.behaviour.lateArrivals++;
		return;
	}
	await ctx.ledgerCall(() => ctx.ledger.fulfilReservation(id));
}

async function leave(
	ctx: SimContext,
	v: Vehicle,
	station: StationState,
	why: string,
	preset?: StationChoice
): Promise<void> {
	const e = v.errand!;
	e.rechoices++;
	e.excluded.add(station.spec.index);
	const id = v.reservationId;
	v.reservationId = null;
	if (id !== null && ctx.unix(ctx.now) <= v.reservationExpires) {
		const tx = await ctx.ledgerCall(() => ctx.ledger.cancelReservation(id));
		if (tx) ctx.feed('ledger', `${v.spec.id} cancelled #${id} at ${station.spec.id}: ${why}`);
	}
	v.stationIndex = null;
	return calculate(ctx, v, preset);
}

/** A driver's patience ran out in the queue: leave it and choose another station. */
export async function renege(ctx: SimContext, v: Vehicle, token: number): Promise<void> {
	const e = v.errand;
	if (!e || v.phase !== 'waiting' || e.queueToken !== token) return;
	if (e.rechoices >= MAX_RECHOICES || ctx.stations.length <= e.excluded.size + 1) return;
	const station = ctx.stations[v.stationIndex!]!;
	leaveQueue(ctx, station, v);
	ctx.metrics.behaviour.reneges++;
	return leave(ctx, v, station, 'gave up waiting');
}
