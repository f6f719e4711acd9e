import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { buildReadingsTree } from '../ledger';
import { encodeBolt11, nodePubkey } from '../lightning/simnet';
import { billingRecordHash, buildBillingRecord, makeReading, ocmfPublicKeyHex } from '../protocol';
import {
	buildReceipt,
	parseReceipt,
	receiptToCsv,
	verifyReceipt,
	type Receipt,
	type ReceiptPayment
} from './receipt';
import { testTariff } from './factories.testing';

const key = (label: string) => bytesToHex(sha256(new TextEncoder().encode(label)));
const stationKey = key('station signing key');
const nodeKey = key('station node key');
const tariff = testTariff();
const ids = { stationId: 'st-1', sessionId: 'sess-1' };
const meter = { vendor: 'Sim', model: 'M1', serial: 'SN1' };
const t0 = 1_800_000_000_000;

/** A session of 7 readings (100 Wh apart), 3 paid increments of 200 Wh, anchored as 1–4 and 5–7. */
function session(): Receipt {
	const readings = [1, 2, 3, 4, 5, 6, 7].map(
		(seq) =>
			makeReading(
				{
					seq,
					tx: seq === 1 ? 'B' : seq === 7 ? 'E' : 'T',
					energyWh: 10_000 + (seq - 1) * 100,
					at: t0 + seq * 1000,
					meter,
					...ids
				},
				stationKey
			).verified
	);
	const payments: ReceiptPayment[] = [
		[1, 3],
		[3, 5],
		[5, 7]
	].map(([a, b], i) => {
		const from = readings[a! - 1]!,
			to = readings[b! - 1]!;
		const record = buildBillingRecord({ ...ids, seq: i + 1, from, to, tariff });
		const recordHash = billingRecordHash(record);
		const preimage = key(`preimage ${i}`);
		const paymentHash = bytesToHex(sha256(Buffer.from(preimage, 'hex')));
		const bolt11 = encodeBolt11(
			{
				network: 'regtest',
				amountMsat: BigInt(record.amountMsat),
				timestamp: 1_800_000_000,
				paymentHash,
				paymentSecret: '11'.repeat(32),
				descriptionHash: recordHash,
				expirySeconds: 600
			},
			nodeKey
		);
		return {
			seq: i + 1,
			record,
			recordHash,
			bolt11,
			state: 'paid',
			paymentHash,
			preimage,
			feeMsat: '1001'
		};
	});
	const anchorOf = (index: number, from: number, to: number) => ({
		anchorIndex: index,
		root: buildReadingsTree(readings.slice(from - 1, to).map((r) => r.ocmf)).root,
		fromReading: from,
		toReading: to
	});
	return buildReceipt({
		...ids,
		stationName: 'Test station',
		station: {
			signingKey: ocmfPublicKeyHex(stationKey),
			signerAddress: '0x0000000000000000000000000000000000000001',
			lightningPubkey: nodePubkey(nodeKey),
			network: 'regtest'
		},
		tariff,
		ledger: null,
		readings: readings.map((r) => ({ seq: r.seq, ocmf: r.ocmf })),
		payments,
		anchors: [anchorOf(0, 1, 4), anchorOf(1, 5, 7)],
		events: [],
		energyWh: 600,
		feesMsat: 3003n,
		startedAt: t0,
		closedAt: t0 + 10_000
	});
}

const failed = (r: Receipt, ledger: Parameters<typeof verifyReceipt>[1] = null) =>
	verifyReceipt(r, ledger)
		.checks.filter((c) => c.status === 'fail')
		.map((c) => `${c.what}: ${c.detail}`);

describe('receipt', () => {
	it('a complete receipt verifies, with proofs for every anchored reading', () => {
		const r = session();
		expect(r.totals).toEqual({
			energyWh: 600,
			paidMsat: String(3 * 50_000 + 1000),
			feesMsat: '3003'
		});
		expect(r.anchors.map((a) => a.proofs.length)).toEqual([4, 3]);
		const v = verifyReceipt(r, null);
		expect(failed(r)).toEqual([]);
		expect(v.ok).toBe(true);
		expect(v.checks.find((c) => c.what === 'ledger anchors')?.status).toBe('skipped');
	});

	it('survives a JSON round trip', () => {
		const r = parseReceipt(JSON.parse(JSON.stringify(session())));
		expect(verifyReceipt(r, null).ok).toBe(true);
	});

	it('checks the anchors against the ledger', () => {
		const r = session();
		const onChain = r.anchors.map(({ anchorIndex, root, fromReading, toReading }) => ({
			anchorIndex,
			root,
			fromReading,
			toReading
		}));
		expect(failed(r, onChain)).toEqual([]);
		expect(failed(r, onChain.slice(0, 1))).toEqual([
			'ledger anchors: anchor 1 is not on the ledger'
		]);
		expect(failed(r, [onChain[0]!, { ...onChain[1]!, root: `0x${'ab'.repeat(32)}` }])[0]).toMatch(
			/anchor 1 differs from the ledger's/
		);
	});

	it('refuses a forged reading', () => {
		const r = session();
		const forged = r.readings[2]!.ocmf.replace('"RV":10.2', '"RV":10.25');
		expect(forged).not.toBe(r.readings[2]!.ocmf);
		r.readings[2] = { seq: 3, ocmf: forged };
		const f = failed(r);
		expect(f[0]).toMatch(/^signed readings: reading 3: /);
		expect(f.some((x) => x.startsWith('anchor 0: no valid Merkle proof for readings 3'))).toBe(
			true
		);
	});

	it('refuses a payment whose preimage does not match', () => {
		const r = session();
		r.payments[1] = { ...r.payments[1]!, preimage: key('other') };
		expect(failed(r)).toEqual(['payment 2: preimage does not hash to the payment hash']);
	});

	it('refuses a record that overbills the readings', () => {
		const r = session();
		const p = r.payments[0]!;
		const record = { ...p.record, amountMsat: '99000' };
		r.payments[0] = { ...p, record, recordHash: billingRecordHash(record) };
		r.totals.paidMsat = String(BigInt(r.totals.paidMsat) - 51_000n + 99_000n);
		const f = failed(r);
		expect(f).toHaveLength(1);
		expect(f[0]).toMatch(
			/^payment 1: record does not match the signed readings and tariff \(200 Wh, 51000 msat expected\); invoice's description hash \(h\) is not the record's hash; invoice amount 51000 msat/
		);
	});

	it('refuses a total that does not add up', () => {
		const r = session();
		r.totals.paidMsat = '1';
		expect(failed(r)).toEqual([
			`total paid: paid invoices add up to ${3 * 50_000 + 1000} msat; the receipt states 1 msat`
		]);
	});

	it('ignores refused invoices in the total but keeps them', () => {
		const r = session();
		r.payments.push({
			...r.payments[2]!,
			seq: 4,
			state: 'refused',
			message: 'duplicate',
			preimage: undefined
		});
		expect(failed(r)).toEqual([]);
		expect(receiptToCsv(r).trim().split('\n')).toHaveLength(5);
	});

	it('CSV has one line per increment and quotes text', () => {
		const r = session();
		r.payments[0]!.message = 'a "quoted", note';
		const lines = receiptToCsv(r).trim().split('\n');
		expect(lines[0]).toBe(
			'station,session,increment,from_reading,to_reading,from_wh,to_wh,energy_wh,amount_msat,fee_msat,state,payment_hash,preimage,note'
		);
		expect(lines[1]).toMatch(
			/^st-1,sess-1,1,1,3,10000,10200,200,51000,1001,paid,[0-9a-f]{64},[0-9a-f]{64},"a ""quoted"", note"$/
		);
	});

	it('parseReceipt names what is wrong', () => {
		expect(() => parseReceipt([])).toThrow(
			'Not a Lightcharge receipt: the file is not a JSON object.'
		);
		expect(() => parseReceipt({ format: 'x' })).toThrow(/format is "x"/);
		const r = JSON.parse(JSON.stringify(session()));
		delete r.tariff;
		expect(() => parseReceipt(r)).toThrow('Not a Lightcharge receipt: the tariff is missing.');
	});
});
