// Contract tests of the session's ports: every implementation runs the same ones (the journal in
// memory here, the IndexedDB one in storage/wallet-db.test.ts through fake-indexeddb).
import { describe, expect, it } from 'vitest';
import type { JournalEntry, PaymentJournal } from './ports';

export function journalEntry(paymentHash: string, o: Partial<JournalEntry> = {}): JournalEntry {
	return {
		paymentHash,
		stationId: 'st-1',
		sessionId: 'sess-1',
		seq: 1,
		amountMsat: '25000',
		bolt11: 'lnbcrt1…',
		status: 'sending',
		at: 1_800_000_000_000,
		...o
	};
}

export interface JournalUnderTest {
	/** A fresh, empty journal. */
	open(): Promise<PaymentJournal>;
	/** The same journal as a reload would find it; absent for one that keeps nothing (in memory). */
	reopen?(): Promise<PaymentJournal>;
}

/** The PaymentJournal contract: the arbiter against paying one invoice twice. */
export function describePaymentJournal(name: string, make: () => JournalUnderTest): void {
	describe(`${name} (PaymentJournal contract)`, () => {
		it('knows a hash once it is reserved, and lists the entry', async () => {
			const j = await make().open();
			expect(j.isUsed('aa')).toBe(false);
			await j.reserve(journalEntry('aa'));
			expect(j.isUsed('aa')).toBe(true);
			expect(j.entries()).toEqual([journalEntry('aa')]);
		});

		it('refuses to reserve a hash twice, and keeps the first entry', async () => {
			const j = await make().open();
			await j.reserve(journalEntry('bb', { seq: 1 }));
			await expect(j.reserve(journalEntry('bb', { seq: 2 }))).rejects.toThrow(
				'payment hash already used'
			);
			expect(j.entries()).toEqual([journalEntry('bb', { seq: 1 })]);
		});

		it('completes an entry with the payment’s outcome', async () => {
			const j = await make().open();
			await j.reserve(journalEntry('cc'));
			await j.complete('cc', { status: 'succeeded', preimage: '11'.repeat(32), feeMsat: '3' });
			expect(j.entries()).toEqual([
				journalEntry('cc', { status: 'succeeded', preimage: '11'.repeat(32), feeMsat: '3' })
			]);
			await j.complete('dd', { status: 'failed', failure: 'no route' });
			expect(j.entries().map((e) => e.paymentHash)).toEqual(['cc']);
			expect(j.isUsed('dd')).toBe(false);
		});

		// Only a durable journal has a reload to survive (an in-memory one has no such test, not a skipped one).
		if (make().reopen !== undefined) {
			it('keeps reserved and completed entries across a reload', async () => {
				const subject = make();
				const j = await subject.open();
				await j.reserve(journalEntry('ee', { seq: 1 }));
				await j.reserve(journalEntry('ff', { seq: 2 }));
				await j.complete('ee', { status: 'failed', failure: 'no route' });
				const again = await subject.reopen!();
				expect(again.isUsed('ee') && again.isUsed('ff')).toBe(true);
				expect(again.entries().sort((a, b) => a.seq - b.seq)).toEqual([
					journalEntry('ee', { seq: 1, status: 'failed', failure: 'no route' }),
					journalEntry('ff', { seq: 2 })
				]);
				await expect(again.reserve(journalEntry('ff'))).rejects.toThrow(
					'payment hash already used'
				);
			});
		}
	});
}
