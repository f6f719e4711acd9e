// The anchors a session leaves: its begin and end readings, each with the Merkle root that went to
// the ledger and a proof that the shared verifier (verifyReadingProof) accepts; outside the crypto
// sample each reading's text is exactly what buildOcmfPayloadText makes of it, inside it a signed
// OCMF record that verifies with the station's key.
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '@noble/hashes/utils.js';
import { readingHash, verifyReadingProof } from '../ledger';
import { buildOcmfPayloadText, verifyOcmf, GATEWAY_VERSION } from '../protocol';
import { FleetSim } from './engine';
import type { AnchorArgs, SimLedger } from './ledger-port';
import type { ChargingSession, SimReading } from './model';
import { portableReadingHash, readingHashOf } from './metering';
import { lazyLedger, memoryLedgerFor } from './run';
import { buildScenario } from './scenario';

describe('anchors', () => {
	it('hash a reading as merkle.ts does, natively in Node and with @noble/hashes elsewhere', () => {
		expect(readingHashOf).not.toBe(portableReadingHash);
		for (const text of ['OCMF|{"FV":"1.0"}|{}', 'Zähler ⚡ 10,5 kWh', 'x'.repeat(1000)]) {
			expect(`0x${bytesToHex(readingHashOf(text))}`).toBe(readingHash(text));
			expect(`0x${bytesToHex(portableReadingHash(text))}`).toBe(readingHash(text));
		}
	});

	it.each([
		[0, 'at once'],
		[1, 'at once'],
		[0, 'awaited']
	] as const)(
		'every closed session can prove its begin and end readings against a root it anchored (reading sample %s, ledger calls %s)',
		async (readingSample, calls) => {
			// Every reading of the signed sample costs a signature and a verification: a smaller fleet there.
			const scenario = buildScenario({
				seed: 3,
				vehicles: readingSample === 1 ? 90 : 150,
				stations: readingSample === 1 ? 4 : 6,
				hours: 16,
				gridSize: 8,
				readingSample
			});
			const inner = memoryLedgerFor(scenario);
			const anchored = new Map<string, Array<{ root: string; from: number; to: number }>>();
			const record = (a: AnchorArgs) => {
				const list = anchored.get(a.sessionId) ?? [];
				list.push({ root: a.root, from: a.fromReading, to: a.toReading });
				anchored.set(a.sessionId, list);
			};
			const ledger: SimLedger = {
				...lazyLedger(() => inner),
				anchorReadings: async (a) => (record(a), inner.anchorReadings(a)),
				anchorReadingsNow:
					calls === 'at once' ? (a) => (record(a), inner.anchorReadingsNow(a)) : undefined,
				// 'awaited': every ledger call a promise, as on a chain.
				listReservationsNow: calls === 'at once' ? inner.listReservationsNow : undefined
			};
			const closed: ChargingSession[] = [];
			const sim = new FleetSim({
				scenario,
				policy: 'optimal',
				ledger,
				onSessionClosed: (s) => closed.push(s)
			});
			await sim.runUntil(sim.endSeconds);
			expect(closed.length).toBeGreaterThan(10);
			// Every anchor went through the path under test, and the run is the one the plain memory ledger gives.
			expect([...anchored.values()].reduce((n, l) => n + l.length, 0)).toBe(
				sim.metrics.ledgerTx.anchorReadings.count
			);
			if (readingSample === 0) {
				const { wallSeconds: _a, ...report } = sim.report();
				const plain = new FleetSim({
					scenario,
					policy: 'optimal',
					ledger: memoryLedgerFor(scenario)
				});
				await plain.runUntil(plain.endSeconds);
				const { wallSeconds: _b, ...plainReport } = plain.report();
				expect(report).toEqual(plainReport);
			}
			const text = (s: ChargingSession, r: SimReading) =>
				buildOcmfPayloadText({
					stationId: s.station.spec.id,
					gatewayVersion: GATEWAY_VERSION,
					pagination: r.seq,
					meter: {
						vendor: 'Lightcharge',
						model: 'SIM-1',
						serial: `${s.station.spec.id}-${s.connector + 1}`
					},
					identification: { type: 'CENTRAL', data: s.id },
					reading: {
						at: scenario.options.startMs + Math.round(r.at * 1000),
						tx: r.tx,
						energyWh: r.energyWh
					}
				});
			for (const s of closed) {
				for (const a of [s.beginAnchor!, s.endAnchor!]) {
					expect(a).not.toBeNull();
					const { reading, root, proof } = a;
					expect(verifyReadingProof(root, reading.leafText, proof)).toBe(true);
					// The root is one the session sent to the ledger, for a range that holds this reading.
					expect(
						anchored
							.get(s.id)!
							.some((x) => x.root === root && x.from <= reading.seq && reading.seq <= x.to)
					).toBe(true);
					if (s.sampled) expect(verifyOcmf(reading.leafText, s.station.publicKey).ok).toBe(true);
					else expect(reading.leafText).toBe(text(s, reading));
				}
				expect(s.beginAnchor!.reading.tx).toBe('B');
				expect(s.endAnchor!.reading.tx).toBe('E');
				// Readings are dropped once anchored.
				expect(s.pending).toEqual([]);
			}
		}
	);
});
