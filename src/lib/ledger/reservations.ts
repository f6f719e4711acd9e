// The ledger client's Reservations methods: a driver reserves a station slot and cancels it; the
// station fulfils or expires it; anyone lists a station's queue.
import { LedgerError, toLedgerError } from './errors';
import { stationIdToBytes32, vehicleRefToBytes32 } from './ids';
import type { ReservationRecord } from './types';
import { uint64, type LedgerConnection } from './connection';
import type { Ledger } from './api';

export function reservationMethods(c: LedgerConnection) {
	const { rpcUrl, reservations, findEvent, write, read, txOnly, parseReservation } = c;
	return {
		async reserve({ stationId, vehicleRef, eta, expiresAt }) {
			const args = [
				stationIdToBytes32(stationId),
				vehicleRefToBytes32(vehicleRef),
				uint64(eta, 'eta'),
				uint64(expiresAt, 'expiresAt')
			];
			const result = await write(reservations, 'reserve', args, `reserve("${stationId}")`);
			const event = findEvent(reservations, 'ReservationCreated', result.logs);
			if (!event)
				throw new LedgerError(
					'rpc-error',
					`reserve transaction ${result.txHash} emitted no ReservationCreated event`
				);
			return { ...txOnly(result), reservationId: Number(event.reservationId) };
		},

		async cancelReservation(reservationId) {
			const args = [uint64(reservationId, 'reservation id')];
			return txOnly(
				await write(reservations, 'cancel', args, `cancelReservation(#${reservationId})`)
			);
		},

		async expireReservation(reservationId) {
			const args = [uint64(reservationId, 'reservation id')];
			return txOnly(
				await write(reservations, 'expire', args, `expireReservation(#${reservationId})`)
			);
		},

		async fulfilReservation(reservationId) {
			const args = [uint64(reservationId, 'reservation id')];
			return txOnly(
				await write(reservations, 'fulfil', args, `fulfilReservation(#${reservationId})`)
			);
		},

		async getReservation(reservationId) {
			const id = uint64(reservationId, 'reservation id');
			try {
				const r = await reservations.getFunction('getReservation')(id);
				return parseReservation(reservationId, r);
			} catch (error) {
				const ledgerError = toLedgerError(error, `getReservation(#${reservationId})`, rpcUrl);
				if (ledgerError.revert?.name === 'UnknownReservation') return null;
				throw ledgerError;
			}
		},

		async listReservations(stationId, limit = 200) {
			const id = stationIdToBytes32(stationId);
			const page = reservations.getFunction('reservationsPage');
			const out: ReservationRecord[] = [];
			const PAGE = 50;
			for (let offset = 0; offset < limit; offset += PAGE) {
				const [ids, items, queued] = await read(`listReservations("${stationId}")`, () =>
					page(id, offset, Math.min(PAGE, limit - offset))
				);
				out.push(...(ids as bigint[]).map((rid, i) => parseReservation(Number(rid), items[i])));
				if (offset + PAGE >= Number(queued)) break;
			}
			return out.sort((a, b) => a.eta - b.eta || a.reservationId - b.reservationId);
		},

		async queuedReservations(stationId) {
			const [, , queued] = await read(`queuedReservations("${stationId}")`, () =>
				reservations.getFunction('reservationsPage')(stationIdToBytes32(stationId), 0, 0)
			);
			return Number(queued);
		}
	} satisfies Partial<Ledger>;
}
