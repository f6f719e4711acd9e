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
}

/**
 * Minutes a vehicle arriving at `etaSeconds` waits for a connector. Each occupied connector frees
 * a typical session after its plug-in — so a session that has run 40 of a typical 45 minutes
 * frees in 5, and one that has overrun frees now; each queued vehicle, then each reservation due
 * no later than us (simulated seconds, ascending), takes the next free connector for a typical
 * session.
 */
export function expectedWaitMinutes(load: StationLoad, nowSeconds: number, etaSeconds: number, reservedEtas: readonly number[] = []): number {
	const hold = load.meanSessionMin * 60;
	const free = new Array<number>(Math.max(1, load.connectors)).fill(nowSeconds);
	load.busySince.forEach((since, i) => {
		if (i < free.length) free[i] = Math.max(nowSeconds, since + hold);
	});
	const takeNext = (from: number) => {
		let k = 0;
		for (let i = 1; i < free.length; i++) if (free[i]! < free[k]!) k = i;
		free[k] = Math.max(from, free[k]!) + hold;
	};
	for (let i = 0; i < load.waiting; i++) takeNext(nowSeconds);
	for (const eta of reservedEtas) {
		if (eta > etaSeconds) break;
		takeNext(eta);
	}
	let earliest = Infinity;
	for (const f of free) earliest = Math.min(earliest, f);
	return Math.max(0, earliest - etaSeconds) / 60;
}
