// The simulator's chain adapter against a real in-process chain: stations registered, simulated
// times moved onto chain time and back, the contracts' rules surfacing as errors, gas from receipts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileContracts } from '../../../contracts/compile';
import { startChain, type RunningChain } from '../../../devnet/chain';
import type { SimChain } from './chain-ledger';

// The generated ABIs must exist before the ledger client loads.
await compileContracts();
const { deploySimChain } = await import('./chain-ledger');

const START_MS = Date.UTC(2026, 10, 23);
const PUBKEY = `02${'11'.repeat(32)}`;
let chain: RunningChain;
let sim: SimChain;

beforeAll(async () => {
	chain = await startChain({ port: 0, blockIntervalMs: 0 });
	sim = await deploySimChain({
		rpcUrl: chain.rpcUrl,
		key: chain.accounts[0]!.privateKey,
		startMs: START_MS,
		stationIds: ['ST-001', 'ST-002'],
		lightningPubkeys: [PUBKEY, PUBKEY]
	});
});

afterAll(async () => {
	sim?.close();
	await chain?.stop();
});

describe('ChainSimLedger', () => {
	it('reserves in simulated time and lists the queue back in simulated time', async () => {
		const t0 = START_MS / 1000;
		const a = await sim.ledger.reserve({
			stationId: 'ST-001',
			vehicleRef: 'EV-0001',
			eta: t0 + 600,
			expiresAt: t0 + 3600
		});
		const b = await sim.ledger.reserve({
			stationId: 'ST-001',
			vehicleRef: 'EV-0002',
			eta: t0 + 300,
			expiresAt: t0 + 3600
		});
		expect(a.gasUsed).toBeGreaterThan(50_000);
		const queue = await sim.ledger.listReservations('ST-001');
		expect(queue.map((r) => [r.reservationId, r.eta])).toEqual([
			[b.reservationId, t0 + 300],
			[a.reservationId, t0 + 600]
		]);
		await sim.ledger.cancelReservation(b.reservationId);
		await sim.ledger.fulfilReservation(a.reservationId);
		expect(await sim.ledger.listReservations('ST-001')).toEqual([]);
		await expect(
			sim.ledger.reserve({
				stationId: 'ST-404',
				vehicleRef: 'EV-0001',
				eta: t0 + 60,
				expiresAt: t0 + 3600
			})
		).rejects.toThrow();
	});

	it('reserves from one account per vehicle, so a fleet is not held to one account’s active limit', async () => {
		const t0 = START_MS / 1000;
		const made = [];
		// More active reservations than one account may hold (MAX_ACTIVE_PER_ACCOUNT = 4).
		for (let i = 1; i <= 6; i++)
			made.push(
				await sim.ledger.reserve({
					stationId: 'ST-002',
					vehicleRef: `EV-000${i}`,
					eta: t0 + 60 * i,
					expiresAt: t0 + 7200
				})
			);
		expect((await sim.ledger.listReservations('ST-002')).map((r) => r.reservationId)).toEqual(
			made.map((r) => r.reservationId)
		);
		// Each vehicle cancels its own; the station fulfils the rest.
		await sim.ledger.cancelReservation(made[0]!.reservationId);
		for (const r of made.slice(1)) await sim.ledger.fulfilReservation(r.reservationId);
		expect(await sim.ledger.listReservations('ST-002')).toEqual([]);
	});

	it('opens, anchors in reading order and closes a session', async () => {
		const root = `0x${'ab'.repeat(32)}`;
		await sim.ledger.openSession({
			stationId: 'ST-002',
			sessionId: 'SIM-test-1',
			driverRef: 'EV-0001'
		});
		const anchor = await sim.ledger.anchorReadings({
			stationId: 'ST-002',
			sessionId: 'SIM-test-1',
			root,
			fromReading: 1,
			toReading: 2,
			energyWh: 800
		});
		expect(anchor.gasUsed).toBeGreaterThan(20_000);
		await expect(
			sim.ledger.anchorReadings({
				stationId: 'ST-002',
				sessionId: 'SIM-test-1',
				root,
				fromReading: 5,
				toReading: 6,
				energyWh: 900
			})
		).rejects.toThrow();
		const close = await sim.ledger.closeSession({
			stationId: 'ST-002',
			sessionId: 'SIM-test-1',
			energyWh: 800,
			amountMsat: 200_000n,
			paymentsRoot: root
		});
		expect(close.method).toBe('closeSession');
		const stored = await sim.raw.getSession('ST-002', 'SIM-test-1');
		expect(stored?.state).toBe('closed');
		expect(stored?.energyWh).toBe(800);
	});
});
