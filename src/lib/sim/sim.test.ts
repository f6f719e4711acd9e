import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptedPowerKw, chargeMinutes, waterFill } from './charging';
import { FleetSim, PHASES } from './engine';
import { EventQueue } from './event-queue';
import { MemoryLedger } from './ledger-port';
import { expectedWaitMinutes } from './policy';
import { memoryLedgerFor, runPolicy } from './run';
import { buildScenario, POLICIES, type Policy } from './scenario';

describe('waterFill', () => {
	it('never exceeds the site limit or a vehicle maximum, and uses the limit when demand exceeds it', () => {
		fc.assert(
			fc.property(
				fc.array(fc.record({ maxKw: fc.double({ min: 0, max: 400, noNaN: true }), weight: fc.double({ min: 0.001, max: 10, noNaN: true }) }), { maxLength: 12 }),
				fc.double({ min: 0, max: 2000, noNaN: true }),
				(demands, limit) => {
					const shares = waterFill(demands, limit);
					const total = shares.reduce((a, b) => a + b, 0);
					expect(total).toBeLessThanOrEqual(limit + 1e-9);
					shares.forEach((s, i) => {
						expect(s).toBeGreaterThanOrEqual(0);
						expect(s).toBeLessThanOrEqual(demands[i]!.maxKw + 1e-9);
					});
					const wanted = demands.reduce((a, d) => a + d.maxKw, 0);
					expect(total).toBeCloseTo(Math.min(wanted, limit), 6);
				}
			)
		);
	});

	it('gives a heavier weight a larger share when both are capped', () => {
		const [urgent, relaxed] = waterFill([{ maxKw: 150, weight: 3 }, { maxKw: 150, weight: 1 }], 100);
		expect(urgent).toBeCloseTo(75);
		expect(relaxed).toBeCloseTo(25);
	});
});

describe('charging curve', () => {
	it('tapers near full and takes longer to charge the last 20 %', () => {
		expect(acceptedPowerKw(100, 0.5)).toBe(100);
		expect(acceptedPowerKw(100, 0.9)).toBeCloseTo(55);
		expect(chargeMinutes(60, 100, 0.8, 1, 1000)).toBeGreaterThan(chargeMinutes(60, 100, 0.2, 0.4, 1000));
	});
});

describe('EventQueue', () => {
	it('pops in time order, ties in insertion order', () => {
		fc.assert(
			fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
				const q = new EventQueue<number>();
				times.forEach((t, i) => q.push(t, i));
				const out: Array<{ time: number; item: number }> = [];
				for (let e = q.pop(); e; e = q.pop()) out.push(e);
				const expected = times.map((t, i) => ({ time: t, item: i })).sort((a, b) => a.time - b.time || a.item - b.item);
				expect(out).toEqual(expected);
			})
		);
	});
});

describe('expectedWaitMinutes', () => {
	it('is zero with free connectors and grows with the reservations ahead', () => {
		const now = 1000;
		const r = (id: number, eta: number) => ({ reservationId: id, vehicleRef: '0x' as `0x${string}`, eta, expiresAt: eta + 3600 });
		expect(expectedWaitMinutes([], 2, 40, now, now + 600)).toBe(0);
		expect(expectedWaitMinutes([r(1, now)], 2, 40, now, now + 600)).toBe(0);
		// Two connectors both taken from `now` for 40 min: arriving at +10 min waits 30 min.
		expect(expectedWaitMinutes([r(1, now), r(2, now)], 2, 40, now, now + 600)).toBeCloseTo(30);
		// Reservations arriving after us do not delay us.
		expect(expectedWaitMinutes([r(1, now + 1200), r(2, now + 1200)], 2, 40, now, now + 600)).toBe(0);
	});
});

describe('MemoryLedger', () => {
	it('enforces the contracts’ rules', async () => {
		const ledger = new MemoryLedger(['ST-1']);
		ledger.setTime(1000);
		await expect(ledger.reserve({ stationId: 'ST-9', vehicleRef: 'EV-1', eta: 1100, expiresAt: 2000 })).rejects.toThrow(/not registered/);
		await expect(ledger.reserve({ stationId: 'ST-1', vehicleRef: 'EV-1', eta: 1100, expiresAt: 900 })).rejects.toThrow(/expiry/);
		const { reservationId } = await ledger.reserve({ stationId: 'ST-1', vehicleRef: 'EV-1', eta: 1100, expiresAt: 2000 });
		expect((await ledger.listReservations('ST-1')).map((r) => r.reservationId)).toEqual([reservationId]);
		await ledger.fulfilReservation(reservationId);
		await expect(ledger.fulfilReservation(reservationId)).rejects.toThrow(/fulfilled/);
		expect(await ledger.listReservations('ST-1')).toEqual([]);
		await ledger.openSession({ stationId: 'ST-1', sessionId: 'S1', driverRef: 'EV-1' });
		const root = `0x${'11'.repeat(32)}`;
		await expect(ledger.anchorReadings({ stationId: 'ST-1', sessionId: 'S1', root, fromReading: 2, toReading: 3, energyWh: 5 })).rejects.toThrow(/expects reading 1/);
		await ledger.anchorReadings({ stationId: 'ST-1', sessionId: 'S1', root, fromReading: 1, toReading: 3, energyWh: 5 });
		await expect(ledger.closeSession({ stationId: 'ST-1', sessionId: 'S1', energyWh: 4, amountMsat: 0n, paymentsRoot: root })).rejects.toThrow(/went down/);
		await ledger.closeSession({ stationId: 'ST-1', sessionId: 'S1', energyWh: 5, amountMsat: 1n, paymentsRoot: root });
		await expect(ledger.closeSession({ stationId: 'ST-1', sessionId: 'S1', energyWh: 5, amountMsat: 1n, paymentsRoot: root })).rejects.toThrow(/already closed/);
	});
});

describe('fleet simulation invariants', () => {
	const small = (seed: number, readingSample: number) =>
		buildScenario({ seed, vehicles: 40, stations: 3, hours: 12, gridSize: 8, readingSample });

	it('holds over random seeds and policies', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.integer({ min: 0, max: 1_000_000 }),
				fc.constantFrom<Policy>(...POLICIES),
				fc.constantFrom(0, 0.5, 1),
				async (seed, policy, readingSample) => {
					const scenario = small(seed, readingSample);
					const sim = new FleetSim({ scenario, policy, ledger: memoryLedgerFor(scenario) });
					for (let t = 1800; t <= sim.endSeconds; t += 1800) {
						await sim.runUntil(t);
						// One phase and one place per vehicle; no site above its limit.
						expect(sim.audit()).toEqual([]);
						for (const v of sim.vehicles) expect(PHASES).toContain(v.phase);
					}
					const report = sim.report();
					expect(report.sessionsStarted).toBeGreaterThan(0);
					// Energy delivered = sum of metered readings; for finished sessions = energy billed.
					expect(report.energyMeteredKwh).toBeCloseTo(report.energyDeliveredKwh, 9);
					expect(report.energyBilledKwh).toBeCloseTo(report.energyMeteredFinishedKwh, 9);
					let sumOfSessions = 0;
					for (const s of sim.sessions) sumOfSessions += s.deliveredWh;
					expect(sumOfSessions / 1000).toBeCloseTo(report.energyDeliveredKwh, 9);
					expect(report.maxAllocatedRatio).toBeLessThanOrEqual(1 + 1e-12);
					expect(report.peakSiteLoad.ratio).toBeLessThanOrEqual(1 + 1e-12);
					// Every finished session is paid exactly once (or still in flight at the end).
					const hashes = new Set<string>();
					for (const s of sim.sessions) {
						if (s.endAt === null) continue;
						if (s.vehicle.session === s && s.vehicle.phase === 'paying') expect(s.paid).toBeLessThanOrEqual(1);
						else expect(s.paid).toBe(1);
						if (s.paymentHash) {
							expect(hashes.has(s.paymentHash)).toBe(false);
							hashes.add(s.paymentHash);
						}
					}
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
					expect(report.payments.failed + report.payments.refused).toBe(0);
					expect(feesOnNetwork).toBe(sim.feesMsat);
					expect(sim.net.balances('hub').localMsat - sim.hubBalanceAtStartMsat).toBe(feesOnNetwork);
					expect(report.ledger.errors).toBe(0);
				}
			),
			{ numRuns: 6 }
		);
	});

	it('gives the same report for the same seed', async () => {
		const a = await runPolicy(small(7, 0.2), 'optimal');
		const b = await runPolicy(small(7, 0.2), 'optimal');
		delete a.wallSeconds;
		delete b.wallSeconds;
		expect(a).toEqual(b);
		const c = await runPolicy(small(8, 0.2), 'optimal');
		delete c.wallSeconds;
		expect(c).not.toEqual(a);
	});
});
