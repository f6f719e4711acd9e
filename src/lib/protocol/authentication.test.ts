import { describe, expect, it } from 'vitest';
import {
	hasValidMac,
	newDriverKey,
	sessionKeys,
	signDriverMessage,
	signStationMessage,
	tagMessage,
	verifyDriverSignature,
	verifyStationSignature
} from './authentication';
import { encodeMessage, parseMessage } from './messages';
import { ocmfPublicKeyHex } from './ocmf';
import { newJoinSecret } from './session-link';
import { eventsTopic } from './topics';
import type { SessionEvent } from './types';

const KEY = '6'.repeat(63) + '1';
const PUB = ocmfPublicKeyHex(KEY);
const event: SessionEvent = {
	v: 1,
	type: 'event',
	sessionId: 's-1',
	seq: 3,
	event: 'paid',
	at: 1_800_000_000_000,
	invoiceSeq: 2,
	paymentHash: 'ab'.repeat(32)
};

describe('station and driver message authentication', () => {
	it('a station signature survives the wire and the schema, and fails for any change, key or station', () => {
		const keys = sessionKeys(newJoinSecret(), 'st-1', 's-1');
		const signed = signStationMessage(event, 'st-1', KEY, keys.station);
		const wire = encodeMessage(signed);
		const parsed = parseMessage(eventsTopic('st-1', 's-1'), wire);
		expect(parsed.ok).toBe(true);
		const m = (parsed as Extract<typeof parsed, { ok: true }>).message;
		expect(verifyStationSignature(m, 'st-1', PUB)).toBe(true);
		expect(hasValidMac(m, keys.station)).toBe(true);
		expect(verifyStationSignature({ ...m, invoiceSeq: 3 }, 'st-1', PUB)).toBe(false);
		expect(verifyStationSignature(m, 'st-2', PUB)).toBe(false);
		expect(verifyStationSignature(m, 'st-1', ocmfPublicKeyHex('7'.repeat(64)))).toBe(false);
		expect(verifyStationSignature({ ...m, sig: undefined }, 'st-1', PUB)).toBe(false);
		expect(verifyStationSignature({ ...m, sig: 'zz' }, 'st-1', PUB)).toBe(false);
		// A station signature is not a driver signature, even with the same key.
		expect(verifyDriverSignature(m, 'st-1', PUB)).toBe(false);
	});

	it('the MAC needs the join secret: another session, role or secret does not verify', () => {
		const secret = newJoinSecret();
		const keys = sessionKeys(secret, 'st-1', 's-1');
		const tagged = tagMessage(event, keys.station);
		expect(hasValidMac(tagged, keys.station)).toBe(true);
		expect(hasValidMac(tagged, keys.driver)).toBe(false);
		expect(hasValidMac(tagged, sessionKeys(secret, 'st-1', 's-2').station)).toBe(false);
		expect(hasValidMac(tagged, sessionKeys(newJoinSecret(), 'st-1', 's-1').station)).toBe(false);
		expect(hasValidMac({ ...tagged, seq: 4 }, keys.station)).toBe(false);
		expect(hasValidMac(event, keys.station)).toBe(false);
		expect(hasValidMac({ ...tagged, mac: tagged.mac.toUpperCase() }, keys.station)).toBe(false);
	});

	it('a driver message is signed with the per-session key registered at join', () => {
		const keys = sessionKeys(newJoinSecret(), 'st-1', 's-1');
		const driver = newDriverKey();
		const stop = signDriverMessage(
			{ v: 1 as const, type: 'stop' as const, sessionId: 's-1', at: 1, n: 1 },
			'st-1',
			driver.privateKeyHex,
			keys.driver
		);
		expect(verifyDriverSignature(stop, 'st-1', driver.publicKey)).toBe(true);
		expect(hasValidMac(stop, keys.driver)).toBe(true);
		expect(verifyDriverSignature(stop, 'st-1', newDriverKey().publicKey)).toBe(false);
		expect(verifyDriverSignature({ ...stop, n: 2 }, 'st-1', driver.publicKey)).toBe(false);
	});
});
