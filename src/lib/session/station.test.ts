import { describe, expect, it } from 'vitest';
import { billingRecordHash } from '../protocol';
import {
	costSoFarMsat,
	deliveredWh,
	invoicingRecord,
	newStationSession,
	paidMsat,
	reduce,
	type StationEffect,
	type StationEvent,
	type StationSession
} from './station';
import { testTariff } from './factories.testing';

const SECRET = 'AbCdEfGhIjKlMnOpQrStUv';
const DRIVER_KEY = '02' + 'ab'.repeat(32);
const tariff = testTariff();

function run(
	s: StationSession,
	events: StationEvent[]
): { s: StationSession; fx: StationEffect[] } {
	const fx: StationEffect[] = [];
	for (const e of events) {
		const r = reduce(s, e);
		s = r.state;
		fx.push(...r.effects);
	}
	return { s, fx };
}
const reading = (seq: number, energyWh: number, tx: 'B' | 'T' | 'E' = 'T'): StationEvent => ({
	type: 'reading',
	reading: { seq, energyWh, at: 1000 * seq, tx }
});
const invoices = (fx: StationEffect[]) => fx.filter((f) => f.kind === 'create_invoice');

function started(budget = '1000000000') {
	return run(newStationSession('st-1', tariff), [
		{ type: 'offered', sessionId: 'sess-1', joinSecret: SECRET },
		{ type: 'joined', budgetMsat: budget, driverRef: 'd', driverKey: DRIVER_KEY },
		reading(1, 10_000, 'B')
	]);
}
function created(s: StationSession, fx: StationEffect[], hash: string) {
	const c = invoices(fx).at(-1) as Extract<StationEffect, { kind: 'create_invoice' }>;
	return run(s, [
		{
			type: 'invoice_created',
			increment: {
				seq: c.record.seq,
				record: c.record,
				recordHash: billingRecordHash(c.record),
				paymentHash: hash,
				bolt11: 'lnbcrt…'
			}
		}
	]);
}

describe('station session', () => {
	it('walks idle → awaiting_driver → charging and opens the session on the ledger', () => {
		const { s, fx } = started();
		expect(s.phase).toBe('charging');
		expect(fx.map((f) => f.kind)).toEqual(['ledger_open', 'charger', 'event']);
	});

	it('invoices exactly one increment from reading to reading, with the start fee on the first', () => {
		let { s } = started();
		let r = run(s, [reading(2, 10_060), reading(3, 10_120)]);
		const inv = invoices(r.fx);
		expect(inv).toHaveLength(1);
		const rec = (inv[0] as Extract<StationEffect, { kind: 'create_invoice' }>).record;
		expect(rec).toMatchObject({
			seq: 1,
			fromReading: 1,
			toReading: 3,
			fromWh: 10_000,
			toWh: 10_120,
			energyWh: 120
		});
		expect(rec.amountMsat).toBe(String(120 * 250 + 1000));
		// No second invoice while the first is being created or unpaid.
		r = run(r.s, [reading(4, 10_240)]);
		expect(invoices(r.fx)).toHaveLength(0);
		s = r.s;
	});

	it('rebuilds the record being invoiced from the session alone (what a reload must invoice), and none when not invoicing', () => {
		const { s } = started();
		expect(invoicingRecord(s)).toBeNull();
		const r = run(s, [reading(2, 10_060), reading(3, 10_120)]);
		const decided = (invoices(r.fx)[0] as Extract<StationEffect, { kind: 'create_invoice' }>)
			.record;
		// The snapshot is JSON: what survives the round trip must still give the same record.
		expect(invoicingRecord(JSON.parse(JSON.stringify(r.s)) as StationSession)).toEqual(decided);
		const after = created(r.s, r.fx, 'h1');
		expect(invoicingRecord(after.s)).toBeNull();
	});

	it('suspends past the grace energy of an unpaid increment and resumes when paid, billing the grace energy next', () => {
		let { s } = started();
		let r = run(s, [reading(2, 10_100)]);
		r = created(r.s, r.fx, 'aa');
		r = run(r.s, [reading(3, 10_140)]);
		expect(r.s.phase).toBe('charging');
		r = run(r.s, [reading(4, 10_150)]);
		expect(r.s.phase).toBe('suspended');
		expect(r.fx).toContainEqual({ kind: 'charger', action: 'suspend' });
		r = run(r.s, [{ type: 'invoice_paid', paymentHash: 'aa' }]);
		expect(r.s.phase).toBe('charging');
		expect(r.fx).toContainEqual({ kind: 'charger', action: 'allow' });
		expect(invoices(r.fx)).toHaveLength(0); // the 50 Wh delivered in grace are not due yet (< 100 Wh)
		s = r.s;
		expect(paidMsat(s)).toBe(BigInt(100 * 250 + 1000));
	});

	it('never counts a payment twice', () => {
		const { s } = started();
		let r = run(s, [reading(2, 10_100)]);
		r = created(r.s, r.fx, 'bb');
		r = run(r.s, [
			{ type: 'invoice_paid', paymentHash: 'bb' },
			{ type: 'invoice_paid', paymentHash: 'bb' },
			{ type: 'invoice_paid', paymentHash: 'unknown' }
		]);
		expect(r.fx.filter((f) => f.kind === 'event' && f.event === 'paid')).toHaveLength(1);
		expect(paidMsat(r.s)).toBe(26_000n);
	});

	it('on stop bills the remainder after the end reading and settles only when everything is paid', () => {
		const { s } = started();
		let r = run(s, [reading(2, 10_100)]);
		r = created(r.s, r.fx, 'h1');
		r = run(r.s, [
			{ type: 'invoice_paid', paymentHash: 'h1' },
			reading(3, 10_130),
			{ type: 'stop', cause: 'driver' }
		]);
		expect(r.s.phase).toBe('stopping');
		expect(r.fx.slice(-2)).toEqual([
			{ kind: 'charger', action: 'stop' },
			{ kind: 'final_reading' }
		]);
		r = run(r.s, [reading(4, 10_135, 'E')]);
		const fin = invoices(r.fx)[0] as Extract<StationEffect, { kind: 'create_invoice' }>;
		expect(fin.record).toMatchObject({ seq: 2, fromReading: 2, toReading: 4, energyWh: 35 });
		r = created(r.s, r.fx, 'h2');
		expect(r.s.phase).toBe('stopping');
		r = run(r.s, [{ type: 'invoice_paid', paymentHash: 'h2' }]);
		expect(r.s.phase).toBe('settled');
		const close = r.fx.find((f) => f.kind === 'ledger_close') as Extract<
			StationEffect,
			{ kind: 'ledger_close' }
		>;
		expect(close).toMatchObject({ energyWh: 135, paymentHashes: ['h1', 'h2'] });
		expect(close.amountMsat).toBe(String(135 * 250 + 1000));
		expect(deliveredWh(r.s)).toBe(135);
	});

	it('stops itself before the budget is exceeded', () => {
		// Budget covers the start fee and ~150 Wh at 250 sat/kWh.
		const { s } = started(String(1000 + 150 * 250));
		let r = run(s, [reading(2, 10_040)]);
		expect(r.s.phase).toBe('charging');
		r = run(r.s, [reading(3, 10_060)]);
		expect(r.s.phase).toBe('stopping');
		expect(r.s.stopCause).toBe('budget');
		expect(costSoFarMsat(r.s)).toBeLessThanOrEqual(BigInt(1000 + 150 * 250));
	});

	it('rolls billing back when an invoice cannot be created, so no energy goes unbilled', () => {
		const { s } = started();
		let r = run(s, [reading(2, 10_100)]);
		r = run(r.s, [{ type: 'invoice_failed', seq: 1, message: 'node offline' }, reading(3, 10_110)]);
		const rec = (invoices(r.fx)[0] as Extract<StationEffect, { kind: 'create_invoice' }>).record;
		expect(rec).toMatchObject({ seq: 1, fromReading: 1, toReading: 3, energyWh: 110 });
	});

	it('ignores readings and joins in the wrong phase', () => {
		const idle = newStationSession('st-1', tariff);
		expect(run(idle, [reading(1, 5)]).s).toEqual(idle);
		expect(
			run(idle, [{ type: 'joined', budgetMsat: '1', driverRef: 'x', driverKey: DRIVER_KEY }]).s
				.phase
		).toBe('idle');
	});

	it('suspends on a meter fault, raises it once, does not resume on payment, and resumes when the operator clears it', () => {
		const { s } = started();
		let r = run(s, [reading(2, 10_100)]);
		r = created(r.s, r.fx, 'aa');
		r = run(r.s, [{ type: 'meter_fault', reason: 'energy went backwards' }]);
		expect(r.s.phase).toBe('suspended');
		expect(r.s.suspendReason).toBe('meter: energy went backwards');
		expect(r.s.suspendCause).toBe('meter_fault');
		expect(r.fx).toContainEqual({ kind: 'charger', action: 'suspend' });
		expect(
			r.fx.filter((f) => f.kind === 'event').map((f) => (f as { event: string }).event)
		).toEqual(['fault', 'suspended']);
		expect(run(r.s, [{ type: 'meter_fault', reason: 'again' }]).fx).toEqual([]);
		// Paying does not lift a meter fault.
		r = run(r.s, [{ type: 'invoice_paid', paymentHash: 'aa' }]);
		expect(r.s.phase).toBe('suspended');
		r = run(r.s, [{ type: 'fault_cleared' }]);
		expect(r.s.phase).toBe('charging');
		expect(r.fx).toContainEqual({ kind: 'charger', action: 'allow' });
	});

	it('pauses a running charger on a meter gap and resumes by itself on the next reading, billing what the gap delivered', () => {
		const { s } = started();
		let r = run(s, [{ type: 'meter_gap', reason: 'not read for 6 s' }]);
		expect(r.s).toMatchObject({
			phase: 'suspended',
			suspendReason: 'meter-gap: not read for 6 s',
			suspendCause: 'meter_gap'
		});
		expect(r.fx).toEqual([
			{ kind: 'charger', action: 'suspend' },
			{ kind: 'event', event: 'suspended', reason: 'meter-gap: not read for 6 s' }
		]);
		// Once off, a second gap changes nothing; nor does a gap while suspended for payment or stopping.
		expect(run(r.s, [{ type: 'meter_gap', reason: 'again' }]).fx).toEqual([]);
		// The meter answers with what flowed in the gap (120 Wh): charging goes on and that energy is invoiced.
		r = run(r.s, [reading(2, 10_120), { type: 'meter_back' }]);
		expect(r.s.phase).toBe('charging');
		expect(r.fx.filter((f) => f.kind === 'charger')).toEqual([
			{ kind: 'charger', action: 'allow' }
		]);
		expect(
			invoices(r.fx).map(
				(f) => (f as Extract<StationEffect, { kind: 'create_invoice' }>).record.energyWh
			)
		).toEqual([120]);
		// A meter_back without a gap does nothing (a fault needs the operator).
		const fault = run(started().s, [{ type: 'meter_fault', reason: 'x' }, { type: 'meter_back' }]);
		expect(fault.s.phase).toBe('suspended');
		expect(fault.s.suspendReason).toBe('meter: x');
		expect(fault.s.suspendCause).toBe('meter_fault');
	});

	it('a gap that ends past the grace of an unpaid increment, or past the budget, does not switch the charger on again', () => {
		let r = run(started().s, [reading(2, 10_100)]);
		r = created(r.s, r.fx, 'aa');
		r = run(r.s, [
			{ type: 'meter_gap', reason: 'gap' },
			reading(3, 10_200),
			{ type: 'meter_back' }
		]);
		expect(r.s.phase).toBe('suspended');
		expect(r.s.suspendReason).toMatch(/^unpaid: invoice 1/);
		expect(r.s.suspendCause).toBe('unpaid');
		expect(r.fx).not.toContainEqual({ kind: 'charger', action: 'allow' });
		// Budget 30 sat: the start allows one 25 sat increment; 300 Wh in a gap is far past it.
		const b = run(started('30000').s, [{ type: 'meter_gap', reason: 'gap' }, reading(2, 10_300)]);
		const created3 = created(b.s, b.fx, 'bb');
		const back = run(created3.s, [reading(3, 10_301), { type: 'meter_back' }]);
		expect(back.s).toMatchObject({ phase: 'stopping', stopCause: 'budget' });
		expect(back.fx).toContainEqual({ kind: 'final_reading' });
		expect(back.fx).not.toContainEqual({ kind: 'charger', action: 'allow' });
	});

	it('without an end reading, bills only the verified energy and settles once it is paid', () => {
		const { s } = started();
		let r = run(s, [
			reading(2, 10_040),
			{ type: 'meter_fault', reason: 'no answer' },
			{ type: 'stop', cause: 'operator' }
		]);
		expect(r.s.phase).toBe('stopping');
		r = run(r.s, [{ type: 'final_failed', reason: 'the meter is faulty' }]);
		expect(r.s.finalMissing).toBe(true);
		const rec = (invoices(r.fx)[0] as Extract<StationEffect, { kind: 'create_invoice' }>).record;
		expect(rec).toMatchObject({ fromReading: 1, toReading: 2, energyWh: 40 });
		r = created(r.s, r.fx, 'bb');
		r = run(r.s, [{ type: 'invoice_paid', paymentHash: 'bb' }]);
		expect(r.s.phase).toBe('settled');
		expect(r.fx.find((f) => f.kind === 'ledger_close')).toMatchObject({ energyWh: 40 });
	});
});

describe('a final invoice that could not be created', () => {
	it('is billed again when the runtime retries, so the session can still settle', () => {
		const { s } = started();
		let r = run(s, [
			reading(2, 10_040),
			{ type: 'stop', cause: 'driver' },
			reading(3, 10_050, 'E')
		]);
		const first = invoices(r.fx);
		expect(first).toHaveLength(1);
		r = run(r.s, [{ type: 'invoice_failed', seq: 1, message: 'node offline' }]);
		expect(r.s.phase).toBe('stopping');
		expect(invoices(r.fx)).toHaveLength(0);
		r = run(r.s, [{ type: 'retry_billing' }]);
		const again = invoices(r.fx) as Extract<StationEffect, { kind: 'create_invoice' }>[];
		expect(again).toHaveLength(1);
		expect(again[0]!.record).toMatchObject({ seq: 1, fromReading: 1, toReading: 3, energyWh: 50 });
		r = created(r.s, r.fx, 'f1');
		r = run(r.s, [{ type: 'invoice_paid', paymentHash: 'f1' }]);
		expect(r.s.phase).toBe('settled');
	});
});
