// Running scenarios: one policy on a scenario, with the in-memory ledger or a real one
// (chain-ledger.ts registers the stations first).
import { FleetSim, type FleetSimOptions } from './engine';
import { MemoryLedger, type SimLedger } from './ledger-port';
import type { Policy, PolicyConfig } from './options';
import type { PolicyReport } from './report';
import type { Scenario } from './scenario';

export interface RunOptions extends Pick<
	FleetSimOptions,
	'onFeed' | 'onSessionClosed' | 'keepSessionRecords'
> {
	/** Builds the ledger for one policy's run; default a fresh MemoryLedger. Called after the sim exists. */
	ledgerFor?: (sim: {
		scenario: Scenario;
		stationIds: string[];
		lightningPubkeys: string[];
	}) => Promise<SimLedger>;
}

export function memoryLedgerFor(scenario: Scenario): MemoryLedger {
	return new MemoryLedger(
		scenario.stations.map((s) => s.id),
		{ blockSeconds: scenario.options.blockSeconds }
	);
}

/** Runs one policy on a scenario and reports, with its wall time; also returns the finished sim. */
export async function runPolicy(
	scenario: Scenario,
	policy: Policy | PolicyConfig,
	options: RunOptions = {}
): Promise<PolicyReport> {
	return (await runPolicySim(scenario, policy, options)).report;
}

export async function runPolicySim(
	scenario: Scenario,
	policy: Policy | PolicyConfig,
	options: RunOptions = {}
): Promise<{ sim: FleetSim; report: PolicyReport }> {
	const started = performance.now();
	let ledger: SimLedger = memoryLedgerFor(scenario);
	// The ledger may need the simnet's station pubkeys (registration), so it is attached after construction.
	const { ledgerFor, ...rest } = options;
	const sim = new FleetSim({ scenario, policy, ledger: lazyLedger(() => ledger), ...rest });
	if (ledgerFor) {
		ledger = await ledgerFor({
			scenario,
			stationIds: sim.stations.map((s) => s.spec.id),
			lightningPubkeys: sim.stations.map((s) => s.lightningPubkey)
		});
	}
	await sim.runUntil(sim.endSeconds);
	return { sim, report: sim.report((performance.now() - started) / 1000) };
}

/** A ledger that forwards to whatever `get()` returns when called. */
export function lazyLedger(get: () => SimLedger): SimLedger {
	// The at-once calls of whichever ledger `get()` gives, bound once per ledger.
	let nowFor: SimLedger | undefined;
	let anchorNow: SimLedger['anchorReadingsNow'];
	let listNow: SimLedger['listReservationsNow'];
	const bindNow = () => {
		const l = get();
		if (l !== nowFor) {
			nowFor = l;
			anchorNow = l.anchorReadingsNow?.bind(l);
			listNow = l.listReservationsNow?.bind(l);
		}
	};
	return {
		get anchorReadingsNow() {
			bindNow();
			return anchorNow;
		},
		get listReservationsNow() {
			bindNow();
			return listNow;
		},
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
