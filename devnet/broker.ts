// The devnet's MQTT broker: embedded aedes (MQTT 3.1.1) or Debian's Mosquitto (MQTT 5), each with a
// TCP listener and a WebSocket listener for the browsers.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants as fsConstants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
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
}

/**
 * A broker as production runs it: the WebSocket listener speaks TLS (wss://), every client logs in,
 * and ACLs confine each station to its own topics and each driver to the sessions' `driver` topics.
 */
export interface BrokerSecurity {
	/** PEM certificate and key for the WebSocket listener (the devnet's own, from .devnet/tls). */
	tls: { cert: string; key: string };
	/** One login per station; the user name is the station id (the ACL pattern uses it). */
	stations: { stationId: string; password: string }[];
	/** Wallet logins: read every station, publish only to `…/sessions/<id>/driver`. */
	drivers: { username: string; password: string }[];
}

export interface RunningBroker {
	kind: BrokerKind;
	/** `ws://host:port/mqtt` for browsers. */
	wsUrl: string;
	/** `mqtt://host:port` for Node clients. */
	tcpUrl: string;
	/** MQTT protocol version clients must use: 4 (3.1.1) on aedes, 5 on Mosquitto. */
	protocolVersion: 4 | 5;
	stop(): Promise<void>;
}

export const MOSQUITTO_PASSWD_MISSING = 'mosquitto_passwd is not installed: apt-get install mosquitto (it ships with it)';

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
		throw new Error(`the MQTT TCP port and the MQTT WebSocket port are both ${opts.tcpPort} — pass different --mqtt-port and --ws-port`);
	}
	if (opts.security && opts.kind !== 'mosquitto') throw new Error('--secure-broker needs Mosquitto (--broker mosquitto): aedes here has no TLS listener or ACLs');
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
			if (size > MAX_PACKET_BYTES) return done(new Error(`a message of ${size} bytes is over the devnet's ${MAX_PACKET_BYTES}`));
			if (packet.retain) {
				if (size === 0) retained.delete(packet.topic);
				else if (!retained.has(packet.topic)) {
					if (retained.size >= MAX_RETAINED_TOPICS) return done(new Error(`the devnet keeps retained messages on at most ${MAX_RETAINED_TOPICS} topics`));
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
		: ['/usr/sbin/mosquitto', ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'mosquitto'))];
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

/** The topic ACLs: a station only under its own id, a driver only the sessions' driver topics. */
export function mosquittoAcl(drivers: string[]): string {
	return [
		'# Generated by the Lightcharge devnet on every start; edits are overwritten.',
		'# Every station logs in with its station id as user name and reads and writes only under it.',
		'pattern readwrite lightcharge/v1/stations/%u/#',
		...drivers.flatMap((d) => [
			'',
			`# Driver login ${d}: reads every station, publishes only to sessions' driver topics.`,
			`user ${d}`,
			'topic read lightcharge/v1/stations/#',
			'topic write lightcharge/v1/stations/+/sessions/+/driver'
		]),
		''
	].join('\n');
}

/** The Mosquitto configuration for the devnet: no queue limit, TCP + WebSockets; anonymous unless secured. */
export function mosquittoConfig(host: string, tcpPort: number, wsPort: number, security?: MosquittoSecurityFiles): string {
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
			? ['allow_anonymous false', `password_file ${security.passwordFile}`, `acl_file ${security.aclFile}`]
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
	for (let waited = 0; waited < 3000 && isRunningMosquitto(pid, configFile); waited += 50) await new Promise((r) => setTimeout(r, 50));
	if (isRunningMosquitto(pid, configFile)) process.kill(pid, 'SIGKILL');
	for (let waited = 0; waited < 2000 && isRunningMosquitto(pid, configFile); waited += 50) await new Promise((r) => setTimeout(r, 50));
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
	const security = opts.security ? writeSecurityFiles(path.resolve(opts.dir), opts.security) : undefined;
	writeFileSync(configFile, mosquittoConfig(host, opts.tcpPort, opts.wsPort, security));
	// Started as root, mosquitto switches to user `mosquitto`, which must still be able to read its files.
	chmodSync(configFile, 0o644);

	const child: ChildProcess = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
	// A devnet killed with -9 cannot stop it: the next start reads this and stops it (reapOrphanMosquitto).
	const pidFile = path.resolve(opts.dir, PID_FILE);
	if (child.pid !== undefined) writeFileSync(pidFile, `${child.pid}\n`, { mode: 0o600 });
	let stderrTail = '';
	child.stderr?.setEncoding('utf8');
	child.stderr?.on('data', (chunk: string) => {
		stderrTail = (stderrTail + chunk).slice(-4000);
	});
	let exitInfo: string | null = null;
	const exited = new Promise<void>((resolve) => {
		child.once('exit', (code, signal) => {
			exitInfo = signal ? `signal ${signal}` : `code ${String(code)}`;
			rmSync(pidFile, { force: true });
			resolve();
		});
		child.once('error', (err) => {
			exitInfo = err.message;
			resolve();
		});
	});
	const deathReason = () => {
		if (exitInfo === null) return null;
		const lastLine = stderrTail.trim().split('\n').filter((l) => !/Warning: Mosquitto should not be run as root/.test(l)).pop() ?? '';
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
	let stopped: Promise<void> | null = null;
	const urls = urlsFor(host, opts);
	return {
		kind: 'mosquitto',
		protocolVersion: 5,
		...urls,
		...(security && { wsUrl: urls.wsUrl.replace(/^ws:/, 'wss:') }),
		stop() {
			stopped ??= stop();
			return stopped;
		}
	};
}

/** Password file (hashed by Debian's mosquitto_passwd), ACL file, and the TLS pair, in `dir`. */
function writeSecurityFiles(dir: string, sec: BrokerSecurity): MosquittoSecurityFiles {
	const users = [...sec.stations.map((s) => ({ user: s.stationId, password: s.password })), ...sec.drivers.map((d) => ({ user: d.username, password: d.password }))];
	for (const u of users) {
		if (!/^[A-Za-z0-9._-]{1,64}$/.test(u.user)) throw new Error(`broker user "${u.user}" must be 1 to 64 letters, digits, ".", "_" or "-"`);
		if (u.password.length < 8 || /[\n:]/.test(u.password)) throw new Error(`the broker password of ${u.user} needs 8 or more characters and no ":" or line break`);
	}
	const files: MosquittoSecurityFiles = {
		passwordFile: path.join(dir, 'passwords'),
		aclFile: path.join(dir, 'acl'),
		certFile: path.join(dir, 'ws-cert.pem'),
		keyFile: path.join(dir, 'ws-key.pem')
	};
	writeFileSync(files.passwordFile, users.map((u) => `${u.user}:${u.password}\n`).join(''), { mode: 0o600 });
	const passwd = findMosquittoPasswd();
	if (!passwd) throw new Error(MOSQUITTO_PASSWD_MISSING);
	// -U replaces each plain password in the file by its salted hash.
	execFileSync(passwd, ['-U', files.passwordFile], { stdio: 'pipe' });
	writeFileSync(files.aclFile, mosquittoAcl(sec.drivers.map((d) => d.username)));
	writeFileSync(files.certFile, sec.tls.cert);
	writeFileSync(files.keyFile, sec.tls.key);
	// Key and password files 0600. Mosquitto started as root reads them after dropping to user
	// `mosquitto`, so as root they are handed to that user (still 0600); otherwise it runs as us.
	const dropsTo = process.getuid?.() === 0 ? systemUser('mosquitto') : null;
	for (const f of Object.values(files)) {
		if (dropsTo) chownSync(f, dropsTo.uid, dropsTo.gid);
		chmodSync(f, f === files.aclFile ? 0o644 : 0o600);
	}
	// It opens them after dropping root, so it must be able to enter the folder too.
	chmodSync(dir, 0o755);
	return files;
}

function findMosquittoPasswd(): string | null {
	for (const candidate of ['/usr/bin/mosquitto_passwd', ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'mosquitto_passwd'))]) {
		try {
			accessSync(candidate, fsConstants.X_OK);
			return candidate;
		} catch {
			// next
		}
	}
	return null;
}
