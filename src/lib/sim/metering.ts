// A session's meter readings and their anchors on the ledger. In the crypto sample every reading
// is an OCMF record signed with the station's key and verified by the vehicle; outside it, the
// reading is the exact payload text the station would sign. Either way the anchor commits to it
// the same way, and once anchored a reading is dropped from memory: only the begin and end
// readings stay, with their anchor's root and proof (what a bill and a receipt rest on).
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { buildReadingsTreeOfHashes } from '../ledger';
import { GATEWAY_VERSION, makeReading } from '../protocol';
import type { ChargingSession, SimContext, SimReading } from './model';
import { PayloadTemplate } from './payload-template';

// A reading's hash is SHA-256 of its text (merkle.ts): Node's native one-shot SHA-256 where the
// simulator runs headless (process.getBuiltinModule, no import a browser bundle would trip on; hex
// out, so no off-heap Buffer per reading for the collector to track), @noble/hashes in the
// browser's live view. The same digest either way (metering.test.ts checks both against merkle.ts'
// readingHash and verifies the anchors' proofs with the shared verifier).
type OneShotHash = (algorithm: 'sha256', text: string, encoding: 'hex') => string;
const nodeHash = (
	(
		globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
	).process?.getBuiltinModule?.('node:crypto') as { hash?: OneShotHash } | undefined
)?.hash;
export const portableReadingHash = (text: string): Uint8Array => sha256(utf8ToBytes(text));
export const readingHashOf: (text: string) => Uint8Array = nodeHash
	? (text) => hexToBytes(nodeHash('sha256', text, 'hex'))
	: portableReadingHash;

const meterOf = (s: ChargingSession) => ({
	vendor: 'Lightcharge',
	model: 'SIM-1',
	serial: `${s.station.spec.id}-${s.connector + 1}`
});

export function addReading(
	ctx: SimContext,
	s: ChargingSession,
	tx: 'B' | 'T' | 'E',
	atSeconds: number,
	registerWh: number
): SimReading {
	const seq = s.readingCount + 1;
	const at = ctx.scenario.options.startMs + Math.round(atSeconds * 1000);
	const station = s.station;
	const previousWh = s.readingCount > 0 ? s.last.energyWh : registerWh;
	let reading: SimReading;
	if (s.sampled) {
		const made = makeReading(
			{
				seq,
				tx,
				energyWh: registerWh,
				at,
				meter: meterOf(s),
				stationId: station.spec.id,
				sessionId: s.id
			},
			station.spec.signingKey
		);
		ctx.metrics.readingsSigned++;
		reading = {
			seq,
			tx,
			at: atSeconds,
			energyWh: registerWh,
			ocmf: made.ocmf,
			leafText: made.ocmf
		};
		const result = s.verifier!.accept(made.reading);
		if (!result.ok)
			throw new Error(`reading ${seq} of ${s.id} failed verification: ${result.reason}`);
		ctx.metrics.readingsVerified++;
		// The bill rests on the first reading and the latest: keep those two.
		if (s.readingCount > 1) s.verified.delete(s.last.seq);
		s.verified.set(seq, result.reading);
	} else {
		// The shared builder's text for the session's first reading; the same text with this
		// reading's fields after (payload-template.ts).
		const values = { pagination: seq, at, tx, energyWh: registerWh };
		let leafText: string;
		if (s.payloadTemplate) leafText = s.payloadTemplate.fill(values);
		else {
			const made = PayloadTemplate.of(
				{
					stationId: station.spec.id,
					gatewayVersion: GATEWAY_VERSION,
					meter: meterOf(s),
					identification: { type: 'CENTRAL', data: s.id }
				},
				values
			);
			s.payloadTemplate = made.template;
			leafText = made.text;
		}
		reading = { seq, tx, at: atSeconds, energyWh: registerWh, ocmf: null, leafText };
	}
	ctx.metrics.readingsMade++;
	ctx.metrics.deliveredWh += registerWh - previousWh;
	s.readingCount = seq;
	if (seq === 1) s.first = reading;
	s.last = reading;
	s.pending.push(reading);
	return reading;
}

/**
 * Anchors the readings since the last anchor (their Merkle root, range and energy), then drops
 * them. At once where the ledger can (the memory ledger), else a promise.
 */
export function anchor(ctx: SimContext, s: ChargingSession): void | Promise<void> {
	const batch = s.pending;
	if (batch.length === 0) return;
	s.pending = [];
	const tree = buildReadingsTreeOfHashes(batch.map((r) => readingHashOf(r.leafText)));
	const from = batch[0]!.seq;
	const to = batch[batch.length - 1]!.seq;
	s.lastAnchoredSeq = to;
	batch.forEach((reading, i) => {
		if (reading.seq === 1) s.beginAnchor = { reading, root: tree.root, proof: tree.proof(i) };
		if (reading.tx === 'E') s.endAnchor = { reading, root: tree.root, proof: tree.proof(i) };
	});
	const args = {
		stationId: s.station.spec.id,
		sessionId: s.id,
		root: tree.root,
		fromReading: from,
		toReading: to,
		energyWh: s.last.energyWh - s.first.energyWh
	};
	const now = ctx.ledger.anchorReadingsNow;
	if (now) {
		if (ctx.ledgerCallNow(now, args)) s.anchors++;
		return;
	}
	return ctx
		.ledgerCall(() => ctx.ledger.anchorReadings(args))
		.then((tx) => {
			if (tx) s.anchors++;
		});
}
