// Worker thread of bench/ledger.ts: a group of stations, each anchoring its session through the
// kiosk's own StationLedger (src/lib/ledger/station-ledger.ts) with its own key. Stations are
// separate devices in the field; running them on more than one thread lets the bench's client work
// (hashing, Merkle trees, signing, JSON-RPC) use both cores as separate stations would.
// Protocol: workerData = StationsJob; posts 'ready' once every station is connected, starts on
// 'go', and posts { done: txHashes } (or { error }) when every session is closed.
import { parentPort, workerData } from 'node:worker_threads';
import type { LedgerAddresses } from '../src/lib/ledger/index.js';

export interface StationsJob {
	rpcUrl: string;
	chainId: number;
	addresses: LedgerAddresses;
	anchorInterval: number;
	sessions: {
		stationId: string;
		sessionId: string;
		key: string;
		records: string[];
		energyWh: number[];
	}[];
}
export type StationsMessage = 'ready' | { done: string[] } | { error: string };

const port = parentPort;
if (!port) throw new Error('bench/ledger-stations.ts runs as a worker thread of bench/ledger.ts');
const job = workerData as StationsJob;
const { createStationLedger } = await import('../src/lib/ledger/index.js');
const { readingHash } = await import('../src/lib/ledger/index.js');

const stations = await Promise.all(
	job.sessions.map((s) =>
		createStationLedger({
			rpcUrl: job.rpcUrl,
			chainId: job.chainId,
			addresses: job.addresses,
			stationId: s.stationId,
			signerKey: s.key
		})
	)
);
port.once('message', () => {
	const txHashes: string[] = [];
	Promise.all(
		job.sessions.map(async (s, i) => {
			const station = stations[i]!;
			const readings = s.records.length;
			txHashes.push(await station.openSession(s.sessionId, 'bench-driver'));
			for (let from = 1; from <= readings; from += job.anchorInterval) {
				const to = Math.min(readings, from + job.anchorInterval - 1);
				const anchored = await station.anchorReadings(s.sessionId, s.records.slice(from - 1, to), {
					fromReading: from,
					toReading: to,
					energyWh: s.energyWh[to - 1]!
				});
				txHashes.push(anchored.txHash);
			}
			// One invoice per 100 Wh increment, as in stream mode: their payment hashes make the payments root.
			const increments = Math.ceil(s.energyWh.at(-1)! / 100);
			const paymentHashes = Array.from({ length: increments }, (_, k) =>
				readingHash(`${s.sessionId}/payment/${k}`).slice(2)
			);
			const closed = await station.closeSession(s.sessionId, {
				energyWh: s.energyWh.at(-1)!,
				amountMsat: 3_000_000n,
				paymentHashes
			});
			txHashes.push(closed.txHash);
		})
	).then(
		() => port.postMessage({ done: txHashes } satisfies StationsMessage),
		(error: unknown) =>
			port.postMessage({
				error: error instanceof Error ? (error.stack ?? error.message) : String(error)
			} satisfies StationsMessage)
	);
});
port.postMessage('ready' satisfies StationsMessage);
