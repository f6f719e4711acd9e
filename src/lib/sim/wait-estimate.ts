// The expected wait at a station for a vehicle arriving at a given time, from what can be known:
// the connectors in use and since when, the vehicles queued there now (a station's status), and —
// for a reservation-aware driver — the reservations on the ledger of vehicles due before it.

export interface StationLoad {
	connectors: number;
	/** Plug-in times (simulated seconds) of the sessions charging now. */
	busySince: readonly number[];
	/** Vehicles queued at the station now, served first come, first served. */
	waiting: number;
	/** The station's typical plug-in to unplug time, minutes (a running mean it publishes). */
	meanSessionMin: number;
	/**
	 * When each session charging now is expected to end (simulated seconds), where the station
	 * publishes it (energy still wanted at the power it gets now); otherwise plug-in + typical.
	 */
	busyUntil?: readonly number[];
}

/** When each connector frees (simulated seconds, at least now), from the occupants. */
function freeTimes(load: StationLoad, nowSeconds: number): number[] {
	const hold = load.meanSessionMin * 60;
	const free = new Array<number>(Math.max(1, load.connectors)).fill(nowSeconds);
	load.busySince.forEach((since, i) => {
		if (i < free.length) free[i] = Math.max(nowSeconds, load.busyUntil?.[i] ?? since + hold);
	});
	return free;
}

/** The next connector to free is taken from `from` for `holdSeconds`; returns when the taker starts. */
function takeNext(free: number[], from: number, holdSeconds: number): number {
	let k = 0;
	for (let i = 1; i < free.length; i++) if (free[i]! < free[k]!) k = i;
	const start = Math.max(from, free[k]!);
	free[k] = start + holdSeconds;
	return start;
}

/**
 * Minutes a vehicle arriving at `etaSeconds` waits for a connector. Each occupied connector frees
 * a typical session after its plug-in — so a session that has run 40 of a typical 45 minutes
 * frees in 5, and one that has overrun frees now; each queued vehicle, then each reservation due
 * no later than us (simulated seconds, ascending), takes the next free connector for a typical
 * session.
 */
export function expectedWaitMinutes(
	load: StationLoad,
	nowSeconds: number,
	etaSeconds: number,
	reservedEtas: readonly number[] = []
): number {
	const hold = load.meanSessionMin * 60;
	const free = freeTimes(load, nowSeconds);
	for (let i = 0; i < load.waiting; i++) takeNext(free, nowSeconds, hold);
	for (const eta of reservedEtas) {
		if (eta > etaSeconds) break;
		takeNext(free, eta, hold);
	}
	let earliest = Infinity;
	for (const f of free) earliest = Math.min(earliest, f);
	return Math.max(0, earliest - etaSeconds) / 60;
}

/**
 * Minutes of waiting a vehicle arriving at `etaSeconds` and charging `holdSeconds` adds to the
 * vehicles reserved after it (`reservedEtas`: all the station's reservations, ascending): served
 * in arrival order, it takes a connector one of them would have had. The cost a choice puts on
 * others — a driver minimising only their own time ignores it.
 */
export function delayToOthersMinutes(
	load: StationLoad,
	nowSeconds: number,
	etaSeconds: number,
	holdSeconds: number,
	reservedEtas: readonly number[]
): number {
	const later = (withUs: boolean) => {
		const hold = load.meanSessionMin * 60;
		const free = freeTimes(load, nowSeconds);
		for (let i = 0; i < load.waiting; i++) takeNext(free, nowSeconds, hold);
		let us = !withUs;
		let waited = 0;
		for (const eta of reservedEtas) {
			if (!us && eta > etaSeconds) {
				takeNext(free, etaSeconds, holdSeconds);
				us = true;
			}
			const start = takeNext(free, eta, hold);
			if (eta > etaSeconds) waited += start - eta;
		}
		return waited;
	};
	return Math.max(0, later(true) - later(false)) / 60;
}
