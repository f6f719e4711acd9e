// A real one-hour session's receipt for bench:wallet: the kiosk's StationRuntime (simulated car,
// 11 kW, a reading a second) and the wallet's DriverRuntime over an in-memory broker and the
// Lightning simnet, on a simulated clock: 3,600 signed readings verified by the wallet, every
// 100 Wh invoice checked by its payment guard and paid, then stopped and settled. Returns the
// ReceiptRecord the wallet's session screen stores (src/routes/session/session.svelte.ts), built
// from the same toSnapshot.
import { SimulatedCharger } from '../src/lib/charger/index.js';
import { buildHubTopology, Simnet, SimnetNode } from '../src/lib/lightning/simnet/index.js';
import { SimulatedMeter } from '../src/lib/meter/index.js';
import { MemoryBroker } from '../src/lib/mqtt/index.js';
import {
	ethereumAddressOf,
	NO_TARIFF_REFERENCE,
	ocmfPublicKeyHex
} from '../src/lib/protocol/index.js';
import {
	DEFAULT_TARIFF,
	DriverRuntime,
	judgeAgainstRegistry,
	MemoryJournal,
	StationRuntime,
	toSnapshot
} from '../src/lib/session/index.js';
import type { DriverSnapshot } from '../src/lib/session/index.js';
import type { ReceiptRecord } from '../src/lib/storage/index.js';

export async function oneHourReceipt(readings = 3600): Promise<ReceiptRecord<DriverSnapshot>> {
	let clock = Date.UTC(2026, 10, 20, 8, 0, 0);
	const startedAt = clock;
	const now = () => clock;
	const key = '5'.repeat(63) + '9';
	const signingKey = ocmfPublicKeyHex(key);
	const identity = {
		stationId: 'bench-station-1',
		name: 'Market Square 1',
		signingKeyHex: key,
		signingKey,
		signerAddress: ethereumAddressOf(signingKey),
		maxPowerW: 11_000
	};
	const broker = new MemoryBroker();
	const net = new Simnet({ now, settleDelayMs: 0 });
	buildHubTopology(net, ['vehicle-1', identity.stationId]);
	const meter = new SimulatedMeter({
		maxPowerW: 11_000,
		wantedWh: 60_000,
		rampSeconds: 0,
		now,
		identity: { vendor: 'Lightcharge', model: 'SIM-1', serial: 'SIM-bench-1' }
	});
	const station = new StationRuntime({
		identity,
		tariff: DEFAULT_TARIFF,
		meter,
		charger: new SimulatedCharger(meter),
		lightning: new SimnetNode(net, identity.stationId),
		bus: broker.connect(),
		pollMs: 0,
		anchorIntervalMs: 0,
		now,
		newSessionId: () => 'bench-session-1'
	});
	await station.start();
	const offer = station.offer()!;
	const link = { v: 2 as const, network: '0000aaaa', ...offer };
	const lightningPubkey = net.node(identity.stationId).pubkey;
	const driver = new DriverRuntime({
		link,
		bus: broker.connect(),
		lightning: new SimnetNode(net, 'vehicle-1'),
		journal: new MemoryJournal(),
		checkIdentity: async (status) =>
			judgeAgainstRegistry(status, {
				signer: identity.signerAddress,
				lightningPubkey,
				tariffRef: NO_TARIFF_REFERENCE,
				active: true
			}),
		now
	});
	await driver.start(1000);
	await driver.join(100_000_000_000n);
	const settle = async (until: () => boolean, what: string) => {
		for (let i = 0; i < 2000 && !until(); i++) await new Promise((r) => setTimeout(r, 1));
		if (!until())
			throw new Error(
				`the benchmark session did not reach ${what}: ${driver.view().lastError ?? station.view().lastError}`
			);
	};
	await settle(() => station.view().session.phase === 'charging', 'charging');
	for (let i = 0; i < readings; i++) {
		clock += 1000;
		await station.pollOnce();
		await new Promise((r) => setImmediate(r));
		// Every invoice paid before the next reading, as a phone on a good connection would.
		if (driver.view().invoices.some((x) => x.state === 'waiting' || x.state === 'paying'))
			await settle(
				() => driver.view().invoices.every((x) => x.state === 'paid'),
				'every invoice paid'
			);
	}
	await driver.stop();
	for (let i = 0; i < 20 && driver.view().phase !== 'settled'; i++) {
		clock += 1000;
		await station.pollOnce();
		await new Promise((r) => setTimeout(r, 5));
	}
	const v = driver.view();
	if (v.readings.length < readings)
		throw new Error(
			`the benchmark session verified ${v.readings.length} readings, not ${readings}`
		);
	const snapshot = toSnapshot(v, driver.acceptedTariff ?? v.status!.tariff);
	await station.stop();
	driver.close();
	return {
		sessionId: link.sessionId,
		stationId: link.stationId,
		stationName: identity.name,
		startedAt,
		updatedAt: clock,
		energyWh: v.readings.at(-1)!.energyWh - v.readings[0]!.energyWh,
		paidMsat: v.paidMsat.toString(),
		feesMsat: v.feesMsat.toString(),
		link,
		ledger: null,
		snapshot
	};
}
