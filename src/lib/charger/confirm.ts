// After suspending, the kiosk checks on the meter that the charger obeyed: power must fall to
// (about) zero within a deadline, or the operator is alarmed (a welded contactor, a charger that
// ignores its controller, a driver who keeps charging on a manual station).
import type { Meter } from '../meter';

export interface ConfirmOptions {
	/** Power at or below this counts as stopped, W (meters show a few W of noise). Default 50. */
	idleBelowW?: number;
	/** Time between meter polls, ms. Default 500. */
	pollMs?: number;
	sleep?: (ms: number) => Promise<void>;
	now?: () => number;
}

export type ConfirmResult =
	| { ok: true; powerW: number; afterMs: number }
	| { ok: false; alarm: { message: string; lastPowerW: number | null; lastError?: string } };

export async function confirmSuspended(
	meter: Meter,
	timeoutMs: number,
	opts: ConfirmOptions = {}
): Promise<ConfirmResult> {
	const idle = opts.idleBelowW ?? 50;
	const pollMs = opts.pollMs ?? 500;
	const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
	const now = opts.now ?? (() => Date.now());
	const start = now();
	let lastPowerW: number | null = null;
	let lastError: string | undefined;
	for (;;) {
		try {
			const s = await meter.read();
			lastPowerW = s.powerW;
			lastError = undefined;
			if (Math.abs(s.powerW) <= idle) return { ok: true, powerW: s.powerW, afterMs: now() - start };
		} catch (e) {
			lastError = e instanceof Error ? e.message : String(e);
		}
		if (now() - start >= timeoutMs) break;
		await sleep(Math.min(pollMs, Math.max(0, timeoutMs - (now() - start))));
	}
	const seconds = Math.round(timeoutMs / 100) / 10;
	const message =
		lastPowerW === null
			? `Charging was suspended but the meter could not confirm it within ${seconds} s (${lastError ?? 'no reading'}). Check the charger and the meter.`
			: `Charging was suspended but the car still draws ${Math.round(lastPowerW)} W after ${seconds} s. The charger did not obey: check its contactor and control wiring.`;
	return { ok: false, alarm: { message, lastPowerW, lastError } };
}
