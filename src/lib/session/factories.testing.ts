// Test data and helpers the session's tests share (one builder per domain object).
import type { Tariff } from '../protocol';

/** The tariff of the tests: 250 sat/kWh, 1 sat start fee, 100 Wh increments with 50 Wh of grace, streamed. */
export function testTariff(o: Partial<Tariff> = {}): Tariff {
	return {
		pricePerKwhMsat: '250000',
		startFeeMsat: '1000',
		incrementWh: 100,
		graceWh: 50,
		mode: 'stream',
		invoiceExpirySeconds: 600,
		...o
	};
}

/** Waits until `cond` holds; fails with what it was waiting for after `ms` (a hang, not a measurement). */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 2));
	}
}
