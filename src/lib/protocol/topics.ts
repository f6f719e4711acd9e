// MQTT topic names under `lightcharge/v1`. Ids are restricted so that no id can
// contain a level separator or wildcard and every topic parses back unambiguously.

export const TOPIC_ROOT = 'lightcharge/v1';

export type SessionTopicKind = 'readings' | 'invoices' | 'events' | 'driver';
export type TopicKind = 'status' | SessionTopicKind;

export const SESSION_TOPIC_KINDS: readonly SessionTopicKind[] = [
	'readings',
	'invoices',
	'events',
	'driver'
];

const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** 1–64 characters of A–Z, a–z, 0–9, `.`, `_`, `-` (so never `/`, `+` or `#`). */
export function isValidId(id: unknown): id is string {
	return typeof id === 'string' && ID_PATTERN.test(id);
}

/** Throws a readable error when `id` is not a valid station or session id. */
export function assertValidId(id: unknown, what: string): asserts id is string {
	if (typeof id !== 'string') throw new Error(`${what} must be a string`);
	if (!ID_PATTERN.test(id)) {
		throw new Error(`${what} must be 1 to 64 characters of letters, digits, ".", "_" or "-"`);
	}
}

export function statusTopic(stationId: string): string {
	assertValidId(stationId, 'station id');
	return `${TOPIC_ROOT}/stations/${stationId}/status`;
}

export function sessionTopic(kind: SessionTopicKind, stationId: string, sessionId: string): string {
	assertValidId(stationId, 'station id');
	assertValidId(sessionId, 'session id');
	return `${TOPIC_ROOT}/stations/${stationId}/sessions/${sessionId}/${kind}`;
}

export const readingsTopic = (stationId: string, sessionId: string) =>
	sessionTopic('readings', stationId, sessionId);
export const invoicesTopic = (stationId: string, sessionId: string) =>
	sessionTopic('invoices', stationId, sessionId);
export const eventsTopic = (stationId: string, sessionId: string) =>
	sessionTopic('events', stationId, sessionId);
export const driverTopic = (stationId: string, sessionId: string) =>
	sessionTopic('driver', stationId, sessionId);

/** Every per-session topic of one session (readings, invoices, events, driver). */
export function sessionWildcard(stationId: string, sessionId: string): string {
	assertValidId(stationId, 'station id');
	assertValidId(sessionId, 'session id');
	return `${TOPIC_ROOT}/stations/${stationId}/sessions/${sessionId}/+`;
}

/** What a wallet subscribes to for a session: the station's status plus the session's topics. */
export function walletSubscriptions(stationId: string, sessionId: string): string[] {
	return [statusTopic(stationId), sessionWildcard(stationId, sessionId)];
}

/** Every station's retained status (a station list). */
export const ALL_STATUS_TOPICS = `${TOPIC_ROOT}/stations/+/status`;

/** Everything published about one station (its status and all its sessions). */
export function stationWildcard(stationId: string): string {
	assertValidId(stationId, 'station id');
	return `${TOPIC_ROOT}/stations/${stationId}/#`;
}

export type ParsedTopic =
	| { kind: 'status'; stationId: string }
	| { kind: SessionTopicKind; stationId: string; sessionId: string };

/** Reads a concrete (wildcard-free) Lightcharge topic; null for anything else. */
export function parseTopic(topic: string): ParsedTopic | null {
	if (typeof topic !== 'string' || !topic.startsWith(`${TOPIC_ROOT}/`)) return null;
	const levels = topic.slice(TOPIC_ROOT.length + 1).split('/');
	const [stations, stationId, third, sessionId, kind] = levels;
	if (stations !== 'stations' || !isValidId(stationId)) return null;
	if (levels.length === 3 && third === 'status') return { kind: 'status', stationId };
	if (levels.length === 5 && third === 'sessions' && isValidId(sessionId)) {
		const sessionKind = SESSION_TOPIC_KINDS.find((k) => k === kind);
		if (sessionKind) return { kind: sessionKind, stationId, sessionId };
	}
	return null;
}
