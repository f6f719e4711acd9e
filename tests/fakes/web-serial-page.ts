// Runs IN THE PAGE before any app script (bundled by tests/fakes/web-serial.ts): replaces
// navigator.serial with a fake whose one port is wired to a simulated meter speaking Modbus RTU,
// so the kiosk's real master and real Web Serial transport are what a Playwright test exercises.
// Controls for the test live on window.__lightchargeFakeMeter.
import {
	findProfile,
	parseMeterProfile,
	type MeterProfile,
	startSimulatedModbusMeter,
	SimulatedMeter,
	createTransportPair,
	type SlaveFaults
} from '../../src/lib/meter';
import { FakeSerial, FakeSerialPort } from './fake-serial-port';

export interface FakeSerialConfig {
	/** A profile id from METER_PROFILES, or a whole profile object (custom meters). */
	profile: string | MeterProfile;
	unitId?: number;
	/** The meter's line speed; the app must open the port at the same rate. Default 9600. */
	baudRate?: number;
	serial?: string;
	maxPowerW?: number;
	wantedWh?: number;
	startWh?: number;
	rampSeconds?: number;
	speed?: number;
	/** The car draws power from the start (no charger backend in the page). Default true. */
	carAllowed?: boolean;
	responseDelayMs?: number;
}

export interface FakeMeterControls {
	car: SimulatedMeter;
	port: FakeSerialPort;
	profileId: string;
	/** The contactor: a SimulatedCharger can be built on `car`, or a test flips it here. */
	setAllowed(allowed: boolean): void;
	/** Rehearse a broken meter: silent, corrupted CRC, or an exception code on every answer. */
	setFaults(faults: SlaveFaults): void;
	/** Swap the meter for another with a different serial (the guard must notice). */
	setSerial(serial: string): void;
	/** Pull the USB adapter. */
	unplug(): void;
	requestsSeen(): number;
}

declare global {
	var __lightchargeFakeSerialConfig: FakeSerialConfig | undefined;
	var __lightchargeFakeMeter: FakeMeterControls | undefined;
}

const cfg = globalThis.__lightchargeFakeSerialConfig;
if (cfg) {
	const profile =
		typeof cfg.profile === 'string' ? findProfile(cfg.profile) : parseMeterProfile(cfg.profile);
	const car = new SimulatedMeter({
		maxPowerW: cfg.maxPowerW ?? 11_000,
		wantedWh: cfg.wantedWh ?? 40_000,
		startWh: cfg.startWh,
		rampSeconds: cfg.rampSeconds,
		speed: cfg.speed,
		identity: { vendor: profile.vendor, model: profile.model, serial: cfg.serial ?? '20240917' }
	});
	if (cfg.carAllowed ?? true) car.setAllowed(true);
	const [host, device] = createTransportPair({ baudRate: cfg.baudRate ?? 9600 });
	const { slave, bank } = startSimulatedModbusMeter(device, {
		profile,
		source: car,
		unitId: cfg.unitId ?? 1,
		serial: cfg.serial,
		responseDelayMs: cfg.responseDelayMs
	});
	const port = new FakeSerialPort(host);
	const serial = new FakeSerial(port);
	Object.defineProperty(Navigator.prototype, 'serial', {
		configurable: true,
		enumerable: true,
		get: () => serial
	});
	globalThis.__lightchargeFakeMeter = {
		car,
		port,
		profileId: profile.id,
		setAllowed: (allowed) => car.setAllowed(allowed),
		setFaults: (faults) => (slave.faults = { ...faults }),
		setSerial: (s) => (bank.serial = s),
		unplug: () => port.unplug(),
		requestsSeen: () => slave.requestsSeen
	};
}
