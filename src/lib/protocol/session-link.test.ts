import { describe, expect, it } from 'vitest';
import { base64UrlEncode, utf8Encode } from './bytes';
import { decodeSessionLink, encodeSessionLink } from './session-link';
import type { SessionLink } from './types';

const link: SessionLink = {
	v: 1,
	stationId: 'st-1',
	sessionId: 'sess-1',
	broker: 'wss://broker.example:8884/mqtt',
	chainId: 1337,
	registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3'
};

const fragmentOf = (value: unknown) => `#join=${base64UrlEncode(utf8Encode(JSON.stringify(value)))}`;

describe('session links', () => {
	it('round-trips through a URL, a fragment and the bare parameter', () => {
		const url = encodeSessionLink('https://wallet.example/app/#old', link);
		expect(url.startsWith('https://wallet.example/app/#join=')).toBe(true);
		expect(url).not.toContain('old');
		expect(decodeSessionLink(url)).toEqual(link);
		const fragment = url.slice(url.indexOf('#'));
		expect(decodeSessionLink(fragment)).toEqual(link);
		expect(decodeSessionLink(fragment.slice(1))).toEqual(link);
		const withRpc = { ...link, rpc: 'http://192.168.1.5:8545' };
		expect(decodeSessionLink(encodeSessionLink('http://localhost:5173/', withRpc))).toEqual(withRpc);
	});

	it('drops unknown fields', () => {
		expect(decodeSessionLink(fragmentOf({ ...link, extra: 'x' }))).toEqual(link);
	});

	it('refuses bad links with clear sentences', () => {
		expect(() => decodeSessionLink('https://wallet.example/')).toThrow('session link: no "join=" parameter in the URL fragment');
		expect(() => decodeSessionLink('#join=!!!')).toThrow('session link: join parameter is not valid base64url');
		expect(() => decodeSessionLink(`#join=${base64UrlEncode(utf8Encode('{nope'))}`)).toThrow(
			'session link: join parameter does not hold JSON'
		);
		expect(() => decodeSessionLink(fragmentOf({ ...link, v: 2 }))).toThrow('session link: unsupported version 2, expected 1');
		expect(() => decodeSessionLink(fragmentOf({ ...link, stationId: 'a/b' }))).toThrow(/stationId must be/);
		expect(() => decodeSessionLink(fragmentOf({ ...link, broker: 'http://x' }))).toThrow(/broker must be a ws/);
		expect(() => decodeSessionLink(fragmentOf({ ...link, chainId: 0 }))).toThrow(/chainId/);
		expect(() => decodeSessionLink(fragmentOf({ ...link, registry: '0x12' }))).toThrow(/registry/);
		expect(() => decodeSessionLink(fragmentOf({ ...link, rpc: 'ftp://x' }))).toThrow(/rpc must be/);
		expect(() => encodeSessionLink('not a url', link)).toThrow(/wallet URL/);
	});
});
