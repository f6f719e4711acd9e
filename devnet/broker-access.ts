// Who may log in to the devnet's secured broker and which topics each login may read and write.
// One model for both brokers: Mosquitto gets it as a password file and an ACL file (rewritten and
// reloaded with SIGHUP when a phone or a grant is added), aedes would ask it per packet.
//
// Logins, by role:
// - station  (user name = station id): reads and writes everything under its own station only;
// - driver   (the wallet on the devnet's own machine): reads every station, writes sessions' driver topics;
// - phone    (one per phone on the LAN, made with its car node): reads stations' status, and only the
//            sessions it was granted: it reads that session's topics and writes its driver topic;
// - observer (the devnet itself): reads stations' status, to check a phone's grant request.
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type BrokerRole = 'station' | 'driver' | 'phone' | 'observer';

export interface BrokerLogin {
	username: string;
	password: string;
	role: BrokerRole;
}

export interface SessionGrant {
	stationId: string;
	sessionId: string;
}

/** A phone keeps grants for its last 8 sessions; an older one is dropped when a ninth is granted. */
export const MAX_GRANTS_PER_LOGIN = 8;

const ROOT = 'lightcharge/v1/stations';
const ID = /^[A-Za-z0-9._-]{1,64}$/;

export function checkLogin(login: BrokerLogin): void {
	if (!ID.test(login.username))
		throw new Error(
			`broker user "${login.username}" must be 1 to 64 letters, digits, ".", "_" or "-"`
		);
	if (login.password.length < 8 || /[\n\r:]/.test(login.password))
		throw new Error(
			`the broker password of ${login.username} needs 8 or more characters and no ":" or line break`
		);
}

/** A random broker password (24 hex digits, 96 bits). */
export function newBrokerPassword(): string {
	return randomBytes(12).toString('hex');
}

/** Mosquitto 2's password hash (`$7$`: PBKDF2-SHA512, 101 rounds, 12-byte salt), as mosquitto_passwd writes it. */
export function mosquittoHash(password: string, salt = randomBytes(12)): string {
	return `$7$101$${salt.toString('base64')}$${pbkdf2Sync(password, salt, 101, 64, 'sha512').toString('base64')}`;
}

/** True when every topic `filter` can match is also matched by `allowed` (both MQTT filters). */
export function filterWithin(filter: string, allowed: string): boolean {
	const f = filter.split('/');
	const a = allowed.split('/');
	for (let i = 0; i < f.length; i++) {
		const al = a[i];
		if (al === '#') return true;
		if (al === undefined) return false;
		const fl = f[i]!;
		if (fl === '#') return false;
		if (al === '+') continue;
		if (fl === '+' || fl !== al) return false;
	}
	return f.length === a.length;
}

interface Entry {
	login: BrokerLogin;
	hash: string;
}

export class BrokerAccess {
	private readonly entries = new Map<string, Entry>();
	private readonly grants = new Map<string, SessionGrant[]>();

	constructor(logins: BrokerLogin[] = [], grants: Record<string, SessionGrant[]> = {}) {
		for (const l of logins) this.addLogin(l);
		for (const [user, list] of Object.entries(grants))
			for (const g of list) this.grant(user, g.stationId, g.sessionId);
	}

	/** Adds (or changes the password of) a login; false when it was there already, unchanged. */
	addLogin(login: BrokerLogin): boolean {
		checkLogin(login);
		const had = this.entries.get(login.username);
		if (had && had.login.password === login.password && had.login.role === login.role) return false;
		this.entries.set(login.username, { login: { ...login }, hash: mosquittoHash(login.password) });
		return true;
	}

	has(username: string): boolean {
		return this.entries.has(username);
	}

	roleOf(username: string): BrokerRole | null {
		return this.entries.get(username)?.login.role ?? null;
	}

	/** Constant-time password check (for a broker that asks in process). */
	authenticate(username: string, password: string): boolean {
		const e = this.entries.get(username);
		if (!e) return false;
		const a = Buffer.from(e.login.password);
		const b = Buffer.from(password);
		return a.length === b.length && timingSafeEqual(a, b);
	}

	/**
	 * Grants a phone login one session's topics; true when it is new. Only phone logins take grants
	 * (the others' rights do not depend on sessions). The oldest of more than MAX_GRANTS_PER_LOGIN goes.
	 */
	grant(username: string, stationId: string, sessionId: string): boolean {
		if (this.roleOf(username) !== 'phone')
			throw new Error(`broker login ${username} is not a phone's`);
		if (!ID.test(stationId) || !ID.test(sessionId))
			throw new Error('station and session ids must be 1 to 64 letters, digits, ".", "_" or "-"');
		const list = this.grants.get(username) ?? [];
		if (list.some((g) => g.stationId === stationId && g.sessionId === sessionId)) return false;
		list.push({ stationId, sessionId });
		while (list.length > MAX_GRANTS_PER_LOGIN) list.shift();
		this.grants.set(username, list);
		return true;
	}

	grantsOf(username: string): SessionGrant[] {
		return [...(this.grants.get(username) ?? [])];
	}

	/** How many phone logins hold a grant for this session. */
	holdersOf(stationId: string, sessionId: string): string[] {
		return [...this.grants]
			.filter(([, list]) =>
				list.some((g) => g.stationId === stationId && g.sessionId === sessionId)
			)
			.map(([u]) => u);
	}

	/** The topic filters a login may read and write. */
	rules(username: string): { read: string[]; write: string[] } {
		const role = this.roleOf(username);
		switch (role) {
			case 'station':
				return { read: [`${ROOT}/${username}/#`], write: [`${ROOT}/${username}/#`] };
			case 'driver':
				return { read: [`${ROOT}/#`], write: [`${ROOT}/+/sessions/+/driver`] };
			case 'observer':
				return { read: [`${ROOT}/+/status`], write: [] };
			case 'phone': {
				const granted = this.grantsOf(username);
				return {
					read: [
						`${ROOT}/+/status`,
						...granted.map((g) => `${ROOT}/${g.stationId}/sessions/${g.sessionId}/+`)
					],
					write: granted.map((g) => `${ROOT}/${g.stationId}/sessions/${g.sessionId}/driver`)
				};
			}
			default:
				return { read: [], write: [] };
		}
	}

	/** May `username` publish to the concrete `topic`? */
	mayPublish(username: string, topic: string): boolean {
		if (/[+#]/.test(topic)) return false;
		return this.rules(username).write.some((w) => filterWithin(topic, w));
	}

	/** May `username` subscribe to `filter` (every topic it can match readable)? */
	maySubscribe(username: string, filter: string): boolean {
		return this.rules(username).read.some((r) => filterWithin(filter, r));
	}

	/** Mosquitto's password file: one `user:$7$…` line per login. */
	mosquittoPasswords(): string {
		return [...this.entries.values()].map((e) => `${e.login.username}:${e.hash}\n`).join('');
	}

	/** Mosquitto's ACL file: per user, exactly the rules above (no `pattern` line applies to all users). */
	mosquittoAcl(): string {
		const out = [
			'# Generated by the Lightcharge devnet; rewritten when a login or a session grant is added. Edits are lost.'
		];
		for (const { login } of this.entries.values()) {
			const r = this.rules(login.username);
			const read = new Set(r.read);
			const write = new Set(r.write);
			out.push('', `# ${login.role} login`, `user ${login.username}`);
			for (const t of read) out.push(`topic ${write.has(t) ? 'readwrite' : 'read'} ${t}`);
			for (const t of write) if (!read.has(t)) out.push(`topic write ${t}`);
		}
		out.push('');
		return out.join('\n');
	}
}
