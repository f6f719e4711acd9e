// A run's figures. `summarise` gives the headline counters — the live view shows exactly these —
// and `buildReport` everything a policy comparison needs. Errands still under way at the horizon
// count with the wait and time they have had so far, and how many there are is reported beside.
import { openErrands } from './errands';
import type { LedgerMethod } from './ledger-port';
import type { ErrandRecord } from './metrics';
import type { SimContext } from './model';
import type { Policy, PowerPolicy } from './options';
import type { Phase } from './phases';
import { distribution, type Distribution } from './stats';

export interface RunSummary {
	simSeconds: number;
	errandsStarted: number;
	errandsFinished: number;
	/** Errands still under way at the horizon (counted in the wait and time figures until then). */
	errandsUnfinished: number;
	sessionsStarted: number;
	sessionsFinished: number;
	stillWaiting: number;
	/** Queued at stations, minutes per errand, over every errand started. */
	meanWaitMin: number;
	/** Deciding to charge until paid, minutes per errand, over every errand started. */
	meanTotalMin: number;
	energyKwh: number;
	ledgerTransactions: number;
	paidSat: number;
	hubFeesSat: number;
}

export interface PolicyReport {
	policy: Policy;
	powerPolicy: PowerPolicy;
	vehicles: number;
	stations: number;
	simHours: number;
	seed: number;
	summary: RunSummary;
	wait: Distribution;
	total: Distribution;
	/** Errands whose session ended after the driver's deadline. */
	lateForDeadline: number;
	/** Times drivers chose again: re-plans, balks, reneges, no-shows, and late arrivals. */
	behaviour: {
		replans: number;
		balks: number;
		reneges: number;
		noShows: number;
		lateArrivals: number;
		rechoices: number;
	};
	energy: {
		deliveredKwh: number;
		meteredClosedKwh: number;
		billedKwh: number;
		meteredRunningKwh: number;
	};
	power: {
		/** The site whose metered peak came closest to its limit. */
		peakSite: { stationId: string; peakKw: number; limitKw: number; ratio: number };
		sitesAtLimit: number;
		feeders: number;
		feedersAtLimit: number;
		/** Highest allocated load ÷ limit over all sites, and over all feeders (≤ 1 by construction). */
		maxSiteRatio: number;
		maxFeederRatio: number;
		totalSiteLimitKw: number;
		totalFeederLimitKw: number;
		peakTotalKw: number;
	};
	ledger: {
		kind: 'memory' | 'chain';
		/** True when gas comes from measured per-call constants (memory ledger), not receipts. */
		gasEstimated: boolean;
		transactions: number;
		gas: number;
		errors: number;
		byMethod: Partial<Record<LedgerMethod, { count: number; gas: number }>>;
	};
	readings: { made: number; signed: number; verifiedByVehicles: number };
	payments: {
		succeeded: number;
		failed: number;
		refused: number;
		/** Invoices checked by the wallet's guard (the crypto sample) and keysends (the rest). */
		invoicesChecked: number;
		keysend: number;
		amountSat: number;
		hubFeesSat: number;
		/** The hub's balance change: equals the fees of the payments that succeeded. */
		hubIncomeSat: number;
	};
	channels: {
		opened: number;
		onchainFeesSat: number;
		paymentsDelayed: number;
		meanDelayMin: number;
	};
	phasesAtEnd: Record<Phase, number>;
	wallSeconds?: number;
}

/** Every errand started: the finished ones and, censored at now, those under way. */
export function allErrands(ctx: SimContext): ErrandRecord[] {
	return [...ctx.metrics.errands, ...openErrands(ctx.vehicles, ctx.now)];
}

const mean = (xs: readonly number[]) =>
	xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;

export function summarise(
	ctx: SimContext,
	errands: readonly ErrandRecord[] = allErrands(ctx)
): RunSummary {
	const m = ctx.metrics;
	let stillWaiting = 0;
	for (const st of ctx.stations) stillWaiting += st.waiting.length;
	return {
		simSeconds: ctx.now,
		errandsStarted: errands.length,
		errandsFinished: m.errands.length,
		errandsUnfinished: errands.length - m.errands.length,
		sessionsStarted: m.sessionsStarted,
		sessionsFinished: m.sessionsFinished,
		stillWaiting,
		meanWaitMin: mean(errands.map((e) => e.waitMin)),
		meanTotalMin: mean(errands.map((e) => e.totalMin)),
		energyKwh: m.deliveredWh / 1000,
		ledgerTransactions: m.ledgerTotals().transactions,
		paidSat: Number(m.paidMsat) / 1000,
		hubFeesSat: Number(m.feesMsat) / 1000
	};
}

export function buildReport(
	ctx: SimContext & { hubBalanceAtStartMsat: bigint; phaseCounts(): Record<Phase, number> },
	wallSeconds?: number
): PolicyReport {
	const m = ctx.metrics;
	const errands = allErrands(ctx);
	const byMethod: PolicyReport['ledger']['byMethod'] = {};
	for (const [method, e] of Object.entries(m.ledgerTx) as [
		LedgerMethod,
		{ count: number; gas: number }
	][]) {
		if (e.count > 0) byMethod[method] = { count: e.count, gas: e.gas };
	}
	const first = ctx.stations[0]!;
	let peakSite = {
		stationId: first.spec.id,
		peakKw: first.peakLoadKw,
		limitKw: first.spec.siteLimitKw,
		ratio: first.peakLoadKw / first.spec.siteLimitKw
	};
	let totalSiteLimitKw = 0;
	let sitesAtLimit = 0;
	let meteredRunningWh = 0;
	for (const st of ctx.stations) {
		totalSiteLimitKw += st.spec.siteLimitKw;
		const ratio = st.peakLoadKw / st.spec.siteLimitKw;
		if (ratio > peakSite.ratio)
			peakSite = {
				stationId: st.spec.id,
				peakKw: st.peakLoadKw,
				limitKw: st.spec.siteLimitKw,
				ratio
			};
		if (st.peakLoadKw >= st.spec.siteLimitKw - 1e-6) sitesAtLimit++;
		for (const s of st.connectors) if (s) meteredRunningWh += s.last.energyWh - s.first.energyWh;
	}
	// Sessions that ended but are not closed yet (paying, or waiting for a channel).
	for (const v of ctx.vehicles)
		if (v.phase === 'paying' && v.session)
			meteredRunningWh += v.session.last.energyWh - v.session.first.energyWh;
	const finiteFeeders = ctx.feeders.filter((f) => Number.isFinite(f.limitKw));
	let peakTotalKw = 0;
	for (const kw of m.loadKw) peakTotalKw = Math.max(peakTotalKw, kw);
	const hubIncome = ctx.net.balances('hub').localMsat - ctx.hubBalanceAtStartMsat;
	const rechoices = errands.reduce((a, e) => a + e.rechoices, 0);
	return {
		policy: ctx.config.policy,
		powerPolicy: ctx.scenario.options.powerPolicy ?? ctx.config.power,
		vehicles: ctx.vehicles.length,
		stations: ctx.stations.length,
		simHours: ctx.now / 3600,
		seed: ctx.scenario.options.seed,
		summary: summarise(ctx, errands),
		wait: distribution(errands.map((e) => e.waitMin)),
		total: distribution(errands.map((e) => e.totalMin)),
		lateForDeadline: errands.filter((e) => e.lateForDeadline).length,
		behaviour: { ...m.behaviour, rechoices },
		energy: {
			deliveredKwh: m.deliveredWh / 1000,
			meteredClosedKwh: m.closedMeteredWh / 1000,
			billedKwh: m.billedWh / 1000,
			meteredRunningKwh: meteredRunningWh / 1000
		},
		power: {
			peakSite,
			sitesAtLimit,
			feeders: finiteFeeders.length,
			feedersAtLimit: finiteFeeders.filter((f) => f.peakLoadKw >= f.limitKw - 1e-6).length,
			maxSiteRatio: m.maxSiteLoadRatio,
			maxFeederRatio: m.maxFeederLoadRatio,
			totalSiteLimitKw,
			totalFeederLimitKw: finiteFeeders.reduce((a, f) => a + f.limitKw, 0),
			peakTotalKw
		},
		ledger: {
			kind: ctx.ledger.kind,
			gasEstimated: ctx.ledger.gasEstimated,
			...m.ledgerTotals(),
			errors: m.ledgerErrors,
			byMethod
		},
		readings: {
			made: m.readingsMade,
			signed: m.readingsSigned,
			verifiedByVehicles: m.readingsVerified
		},
		payments: {
			succeeded: m.paymentsOk,
			failed: m.paymentsFailed,
			refused: m.invoicesRefused,
			invoicesChecked: m.invoicesChecked,
			keysend: m.keysendPayments,
			amountSat: Number(m.paidMsat) / 1000,
			hubFeesSat: Number(m.feesMsat) / 1000,
			hubIncomeSat: Number(hubIncome) / 1000
		},
		channels: {
			opened: m.channelsOpened,
			onchainFeesSat: m.onchainFeesSat,
			paymentsDelayed: m.paymentsDelayedByChannel,
			meanDelayMin:
				m.paymentsDelayedByChannel > 0 ? m.channelWaitSeconds / 60 / m.paymentsDelayedByChannel : 0
		},
		phasesAtEnd: ctx.phaseCounts(),
		...(wallSeconds !== undefined ? { wallSeconds } : {})
	};
}
