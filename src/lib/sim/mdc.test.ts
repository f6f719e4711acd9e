// The simulator against queueing theory: one station, Poisson arrivals, a fixed charge time — the
// M/D/c queue, whose mean wait is known exactly.
import { describe, expect, it } from 'vitest';
import { mdcQueue } from './mdc';
import { buildQueueScenario } from './queue-scenario';
import { runPolicy } from './run';
import { meanInterval } from './stats';

describe('mdcQueue', () => {
	it('gives the Pollaczek–Khinchine mean wait for one server', () => {
		for (const rho of [0.2, 0.5, 0.75, 0.9]) {
			const q = mdcQueue(rho / 30, 30, 1);
			expect(q.meanWait).toBeCloseTo((rho * 30) / (2 * (1 - rho)), 6);
			expect(q.probabilityOfWaiting).toBeCloseTo(rho, 6);
		}
	});

	it('waits less with more servers at the same utilisation, and refuses an unstable queue', () => {
		const one = mdcQueue(0.6 / 30, 30, 1).meanWait;
		const four = mdcQueue((4 * 0.6) / 30, 30, 4).meanWait;
		expect(four).toBeLessThan(one / 3);
		expect(() => mdcQueue(2 / 30, 30, 2)).toThrow(/stable only for utilisation in \(0, 1\)/);
	});
});

describe('a simulated station', () => {
	it('plugs the next vehicle in the second a connector frees (no one-minute floor)', async () => {
		// Three vehicles at once on one connector, 30 min each: they wait 0, 30 and 60 min exactly.
		const scenario = buildQueueScenario({
			seed: 1,
			connectors: 1,
			arrivalsPerHour: 1,
			chargeMinutes: 30,
			arrivalHours: 1,
			hours: 4,
			arrivalTimesHours: [0.5, 0.5, 0.5]
		});
		const report = await runPolicy(scenario, 'nearest');
		expect(report.summary.errandsFinished).toBe(3);
		expect(report.wait.mean).toBeCloseTo(30, 6);
		expect(report.wait.max).toBeCloseTo(60, 6);
	});

	it('matches the M/D/c mean wait within its 95 % interval over seeds', async () => {
		// Two connectors, 2 arrivals an hour, 30 min charges: utilisation 0.5.
		const theory = mdcQueue(2 / 60, 30, 2);
		const waits: number[] = [];
		for (let seed = 1; seed <= 12; seed++) {
			const scenario = buildQueueScenario({
				seed,
				connectors: 2,
				arrivalsPerHour: 2,
				chargeMinutes: 30,
				arrivalHours: 150,
				hours: 160
			});
			const report = await runPolicy(scenario, 'nearest');
			expect(report.summary.errandsUnfinished).toBe(0);
			waits.push(report.wait.mean);
		}
		const sim = meanInterval(waits);
		expect(theory.meanWait).toBeGreaterThanOrEqual(sim.lo);
		expect(theory.meanWait).toBeLessThanOrEqual(sim.hi);
		// And the interval is tight enough to mean something (±20 % of the mean).
		expect(sim.hi - sim.lo).toBeLessThan(0.4 * theory.meanWait);
	});
});
