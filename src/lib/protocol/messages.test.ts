import { computeAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { hexToBytes, utf8Encode } from './bytes';
import { billingRecordHash, buildBillingRecord } from './billing';
import {
	encodeMessage,
	ethereumAddressOf,
	parseDriverMessage,
	parseEvent,
	parseInvoiceMessage,
	parseMessage,
	parseStatus
} from './messages';
import { ocmfPublicKeyHex } from './ocmf';
import { makeReading } from './readings';
import { driverTopic, eventsTopic, invoicesTopic, readingsTopic, statusTopic } from './topics';
import type { InvoiceMessage, SessionEvent, StationStatus } from './types';

const signingKey = ocmfPublicKeyHex(hexToBytes('0c'.repeat(32)));
const tariff = {
	pricePerKwhMsat: '250000000',
	startFeeMsat: '1000000',
	incrementWh: 100,
	graceWh: 50,
	mode: 'stream' as const,
	invoiceExpirySeconds: 600
};
const status: StationStatus = {
	v: 1,
	type: 'status',
	stationId: 'st-1',
	name: 'Depot bay 1',
	state: 'available',
	tariff,
	connectors: [{ id: 1, type: 'Type2', maxPowerW: 11000 }],
	signingKey,
	signerAddress: ethereumAddressOf(signingKey),
	lightningPubkey: ocmfPublicKeyHex(hexToBytes('0d'.repeat(32))),
	network: 'regtest',
	sessionId: 'sess-1',
	updatedAt: 1_790_000_000_000
};
const record = buildBillingRecord({
	stationId: 'st-1',
	sessionId: 'sess-1',
	seq: 1,
	from: { seq: 1, energyWh: 0 },
	to: { seq: 4, energyWh: 100 },
	tariff
});
const invoice: InvoiceMessage = {
	v: 1,
	type: 'invoice',
	sessionId: 'sess-1',
	seq: 1,
	record,
	recordHash: billingRecordHash(record),
	bolt11: 'lnbcrt260u1pexample'
};

const expectError = (result: ReturnType<typeof parseMessage>, error: string | RegExp) => {
	expect(result.ok).toBe(false);
	if (!result.ok) expect(result.error).toMatch(error);
};

describe('ethereumAddressOf', () => {
	it('matches ethers', () => {
		expect(ethereumAddressOf(signingKey)).toBe(computeAddress('0x' + signingKey));
	});
});

describe('parseMessage', () => {
	it('accepts each kind of message on its topic, from bytes or text', () => {
		const parsedStatus = parseMessage(statusTopic('st-1'), utf8Encode(JSON.stringify(status)));
		expect(parsedStatus).toEqual({ ok: true, kind: 'status', stationId: 'st-1', message: status });

		const reading = makeReading(
			{
				seq: 1,
				tx: 'B',
				energyWh: 0,
				at: 1_790_000_000_000,
				meter: { vendor: 'V', model: 'M', serial: 'S' },
				stationId: 'st-1',
				sessionId: 'sess-1'
			},
			hexToBytes('0c'.repeat(32))
		).reading;
		expect(parseMessage(readingsTopic('st-1', 'sess-1'), JSON.stringify(reading))).toMatchObject({
			ok: true,
			kind: 'readings',
			sessionId: 'sess-1',
			message: reading
		});
		expect(parseMessage(invoicesTopic('st-1', 'sess-1'), JSON.stringify(invoice))).toMatchObject({
			ok: true,
			message: invoice
		});

		const paid: SessionEvent = {
			v: 1,
			type: 'event',
			sessionId: 'sess-1',
			seq: 3,
			event: 'paid',
			at: 5,
			invoiceSeq: 1,
			paymentHash: 'ab'.repeat(32)
		};
		expect(parseMessage(eventsTopic('st-1', 'sess-1'), JSON.stringify(paid))).toMatchObject({
			ok: true,
			message: paid
		});

		const join = {
			v: 1,
			type: 'join',
			sessionId: 'sess-1',
			budgetMsat: '50000000',
			driverRef: 'car-7',
			at: 9
		};
		expect(parseMessage(driverTopic('st-1', 'sess-1'), JSON.stringify(join))).toMatchObject({
			ok: true,
			kind: 'driver',
			message: join
		});
	});

	it('drops unknown fields rather than passing them on', () => {
		const result = parseMessage(statusTopic('st-1'), JSON.stringify({ ...status, injected: true }));
		expect(result.ok && 'injected' in result.message).toBe(false);
	});

	it('refuses malformed JSON, wrong topics, wrong versions and mismatched ids', () => {
		expectError(parseMessage(statusTopic('st-1'), '{"v":1,'), 'payload is not valid JSON');
		expectError(
			parseMessage(statusTopic('st-1'), new Uint8Array([0xff, 0xfe])),
			'payload is not valid UTF-8'
		);
		expectError(parseMessage('other/topic', '{}'), '"other/topic" is not a Lightcharge topic');
		expectError(
			parseMessage(statusTopic('st-1'), JSON.stringify({ ...status, v: 2 })),
			'status message: unsupported version 2, expected 1'
		);
		expectError(
			parseMessage(statusTopic('st-2'), JSON.stringify(status)),
			'status message: stationId does not match the topic'
		);
		expectError(
			parseMessage(invoicesTopic('st-1', 'sess-2'), JSON.stringify(invoice)),
			'invoices message: sessionId does not match the topic'
		);
		expectError(
			parseMessage(invoicesTopic('st-9', 'sess-1'), JSON.stringify(invoice)),
			'invoice message: record.stationId does not match the topic'
		);
		expectError(
			parseMessage(driverTopic('st-1', 'sess-1'), JSON.stringify(status)),
			'driver message: type must be one of join, budget, stop'
		);
		expectError(
			parseMessage(statusTopic('st-1'), '[]'),
			'status message: payload must be a JSON object'
		);
		expectError(parseMessage(statusTopic('st-1'), 'x'.repeat(70_000)), /larger than/);
	});
});

describe('field validation', () => {
	it('checks the status fields', () => {
		expect(() =>
			parseStatus({
				...status,
				signerAddress: ethereumAddressOf(ocmfPublicKeyHex(hexToBytes('0e'.repeat(32))))
			})
		).toThrow('status message: signerAddress is not the address of signingKey');
		expect(() =>
			parseStatus({ ...status, signerAddress: status.signerAddress.toLowerCase() })
		).not.toThrow();
		expect(() => parseStatus({ ...status, signingKey: signingKey.toUpperCase() })).toThrow(
			/signingKey must be 66 lower-case hex digits/
		);
		expect(() => parseStatus({ ...status, tariff: { ...tariff, pricePerKwhMsat: 250 } })).toThrow(
			'status message: tariff: pricePerKwhMsat must be a decimal string of millisatoshis'
		);
		expect(() => parseStatus({ ...status, tariff: { ...tariff, incrementWh: 0 } })).toThrow(
			'incrementWh must be an integer ≥ 1'
		);
		expect(() =>
			parseStatus({ ...status, connectors: [{ id: 1, type: 'Type2', maxPowerW: -1 }] })
		).toThrow('status message: connectors[0]: maxPowerW must be an integer ≥ 1');
		expect(() => parseStatus({ ...status, state: 'asleep' })).toThrow(/state must be one of/);
		expect(() => parseStatus({ ...status, updatedAt: 1.5 })).toThrow(
			'updatedAt must be a time in unix milliseconds'
		);
		const { name: _name, ...nameless } = status;
		expect(() => parseStatus(nameless)).toThrow('status message: name is missing');
	});

	it('checks the invoice against its own record and hash', () => {
		expect(() =>
			parseInvoiceMessage({ ...invoice, record: { ...record, amountMsat: '-5' } })
		).toThrow('invoice message: record: amountMsat must be a decimal string of millisatoshis');
		const inflated = { ...record, amountMsat: '99999999' };
		expect(() =>
			parseInvoiceMessage({ ...invoice, record: inflated, recordHash: billingRecordHash(inflated) })
		).toThrow(/amountMsat 99999999 does not match the energy and tariff \(26000000\)/);
		expect(() => parseInvoiceMessage({ ...invoice, recordHash: '00'.repeat(32) })).toThrow(
			/recordHash is not the SHA-256/
		);
		expect(() => parseInvoiceMessage({ ...invoice, seq: 2 })).toThrow('record.seq must equal seq');
		expect(() => parseInvoiceMessage({ ...invoice, record: { ...record, energyWh: 99 } })).toThrow(
			/energyWh must equal/
		);
		expect(() => parseInvoiceMessage({ ...invoice, bolt11: 'not an invoice' })).toThrow(/bolt11/);
	});

	it('checks event and driver messages', () => {
		const base = { v: 1, type: 'event', sessionId: 'sess-1', seq: 1, at: 1 };
		expect(parseEvent({ ...base, event: 'started' })).toEqual({ ...base, event: 'started' });
		expect(() => parseEvent({ ...base, event: 'paid', invoiceSeq: 1 })).toThrow(
			'event message: a "paid" event needs paymentHash'
		);
		expect(() =>
			parseEvent({
				...base,
				event: 'anchored',
				txHash: '0x' + '1'.repeat(64),
				root: '0x12',
				fromReading: 1,
				toReading: 2
			})
		).toThrow('root must be "0x" and 64 lower-case hex digits');
		expect(() => parseEvent({ ...base, event: 'exploded' })).toThrow(/event must be one of/);
		expect(parseDriverMessage({ v: 1, type: 'stop', sessionId: 'sess-1', at: 3 })).toEqual({
			v: 1,
			type: 'stop',
			sessionId: 'sess-1',
			at: 3
		});
		expect(() =>
			parseDriverMessage({ v: 1, type: 'budget', sessionId: 'sess-1', budgetMsat: '1e6', at: 3 })
		).toThrow('driver message: budgetMsat must be a decimal string of millisatoshis');
		expect(() =>
			parseDriverMessage({
				v: 1,
				type: 'join',
				sessionId: 'sess-1',
				budgetMsat: '1',
				driverRef: '',
				at: 3
			})
		).toThrow(/driverRef/);
	});
});

describe('encodeMessage', () => {
	it('encodes valid messages and refuses invalid ones before they are sent', () => {
		expect(JSON.parse(encodeMessage(invoice))).toEqual(invoice);
		expect(() => encodeMessage({ ...status, name: '' })).toThrow(/name must be a string/);
	});
});
