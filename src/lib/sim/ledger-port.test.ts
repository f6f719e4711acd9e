import { describe, expect, it } from 'vitest';
import { MemoryLedger } from './ledger-port';

describe('MemoryLedger', () => {
	it('enforces the contracts’ rules', async () => {
		const ledger = new MemoryLedger(['ST-1']);
		ledger.setTime(1000);
		await expect(
			ledger.reserve({ stationId: 'ST-9', vehicleRef: 'EV-1', eta: 1100, expiresAt: 2000 })
		).rejects.toThrow(/not registered/);
		await expect(
			ledger.reserve({ stationId: 'ST-1', vehicleRef: 'EV-1', eta: 1100, expiresAt: 900 })
		).rejects.toThrow(/expiry/);
		await expect(
			ledger.reserve({ stationId: 'ST-1', vehicleRef: 'EV-1', eta: 2100, expiresAt: 2000 })
		).rejects.toThrow(/after its expiry/);
		const reserved = await ledger.reserve({
			stationId: 'ST-1',
			vehicleRef: 'EV-1',
			eta: 1100,
			expiresAt: 2000
		});
		const { reservationId } = reserved;
		// A transaction has a 32-byte hash, its estimated gas and its method.
		expect(reserved).toMatchObject({ method: 'reserve', gasUsed: 185_974, reservationId: 1 });
		expect(reserved.txHash).toBe(`0x${'0'.repeat(63)}1`);
		expect(
			(await ledger.openSession({ stationId: 'ST-1', sessionId: 'S0', driverRef: 'EV-1' })).txHash
		).toBe(`0x${'0'.repeat(63)}2`);
		expect((await ledger.listReservations('ST-1')).map((r) => r.reservationId)).toEqual([
			reservationId
		]);
		await ledger.fulfilReservation(reservationId);
		await expect(ledger.fulfilReservation(reservationId)).rejects.toThrow(/fulfilled/);
		expect(await ledger.listReservations('ST-1')).toEqual([]);
		await ledger.openSession({ stationId: 'ST-1', sessionId: 'S1', driverRef: 'EV-1' });
		await expect(
			ledger.openSession({ stationId: 'ST-1', sessionId: 'S1', driverRef: 'EV-1' })
		).rejects.toThrow(/already exists/);
		const root = `0x${'11'.repeat(32)}`;
		await expect(
			ledger.anchorReadings({
				stationId: 'ST-1',
				sessionId: 'S1',
				root,
				fromReading: 2,
				toReading: 3,
				energyWh: 5
			})
		).rejects.toThrow(/expects reading 1/);
		await expect(
			ledger.anchorReadings({
				stationId: 'ST-1',
				sessionId: 'S1',
				root: `0x${'0'.repeat(64)}`,
				fromReading: 1,
				toReading: 3,
				energyWh: 5
			})
		).rejects.toThrow(/root is zero/);
		await ledger.anchorReadings({
			stationId: 'ST-1',
			sessionId: 'S1',
			root,
			fromReading: 1,
			toReading: 3,
			energyWh: 5
		});
		await expect(
			ledger.closeSession({
				stationId: 'ST-1',
				sessionId: 'S1',
				energyWh: 4,
				amountMsat: 0n,
				paymentsRoot: root
			})
		).rejects.toThrow(/went down/);
		await ledger.closeSession({
			stationId: 'ST-1',
			sessionId: 'S1',
			energyWh: 5,
			amountMsat: 1n,
			paymentsRoot: root
		});
		await expect(
			ledger.closeSession({
				stationId: 'ST-1',
				sessionId: 'S1',
				energyWh: 5,
				amountMsat: 1n,
				paymentsRoot: root
			})
		).rejects.toThrow(/already closed/);
	});

	it('lists a reservation only from the block that includes it, and never after it expires', async () => {
		const ledger = new MemoryLedger(['ST-1'], { blockSeconds: 5 });
		ledger.setTime(1001);
		const late = await ledger.reserve({
			stationId: 'ST-1',
			vehicleRef: 'EV-2',
			eta: 1300,
			expiresAt: 1400
		});
		const soon = await ledger.reserve({
			stationId: 'ST-1',
			vehicleRef: 'EV-1',
			eta: 1200,
			expiresAt: 1250
		});
		expect(await ledger.listReservations('ST-1')).toEqual([]);
		ledger.setTime(1005);
		// Earliest ETA first, as the contract's queue view.
		expect((await ledger.listReservations('ST-1')).map((r) => r.reservationId)).toEqual([
			soon.reservationId,
			late.reservationId
		]);
		ledger.setTime(1251);
		expect((await ledger.listReservations('ST-1')).map((r) => r.reservationId)).toEqual([
			late.reservationId
		]);
		await expect(ledger.fulfilReservation(soon.reservationId)).rejects.toThrow(/expired/);
	});
});
