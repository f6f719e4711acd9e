// The ledger client's StationRegistry methods: the operator registers, updates, retires and
// reads stations; rebuildStation replays a station's whole history from the event log.
import { foldHistory } from './errors';
import { foldStationEvents, type StationEvent } from './history';
import { stationIdToBytes32, type Hex32 } from './ids';
import { bytes32, pubkeyHex, address, type LedgerConnection } from './connection';
import type { Ledger } from './api';

export function stationMethods(c: LedgerConnection) {
	const { registry, logsByFirstTopic, position, write, read, txOnly, stationArgs } = c;
	return {
		getOperator: () =>
			read(
				'reading the registry operator',
				() => registry.getFunction('operator')() as Promise<string>
			),

		async transferOperator(newOperator) {
			return txOnly(
				await write(
					registry,
					'transferOperator',
					[address(newOperator, 'new operator')],
					'transferOperator'
				)
			);
		},

		async registerStation(station) {
			const action = `registerStation("${station.stationId}")`;
			return txOnly(await write(registry, 'registerStation', stationArgs(station), action));
		},

		async updateStation(station) {
			const action = `updateStation("${station.stationId}")`;
			return txOnly(await write(registry, 'updateStation', stationArgs(station), action));
		},

		async setTariffRef(stationId, tariffRef) {
			const args = [stationIdToBytes32(stationId), bytes32(tariffRef, 'tariffRef')];
			return txOnly(await write(registry, 'setTariffRef', args, `setTariffRef("${stationId}")`));
		},

		async setLightningPubkey(stationId, lightningPubkey) {
			const args = [stationIdToBytes32(stationId), `0x${pubkeyHex(lightningPubkey)}`];
			return txOnly(
				await write(registry, 'setLightningPubkey', args, `setLightningPubkey("${stationId}")`)
			);
		},

		async retireStation(stationId) {
			return txOnly(
				await write(
					registry,
					'retireStation',
					[stationIdToBytes32(stationId)],
					`retireStation("${stationId}")`
				)
			);
		},

		async reactivateStation(stationId) {
			const args = [stationIdToBytes32(stationId)];
			return txOnly(
				await write(registry, 'reactivateStation', args, `reactivateStation("${stationId}")`)
			);
		},

		async getStation(stationId) {
			const id = stationIdToBytes32(stationId);
			const s = await read(`getStation("${stationId}")`, () =>
				registry.getFunction('getStation')(id)
			);
			if (!s.registered) return null;
			return {
				stationId: id,
				signer: s.signer as string,
				lightningPubkey: (s.lightningPubkey as string).slice(2),
				tariffRef: s.tariffRef as Hex32,
				location: s.location as string,
				active: s.active as boolean
			};
		},

		async listStationIds() {
			return read('listing stations', async () => {
				const count = Number(await registry.getFunction('stationCount')());
				const at = registry.getFunction('stationIdAt');
				return Promise.all(Array.from({ length: count }, (_, i) => at(i) as Promise<Hex32>));
			});
		},

		async rebuildStation(stationId) {
			const id = stationIdToBytes32(stationId);
			const action = `rebuildStation("${stationId}")`;
			const events: StationEvent[] = [];
			for (const log of await logsByFirstTopic(registry, id, action)) {
				const parsed = registry.interface.parseLog(log);
				if (!parsed) continue;
				const a = parsed.args;
				const pos = position(log);
				switch (parsed.name) {
					case 'StationRegistered':
					case 'StationUpdated':
						events.push({
							...pos,
							type: parsed.name,
							signer: a.signer,
							lightningPubkey: (a.lightningPubkey as string).slice(2),
							tariffRef: a.tariffRef,
							location: a.location
						});
						break;
					case 'TariffRefChanged':
						events.push({ ...pos, type: 'TariffRefChanged', tariffRef: a.tariffRef, by: a.by });
						break;
					case 'LightningPubkeyChanged':
						events.push({
							...pos,
							type: 'LightningPubkeyChanged',
							lightningPubkey: (a.lightningPubkey as string).slice(2),
							by: a.by
						});
						break;
					case 'StationRetired':
					case 'StationReactivated':
						events.push({ ...pos, type: parsed.name });
						break;
				}
			}
			return foldHistory(action, () => foldStationEvents(id, events));
		}
	} satisfies Partial<Ledger>;
}
