import { describe, expect, it } from 'vitest';
import { base64UrlEncode, utf8Encode } from './bytes';
import {
	decodeLegacySessionLink,
	decodeSessionLink,
	encodeLegacySessionLink,
	encodeSessionLink,
	hasSessionLink,
	newJoinSecret
} from './session-link';
import type { LegacySessionLink, SessionLink } from './types';

const link: SessionLink = {
	v: 2,
	network: '1a2b3c4d',
	stationId: 'st-1',
	sessionId: 'sess.1_a',
	secret: 'AbCdEfGhIjKlMnOpQrStUv'
};
const legacy: LegacySessionLink = {
	v: 1,
	stationId: 'st-1',
	sessionId: 'sess-1',
	broker: 'wss://broker.example:8884/mqtt',
	chainId: 1337,
	registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3'
};
const legacyFragment = (value: unknown) =>
	`#join=${base64UrlEncode(utf8Encode(JSON.stringify(value)))}`;

describe('session links', () => {
	it('round-trips through a URL, a fragment and the bare parameter', () => {
		const url = encodeSessionLink('https://wallet.example/app/#old', link);
		expect(url).toBe('https://wallet.example/app/#c=1a2b3c4d/st-1/sess.1_a/AbCdEfGhIjKlMnOpQrStUv');
		expect(decodeSessionLink(url)).toEqual(link);
		const fragment = url.slice(url.indexOf('#'));
		expect(decodeSessionLink(fragment)).toEqual(link);
		expect(decodeSessionLink(fragment.slice(1))).toEqual(link);
		expect(hasSessionLink(url)).toBe(true);
	});

	it('is short: a devnet link on a LAN address fits a version 6 QR code (106 bytes at level M); the old one needed three times that', () => {
		const url = encodeSessionLink('https://192.168.178.20:18443/', {
			...link,
			stationId: 'station-1',
			sessionId: 's-0123456789abcdef',
			secret: newJoinSecret()
		});
		expect(url.length).toBeLessThanOrEqual(106);
		const old = encodeLegacySessionLink('https://192.168.178.20:18443/', {
			...legacy,
			stationId: 'station-1',
			sessionId: 's-0123456789abcdef',
			broker: 'wss://192.168.178.20:18443/mqtt',
			rpc: 'https://192.168.178.20:18443/rpc'
		});
		expect(old.length).toBeGreaterThan(3 * 90);
	});

	it('makes a fresh 128-bit join secret each time', () => {
		const a = newJoinSecret();
		expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(newJoinSecret()).not.toBe(a);
	});

	it('refuses bad links with clear sentences', () => {
		expect(() => decodeSessionLink('https://wallet.example/')).toThrow(
			'session link: no "c=" parameter in the URL fragment'
		);
		expect(() => decodeSessionLink('#c=1a2b3c4d/st-1/s-1')).toThrow(
			'network/station/session/secret'
		);
		expect(() => decodeSessionLink('#c=1A2B3C4D/st-1/s-1/AbCdEfGhIjKlMnOpQrStUv')).toThrow(
			/network must be 8 lower-case hex/
		);
		expect(() => decodeSessionLink('#c=1a2b3c4d/st 1/s-1/AbCdEfGhIjKlMnOpQrStUv')).toThrow(
			/stationId must be/
		);
		expect(() => decodeSessionLink('#c=1a2b3c4d/st-1/s-1/short')).toThrow(
			/join secret must be 16 bytes/
		);
		expect(() => decodeSessionLink(legacyFragment(legacy))).toThrow('old-style code');
		expect(() => encodeSessionLink('not a url', link)).toThrow(/wallet URL/);
	});

	it('still reads an old-style link, to say what is wrong with it', () => {
		const url = encodeLegacySessionLink('https://wallet.example/', legacy);
		expect(hasSessionLink(url)).toBe(true);
		expect(decodeLegacySessionLink(url)).toEqual(legacy);
		expect(
			decodeLegacySessionLink(
				legacyFragment({ ...legacy, extra: 'x', rpc: 'http://192.168.1.5:8545' })
			)
		).toEqual({ ...legacy, rpc: 'http://192.168.1.5:8545' });
		expect(() => decodeLegacySessionLink('#join=!!!')).toThrow(
			'session link: join parameter is not valid base64url'
		);
		expect(() => decodeLegacySessionLink(`#join=${base64UrlEncode(utf8Encode('{nope'))}`)).toThrow(
			'session link: join parameter does not hold JSON'
		);
		expect(() => decodeLegacySessionLink(legacyFragment({ ...legacy, v: 2 }))).toThrow(
			'session link: unsupported version 2, expected 1'
		);
		expect(() =>
			decodeLegacySessionLink(legacyFragment({ ...legacy, broker: 'http://x' }))
		).toThrow(/broker must be a ws/);
		expect(() => decodeLegacySessionLink(legacyFragment({ ...legacy, chainId: 0 }))).toThrow(
			/chainId/
		);
		expect(() => decodeLegacySessionLink(legacyFragment({ ...legacy, registry: '0x12' }))).toThrow(
			/registry/
		);
		expect(() => decodeLegacySessionLink(legacyFragment({ ...legacy, rpc: 'ftp://x' }))).toThrow(
			/rpc must be/
		);
	});
});
