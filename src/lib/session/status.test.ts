import { describe, expect, it } from 'vitest';
import {
	ethereumAddressOf,
	ocmfPublicKeyHex,
	parseMessage,
	statusTopic,
	verifyStationSignature
} from '../protocol';
import { offlineStatusPayload, stationStatus } from './status';
import { testTariff } from './factories.testing';

const KEY = '6'.repeat(63) + '3';
const signingKey = ocmfPublicKeyHex(KEY);
const identity = {
	stationId: 'st-w',
	name: 'Will test',
	signingKeyHex: KEY,
	signingKey,
	signerAddress: ethereumAddressOf(signingKey),
	maxPowerW: 11_000
};
const tariff = testTariff({ startFeeMsat: '0' });
const node = { lightningPubkey: '02' + 'ab'.repeat(32), network: 'signet' as const };

describe('the station status', () => {
	it('makes the kiosk’s last will the runtime’s status with state offline, signed by the station key', () => {
		const at = 1_800_000_000_000;
		const payload = offlineStatusPayload({ identity, tariff, ...node, at });
		const parsed = parseMessage(statusTopic('st-w'), payload);
		expect(parsed.ok).toBe(true);
		if (!parsed.ok) return;
		const { sig: _sig, ...unsigned } = parsed.message as typeof parsed.message & { sig?: string };
		expect(unsigned).toEqual(stationStatus({ identity, tariff, state: 'offline', ...node, at }));
		// The network is the station node's own, not a constant.
		expect(unsigned).toMatchObject({
			state: 'offline',
			network: 'signet',
			lightningPubkey: node.lightningPubkey
		});
		expect(verifyStationSignature(parsed.message, 'st-w', signingKey)).toBe(true);
		expect(verifyStationSignature(parsed.message, 'st-w', ocmfPublicKeyHex('7'.repeat(64)))).toBe(
			false
		);
	});
});
