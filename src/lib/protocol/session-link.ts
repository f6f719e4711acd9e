// The session link a kiosk shows as a QR code: the wallet URL with
// `#c=<network>/<stationId>/<sessionId>/<secret>`. The fragment never reaches a server, so the link
// works with static hosting and the join secret stays between the kiosk's screen and the phone.
// `/` cannot occur in an id (topics.ts), so the four parts split unambiguously.
// The first format, `#join=<base64url JSON>`, is still read (decodeLegacySessionLink) so the
// wallet can say what is wrong with an old code or a sticker, but it is never joined.
import { base64UrlDecode, base64UrlEncode, utf8Decode } from './bytes';
import { isValidId } from './topics';
import type { LegacySessionLink, SessionLink } from './types';

export class SessionLinkError extends Error {}

function fail(message: string): never {
	throw new SessionLinkError(`session link: ${message}`);
}

/** Bytes of a join secret: 128 bits, so guessing one before the driver joins is hopeless. */
export const JOIN_SECRET_BYTES = 16;
const NETWORK_ID = /^[0-9a-f]{8}$/;
const SECRET = /^[A-Za-z0-9_-]{22}$/;

function isUrlWithProtocol(value: unknown, protocols: string[]): boolean {
	if (typeof value !== 'string' || value.length > 2048) return false;
	try {
		return protocols.includes(new URL(value).protocol);
	} catch {
		return false;
	}
}

/** A fresh one-time join secret (base64url). */
export function newJoinSecret(): string {
	return base64UrlEncode(crypto.getRandomValues(new Uint8Array(JOIN_SECRET_BYTES)));
}

/** Validates a link's fields; returns a clean copy holding only known fields. */
export function validateSessionLink(value: unknown): SessionLink {
	if (typeof value !== 'object' || value === null || Array.isArray(value))
		fail('content is not an object');
	const data = value as Record<string, unknown>;
	if (data.v !== 2) fail(`unsupported version ${JSON.stringify(data.v ?? null)}, expected 2`);
	if (typeof data.network !== 'string' || !NETWORK_ID.test(data.network))
		fail('network must be 8 lower-case hex digits');
	if (!isValidId(data.stationId))
		fail('stationId must be 1 to 64 characters of letters, digits, ".", "_" or "-"');
	if (!isValidId(data.sessionId))
		fail('sessionId must be 1 to 64 characters of letters, digits, ".", "_" or "-"');
	if (typeof data.secret !== 'string' || !SECRET.test(data.secret))
		fail(`the join secret must be ${JOIN_SECRET_BYTES} bytes of base64url`);
	return {
		v: 2,
		network: data.network,
		stationId: data.stationId,
		sessionId: data.sessionId,
		secret: data.secret
	};
}

/** `walletBaseUrl` (any existing fragment replaced) + `#c=network/station/session/secret`. */
export function encodeSessionLink(walletBaseUrl: string, link: SessionLink): string {
	const clean = validateSessionLink(link);
	if (!isUrlWithProtocol(walletBaseUrl, ['http:', 'https:'])) {
		throw new SessionLinkError('session link: wallet URL must be an http:// or https:// URL');
	}
	const base = walletBaseUrl.split('#')[0] as string;
	return `${base}#c=${clean.network}/${clean.stationId}/${clean.sessionId}/${clean.secret}`;
}

function fragmentParameter(urlOrFragment: string, name: string): string | undefined {
	const hashAt = urlOrFragment.indexOf('#');
	const fragment = hashAt >= 0 ? urlOrFragment.slice(hashAt + 1) : urlOrFragment;
	return fragment
		.split('&')
		.find((part) => part.startsWith(`${name}=`))
		?.slice(name.length + 1);
}

/** True when the text carries a session link of either format (to route a scanned code). */
export function hasSessionLink(text: string): boolean {
	return /#(?:[^#]*&)?(?:c|join)=/.test(text);
}

/** Reads a link from a full URL, a fragment (`#c=…`) or the bare `c=…` parameter. */
export function decodeSessionLink(urlOrFragment: string): SessionLink {
	if (typeof urlOrFragment !== 'string') fail('expected a URL or fragment string');
	const value = fragmentParameter(urlOrFragment, 'c');
	if (value === undefined) {
		if (fragmentParameter(urlOrFragment, 'join') !== undefined)
			fail('this is an old-style code that names its own network');
		fail('no "c=" parameter in the URL fragment');
	}
	if (value.length > 256) fail('"c=" is too long');
	const parts = value.split('/');
	if (parts.length !== 4) fail('"c=" must hold network/station/session/secret');
	const [network, stationId, sessionId, secret] = parts;
	return validateSessionLink({ v: 2, network, stationId, sessionId, secret });
}

/** Reads an old-style `#join=` link (it cannot be joined: it has no join secret). */
export function decodeLegacySessionLink(urlOrFragment: string): LegacySessionLink {
	const encoded = fragmentParameter(urlOrFragment, 'join');
	if (encoded === undefined) fail('no "join=" parameter in the URL fragment');
	if (encoded.length === 0) fail('"join=" is empty');
	if (encoded.length > 4096) fail('"join=" is too long');
	let data: Record<string, unknown>;
	try {
		data = JSON.parse(
			utf8Decode(base64UrlDecode(encoded, 'join parameter'), 'join parameter')
		) as Record<string, unknown>;
	} catch (error) {
		fail(
			error instanceof SyntaxError ? 'join parameter does not hold JSON' : (error as Error).message
		);
	}
	if (typeof data !== 'object' || data === null || Array.isArray(data))
		fail('content is not a JSON object');
	if (data.v !== 1) fail(`unsupported version ${JSON.stringify(data.v ?? null)}, expected 1`);
	if (!isValidId(data.stationId))
		fail('stationId must be 1 to 64 characters of letters, digits, ".", "_" or "-"');
	if (!isValidId(data.sessionId))
		fail('sessionId must be 1 to 64 characters of letters, digits, ".", "_" or "-"');
	if (!isUrlWithProtocol(data.broker, ['ws:', 'wss:']))
		fail('broker must be a ws:// or wss:// URL');
	if (typeof data.chainId !== 'number' || !Number.isSafeInteger(data.chainId) || data.chainId < 1)
		fail('chainId must be a positive integer');
	if (typeof data.registry !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(data.registry))
		fail('registry must be a contract address (0x and 40 hex digits)');
	const link: LegacySessionLink = {
		v: 1,
		stationId: data.stationId,
		sessionId: data.sessionId,
		broker: data.broker as string,
		chainId: data.chainId,
		registry: data.registry
	};
	if (data.rpc !== undefined) {
		if (!isUrlWithProtocol(data.rpc, ['http:', 'https:']))
			fail('rpc must be an http:// or https:// URL');
		link.rpc = data.rpc as string;
	}
	return link;
}

/** What an old-style `#join=` link is (for tests and tools that still need to make one). */
export function encodeLegacySessionLink(walletBaseUrl: string, link: LegacySessionLink): string {
	const base = walletBaseUrl.split('#')[0] as string;
	return `${base}#join=${base64UrlEncode(new TextEncoder().encode(JSON.stringify(link)))}`;
}
