// The simulator's report: one entry per policy, and the table the headless runner prints.
import type { LedgerMethod } from './ledger-port.js';
import type { Phase } from './engine.js';
import type { Policy } from './scenario.js';

export interface PolicyReport {
	policy: Policy;
	vehicles: number;
	stations: number;
	simHours: number;
	seed: number;
	sessionsStarted: number;
	sessionsFinished: number;
	/** Vehicles still queued when the run ended (their wait so far is in the wait figures). */
	stillWaiting: number;
	/** Arrival at the station to plug-in, minutes. */
	meanWaitMin: number;
	p95WaitMin: number;
	/** Start of calculating to done (paid), minutes, over finished errands. */
	meanTotalMin: number;
	energyDeliveredKwh: number;
	/** Sum over sessions of (last reading − first reading). */
	energyMeteredKwh: number;
	/** The same over finished sessions only: what should have been billed. */
	energyMeteredFinishedKwh: number;
	/** Sum of the energy in the billing records. */
	energyBilledKwh: number;
	/** The site whose metered peak came closest to its limit. */
	peakSiteLoad: { stationId: string; peakKw: number; limitKw: number; ratio: number };
	/** Sites whose metered load reached their limit in some minute (power sharing was binding). */
	sitesAtLimit: number;
	/** Highest allocated load ÷ limit over all sites and minutes (≤ 1 by construction). */
	maxAllocatedRatio: number;
	totalSiteLimitKw: number;
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
	payments: { succeeded: number; failed: number; refused: number; amountSat: number; hubFeesSat: number; hubIncomeSat: number };
	phasesAtEnd: Record<Phase, number>;
	wallSeconds?: number;
}

const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A fixed-width table, one column per policy. */
export function formatReportTable(reports: readonly PolicyReport[]): string {
	const rows: Array<[string, (r: PolicyReport) => string]> = [
		['sessions started / finished', (r) => `${r.sessionsStarted} / ${r.sessionsFinished}`],
		['mean wait (min)', (r) => fmt(r.meanWaitMin)],
		['p95 wait (min)', (r) => fmt(r.p95WaitMin)],
		['mean total time (min)', (r) => fmt(r.meanTotalMin)],
		['still waiting at end', (r) => String(r.stillWaiting)],
		['energy delivered (kWh)', (r) => fmt(r.energyDeliveredKwh)],
		['energy metered (kWh)', (r) => fmt(r.energyMeteredKwh)],
		['finished: metered = billed (kWh)', (r) => `${fmt(r.energyMeteredFinishedKwh)} = ${fmt(r.energyBilledKwh)}`],
		['peak site load / limit (kW)', (r) => `${fmt(r.peakSiteLoad.peakKw, 0)} / ${fmt(r.peakSiteLoad.limitKw, 0)} ${r.peakSiteLoad.stationId}`],
		['sites that reached their limit', (r) => `${r.sitesAtLimit} of ${r.stations}`],
		['ledger transactions', (r) => r.ledger.transactions.toLocaleString('en-US')],
		['ledger gas' , (r) => `${(r.ledger.gas / 1e6).toFixed(1)} M${r.ledger.gasEstimated ? ' (estimated)' : ''}`],
		['readings made / signed', (r) => `${r.readings.made} / ${r.readings.signed}`],
		['payments ok / failed', (r) => `${r.payments.succeeded} / ${r.payments.failed + r.payments.refused}`],
		['paid (sat)', (r) => fmt(r.payments.amountSat, 0)],
		['hub fees (sat)', (r) => fmt(r.payments.hubFeesSat, 1)],
		['wall time (s)', (r) => (r.wallSeconds === undefined ? '' : fmt(r.wallSeconds, 1))]
	];
	const header = ['', ...reports.map((r) => r.policy)];
	const body = rows.map(([label, f]) => [label, ...reports.map(f)]);
	const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
	const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
	return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
