import { describe, expect, it } from 'vitest';
import { bytesToHex, hasValidMac, sessionKeys, tagMessage } from '../protocol';
import { DEVNET_GRANT_PATH, requestSessionTopics } from './devnet-grant';

const link = {
	stationId: 'station-1',
	sessionId: 's-0011223344556677',
	secret: 'AAECAwQFBgcICQoLDA0ODw'
};

describe('requestSessionTopics', () => {
	it('shows the devnet the session’s station MAC key (which checks the station’s tagged status), never the secret or the driver key', async () => {
		let sent: { url: string; init: RequestInit } | null = null;
		await requestSessionTopics(link, async (url, init) => {
			sent = { url: String(url), init: init! };
			return new Response('{"stationId":"station-1"}', { status: 200 });
		});
		expect(sent!.url).toBe(DEVNET_GRANT_PATH);
		expect(sent!.init.method).toBe('POST');
		const body = JSON.parse(String(sent!.init.body)) as {
			stationId: string;
			sessionId: string;
			stationMac: string;
		};
		expect(body).toEqual({
			stationId: link.stationId,
			sessionId: link.sessionId,
			stationMac: body.stationMac
		});
		const keys = sessionKeys(link.secret, link.stationId, link.sessionId);
		// What the station tags its status with is what the devnet can check with the key it was shown.
		const status = tagMessage(
			{ v: 1, type: 'status', stationId: link.stationId, sessionId: link.sessionId },
			keys.station
		);
		expect(hasValidMac(status, Buffer.from(body.stationMac, 'hex'))).toBe(true);
		expect(String(sent!.init.body)).not.toContain(link.secret);
		expect(String(sent!.init.body)).not.toContain(bytesToHex(keys.driver));
	});

	it('says in a sentence why the devnet refused, with its own words', async () => {
		const refuse = async () =>
			new Response(
				JSON.stringify({ error: 'refused', message: 'That is not the key of session s-1.' }),
				{ status: 403, headers: { 'Content-Type': 'application/json' } }
			);
		await expect(requestSessionTopics(link, refuse)).rejects.toThrow(
			'The devnet did not open this session’s messages to this phone (403: That is not the key of session s-1.).'
		);
		await expect(
			requestSessionTopics(link, async () => new Response('<html>', { status: 502 }))
		).rejects.toThrow('(502).');
		await expect(
			requestSessionTopics(link, async () => {
				throw new TypeError('Failed to fetch');
			})
		).rejects.toThrow(/could not be asked/);
	});
});
