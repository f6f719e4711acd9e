// The fleet simulation's invariants, over random seeds, policies and scenario options: every
// vehicle in one phase and one place, no site or feeder over its limit, energy metered = delivered
// = billed, every session paid once, the hub's income = the fees paid, no ledger errors; and the
// comparisons' premises: the same seed gives the same report, and every policy gets the same trips.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetSim } from './engine';
import type { ChargingSession } from './model';
import { POLICIES, POWER_POLICIES, type Policy, type ScenarioOptions } from './options';
import { PHASES } from './phases';
import { summarise } from './report';
import { memoryLedgerFor, runPolicy } from './run';
import { buildScenario } from './scenario';

const small = (seed: number, extra: Partial<ScenarioOptions> = {}) =>
	buildScenario({ seed, vehicles: 40, stations: 3, hours: 12, gridSize: 8, ...extra });

const options = fc.record(
	{
		readingSample: fc.constantFrom(0, 0.5, 1),
		etaNoise: fc.constantFrom(0, 0.3),
		reservingShare: fc.constantFrom(0.5, 1),
		noShowRate: fc.constantFrom(0, 0.2),
		balkQueue: fc.constantFrom(0, 2),
		patienceMin: fc.constantFrom(0, 15),
		blockSeconds: fc.constantFrom(0, 5),
		feederSites: fc.constantFrom(0, 2, 3),
		channelShare: fc.constantFrom(0, 0.5, 1),
		powerPolicy: fc.constantFrom(...POWER_POLICIES)
	},
	{ requiredKeys: [] }
);

async function checkRun(
	seed: number,
	policy: Policy,
	extra: Partial<ScenarioOptions>,
	scenario = small(seed, extra)
) {
	const closed: ChargingSession[] = [];
	const sim = new FleetSim({
		scenario,
		policy,
		ledger: memoryLedgerFor(scenario),
		onSessionClosed: (s) => closed.push(s)
	});
	for (let t = 1800; t <= sim.endSeconds; t += 1800) {
		await sim.runUntil(t);
		// One phase and one place per vehicle; no site or feeder above its limit.
		expect(sim.audit()).toEqual([]);
		for (const v of sim.vehicles) expect(PHASES).toContain(v.phase);
	}
	const report = sim.report();
	const m = sim.metrics;
	expect(report.summary.sessionsStarted).toBeGreaterThan(0);
	// Unfinished errands are counted: started = finished + still under way.
	expect(report.summary.errandsStarted).toBe(
		report.summary.errandsFinished + report.summary.errandsUnfinished
	);
	expect(report.summary.errandsUnfinished).toBe(
		sim.vehicles.filter((v) => v.errand !== null).length
	);
	expect(report.wait.n).toBe(report.summary.errandsStarted);
	// Energy: Σ register advances = Σ (last − first reading) over every session; closed sessions are billed exactly that.
	const open = sim.vehicles.map((v) => v.session).filter((s): s is ChargingSession => s !== null);
	const metered = (s: ChargingSession) => s.last.energyWh - s.first.energyWh;
	const closedWh = closed.reduce((a, s) => a + metered(s), 0);
	expect(closedWh).toBe(m.closedMeteredWh);
	expect(closed.reduce((a, s) => a + s.deliveredWh, 0)).toBeCloseTo(closedWh, 6);
	expect(closedWh + open.reduce((a, s) => a + metered(s), 0)).toBe(m.deliveredWh);
	expect(report.energy.deliveredKwh).toBeCloseTo(
		report.energy.meteredClosedKwh + report.energy.meteredRunningKwh,
		9
	);
	expect(report.energy.billedKwh).toBeCloseTo(report.energy.meteredClosedKwh, 9);
	for (const s of open) expect(metered(s)).toBeLessThanOrEqual(s.deliveredWh + 1e-9);
	expect(report.power.maxSiteRatio).toBeLessThanOrEqual(1 + 1e-9);
	expect(report.power.maxFeederRatio).toBeLessThanOrEqual(1 + 1e-9);
	expect(report.power.peakSite.ratio).toBeLessThanOrEqual(1 + 1e-9);
	// Every closed session was paid exactly once; one still paying at the end, at most once.
	const hashes = new Set<string>();
	for (const s of closed) {
		expect(s.paid).toBe(1);
		expect(hashes.has(s.paymentHash!)).toBe(false);
		hashes.add(s.paymentHash!);
	}
	for (const s of open) expect(s.paid).toBe(0);
	// Each payment succeeded once on the network, and the hub earned exactly the fees paid.
	let feesOnNetwork = 0n;
	let succeeded = 0;
	for (const v of sim.vehicles) {
		for (const p of sim.net.listPayments(v.spec.id.toLowerCase())) {
			if (p.status !== 'SUCCEEDED') continue;
			succeeded++;
			feesOnNetwork += p.feeMsat;
		}
	}
	expect(succeeded).toBe(report.payments.succeeded);
	expect(succeeded).toBe(closed.length);
	expect(report.payments.failed + report.payments.refused).toBe(0);
	expect(feesOnNetwork).toBe(m.feesMsat);
	expect(sim.net.balances('hub').localMsat - sim.hubBalanceAtStartMsat).toBe(feesOnNetwork);
	expect(report.ledger.errors).toBe(0);
	// The crypto sample: every reading of a sampled session is signed and verified by the vehicle.
	expect(report.readings.verifiedByVehicles).toBe(report.readings.signed);
	expect(report.payments.invoicesChecked + report.payments.keysend).toBe(
		closed.length + open.filter((s) => s.paymentHash !== null).length
	);
	// Vehicles without a channel opened one before their first payment.
	for (const v of sim.vehicles) if (v.chargesDone > 0) expect(v.channel).toBe('open');
	// The live view's counters are the report's.
	expect(summarise(sim)).toEqual(report.summary);
	return report;
}

describe('fleet simulation invariants', () => {
	it('hold over random seeds, policies and scenario options', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.integer({ min: 0, max: 1_000_000 }),
				fc.constantFrom<Policy>(...POLICIES),
				options,
				async (seed, policy, extra) => void (await checkRun(seed, policy, extra))
			),
			{ numRuns: 12 }
		);
	});

	it('hold under every option at once, with no-shows, balking, reneging, channels opening and a feeder at its limit', async () => {
		const reserving = await checkRun(11, 'optimal', {
			readingSample: 0.5,
			etaNoise: 0.3,
			reservingShare: 0.7,
			noShowRate: 0.2,
			balkQueue: 2,
			patienceMin: 10,
			blockSeconds: 5,
			feederSites: 3,
			channelShare: 0.3,
			powerPolicy: 'llf'
		});
		expect(reserving.behaviour.noShows).toBeGreaterThan(0);
		expect(reserving.readings.signed).toBeGreaterThan(0);
		expect(reserving.channels.opened).toBeGreaterThan(0);
		expect(reserving.channels.paymentsDelayed).toBeGreaterThan(0);
		const congested = buildScenario({
			seed: 1,
			vehicles: 80,
			stations: 3,
			hours: 16,
			gridSize: 8,
			readingSample: 0.1,
			etaNoise: 0.3,
			balkQueue: 2,
			patienceMin: 10,
			feederSites: 3,
			channelShare: 0.3,
			powerPolicy: 'edf'
		});
		const queued = await checkRun(1, 'nearest', {}, congested);
		expect(queued.behaviour.balks).toBeGreaterThan(0);
		expect(queued.behaviour.reneges).toBeGreaterThan(0);
		expect(queued.power.feedersAtLimit).toBeGreaterThan(0);
		expect(queued.summary.errandsUnfinished).toBeGreaterThan(0);
	});

	it('gives the same report for the same seed', async () => {
		const a = await runPolicy(small(7, { readingSample: 0.2 }), 'optimal');
		const b = await runPolicy(small(7, { readingSample: 0.2 }), 'optimal');
		delete a.wallSeconds;
		delete b.wallSeconds;
		expect(a).toEqual(b);
		const c = await runPolicy(small(8, { readingSample: 0.2 }), 'optimal');
		delete c.wallSeconds;
		expect(c).not.toEqual(a);
	});

	it('gives every policy the same trips', async () => {
		const scenario = small(3);
		const tripsOf = async (policy: Policy) => {
			const trips = new Map<string, number[]>();
			const sim = new FleetSim({
				scenario,
				policy,
				ledger: memoryLedgerFor(scenario),
				onTrip: (v, index, to) => {
					const list = trips.get(v.spec.id) ?? [];
					expect(index).toBe(list.length);
					list.push(to);
					trips.set(v.spec.id, list);
				}
			});
			await sim.runUntil(sim.endSeconds);
			return trips;
		};
		const base = await tripsOf('nearest');
		let compared = 0;
		for (const policy of ['optimal', 'live', 'random'] as const) {
			const other = await tripsOf(policy);
			for (const [vehicle, list] of base) {
				const theirs = other.get(vehicle) ?? [];
				const common = Math.min(list.length, theirs.length);
				expect(theirs.slice(0, common)).toEqual(list.slice(0, common));
				compared += common;
			}
		}
		expect(compared).toBeGreaterThan(500);
	});
});
