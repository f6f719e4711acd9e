// Signed meter readings through a session: the station makes them, the driver's wallet
// checks each one before it believes any energy figure.
import type { LenientJson } from './lenient-json';
import {
	buildOcmfPayloadText,
	parseOcmfTime,
	signOcmf,
	verifyOcmf,
	OcmfVerifyingKey,
	type OcmfTransaction,
	type PublicKeyInput
} from './ocmf';
import { assertValidId } from './topics';
import { PROTOCOL_VERSION, type ReadingMessage } from './types';

export interface VerifiedReading {
	/** OCMF pagination number = ReadingMessage.seq. */
	seq: number;
	/** Meter register, integer Wh. */
	energyWh: number;
	/** Meter time, unix ms. */
	at: number;
	tx: OcmfTransaction;
	meterSerial: string;
	/** The signed record, verbatim (what a receipt keeps). */
	ocmf: string;
}

export type AcceptResult =
	| {
			ok: true;
			reading: VerifiedReading;
			/** True when this exact reading was already accepted (a redelivery); nothing changed. */
			duplicate: boolean;
			/** Readings missing right before this one (inclusive seq range), if it skipped ahead. */
			gap: { from: number; to: number } | null;
	  }
	| { ok: false; reason: string };

/** Software version written into our records' GV field. */
export const GATEWAY_VERSION = '0.1.0';

/**
 * Checks a session's readings as they arrive: signature by the station's key, pagination
 * equal to `seq`, energy never decreasing, meter time strictly increasing, one meter serial,
 * and TX B → T* → E. Readings may arrive late (after a gap); each is checked against both
 * its neighbours. For records Lightcharge wrote (GI "Lightcharge"), GS must be the station
 * and ID the session, so a reading cannot be replayed into another session.
 */
export class ReadingVerifier {
	readonly stationId: string;
	readonly sessionId: string;
	/** The station's key, decoded once for every reading of the session. */
	private readonly publicKey: OcmfVerifyingKey;
	/** Accepted readings, ascending by seq. */
	private readonly accepted: VerifiedReading[] = [];

	constructor(options: { stationId: string; sessionId: string; publicKey: PublicKeyInput }) {
		assertValidId(options.stationId, 'station id');
		assertValidId(options.sessionId, 'session id');
		this.stationId = options.stationId;
		this.sessionId = options.sessionId;
		this.publicKey = new OcmfVerifyingKey(options.publicKey);
	}

	/** Verified readings so far, ascending by seq. */
	get readings(): readonly VerifiedReading[] {
		return this.accepted;
	}

	get latest(): VerifiedReading | undefined {
		return this.accepted[this.accepted.length - 1];
	}

	/** Seq ranges (inclusive) missing between accepted readings. */
	gaps(): Array<{ from: number; to: number }> {
		const gaps: Array<{ from: number; to: number }> = [];
		for (let i = 1; i < this.accepted.length; i++) {
			const previous = (this.accepted[i - 1] as VerifiedReading).seq;
			const current = (this.accepted[i] as VerifiedReading).seq;
			if (current > previous + 1) gaps.push({ from: previous + 1, to: current - 1 });
		}
		return gaps;
	}

	get ended(): boolean {
		return this.latest?.tx === 'E';
	}

	accept(message: ReadingMessage): AcceptResult {
		if (message.v !== PROTOCOL_VERSION || message.type !== 'reading') {
			return { ok: false, reason: 'not a version 1 reading message' };
		}
		if (message.sessionId !== this.sessionId)
			return { ok: false, reason: 'reading belongs to another session' };
		if (!Number.isSafeInteger(message.seq) || message.seq < 0)
			return { ok: false, reason: 'reading seq is not a non-negative integer' };

		const index = this.accepted.findIndex((r) => r.seq >= message.seq);
		const same = index >= 0 ? this.accepted[index] : undefined;
		if (same && same.seq === message.seq) {
			if (same.ocmf === message.ocmf)
				return { ok: true, reading: same, duplicate: true, gap: null };
			return {
				ok: false,
				reason: `a different reading with seq ${message.seq} was already accepted`
			};
		}

		const verification = verifyOcmf(message.ocmf, this.publicKey);
		if (!verification.ok)
			return { ok: false, reason: `reading ${message.seq}: ${verification.reason}` };
		const read = this.readPayload(message.seq, message.ocmf, verification.payload);
		if (typeof read === 'string') return { ok: false, reason: `reading ${message.seq}: ${read}` };

		const position = index < 0 ? this.accepted.length : index;
		const previous = this.accepted[position - 1];
		const next = this.accepted[position];
		const problem = orderProblem(previous, read, next);
		if (problem) return { ok: false, reason: `reading ${message.seq}: ${problem}` };

		this.accepted.splice(position, 0, read);
		const gap =
			previous && read.seq > previous.seq + 1 ? { from: previous.seq + 1, to: read.seq - 1 } : null;
		return { ok: true, reading: read, duplicate: false, gap };
	}

	/** The reading a verified payload states, or why it cannot be used. */
	private readPayload(
		seq: number,
		ocmf: string,
		payload: { [key: string]: LenientJson }
	): VerifiedReading | string {
		if (payload.PG !== `T${seq}`)
			return `pagination ${JSON.stringify(payload.PG ?? null)} does not match seq ${seq}`;
		if (payload.GI === 'Lightcharge') {
			if (payload.GS !== this.stationId) return 'record was made by another station';
			if (payload.ID !== this.sessionId) return 'record was made for another session';
		}
		const meterSerial = payload.MS;
		if (typeof meterSerial !== 'string' || meterSerial.length === 0)
			return 'record names no meter serial (MS)';
		const readings = payload.RD;
		if (!Array.isArray(readings) || readings.length === 0) return 'record holds no reading (RD)';
		const last = readings[readings.length - 1];
		if (last === null || typeof last !== 'object' || Array.isArray(last))
			return 'reading entry is not an object';
		const { TM, TX, RV, RU, ST } = last;
		if (TX !== 'B' && TX !== 'T' && TX !== 'E')
			return `transaction type ${JSON.stringify(TX ?? null)} is not B, T or E`;
		if (ST !== 'G') return `meter status ${JSON.stringify(ST ?? null)} is not G (good)`;
		if (typeof TM !== 'string') return 'reading has no time (TM)';
		const time = parseOcmfTime(TM);
		if (!time) return `reading time "${TM.slice(0, 40)}" is not an OCMF timestamp`;
		if (typeof RV !== 'number' || !Number.isFinite(RV) || RV < 0)
			return 'reading value (RV) is not a non-negative number';
		const scale = RU === 'kWh' ? 1000 : RU === 'Wh' ? 1 : 0;
		if (scale === 0) return `reading unit ${JSON.stringify(RU ?? null)} is not kWh or Wh`;
		const energyWh = Math.round(RV * scale);
		if (
			!Number.isSafeInteger(energyWh) ||
			Math.abs(RV * scale - energyWh) > 1e-6 * Math.max(1, energyWh)
		) {
			return 'reading value is not a whole number of Wh';
		}
		return { seq, energyWh, at: time.unixMs, tx: TX, meterSerial, ocmf };
	}
}

function orderProblem(
	previous: VerifiedReading | undefined,
	reading: VerifiedReading,
	next: VerifiedReading | undefined
): string | null {
	for (const neighbour of [previous, next]) {
		if (neighbour && neighbour.meterSerial !== reading.meterSerial) {
			return `meter serial ${reading.meterSerial} differs from the session's meter ${neighbour.meterSerial}`;
		}
	}
	if (previous) {
		if (reading.energyWh < previous.energyWh) {
			return `energy went backwards (${reading.energyWh} Wh after ${previous.energyWh} Wh)`;
		}
		if (reading.at <= previous.at) return 'meter time did not move forward';
		if (reading.tx === 'B') return 'a begin (B) reading must be the first of the session';
		if (previous.tx === 'E') return 'the session already ended (E) before this reading';
	}
	if (next) {
		if (reading.energyWh > next.energyWh) return `energy is above the later reading ${next.seq}`;
		if (reading.at >= next.at) return `meter time is not before the later reading ${next.seq}`;
		if (reading.tx === 'E') return 'an end (E) reading must be the last of the session';
		if (next.tx === 'B') return 'no reading can come before the begin (B) reading';
	}
	return null;
}

export interface MakeReadingInput {
	seq: number;
	tx: OcmfTransaction;
	energyWh: number;
	/** Meter time, unix ms. */
	at: number;
	meter: { vendor: string; model: string; serial: string };
	stationId: string;
	sessionId: string;
	/** OCMF identification (IT/ID/IF). Default: IT "CENTRAL", ID = the session id. */
	identification?: { type: string; data: string; flags?: string[] };
}

/** Station side: signs one reading with the station's secp256k1 key and wraps it as a message. */
export function makeReading(
	input: MakeReadingInput,
	privateKey: Uint8Array | string
): { ocmf: string; reading: ReadingMessage; verified: VerifiedReading } {
	assertValidId(input.stationId, 'station id');
	assertValidId(input.sessionId, 'session id');
	const payloadText = buildOcmfPayloadText({
		stationId: input.stationId,
		gatewayVersion: GATEWAY_VERSION,
		pagination: input.seq,
		meter: input.meter,
		identification: input.identification ?? { type: 'CENTRAL', data: input.sessionId },
		reading: { at: input.at, tx: input.tx, energyWh: input.energyWh }
	});
	const ocmf = signOcmf(payloadText, privateKey);
	return {
		ocmf,
		reading: {
			v: PROTOCOL_VERSION,
			type: 'reading',
			sessionId: input.sessionId,
			seq: input.seq,
			ocmf
		},
		verified: {
			seq: input.seq,
			energyWh: input.energyWh,
			at: input.at,
			tx: input.tx,
			meterSerial: input.meter.serial,
			ocmf
		}
	};
}
