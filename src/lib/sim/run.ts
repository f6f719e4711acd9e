// Running scenarios: one policy or several on the same scenario, with the in-memory ledger or a
// real one (chain-setup.ts registers the stations first).
import { FleetSim, type FeedEvent } from './engine.js';
import { MemoryLedger, type SimLedger } from './ledger-port.js';
import type { PolicyReport } from './report.js';
import { buildScenario, type Policy, type Scenario, type ScenarioOptions } from './scenario.js';

export interface RunOptions {
	/** Builds the ledger for one policy's run; default a fresh MemoryLedger. Called after the sim exists. */
	ledgerFor?: (sim: { scenario: Scenario; stationIds: string[]; lightningPubkeys: string[] }) => Promise<SimLedger>;
	onFeed?: (e: FeedEvent) => void;
}

export function memoryLedgerFor(scenario: Scenario): MemoryLedger {
	return new MemoryLedger(scenario.stations.map((s) => s.id));
}

/** Runs one policy on a scenario and reports, with its wall time. */
export async function runPolicy(scenario: Scenario, policy: Policy, options: RunOptions = {}): Promise<PolicyReport> {
	const started = performance.now();
	let ledger: SimLedger = memoryLedgerFor(scenario);
	// The ledger may need the simnet's station pubkeys (registration), so it is attached after construction.
	const sim = new FleetSim({ scenario, policy, ledger: lazyLedger(() => ledger), ...(options.onFeed ? { onFeed: options.onFeed } : {}) });
	if (options.ledgerFor) {
		ledger = await options.ledgerFor({
			scenario,
			stationIds: sim.stations.map((s) => s.spec.id),
			lightningPubkeys: sim.stations.map((s) => s.lightningPubkey)
		});
	}
	await sim.run();
	return sim.report((performance.now() - started) / 1000);
}

/** A ledger that forwards to whatever `get()` returns when called. */
export function lazyLedger(get: () => SimLedger): SimLedger {
	return {
		get kind() {
			return get().kind;
		},
		get gasEstimated() {
			return get().gasEstimated;
		},
		setTime: (t) => get().setTime(t),
		reserve: (a) => get().reserve(a),
		cancelReservation: (id) => get().cancelReservation(id),
		fulfilReservation: (id) => get().fulfilReservation(id),
		listReservations: (id) => get().listReservations(id),
		openSession: (a) => get().openSession(a),
		anchorReadings: (a) => get().anchorReadings(a),
		closeSession: (a) => get().closeSession(a)
	};
}

export async function runPolicies(options: ScenarioOptions, policies: readonly Policy[], run: RunOptions = {}): Promise<PolicyReport[]> {
	const scenario = buildScenario(options);
	const reports: PolicyReport[] = [];
	for (const policy of policies) reports.push(await runPolicy(scenario, policy, run));
	return reports;
}
