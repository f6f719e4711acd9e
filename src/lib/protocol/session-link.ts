// The session link a kiosk shows as a QR code: the wallet URL with `#join=<base64url JSON>`.
// The fragment never reaches a server, so the link works with static hosting.
import { base64UrlDecode, base64UrlEncode, utf8Decode, utf8Encode } from './bytes';
import { isValidId } from './topics';
import { PROTOCOL_VERSION, type SessionLink } from './types';

export class SessionLinkError extends Error {}

function fail(message: string): never {
	throw new SessionLinkError(`session link: ${message}`);
}

function isUrlWithProtocol(value: unknown, protocols: string[]): boolean {
	if (typeof value !== 'string' || value.length > 2048) return false;
	try {
		return protocols.includes(new URL(value).protocol);
	} catch {
		return false;
	}
}

/** Validates a link's fields; returns a clean copy holding only known fields. */
export function validateSessionLink(value: unknown): SessionLink {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('content is not a JSON object');
	const data = value as Record<string, unknown>;
	if (data.v !== PROTOCOL_VERSION) fail(`unsupported version ${JSON.stringify(data.v ?? null)}, expected ${PROTOCOL_VERSION}`);
	if (!isValidId(data.stationId)) fail('stationId must be 1 to 64 characters of letters, digits, ".", "_" or "-"');
	if (!isValidId(data.sessionId)) fail('sessionId must be 1 to 64 characters of letters, digits, ".", "_" or "-"');
	if (!isUrlWithProtocol(data.broker, ['ws:', 'wss:'])) fail('broker must be a ws:// or wss:// URL');
	if (typeof data.chainId !== 'number' || !Number.isSafeInteger(data.chainId) || data.chainId < 1) {
		fail('chainId must be a positive integer');
	}
	if (typeof data.registry !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(data.registry)) {
		fail('registry must be a contract address (0x and 40 hex digits)');
	}
	const link: SessionLink = {
		v: PROTOCOL_VERSION,
		stationId: data.stationId,
		sessionId: data.sessionId,
		broker: data.broker as string,
		chainId: data.chainId,
		registry: data.registry
	};
	if (data.rpc !== undefined) {
		if (!isUrlWithProtocol(data.rpc, ['http:', 'https:'])) fail('rpc must be an http:// or https:// URL');
		link.rpc = data.rpc as string;
	}
	return link;
}

/** `walletBaseUrl` (any existing fragment replaced) + `#join=<base64url of the link's JSON>`. */
export function encodeSessionLink(walletBaseUrl: string, link: SessionLink): string {
	const clean = validateSessionLink(link);
	if (!isUrlWithProtocol(walletBaseUrl, ['http:', 'https:'])) {
		throw new SessionLinkError('session link: wallet URL must be an http:// or https:// URL');
	}
	const base = walletBaseUrl.split('#')[0] as string;
	return `${base}#join=${base64UrlEncode(utf8Encode(JSON.stringify(clean)))}`;
}

/** Reads a link from a full URL, a fragment (`#join=…`), or the bare `join=…` parameter. */
export function decodeSessionLink(urlOrFragment: string): SessionLink {
	if (typeof urlOrFragment !== 'string') fail('expected a URL or fragment string');
	const hashAt = urlOrFragment.indexOf('#');
	const fragment = hashAt >= 0 ? urlOrFragment.slice(hashAt + 1) : urlOrFragment;
	const parameter = fragment.split('&').find((part) => part.startsWith('join='));
	if (parameter === undefined) fail('no "join=" parameter in the URL fragment');
	const encoded = parameter.slice('join='.length);
	if (encoded.length === 0) fail('"join=" is empty');
	if (encoded.length > 4096) fail('"join=" is too long');
	let data: unknown;
	try {
		data = JSON.parse(utf8Decode(base64UrlDecode(encoded, 'join parameter'), 'join parameter'));
	} catch (error) {
		fail(error instanceof SyntaxError ? 'join parameter does not hold JSON' : (error as Error).message);
	}
	return validateSessionLink(data);
}
