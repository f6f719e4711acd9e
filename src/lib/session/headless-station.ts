// One station without a UI, built from the same parts as the kiosk: the StationRuntime with a
// simulated car behind a simulated meter and charger (or any Meter/Charger), a Lightning node, the
// bus and optionally the ledger. Used by `npm run station` and the station benchmark.
import { SimulatedCharger } from '../charger';
import type { LightningNode } from '../lightning';
import { SimulatedMeter } from '../meter';
import type { MessageBus } from '../mqtt';
import { ethereumAddressOf, ocmfPublicKeyHex, type Tariff } from '../protocol';
import { chooseIncrement } from './increment';
import type { KioskStore, StationLedger } from './ports';
import { loadStationSnapshot, StationRuntime, type StationRuntimeOptions } from './station-runtime';

// The devnet's price and terms. Its 100 Wh increment is the benchmarks' fixed one (docs/kiosk.md
// quotes figures at it); a station run without a named increment bills stationTariff's instead.
export const DEFAULT_TARIFF: Tariff = {
	pricePerKwhMsat: '250000',
	startFeeMsat: '0',
	incrementWh: 100,
	graceWh: 50,
	mode: 'stream',
	invoiceExpirySeconds: 600
};

/** The headless station's connector when none is named, as the kiosk's (`?powerW`). */
export const DEFAULT_MAX_POWER_W = 11_000;

/**
 * The devnet tariff with the increment the kiosk bills when none is named: the least that keeps
 * the hub's fee under 1 % at this price and power (chooseIncrement), so `npm run station` and the
 * kiosk charge a driver the same way.
 */
export function stationTariff(maxPowerW: number = DEFAULT_MAX_POWER_W): Tariff {
	const pricePerKwhMsat = Number(DEFAULT_TARIFF.pricePerKwhMsat);
	return {
		...DEFAULT_TARIFF,
		incrementWh: chooseIncrement({ pricePerKwhMsat, maxPowerW }).incrementWh
	};
}

export interface HeadlessStationOptions {
	stationId: string;
	name?: string;
	signingKeyHex: string;
	tariff?: Tariff;
	maxPowerW?: number;
	/** Simulated seconds per wall-clock second for the simulated car. */
	meterSpeed?: number;
	lightning: LightningNode;
	bus: MessageBus;
	ledger?: StationLedger;
	store: KioskStore;
	pollMs?: number;
	anchorIntervalMs?: number;
	/** The longest the charger runs without a meter reading (StationRuntime's default when absent). */
	maxMeterGapMs?: number;
	onLog?: StationRuntimeOptions['onLog'];
}

export interface HeadlessStation {
	runtime: StationRuntime;
	meter: SimulatedMeter;
}

/** Builds (does not start) a simulated station; a stored session continues from its meter register. */
export async function createSimulatedStation(o: HeadlessStationOptions): Promise<HeadlessStation> {
	const maxPowerW = o.maxPowerW ?? DEFAULT_MAX_POWER_W;
	const speed = o.meterSpeed ?? 1;
	const snapshot = await loadStationSnapshot(o.store, o.stationId);
	// A real meter's register survives a restart; the simulated one continues where the session was.
	const startWh = snapshot?.session.last?.energyWh;
	const meter = new SimulatedMeter({
		maxPowerW,
		wantedWh: 60_000,
		speed,
		...(startWh !== undefined && { startWh }),
		identity: { vendor: 'Lightcharge', model: 'SIM-1', serial: `SIM-${o.stationId}` }
	});
	const signingKey = ocmfPublicKeyHex(o.signingKeyHex);
	const runtime = new StationRuntime({
		identity: {
			stationId: o.stationId,
			name: o.name ?? o.stationId,
			signingKeyHex: o.signingKeyHex,
			signingKey,
			signerAddress: ethereumAddressOf(signingKey),
			maxPowerW
		},
		tariff: o.tariff ?? stationTariff(maxPowerW),
		meter,
		charger: new SimulatedCharger(meter),
		lightning: o.lightning,
		bus: o.bus,
		ledger: o.ledger,
		store: o.store,
		pollMs: o.pollMs ?? 1000,
		anchorIntervalMs: o.anchorIntervalMs ?? 60_000,
		maxMeterGapMs: o.maxMeterGapMs,
		maxPlausiblePowerW: maxPowerW * speed * 1.5,
		onLog: o.onLog
	});
	return { runtime, meter };
}
