import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8Encode } from './bytes';
import {
	buildOcmfPayloadText,
	formatKwh,
	formatOcmfTime,
	ocmfPublicKeyHex,
	parseOcmf,
	parseOcmfTime,
	signOcmf,
	verifyOcmf,
	OcmfVerifyingKey
} from './ocmf';
import { preparePublicKey } from './ocmf-crypto';

const stationKey = hexToBytes('11'.repeat(32));
const otherKey = hexToBytes('22'.repeat(32));
const stationPub = ocmfPublicKeyHex(stationKey);

function samplePayload(energyWh = 12345, at = Date.UTC(2026, 10, 22, 10, 15, 30, 123)): string {
	return buildOcmfPayloadText({
		stationId: 'st-1',
		gatewayVersion: '0.1.0',
		pagination: 7,
		meter: { vendor: 'Eastron', model: 'SDM630', serial: 'SN|42' },
		identification: { type: 'CENTRAL', data: 'sess-1' },
		reading: { at, tx: 'T', energyWh }
	});
}

describe('OCMF time and values', () => {
	it('formats UTC regardless of the local time zone', () => {
		expect(formatOcmfTime(Date.UTC(2026, 10, 22, 10, 15, 30, 123))).toBe(
			'2026-11-22T10:15:30,123+0000 S'
		);
		expect(formatOcmfTime(0, 'U')).toBe('1970-01-01T00:00:00,000+0000 U');
		expect(() => formatOcmfTime(1.5)).toThrow(/integer/);
	});

	it('reads timestamps with offsets, dots and colons', () => {
		const utc = Date.UTC(2024, 2, 1, 7, 0, 0, 0);
		expect(parseOcmfTime('2024-03-01T08:00:00,000+0100 S')).toEqual({ unixMs: utc, status: 'S' });
		expect(parseOcmfTime('2024-03-01T08:00:00.000+01:00')).toEqual({ unixMs: utc, status: null });
		expect(parseOcmfTime('2024-03-01T06:30:00,250-0030 R')).toEqual({
			unixMs: utc + 250,
			status: 'R'
		});
		expect(parseOcmfTime('2024-02-31T08:00:00,000+0000 S')).toBeNull();
		expect(parseOcmfTime('yesterday')).toBeNull();
	});

	it('writes kWh with three decimals exactly', () => {
		expect(formatKwh(0)).toBe('0.000');
		expect(formatKwh(12345)).toBe('12.345');
		expect(formatKwh(7)).toBe('0.007');
		expect(() => formatKwh(-1)).toThrow('energy must be a non-negative integer of Wh');
	});

	it('writes the payload with the Lightcharge fields in a fixed order', () => {
		expect(samplePayload()).toBe(
			'{"FV":"1.0","GI":"Lightcharge","GS":"st-1","GV":"0.1.0","PG":"T7","MV":"Eastron","MM":"SDM630",' +
				'"MS":"SN|42","IS":true,"IF":[],"IT":"CENTRAL","ID":"sess-1","RD":[{"TM":"2026-11-22T10:15:30,123+0000 S",' +
				'"TX":"T","RV":12.345,"RI":"01-00:01.08.00*FF","RU":"kWh","RT":"AC","EF":"","ST":"G"}]}'
		);
	});
});

describe('signOcmf / parseOcmf / verifyOcmf', () => {
	it('round-trips a signed record, even with a "|" inside the payload', () => {
		const record = signOcmf(samplePayload(), stationKey);
		expect(record.startsWith('OCMF|{"FV":"1.0"')).toBe(true);
		const parsed = parseOcmf(record);
		expect(parsed.payloadText).toBe(samplePayload());
		expect(parsed.payload.MS).toBe('SN|42');
		expect(parsed.signature.SA).toBe('ECDSA-secp256k1-SHA256');
		const result = verifyOcmf(record, stationPub);
		expect(result.ok).toBe(true);
		if (result.ok) expect(result.curve).toBe('secp256k1');
	});

	it('signs SHA-256 of the payload text as DER that noble verifies independently', () => {
		const record = signOcmf(samplePayload(), stationKey);
		const sd = parseOcmf(record).signature.SD as string;
		const digest = sha256(utf8Encode(samplePayload()));
		expect(
			secp256k1.verify(hexToBytes(sd), digest, hexToBytes(stationPub), {
				prehash: false,
				format: 'der'
			})
		).toBe(true);
	});

	it('accepts the key as uncompressed hex, bytes and SPKI', () => {
		const record = signOcmf(samplePayload(), stationKey);
		const uncompressed = secp256k1.getPublicKey(stationKey, false);
		expect(verifyOcmf(record, uncompressed).ok).toBe(true);
		expect(verifyOcmf(record, bytesToHex(uncompressed.subarray(1))).ok).toBe(true);
		const spki = '3056301006072a8648ce3d020106052b8104000a034200' + bytesToHex(uncompressed);
		expect(verifyOcmf(record, spki).ok).toBe(true);
	});

	it('refuses a forged payload, another key, and malformed keys, without throwing', () => {
		const record = signOcmf(samplePayload(12345), stationKey);
		const forged = record.replace('"RV":12.345', '"RV":99.345');
		expect(verifyOcmf(forged, stationPub)).toEqual({
			ok: false,
			reason: 'OCMF signature does not match the payload and public key'
		});
		expect(verifyOcmf(record, ocmfPublicKeyHex(otherKey)).ok).toBe(false);
		expect(verifyOcmf(record, 'zz')).toEqual({
			ok: false,
			reason: 'public key is neither hex nor base64'
		});
		expect(verifyOcmf(record, '02' + '00'.repeat(32))).toEqual({
			ok: false,
			reason: 'public key is not a valid secp256k1 point'
		});
		const p256Spki =
			'3059301306072a8648ce3d020106082a8648ce3d030107034200' +
			bytesToHex(p256.getPublicKey(stationKey, false));
		expect(verifyOcmf(record, p256Spki)).toEqual({
			ok: false,
			reason: 'public key is for secp256r1 but the signature says secp256k1'
		});
		expect(verifyOcmf(record, '').ok).toBe(false);
	});

	it('verifies alike with node:crypto (OpenSSL) and @noble/curves, the key decoded once', () => {
		// Under Node the prepared secp256k1 key carries an OpenSSL key object: the fast path is really taken.
		const prepared = preparePublicKey(stationPub, 'secp256k1');
		expect(prepared.ok && prepared.key.native !== null).toBe(true);
		const native = new OcmfVerifyingKey(stationPub);
		const noble = new OcmfVerifyingKey(stationPub, { native: false });
		const record = signOcmf(samplePayload(12345), stationKey);
		const [head, payload, signature] = [
			record.slice(0, 5),
			record.slice(5, record.lastIndexOf('|')),
			record.slice(record.lastIndexOf('|') + 1)
		];
		const der = hexToBytes(JSON.parse(signature).SD as string);
		const sig = secp256k1.Signature.fromBytes(der, 'der');
		const n = secp256k1.Point.Fn.ORDER;
		const hex = (r: bigint, s: bigint) =>
			r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0');
		const withSd = (sd: string) =>
			`${head}${payload}|${JSON.stringify({ SA: 'ECDSA-secp256k1-SHA256', SD: sd })}`;
		const cases: Array<[string, string, boolean]> = [
			['as signed', record, true],
			['raw r‖s', withSd(hex(sig.r, sig.s)), true],
			['high S (accepted, as OpenSSL and OCMF verifiers do)', withSd(hex(sig.r, n - sig.s)), true],
			['forged payload', record.replace('"RV":12.345', '"RV":99.345'), false],
			['r + 1', withSd(hex(sig.r + 1n, sig.s)), false],
			['r = 0', withSd(hex(0n, sig.s)), false],
			['s = n', withSd(hex(sig.r, n)), false],
			[
				's = n + s',
				withSd(sig.r.toString(16).padStart(64, '0') + (n + sig.s).toString(16).padStart(64, '0')),
				false
			]
		];
		for (const [what, text, ok] of cases) {
			const a = verifyOcmf(text, native);
			const b = verifyOcmf(text, noble);
			expect({ what, ok: a.ok, reason: a.ok ? null : a.reason }).toEqual({
				what,
				ok: b.ok,
				reason: b.ok ? null : b.reason
			});
			expect({ what, ok: a.ok }).toEqual({ what, ok });
			expect(verifyOcmf(text, stationPub).ok).toBe(ok);
		}
		const other = ocmfPublicKeyHex(otherKey);
		expect(verifyOcmf(record, new OcmfVerifyingKey(other)).ok).toBe(false);
		expect(verifyOcmf(record, new OcmfVerifyingKey(other, { native: false })).ok).toBe(false);
		// A bad key is a sentence, remembered, and still a sentence the second time.
		const bad = new OcmfVerifyingKey('02' + '00'.repeat(32));
		expect(verifyOcmf(record, bad)).toEqual({
			ok: false,
			reason: 'public key is not a valid secp256k1 point'
		});
		expect(verifyOcmf(record, bad)).toEqual({
			ok: false,
			reason: 'public key is not a valid secp256k1 point'
		});
		// Many records, one key: every one decided as noble decides it.
		for (let i = 0; i < 20; i++) {
			const r = signOcmf(samplePayload(1000 + i), stationKey);
			expect(verifyOcmf(r, native).ok).toBe(true);
			expect(
				verifyOcmf(r.replace(`"RV":${formatKwh(1000 + i)}`, `"RV":${formatKwh(2000 + i)}`), native)
					.ok
			).toBe(false);
		}
	});

	it('refuses malformed records with clear sentences', () => {
		expect(() => parseOcmf('NOPE|{}|{}')).toThrow('not an OCMF record');
		expect(() => parseOcmf('OCMF')).toThrow('no "|" after');
		expect(() => parseOcmf('OCMF|{"a":1')).toThrow(/not readable JSON/);
		expect(() => parseOcmf('OCMF|{"a":1}')).toThrow('OCMF record has no signature section');
		expect(() => parseOcmf('OCMF|[1]|{}')).toThrow('OCMF payload must be a JSON object');
		expect(() => parseOcmf('OCMF|{} x|{}')).toThrow(/unexpected characters/);
		expect(() => parseOcmf('OCMF|{}|{}|a|b')).toThrow(/too many/);
		expect(verifyOcmf('OCMF|{}|{"SD":"zz"}', stationPub)).toEqual({
			ok: false,
			reason: 'OCMF signature data (SD) is not valid hex'
		});
		expect(verifyOcmf('OCMF|{}|{"SA":"ECDSA-secp256k1-SHA256","SD":"3000"}', stationPub)).toEqual({
			ok: false,
			reason: 'OCMF signature data is neither DER nor a raw secp256k1 r‖s pair'
		});
	});

	it('refuses to sign something that is not a JSON object', () => {
		expect(() => signOcmf('[1]', stationKey)).toThrow('OCMF payload must be a JSON object');
		expect(() => signOcmf('{} trailing', stationKey)).toThrow(/after its JSON object/);
		expect(() => signOcmf('{}', new Uint8Array(31))).toThrow('private key must be 32 bytes');
	});
});
