// The devnet's MQTT broker: embedded aedes (MQTT 3.1.1) or Debian's Mosquitto (MQTT 5), each with a
// TCP listener and a WebSocket listener for the browsers.
import { spawn, type ChildProcess } from 'node:child_process';
import {
	accessSync,
	chownSync,
	constants as fsConstants,
	existsSync,
	mkdirSync,
	readFileSync,
	renameSync,
	rmSync,
	writeFileSync,
	chmodSync
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { BrokerAccess, type BrokerLogin, type SessionGrant } from './broker-access';
import { ensurePortFree, listen, waitForPort } from './ports';

export type BrokerKind = 'aedes' | 'mosquitto';

/**
 * The largest MQTT packet either broker takes (bytes). The protocol's largest message (a signed
 * status or an invoice) is a few KB; a bigger packet is refused and its client disconnected.
 */
export const MAX_PACKET_BYTES = 64 * 1024;
/** The most topics aedes keeps a retained message for; a new one beyond is refused. */
export const MAX_RETAINED_TOPICS = 10_000;

export interface BrokerOptions {
	kind: BrokerKind;
	/** Address to listen on; default 127.0.0.1. */
	host?: string;
	tcpPort: number;
	wsPort: number;
	/** Where the generated Mosquitto configuration goes (unused by aedes). */
	dir: string;
	/** Production-style security (Mosquitto only): TLS on the WebSocket listener, credentials, topic ACLs. */
	security?: BrokerSecurity;
	/** Called for each publish the secured broker refused (Mosquitto's "Denied PUBLISH"). */
	onDenied?: (refusal: { clientId: string; username: string | null; topic: string }) => void;
}

/**
 * A broker as production runs it: the WebSocket listener speaks TLS (wss://), every client logs in,
 * and ACLs confine each station to its own topics, each phone to the sessions it was granted
 * (broker-access.ts has the rules).
 */
export interface BrokerSecurity {
	/** PEM certificate and key for the WebSocket listener (the devnet's own, from .devnet/tls). */
	tls: { cert: string; key: string };
	/** One login per station; the user name is the station id. */
	stations: { stationId: string; password: string }[];
	/** Wallet logins of this machine: read every station, publish only to `…/sessions/<id>/driver`. */
	drivers: { username: string; password: string }[];
	/** One login per phone on the LAN, with the sessions it was granted so far. */
	phones?: { username: string; password: string; grants?: SessionGrant[] }[];
	/** The devnet's own login, reading stations' status (to check grant requests). */
	observer?: { username: string; password: string };
}

/** What the devnet can change on a running secured broker; every change is in force when the promise resolves. */
export interface BrokerControl {
	/** The logins and rules in force. */
	readonly access: BrokerAccess;
	addLogin(login: BrokerLogin): Promise<void>;
	/** Grants a phone login one session's topics (read its topics, write its driver topic); true when new. */
	grant(username: string, stationId: string, sessionId: string): Promise<boolean>;
	/** Publishes the broker refused by its ACL since it started. */
	deniedPublishes(): number;
}

export interface RunningBroker {
	kind: BrokerKind;
	/** `ws://host:port/mqtt` for browsers. */
	wsUrl: string;
	/** `mqtt://host:port` for Node clients. */
	tcpUrl: string;
	/** MQTT protocol version clients must use: 4 (3.1.1) on aedes, 5 on Mosquitto. */
	protocolVersion: 4 | 5;
	/** With `security`: logins and grants, changed while it runs. */
	control: BrokerControl | null;
	stop(): Promise<void>;
}

/** The access model a BrokerSecurity describes. */
export function accessOf(sec: BrokerSecurity): BrokerAccess {
	const access = new BrokerAccess([
		...sec.stations.map((s) => ({
			username: s.stationId,
			password: s.password,
			role: 'station' as const
		})),
		...sec.drivers.map((d) => ({ ...d, role: 'driver' as const })),
		...(sec.phones ?? []).map((p) => ({
			username: p.username,
			password: p.password,
			role: 'phone' as const
		})),
		...(sec.observer ? [{ ...sec.observer, role: 'observer' as const }] : [])
	]);
	for (const p of sec.phones ?? [])
		for (const g of p.grants ?? []) access.grant(p.username, g.stationId, g.sessionId);
	return access;
}

export const MOSQUITTO_MISSING =
	'mosquitto is not installed: apt-get install mosquitto, or use --broker aedes';

/** Host to put in a URL: a wildcard bind address is reached through loopback. */
export function connectHost(host: string): string {
	if (host === '0.0.0.0' || host === '') return '127.0.0.1';
	if (host === '::') return '[::1]';
	return host.includes(':') ? `[${host}]` : host;
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
	const host = opts.host ?? '127.0.0.1';
	if (opts.kind !== 'aedes' && opts.kind !== 'mosquitto') {
		throw new Error(`unknown broker kind "${String(opts.kind)}" — use aedes or mosquitto`);
	}
	if (opts.tcpPort === opts.wsPort) {
		throw new Error(
			`the MQTT TCP port and the MQTT WebSocket port are both ${opts.tcpPort} — pass different --mqtt-port and --ws-port`
		);
	}
	if (opts.security && opts.kind !== 'mosquitto')
		throw new Error(
			'--secure-broker needs Mosquitto (--broker mosquitto): aedes here has no TLS listener or ACLs'
		);
	// A Mosquitto left by a process killed with -9 (its PID file in this dir) would hold the ports.
	await reapOrphanMosquitto(opts.dir);
	await ensurePortFree(opts.tcpPort, host, 'MQTT TCP', '--mqtt-port');
	await ensurePortFree(opts.wsPort, host, 'MQTT WebSocket', '--ws-port');
	return opts.kind === 'aedes' ? startAedes(host, opts) : startMosquitto(host, opts);
}

function urlsFor(host: string, opts: BrokerOptions): { wsUrl: string; tcpUrl: string } {
	const h = connectHost(host);
	return { wsUrl: `ws://${h}:${opts.wsPort}/mqtt`, tcpUrl: `mqtt://${h}:${opts.tcpPort}` };
}

function closeServer(server: net.Server): Promise<void> {
	return new Promise((resolve) => {
		if (!server.listening) return resolve();
		server.close(() => resolve());
	});
}

async function startAedes(host: string, opts: BrokerOptions): Promise<RunningBroker> {
	// Bounded: each publish by size, retained messages by topic count (an empty retained payload clears one).
	const retained = new Set<string>();
	const broker = await Aedes.createBroker({
		authorizePublish(_client, packet, done) {
			const size = packet.payload.length;
			if (size > MAX_PACKET_BYTES)
				return done(
					new Error(`a message of ${size} bytes is over the devnet's ${MAX_PACKET_BYTES}`)
				);
			if (packet.retain) {
				if (size === 0) retained.delete(packet.topic);
				else if (!retained.has(packet.topic)) {
					if (retained.size >= MAX_RETAINED_TOPICS)
						return done(
							new Error(
								`the devnet keeps retained messages on at most ${MAX_RETAINED_TOPICS} topics`
							)
						);
					retained.add(packet.topic);
				}
			}
			done(null);
		}
	});
	const tcpServer = net.createServer((socket) => broker.handle(socket));
	const httpServer = http.createServer((_req, res) => {
		res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
	});
	// A WebSocket frame over the packet limit is refused before it is buffered (ws defaults to 100 MiB).
	const wss = new WebSocketServer({ server: httpServer, maxPayload: MAX_PACKET_BYTES + 1024 });
	wss.on('connection', (socket, req) => {
		const stream = createWebSocketStream(socket);
		// A client vanishing mid-write makes the duplex emit errors nobody else listens for.
		stream.on('error', () => socket.terminate());
		broker.handle(stream, req);
	});
	// Keep a misbehaving client from crashing the devnet; aedes closes its connection itself.
	broker.on('clientError', () => {});
	broker.on('connectionError', () => {});

	const shutdown = async () => {
		for (const client of wss.clients) client.terminate();
		await new Promise<void>((resolve) => wss.close(() => resolve()));
		httpServer.closeAllConnections();
		await Promise.all([closeServer(tcpServer), closeServer(httpServer)]);
		await new Promise<void>((resolve) => broker.close(() => resolve()));
	};
	// aedes keeps TCP sockets open until closed; track them so stop() does not hang.
	const tcpSockets = new Set<net.Socket>();
	tcpServer.on('connection', (socket) => {
		tcpSockets.add(socket);
		socket.on('close', () => tcpSockets.delete(socket));
	});

	try {
		await listen(tcpServer, opts.tcpPort, host, 'MQTT TCP', '--mqtt-port');
		await listen(httpServer, opts.wsPort, host, 'MQTT WebSocket', '--ws-port');
	} catch (err) {
		await shutdown();
		throw err;
	}
	let stopped: Promise<void> | null = null;
	return {
		kind: 'aedes',
		protocolVersion: 4,
		control: null,
		...urlsFor(host, opts),
		stop() {
			stopped ??= (async () => {
				for (const socket of tcpSockets) socket.destroy();
				await shutdown();
			})();
			return stopped;
		}
	};
}

/** Path of the mosquitto binary, or null. `LIGHTCHARGE_MOSQUITTO`, when set, is the only place looked at. */
export function findMosquitto(): string | null {
	const override = process.env.LIGHTCHARGE_MOSQUITTO;
	const candidates = override
		? [override]
		: [
				'/usr/sbin/mosquitto',
				...(process.env.PATH ?? '')
					.split(path.delimiter)
					.filter(Boolean)
					.map((dir) => path.join(dir, 'mosquitto'))
			];
	for (const candidate of candidates) {
		if (!candidate) continue;
		try {
			accessSync(candidate, fsConstants.X_OK);
			return candidate;
		} catch {
			// not here; try the next one
		}
	}
	return null;
}

/** Name of the network interface that carries `address` (Mosquitto's websockets listener binds by interface). */
function interfaceFor(address: string): string | null {
	for (const [name, infos] of Object.entries(os.networkInterfaces())) {
		if (infos?.some((info) => info.address === address)) return name;
	}
	return null;
}

/** Files of a secured Mosquitto, as they appear in its configuration. */
export interface MosquittoSecurityFiles {
	passwordFile: string;
	aclFile: string;
	certFile: string;
	keyFile: string;
}

/** The Mosquitto configuration for the devnet: no queue limit, TCP + WebSockets; anonymous unless secured. */
export function mosquittoConfig(
	host: string,
	tcpPort: number,
	wsPort: number,
	security?: MosquittoSecurityFiles
): string {
	const wildcard = host === '0.0.0.0' || host === '::' || host === '';
	const address = host === 'localhost' ? '127.0.0.1' : host;
	let wsBind = '';
	if (!wildcard) {
		// Mosquitto 2.0's websockets listener ignores an IP address and binds every interface;
		// naming the interface is what restricts it.
		const iface = interfaceFor(address);
		if (iface === null) throw new Error(`--host ${host} is not an address of this machine`);
		wsBind = ` ${iface}`;
	}
	return [
		'# Generated by the Lightcharge devnet on every start; edits are overwritten.',
		'per_listener_settings false',
		...(security
			? [
					'allow_anonymous false',
					`password_file ${security.passwordFile}`,
					`acl_file ${security.aclFile}`
				]
			: ['allow_anonymous true']),
		// The default (1000) silently drops QoS 1 messages to a slow subscriber.
		'max_queued_messages 0',
		// A bigger message is refused and its client disconnected (the protocol's largest message is a few
		// KB). Mosquitto 2.0.11 still needs the older message_size_limit: max_packet_size alone let a
		// 10 MB retained message through in our test.
		`max_packet_size ${MAX_PACKET_BYTES}`,
		`message_size_limit ${MAX_PACKET_BYTES}`,
		'persistence false',
		'log_dest stderr',
		'log_type error',
		'log_type warning',
		'log_type notice',
		// Secured: "Reloading config." (information) tells when a new ACL is in force; "Denied PUBLISH"
		// (debug) is how a refused publish is counted. The devnet reads them from stderr.
		...(security ? ['log_type information', 'log_type debug'] : []),
		`listener ${tcpPort}${wildcard ? '' : ` ${address}`}`,
		'protocol mqtt',
		`listener ${wsPort}${wsBind}`,
		'protocol websockets',
		...(security ? [`certfile ${security.certFile}`, `keyfile ${security.keyFile}`] : []),
		''
	].join('\n');
}

const PID_FILE = 'mosquitto.pid';

function isRunningMosquitto(pid: number, configFile: string): boolean {
	try {
		const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
		return path.basename(cmdline[0] ?? '') === 'mosquitto' && cmdline.includes(configFile);
	} catch {
		return false;
	}
}

/**
 * Stops a Mosquitto a devnet killed with -9 left running (its PID file in `dir`), so a restart does
 * not find the ports taken. Only that pid, only while it still runs mosquitto with this dir's config.
 * Returns true when one was stopped.
 */
export async function reapOrphanMosquitto(dir: string): Promise<boolean> {
	const pidFile = path.resolve(dir, PID_FILE);
	const configFile = path.resolve(dir, 'mosquitto.conf');
	if (!existsSync(pidFile)) return false;
	const pid = Number(readFileSync(pidFile, 'utf8').trim());
	rmSync(pidFile, { force: true });
	if (!Number.isInteger(pid) || pid <= 1 || !isRunningMosquitto(pid, configFile)) return false;
	process.kill(pid, 'SIGTERM');
	for (let waited = 0; waited < 3000 && isRunningMosquitto(pid, configFile); waited += 50)
		await new Promise((r) => setTimeout(r, 50));
	if (isRunningMosquitto(pid, configFile)) process.kill(pid, 'SIGKILL');
	for (let waited = 0; waited < 2000 && isRunningMosquitto(pid, configFile); waited += 50)
		await new Promise((r) => setTimeout(r, 50));
	return true;
}

/** uid and gid of a system user from /etc/passwd, or null. */
function systemUser(name: string): { uid: number; gid: number } | null {
	try {
		for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
			const [user, , uid, gid] = line.split(':');
			if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
		}
	} catch {
		// no /etc/passwd: not a system we drop privileges on
	}
	return null;
}

async function startMosquitto(host: string, opts: BrokerOptions): Promise<RunningBroker> {
	const binary = findMosquitto();
	if (binary === null) throw new Error(MOSQUITTO_MISSING);
	mkdirSync(opts.dir, { recursive: true });
	const configFile = path.resolve(opts.dir, 'mosquitto.conf');
	const access = opts.security ? accessOf(opts.security) : null;
	const security =
		opts.security && access
			? writeSecurityFiles(path.resolve(opts.dir), opts.security, access)
			: undefined;
	writeFileSync(configFile, mosquittoConfig(host, opts.tcpPort, opts.wsPort, security));
	// Started as root, mosquitto switches to user `mosquitto`, which must still be able to read its files.
	chmodSync(configFile, 0o644);

	const child: ChildProcess = spawn(binary, ['-c', configFile], {
		stdio: ['ignore', 'ignore', 'pipe']
	});
	// A devnet killed with -9 cannot stop it: the next start reads this and stops it (reapOrphanMosquitto).
	const pidFile = path.resolve(opts.dir, PID_FILE);
	if (child.pid !== undefined) writeFileSync(pidFile, `${child.pid}\n`, { mode: 0o600 });
	let stderrTail = '';
	let partial = '';
	let denied = 0;
	const reloadWaiters: (() => void)[] = [];
	/** Client id → user name, from "New client connected … as <id> (…, u'<user>')". */
	const users = new Map<string, string>();
	const onLine = (line: string) => {
		if (line.includes('Reloading config.')) {
			for (const w of reloadWaiters.splice(0)) w();
			return;
		}
		const connected = / as (\S+) \(.*u'([^']*)'\)/.exec(line);
		if (connected && line.includes('New client connected')) {
			if (users.size > 10_000) users.clear();
			users.set(connected[1]!, connected[2]!);
			return;
		}
		const refused = /Denied PUBLISH from (\S+) \(.*?'([^']*)'/.exec(line);
		if (refused) {
			denied++;
			opts.onDenied?.({
				clientId: refused[1]!,
				username: users.get(refused[1]!) ?? null,
				topic: refused[2]!
			});
		}
	};
	child.stderr?.setEncoding('utf8');
	child.stderr?.on('data', (chunk: string) => {
		stderrTail = (stderrTail + chunk).slice(-4000);
		if (!security) return;
		const lines = (partial + chunk).split('\n');
		partial = lines.pop() ?? '';
		if (partial.length > 65_536) partial = '';
		for (const line of lines) onLine(line);
	});
	let exitInfo: string | null = null;
	const exited = new Promise<void>((resolve) => {
		child.once('exit', (code, signal) => {
			exitInfo = signal ? `signal ${signal}` : `code ${String(code)}`;
			rmSync(pidFile, { force: true });
			for (const w of reloadWaiters.splice(0)) w();
			resolve();
		});
		child.once('error', (err) => {
			exitInfo = err.message;
			resolve();
		});
	});
	const deathReason = () => {
		if (exitInfo === null) return null;
		const lastLine =
			stderrTail
				.trim()
				.split('\n')
				.filter((l) => !/Warning: Mosquitto should not be run as root/.test(l))
				.pop() ?? '';
		return `mosquitto exited (${exitInfo}) while starting${lastLine ? `: ${lastLine.replace(/^\d+: /, '')}` : ''} — config ${configFile}`;
	};

	const stop = async () => {
		if (exitInfo !== null) return;
		child.kill('SIGTERM');
		const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
		await exited;
		clearTimeout(timer);
	};
	try {
		await waitForPort(opts.tcpPort, host, 5000, deathReason);
		await waitForPort(opts.wsPort, host, 5000, deathReason);
	} catch (err) {
		await stop();
		throw err;
	}
	// Changes are written to the files and Mosquitto reloads them on SIGHUP; one reload at a time, and
	// a change is in force once Mosquitto has logged "Reloading config." (it reloads before it reads
	// the next packet, so nothing after that line sees the old rules).
	let reloading: Promise<void> = Promise.resolve();
	const reload = () => {
		const next = reloading.then(async () => {
			if (!security || !access) return;
			writeAccessFiles(security, access);
			if (exitInfo !== null) throw new Error(`mosquitto is not running (${exitInfo})`);
			const done = new Promise<void>((resolve) => reloadWaiters.push(resolve));
			child.kill('SIGHUP');
			let timer: NodeJS.Timeout | undefined;
			const timeout = new Promise<never>((_, reject) => {
				timer = setTimeout(
					() => reject(new Error('mosquitto did not reload its ACL within 5 s')),
					5000
				);
			});
			try {
				await Promise.race([done, timeout]);
			} finally {
				clearTimeout(timer);
			}
			if (exitInfo !== null)
				throw new Error(`mosquitto exited (${exitInfo}) while reloading its ACL`);
		});
		reloading = next.catch(() => {});
		return next;
	};
	const control: BrokerControl | null = access && {
		access,
		async addLogin(login) {
			if (access.addLogin(login)) await reload();
		},
		async grant(username, stationId, sessionId) {
			if (!access.grant(username, stationId, sessionId)) return false;
			await reload();
			return true;
		},
		deniedPublishes: () => denied
	};
	let stopped: Promise<void> | null = null;
	const urls = urlsFor(host, opts);
	return {
		kind: 'mosquitto',
		protocolVersion: 5,
		...urls,
		...(security && { wsUrl: urls.wsUrl.replace(/^ws:/, 'wss:') }),
		control,
		stop() {
			stopped ??= stop();
			return stopped;
		}
	};
}

/** Writes a file whole (temp + rename), so Mosquitto never reloads half of one. */
function writeWhole(file: string, text: string, mode: number): void {
	const tmp = `${file}.${process.pid}.tmp`;
	writeFileSync(tmp, text, { mode });
	chmodSync(tmp, mode);
	// Mosquitto started as root reads them after dropping to user `mosquitto`: hand them to it (still 0600).
	const dropsTo = process.getuid?.() === 0 ? systemUser('mosquitto') : null;
	if (dropsTo) chownSync(tmp, dropsTo.uid, dropsTo.gid);
	renameSync(tmp, file);
}

function writeAccessFiles(files: MosquittoSecurityFiles, access: BrokerAccess): void {
	writeWhole(files.passwordFile, access.mosquittoPasswords(), 0o600);
	writeWhole(files.aclFile, access.mosquittoAcl(), 0o644);
}

/** Password file (Mosquitto's own `$7$` hashes), ACL file, and the TLS pair, in `dir`. */
function writeSecurityFiles(
	dir: string,
	sec: BrokerSecurity,
	access: BrokerAccess
): MosquittoSecurityFiles {
	const files: MosquittoSecurityFiles = {
		passwordFile: path.join(dir, 'passwords'),
		aclFile: path.join(dir, 'acl'),
		certFile: path.join(dir, 'ws-cert.pem'),
		keyFile: path.join(dir, 'ws-key.pem')
	};
	writeAccessFiles(files, access);
	// Key and password files 0600; the certificate and the ACL (no secrets) 0644.
	writeWhole(files.certFile, sec.tls.cert, 0o644);
	writeWhole(files.keyFile, sec.tls.key, 0o600);
	// It opens them after dropping root, so it must be able to enter the folder too.
	chmodSync(dir, 0o755);
	return files;
}
