// Holds parseOcmf / verifyOcmf to real records (S.A.F.E. Transparenzsoftware test data,
// with hupe1980/ocmf's OpenSSL verdicts) and to the hupe1980/ocmf conformance suite.
// See fixtures/ocmf/NOTICE.md for provenance and licences.
import { describe, expect, it } from 'vitest';
import records from './fixtures/ocmf/records.json';
import suite from './fixtures/ocmf/suite.json';
import { parseOcmf, verifyOcmf } from './ocmf';

interface RecordEntry {
	source: string;
	index: number;
	record: string;
	key: string | null;
	openssl_verified: boolean | null;
}
interface SuiteCase {
	id: string;
	group: string;
	record: string;
	key?: string;
	expect: { parses: boolean; verifies: boolean | null; readings: number | null };
}

const entries = (records as { entries: RecordEntry[] }).entries;
const cases = (suite as { cases: SuiteCase[] }).cases;

describe('OCMF against the S.A.F.E. records (OpenSSL verdicts)', () => {
	it('holds the expected corpus', () => {
		expect(entries).toHaveLength(256);
		expect(entries.filter((e) => e.openssl_verified === true)).toHaveLength(247);
		expect(entries.filter((e) => e.openssl_verified === false)).toHaveLength(4);
	});

	it('agrees with OpenSSL on every record it judged (247 verify, 4 fail)', () => {
		const disagreements: string[] = [];
		for (const entry of entries) {
			if (entry.openssl_verified === null || entry.key === null) continue;
			const result = verifyOcmf(entry.record, entry.key);
			if (result.ok !== entry.openssl_verified) {
				disagreements.push(
					`${entry.source}#${entry.index}: ${result.ok ? 'verified' : result.reason}`
				);
			}
		}
		expect(disagreements).toEqual([]);
	});

	it('refuses the hostile and key-less entries with a sentence, never a throw', () => {
		const unjudged = entries.filter((e) => e.openssl_verified === null);
		expect(unjudged).toHaveLength(5);
		for (const entry of unjudged) {
			const result = verifyOcmf(entry.record, entry.key ?? '');
			expect(result.ok).toBe(false);
			if (!result.ok) expect(result.reason).toMatch(/^[A-Za-z].{8,}/);
		}
	});
});

describe('OCMF conformance suite', () => {
	it('holds the expected suite', () => expect(cases).toHaveLength(162));

	it('parses exactly the cases the suite says parse, with the right number of readings', () => {
		const wrong: string[] = [];
		for (const testCase of cases) {
			let parsed: ReturnType<typeof parseOcmf> | null = null;
			try {
				parsed = parseOcmf(testCase.record);
			} catch {
				parsed = null;
			}
			if ((parsed !== null) !== testCase.expect.parses)
				wrong.push(`${testCase.id}: parses=${parsed !== null}`);
			if (parsed && testCase.expect.readings !== null) {
				const rd = parsed.payload.RD;
				const count = Array.isArray(rd) ? rd.length : 0;
				if (count !== testCase.expect.readings) wrong.push(`${testCase.id}: ${count} readings`);
			}
		}
		expect(wrong).toEqual([]);
	});

	it('verifies exactly the cases the suite says verify, on all seven curves', () => {
		const wrong: string[] = [];
		let checked = 0;
		for (const testCase of cases) {
			if (testCase.expect.verifies === null || testCase.key === undefined) continue;
			checked++;
			const result = verifyOcmf(testCase.record, testCase.key);
			if (result.ok !== testCase.expect.verifies) {
				wrong.push(`${testCase.id}: ${result.ok ? 'verified' : result.reason}`);
			}
		}
		expect(checked).toBe(155);
		expect(wrong).toEqual([]);
	});

	it('refuses an undefined algorithm by name and keeps a `|` inside the payload', () => {
		const undefinedAlgorithm = cases.find((c) => c.id === 'deviation/algorithm-undefined')!;
		const result = verifyOcmf(undefinedAlgorithm.record, undefinedAlgorithm.key!);
		expect(result).toEqual({
			ok: false,
			reason: 'unsupported OCMF signature algorithm "RSA-2048-SHA256"'
		});

		const pipe = cases.find((c) => c.id === 'deviation/pipe-in-tariff-text')!;
		expect(parseOcmf(pipe.record).payload.TT).toBe('Nacht|Tarif');
	});

	it('accepts the brainpoolP256r1 spelling as brainpool256r1', () => {
		const spelled = cases.find((c) => c.id === 'curve/brainpoolP256r1')!;
		const respelled = spelled.record.replace(
			'ECDSA-brainpool256r1-SHA256',
			'ECDSA-brainpoolP256r1-SHA256'
		);
		expect(respelled).not.toBe(spelled.record);
		expect(verifyOcmf(respelled, spelled.key!).ok).toBe(true);
	});
});
