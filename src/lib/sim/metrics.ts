// What a run measures as it goes: one record per errand and (on request) per session, counters,
// and the grid load per minute. Records are small and fixed in size: a session's readings are not
// kept (see sites.ts), so memory grows with the number of errands, not of readings.
import type { LedgerMethod } from './ledger-port';

export interface ErrandRecord {
	vehicle: string;
	/** Simulated seconds. */
	start: number;
	/** When its payment settled; null if unfinished at the horizon. */
	end: number | null;
	/** Queued, minutes, over every station tried (until the horizon if unfinished). */
	waitMin: number;
	/** Deciding to charge until paid, minutes (until the horizon if unfinished). */
	totalMin: number;
	rechoices: number;
	/** Plug-in to unplug, and unplug to paid (waiting for a channel included), minutes. */
	chargeMin: number;
	payMin: number;
	/** The session ended after the driver's deadline. */
	lateForDeadline: boolean;
}

export interface SessionRecord {
	id: string;
	vehicle: string;
	station: string;
	feeder: number;
	/** Simulated seconds. */
	plugAt: number;
	endAt: number | null;
	paidAt: number | null;
	energyWh: number;
	amountMsat: string;
	feeMsat: string;
	sampled: boolean;
	/** The errand's wait up to this plug-in, minutes. */
	waitMin: number;
}

export class Metrics {
	readonly errands: ErrandRecord[] = [];
	readonly sessionRecords: SessionRecord[] | null;
	sessionsStarted = 0;
	sessionsFinished = 0;
	/** Σ of every meter register advance, Wh. */
	deliveredWh = 0;
	/** Σ (last − first reading) over closed sessions, Wh, and over those with a bill. */
	closedMeteredWh = 0;
	billedWh = 0;
	readonly ledgerTx: Record<LedgerMethod, { count: number; gas: number }> = {
		reserve: { count: 0, gas: 0 },
		cancelReservation: { count: 0, gas: 0 },
		fulfilReservation: { count: 0, gas: 0 },
		openSession: { count: 0, gas: 0 },
		anchorReadings: { count: 0, gas: 0 },
		closeSession: { count: 0, gas: 0 }
	};
	ledgerErrors = 0;
	readingsMade = 0;
	readingsSigned = 0;
	readingsVerified = 0;
	paymentsOk = 0;
	paymentsFailed = 0;
	invoicesRefused = 0;
	invoicesChecked = 0;
	keysendPayments = 0;
	paidMsat = 0n;
	feesMsat = 0n;
	channelsOpened = 0;
	onchainFeesSat = 0;
	/** Seconds payments waited for a channel to confirm. */
	channelWaitSeconds = 0;
	paymentsDelayedByChannel = 0;
	readonly behaviour = { replans: 0, balks: 0, reneges: 0, noShows: 0, lateArrivals: 0 };
	maxSiteLoadRatio = 0;
	maxFeederLoadRatio = 0;
	/** Total kW drawn in each minute, and the highest feeder load ÷ limit in it. */
	readonly loadKw: Float32Array;
	readonly feederPeakRatio: Float32Array;

	constructor(minutes: number, keepSessionRecords: boolean) {
		this.loadKw = new Float32Array(Math.ceil(minutes) + 1);
		this.feederPeakRatio = new Float32Array(Math.ceil(minutes) + 1);
		this.sessionRecords = keepSessionRecords ? [] : null;
	}

	ledgerTotals(): { transactions: number; gas: number } {
		let transactions = 0;
		let gas = 0;
		for (const e of Object.values(this.ledgerTx)) {
			transactions += e.count;
			gas += e.gas;
		}
		return { transactions, gas };
	}
}
