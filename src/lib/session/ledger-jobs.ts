// The station's ledger writes as a durable job queue: each write is stored before it is tried,
// carried out in order, retried with backoff while the RPC is down, and removed once done. When
// the chain refuses a write as already made, it counts as done only if the chain shows exactly this
// station's own earlier write (`StationLedger.recorded`); anything else raises an operator alarm.
import type { DurableQueue, LedgerJob, StationLedger } from './ports';
import { backoffDelay } from '../core';

/** What the queue needs of the runtime it serves. */
export interface LedgerJobsHost {
	/** Carries out one write; resolves to what to do once it is recorded as done. */
	carryOut(job: LedgerJob): Promise<() => Promise<void>>;
	/** The job belongs to the session the station is running now. */
	isCurrent(job: LedgerJob): boolean;
	/** A close that is done, or can never be done: the next session may start. */
	closed(): void;
	log(line: string): void;
	fail(what: string, e: unknown): void;
	alarm(cause: 'ledger_mismatch' | 'ledger_refused_close', text: string): void;
	/** A write failed and stays queued: it is tried again after a pause. */
	retrying(e: unknown): void;
	/** The last write went through: a standing "ledger write failed" error is over. */
	recovered(): void;
	notify(): void;
}

/** What to make of a failed write: try again later, count it as done, or drop it. */
export function ledgerVerdict(e: unknown): 'retry' | 'done' | 'drop' {
	const err = e as { code?: string; revert?: { name: string; args: Record<string, unknown> } };
	if (err?.code === 'reverted' && err.revert) {
		const { name, args } = err.revert;
		if (name === 'SessionAlreadyExists' || name === 'SessionAlreadyClosed') return 'done';
		if (name === 'ReadingRangeOutOfOrder' && Number(args.expectedFrom) > Number(args.fromReading))
			return 'done';
		return 'drop';
	}
	if (err?.code && ['invalid-input', 'no-signer', 'wrong-chain', 'no-contract'].includes(err.code))
		return 'drop';
	return 'retry';
}

export class LedgerJobs {
	#pending = 0;
	#appends: Promise<unknown> = Promise.resolve();
	#wake: (() => void) | null = null;
	#stopped = false;
	#worker: Promise<void> | null = null;

	constructor(
		/** Without a ledger, writes are not queued (what an earlier run queued is kept and counted). */
		private readonly ledger: StationLedger | undefined,
		private readonly queue: DurableQueue<LedgerJob>,
		private readonly host: LedgerJobsHost
	) {}

	/** Writes stored and not yet done. */
	get pending(): number {
		return this.#pending;
	}

	/** Every write still queued, oldest first. */
	async list(): Promise<LedgerJob[]> {
		return (await this.queue.list()).map((item) => item.value);
	}

	/** Picks up what a previous run left queued and starts carrying the queue out. */
	async start(): Promise<void> {
		this.#pending = (await this.queue.list()).length;
		if (this.ledger) this.#worker = this.run(this.ledger);
	}

	/** Stops the worker; what is still queued stays stored for the next start. */
	async stop(): Promise<void> {
		this.#stopped = true;
		this.#wake?.();
		await this.#worker?.catch(() => undefined);
	}

	/** Stores a write; the worker carries the queue out in order. */
	enqueue(job: LedgerJob): void {
		if (!this.ledger) return;
		this.#pending++;
		this.#appends = this.#appends
			.then(() => this.queue.append(job))
			.then(
				() => this.#wake?.(),
				(e) => {
					this.#pending--;
					this.host.fail('Could not store a ledger write', e);
				}
			);
		this.host.notify();
	}

	/** Resolves when every write so far is done (tests, benchmark). */
	async drained(): Promise<void> {
		if (!this.ledger) return;
		await this.#appends;
		while (!this.#stopped && (await this.queue.list()).length > 0)
			await new Promise((r) => setTimeout(r, 20));
	}

	private async run(ledger: StationLedger): Promise<void> {
		const { host } = this;
		let attempt = 0;
		while (!this.#stopped) {
			await this.#appends;
			const jobs = await this.queue.list();
			const head = jobs[0];
			this.#pending = jobs.length;
			if (!head) {
				await new Promise<void>((resolve) => (this.#wake = resolve));
				this.#wake = null;
				continue;
			}
			if (this.#stopped) break; // a stopped runtime leaves the queue to the next start
			try {
				const after = await host.carryOut(head.value);
				await this.queue.remove(head.id);
				// What follows a write (events, state) must never make the write happen twice.
				await after().catch((e) => host.fail(`After the ledger ${head.value.kind}`, e));
				attempt = 0;
				host.recovered();
				host.notify();
			} catch (e) {
				let verdict = ledgerVerdict(e);
				const job = head.value;
				// "Already done" counts only when the chain shows this station's own signer wrote exactly this.
				let elsewise: string | null = null;
				if (verdict === 'done' && ledger.recorded) {
					try {
						elsewise = await ledger.recorded(job);
					} catch (checkError) {
						verdict = 'retry';
						e = checkError;
					}
				}
				if (verdict !== 'retry') {
					await this.queue.remove(head.id);
					const isCurrent = host.isCurrent(job);
					if (verdict === 'done' && elsewise === null)
						host.log(`Ledger ${job.kind} of ${job.sessionId} was already recorded by this station`);
					else if (verdict === 'done')
						host.alarm(
							'ledger_mismatch',
							`The ledger already holds the ${job.kind} of session ${job.sessionId}, but not as this station wrote it: ${elsewise}. Check for a second kiosk with this station's key, and tell the registry's operator.`
						);
					else {
						host.fail(`The ledger refused the ${job.kind} of ${job.sessionId} (dropped)`, e);
						if (job.kind === 'close' && isCurrent)
							host.alarm(
								'ledger_refused_close',
								`The ledger refused to record the close of session ${job.sessionId} (${(e as Error).message}). The driver has paid; the session is not closed on the ledger.`
							);
					}
					// A close that is done, or can never be done, must not hold the station: the next session may start.
					if (job.kind === 'close' && isCurrent) host.closed();
					continue;
				}
				host.retrying(e);
				const delay = backoffDelay(++attempt, { initialDelayMs: 500, maxDelayMs: 30_000 });
				await new Promise<void>((resolve) => {
					const t = setTimeout(resolve, delay);
					this.#wake = () => {
						if (this.#stopped) {
							clearTimeout(t);
							resolve();
						}
					};
				});
				this.#wake = null;
			}
		}
	}
}
