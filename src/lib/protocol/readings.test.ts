import { describe, expect, it } from 'vitest';
import { hexToBytes } from './bytes';
import { ocmfPublicKeyHex } from './ocmf';
import { makeReading, ReadingVerifier, type MakeReadingInput } from './readings';

const stationKey = hexToBytes('0a'.repeat(32));
const otherStationKey = hexToBytes('0b'.repeat(32));
const meter = { vendor: 'Eastron', model: 'SDM630', serial: 'SN-1' };
const t0 = Date.UTC(2026, 10, 22, 10, 0, 0, 0);

function reading(
	seq: number,
	energyWh: number,
	overrides: Partial<MakeReadingInput> = {},
	key = stationKey
) {
	return makeReading(
		{
			seq,
			tx: seq === 1 ? 'B' : 'T',
			energyWh,
			at: t0 + seq * 1000,
			meter,
			stationId: 'st-1',
			sessionId: 'sess-1',
			...overrides
		},
		key
	).reading;
}

function verifier() {
	return new ReadingVerifier({
		stationId: 'st-1',
		sessionId: 'sess-1',
		publicKey: ocmfPublicKeyHex(stationKey)
	});
}

describe('makeReading', () => {
	it('signs a record that states what it was given', () => {
		const made = makeReading(
			{ seq: 3, tx: 'T', energyWh: 1500, at: t0, meter, stationId: 'st-1', sessionId: 'sess-1' },
			stationKey
		);
		expect(made.reading).toEqual({
			v: 1,
			type: 'reading',
			sessionId: 'sess-1',
			seq: 3,
			ocmf: made.ocmf
		});
		expect(made.ocmf).toContain('"PG":"T3"');
		expect(made.ocmf).toContain('"RV":1.500');
		expect(made.verified).toEqual({
			seq: 3,
			energyWh: 1500,
			at: t0,
			tx: 'T',
			meterSerial: 'SN-1',
			ocmf: made.ocmf
		});
	});
});

describe('ReadingVerifier', () => {
	it('accepts a B → T → E session and keeps what it verified', () => {
		const v = verifier();
		const r1 = v.accept(reading(1, 1000));
		expect(r1).toMatchObject({ ok: true, duplicate: false, gap: null });
		if (r1.ok)
			expect(r1.reading).toMatchObject({
				seq: 1,
				energyWh: 1000,
				at: t0 + 1000,
				tx: 'B',
				meterSerial: 'SN-1'
			});
		expect(v.accept(reading(2, 1000)).ok).toBe(true); // no energy flowing yet is fine
		expect(v.accept(reading(3, 1120)).ok).toBe(true);
		expect(v.accept(reading(4, 1200, { tx: 'E' })).ok).toBe(true);
		expect(v.readings.map((r) => r.energyWh)).toEqual([1000, 1000, 1120, 1200]);
		expect(v.ended).toBe(true);
		expect(v.accept(reading(5, 1300)).ok).toBe(false);
	});

	it('treats a redelivery as a duplicate and a different record with the same seq as an error', () => {
		const v = verifier();
		const first = reading(1, 1000);
		v.accept(first);
		expect(v.accept(first)).toMatchObject({ ok: true, duplicate: true });
		expect(v.readings).toHaveLength(1);
		expect(v.accept(reading(1, 1001))).toEqual({
			ok: false,
			reason: 'a different reading with seq 1 was already accepted'
		});
	});

	it('reports gaps and accepts the missing reading later if it fits between its neighbours', () => {
		const v = verifier();
		v.accept(reading(1, 1000));
		const skipped = v.accept(reading(4, 1300));
		expect(skipped).toMatchObject({ ok: true, gap: { from: 2, to: 3 } });
		expect(v.gaps()).toEqual([{ from: 2, to: 3 }]);
		expect(v.accept(reading(3, 1200)).ok).toBe(true);
		expect(v.gaps()).toEqual([{ from: 2, to: 2 }]);
		const tooHigh = v.accept(reading(2, 1250));
		expect(tooHigh).toEqual({
			ok: false,
			reason: 'reading 2: energy is above the later reading 3'
		});
	});

	it('refuses a forged reading and one signed by another station', () => {
		const v = verifier();
		const genuine = reading(1, 1000);
		const forged = { ...genuine, ocmf: genuine.ocmf.replace('"RV":1.000', '"RV":0.500') };
		expect(forged.ocmf).not.toBe(genuine.ocmf);
		expect(v.accept(forged)).toEqual({
			ok: false,
			reason: 'reading 1: OCMF signature does not match the payload and public key'
		});
		expect(v.accept(reading(1, 1000, {}, otherStationKey)).ok).toBe(false);
		expect(v.readings).toHaveLength(0);
	});

	it('refuses energy going backwards, time standing still, and a changed meter', () => {
		const v = verifier();
		v.accept(reading(1, 1000));
		expect(v.accept(reading(2, 999))).toEqual({
			ok: false,
			reason: 'reading 2: energy went backwards (999 Wh after 1000 Wh)'
		});
		expect(v.accept(reading(2, 1100, { at: t0 + 1000 }))).toEqual({
			ok: false,
			reason: 'reading 2: meter time did not move forward'
		});
		expect(v.accept(reading(2, 1100, { meter: { ...meter, serial: 'SN-2' } }))).toEqual({
			ok: false,
			reason: "reading 2: meter serial SN-2 differs from the session's meter SN-1"
		});
	});

	it('enforces pagination = seq, the TX order, and this station and session', () => {
		const v = verifier();
		const mismatched = { ...reading(2, 1000), seq: 3 };
		expect(v.accept(mismatched)).toEqual({
			ok: false,
			reason: 'reading 3: pagination "T2" does not match seq 3'
		});
		v.accept(reading(1, 1000));
		expect(v.accept(reading(2, 1100, { tx: 'B' }))).toEqual({
			ok: false,
			reason: 'reading 2: a begin (B) reading must be the first of the session'
		});
		expect(v.accept(reading(2, 1100, { sessionId: 'sess-2' }))).toEqual({
			ok: false,
			reason: 'reading belongs to another session'
		});
		const replayed = makeReading(
			{
				seq: 2,
				tx: 'T',
				energyWh: 1100,
				at: t0 + 2000,
				meter,
				stationId: 'st-1',
				sessionId: 'sess-2'
			},
			stationKey
		);
		expect(v.accept({ ...replayed.reading, sessionId: 'sess-1' })).toEqual({
			ok: false,
			reason: 'reading 2: record was made for another session'
		});
		expect(v.accept({ ...reading(2, 1100), v: 2 as 1 })).toEqual({
			ok: false,
			reason: 'not a version 1 reading message'
		});
	});
});
