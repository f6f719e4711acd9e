// Devices on the LAN, each known by a random cookie and trusted with no more than its own part:
// a phone gets its own car node on the Lightning simnet (made on its first visit, with a channel to
// the hub) and a macaroon that can pay and read on that node only; a kiosk tablet keeps the station
// key it made itself and is registered on the ledger only after the operator, at the devnet's own
// terminal, confirms the one-time code it shows. Nothing else secret is handed to a non-loopback
// client: no station key, no hub or station macaroon, nothing of the operator's. Node only.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { getAddress } from 'ethers';
import type { DevnetManifest } from './manifest';
import { hasValidMac, isValidId } from '../src/lib/protocol';
import {
	MAX_GRANTS_PER_LOGIN,
	newBrokerPassword,
	type BrokerLogin,
	type SessionGrant
} from './broker-access';
import { clientAddress, isLoopbackHostname } from './guard';
import { PAYER_OPS, STATION_OPS, type MacaroonOp } from './simnet/macaroon';

export const DEVICE_COOKIE = 'lightcharge-device';
export const DEVICES_FILE = 'devices.json';
/** The manifest entry a phone's own car node is listed under (the wallet's default node). */
export const PHONE_NODE_ENTRY = 'vehicle-1';

export interface DeviceLightning {
	/** Creates a spoke node with a funded channel to the hub; returns its pubkey. */
	addSpoke(name: string): { pubkey: string };
	bakeMacaroon(name: string, ops: readonly MacaroonOp[]): string;
	pubkeyOf(name: string): string;
}

/** What the registry needs of a secured broker (--secure-broker): every change is in force when it resolves. */
export interface DeviceBroker {
	addLogin(login: BrokerLogin): Promise<void>;
	grant(username: string, stationId: string, sessionId: string): Promise<boolean>;
	/** The station's retained status as the broker holds it now (parsed JSON), or null. */
	statusOf(stationId: string): Record<string, unknown> | null;
	/** Phone logins that hold a grant for this session. */
	holdersOf(stationId: string, sessionId: string): string[];
	/** Publishes the broker refused by its ACL so far. */
	deniedPublishes(): number;
}

/** At most this many phones are granted one session (its driver, and a companion or a reload from a second browser). */
export const MAX_PHONES_PER_SESSION = 3;

export interface DeviceRegistryOptions {
	stateDir: string;
	/** The simnet, or null (real LND): then LAN devices get no node of their own and are told so. */
	lightning: DeviceLightning | null;
	/** Registers a station on the ledger with the operator's key. */
	registerStation(station: {
		stationId: string;
		signerAddress: string;
		lightningPubkey: string;
		location: string;
	}): Promise<void>;
	/** Most phones with a car node of their own (default 50). */
	maxPhones?: number;
	/** Most car nodes made for one client address while the devnet runs (default 4), so one visitor cannot use up the rest. */
	maxPhonesPerAddress?: number;
	/** Most enrolled kiosks (default 8) and open enrolment requests (default 16). */
	maxKiosks?: number;
	maxPending?: number;
	/** How long a one-time code stays valid (default 10 min). */
	codeTtlMs?: number;
	log?: (line: string) => void;
}

interface PhoneRecord {
	node: string;
	macaroonHex: string;
	/** Its own broker login (--secure-broker), made on its first visit, with the sessions it was granted. */
	broker?: { username: string; password: string; grants: SessionGrant[] };
}
interface KioskRecord {
	stationId: string;
	name: string;
	signerAddress: string;
	node: string;
	macaroonHex: string;
	/** Its station's broker password (--secure-broker); the user name is the station id. */
	brokerPassword?: string;
}
interface DeviceFile {
	version: 1;
	/** Keyed by the SHA-256 of the device's cookie: the file never holds a usable cookie. */
	devices: Record<string, { phone?: PhoneRecord; kiosk?: KioskRecord }>;
}
interface Pending {
	device: string;
	address: string;
	code: string;
	signerAddress: string;
	name: string;
	expiresAt: number;
}

export type Enrolment =
	| { state: 'none' }
	| { state: 'pending'; code: string; expiresAt: string }
	| { state: 'enrolled'; stationId: string };

/** A refusal with the sentence to show and the HTTP status to send. */
export class DeviceError extends Error {
	constructor(
		readonly status: number,
		message: string
	) {
		super(message);
	}
}

/** True for a request whose TCP peer is this machine's loopback (a LAN client cannot fake that). */
export function fromLoopback(req: http.IncomingMessage): boolean {
	return isLoopbackHostname(clientAddress(req.socket));
}

/** Crockford-style alphabet without look-alikes (no 0/O, 1/I/L, U). */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
function oneTimeCode(): string {
	let code = '';
	for (let i = 0; i < 8; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
	return `${code.slice(0, 4)}-${code.slice(4)}`;
}
/** What the operator typed, as a code: case, spaces and the dash do not matter. */
export function normaliseCode(typed: string): string {
	const bare = typed.toUpperCase().replace(/[\s-]/g, '');
	return bare.length === 8 ? `${bare.slice(0, 4)}-${bare.slice(4)}` : bare;
}

const hashId = (id: string) => createHash('sha256').update(id).digest('hex');

function parseCookies(header: string | undefined): Map<string, string> {
	const out = new Map<string, string>();
	for (const part of (header ?? '').split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
	}
	return out;
}

/** The manifest without secrets: no station key, no macaroon, nothing of real LND's files. */
export function publicManifest(m: DevnetManifest): DevnetManifest {
	const { login: _login, ...broker } = m.broker;
	return {
		...m,
		broker,
		lightning: {
			...m.lightning,
			nodes: Object.fromEntries(
				Object.entries(m.lightning.nodes).map(([name, n]) => [
					name,
					{ restUrl: n.restUrl, pubkey: n.pubkey, macaroonHex: '' }
				])
			)
		},
		stations: m.stations.map((s) => ({ ...s, signingKeyHex: '' }))
	};
}

export interface DeviceRegistry {
	/** This request's device (hash of its cookie), and a Set-Cookie header when it had none. */
	identify(req: http.IncomingMessage): { device: string; setCookie: string | null };
	/** The manifest a non-loopback device may see: secrets stripped, plus what is its own (its broker login in force). */
	manifestFor(
		device: string,
		app: 'wallet' | 'kiosk',
		rewritten: DevnetManifest,
		address?: string
	): Promise<DevnetManifest>;
	/**
	 * A phone proves it holds a session's join secret by the session's station MAC key (derived from
	 * it, protocol/authentication.ts): the devnet checks that key against the tag on the station's own
	 * retained status for that session, and grants the phone's broker login the session's topics.
	 */
	grantSession(
		device: string,
		body: unknown,
		address?: string
	): Promise<{ stationId: string; sessionId: string; username: string }>;
	/** Logins of phones and enrolled kiosks (made where missing), for the secured broker's start. */
	brokerLogins(): {
		phones: { username: string; password: string; grants: SessionGrant[] }[];
		stations: { stationId: string; password: string }[];
	};
	/** The secured broker, once it runs (null: no --secure-broker). */
	useBroker(broker: DeviceBroker | null): void;
	enrolment(device: string): Enrolment;
	/** A kiosk asks to be enrolled with the signer address of the key it made; returns its code. */
	requestEnrolment(device: string, body: unknown, address?: string): Enrolment;
	/** The operator confirmed `code` (at the terminal or the loopback page): register the kiosk. */
	confirm(code: string): Promise<{ stationId: string; signerAddress: string }>;
	/** Open enrolment requests (for the operator's page and console). */
	pending(): { code: string; name: string; signerAddress: string; expiresAt: string }[];
	/** Enrolled kiosks, to register again on a fresh chain at start. */
	enrolledStations(): {
		stationId: string;
		signerAddress: string;
		lightningPubkey: string;
		location: string;
	}[];
	counts(): {
		phones: number;
		kiosks: number;
		pending: number;
		grants: number;
		grantsRefused: number;
		brokerDeniedPublishes: number;
	};
}

export function createDeviceRegistry(opts: DeviceRegistryOptions): DeviceRegistry {
	const maxPhones = opts.maxPhones ?? 50;
	const maxPhonesPerAddress = opts.maxPhonesPerAddress ?? 4;
	const madeFor = new Map<string, number>();
	const maxKiosks = opts.maxKiosks ?? 8;
	const maxPending = opts.maxPending ?? 16;
	const codeTtlMs = opts.codeTtlMs ?? 10 * 60_000;
	const file = path.join(opts.stateDir, DEVICES_FILE);
	let data: DeviceFile = { version: 1, devices: {} };
	if (existsSync(file)) {
		try {
			const parsed = JSON.parse(readFileSync(file, 'utf8')) as DeviceFile;
			if (parsed.version !== 1 || typeof parsed.devices !== 'object' || parsed.devices === null)
				throw new Error('unknown format');
			data = {
				version: 1,
				devices: Object.assign(Object.create(null) as DeviceFile['devices'], parsed.devices)
			};
		} catch (err) {
			throw new Error(
				`${file} is not a devnet device list (${err instanceof Error ? err.message : String(err)}) — fix it or start with --fresh`
			);
		}
	} else {
		data.devices = Object.create(null) as DeviceFile['devices'];
	}
	const save = () => {
		mkdirSync(opts.stateDir, { recursive: true });
		const tmp = `${file}.${process.pid}.tmp`;
		writeFileSync(tmp, `${JSON.stringify(data, null, '\t')}\n`, { mode: 0o600 });
		renameSync(tmp, file);
		chmodSync(file, 0o600);
	};
	const pending = new Map<string, Pending>();
	const dropExpired = () => {
		const now = Date.now();
		for (const [code, p] of pending) if (p.expiresAt <= now) pending.delete(code);
	};
	const phones = () => Object.values(data.devices).filter((d) => d.phone).length;
	const kiosks = () => Object.values(data.devices).filter((d) => d.kiosk).length;
	const record = (device: string) => (data.devices[device] ??= {});
	let broker: DeviceBroker | null = null;
	let grants = 0;
	let grantsRefused = 0;
	/** The phone's own broker login, made (and in force at the broker) on first need. */
	const phoneLogin = async (phone: PhoneRecord) => {
		if (!broker) return null;
		if (!phone.broker) {
			phone.broker = {
				username: `driver-${randomBytes(4).toString('hex')}`,
				password: newBrokerPassword(),
				grants: []
			};
			save();
		}
		await broker.addLogin({
			username: phone.broker.username,
			password: phone.broker.password,
			role: 'phone'
		});
		return phone.broker;
	};
	const stationPassword = (kiosk: KioskRecord) => {
		if (!kiosk.brokerPassword) {
			kiosk.brokerPassword = newBrokerPassword();
			save();
		}
		return kiosk.brokerPassword;
	};

	const phoneOf = (device: string, address: string): PhoneRecord => {
		const existing = data.devices[device]?.phone;
		if (existing) return existing;
		if (!opts.lightning) {
			throw new DeviceError(
				503,
				'This devnet runs real LND, which has no car node per phone: use the wallet on this machine, or start the devnet with the simnet.'
			);
		}
		if (phones() >= maxPhones) {
			throw new DeviceError(
				503,
				`This devnet already has a car node for each of ${maxPhones} phones, its limit; ask the operator to restart it with --fresh for new visitors.`
			);
		}
		const made = madeFor.get(address) ?? 0;
		if (made >= maxPhonesPerAddress) {
			throw new DeviceError(
				429,
				`This address already got ${maxPhonesPerAddress} car nodes; a phone keeps its own as long as it keeps this site's cookie.`
			);
		}
		madeFor.set(address, made + 1);
		const node = `phone-${randomBytes(4).toString('hex')}`;
		opts.lightning.addSpoke(node);
		const phone = { node, macaroonHex: opts.lightning.bakeMacaroon(node, PAYER_OPS) };
		record(device).phone = phone;
		save();
		opts.log?.(`a phone on the LAN got its own car node ${node}`);
		return phone;
	};

	const nodeUrl = (m: DevnetManifest, node: string) =>
		`${m.lightning.url.replace(/\/$/, '')}/nodes/${encodeURIComponent(node)}`;

	const enrolment = (device: string): Enrolment => {
		dropExpired();
		const kiosk = data.devices[device]?.kiosk;
		if (kiosk) return { state: 'enrolled', stationId: kiosk.stationId };
		for (const p of pending.values())
			if (p.device === device)
				return { state: 'pending', code: p.code, expiresAt: new Date(p.expiresAt).toISOString() };
		return { state: 'none' };
	};

	return {
		identify(req) {
			const raw = parseCookies(req.headers.cookie).get(DEVICE_COOKIE);
			if (raw !== undefined && /^[A-Za-z0-9_-]{43}$/.test(raw))
				return { device: hashId(raw), setCookie: null };
			const id = randomBytes(32).toString('base64url');
			const secure =
				'encrypted' in req.socket && (req.socket as { encrypted?: boolean }).encrypted === true;
			return {
				device: hashId(id),
				setCookie: `${DEVICE_COOKIE}=${id}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
			};
		},
		async manifestFor(device, app, rewritten, address = '') {
			const out = publicManifest(rewritten);
			if (app === 'wallet') {
				const phone = phoneOf(device, address);
				out.lightning.nodes[PHONE_NODE_ENTRY] = {
					restUrl: nodeUrl(rewritten, phone.node),
					macaroonHex: phone.macaroonHex,
					pubkey: opts.lightning!.pubkeyOf(phone.node)
				};
				const login = await phoneLogin(phone);
				if (login)
					out.broker.login = { username: login.username, password: login.password, grants: true };
				return out;
			}
			const state = enrolment(device);
			out.enrolment = state;
			const kiosk = data.devices[device]?.kiosk;
			if (kiosk && opts.lightning) {
				out.lightning.nodes[kiosk.node] = {
					restUrl: nodeUrl(rewritten, kiosk.node),
					macaroonHex: kiosk.macaroonHex,
					pubkey: opts.lightning.pubkeyOf(kiosk.node)
				};
				// Its own station first: the kiosk runs stations[0]. Its key it has itself.
				out.stations = [
					{
						stationId: kiosk.stationId,
						name: kiosk.name,
						signingKeyHex: '',
						signerAddress: kiosk.signerAddress,
						lightningNode: kiosk.node
					},
					...out.stations
				];
				if (broker) {
					const password = stationPassword(kiosk);
					await broker.addLogin({ username: kiosk.stationId, password, role: 'station' });
					out.broker.login = { username: kiosk.stationId, password, grants: false };
				}
			}
			return out;
		},
		async grantSession(device, body, address = '') {
			const refuse = (status: number, sentence: string): never => {
				grantsRefused++;
				opts.log?.(`refused a broker grant to ${address || 'a device'}: ${sentence}`);
				throw new DeviceError(status, sentence);
			};
			if (!broker)
				throw new DeviceError(
					404,
					'This devnet runs its broker without logins (no --secure-broker): there is nothing to grant.'
				);
			const b = (typeof body === 'object' && body !== null ? body : {}) as {
				stationId?: unknown;
				sessionId?: unknown;
				stationMac?: unknown;
			};
			if (!isValidId(b.stationId) || !isValidId(b.sessionId))
				return refuse(
					400,
					'stationId and sessionId must be 1 to 64 letters, digits, ".", "_" or "-".'
				);
			if (typeof b.stationMac !== 'string' || !/^[0-9a-f]{64}$/.test(b.stationMac))
				return refuse(
					400,
					'stationMac must be the session’s station MAC key: 64 lower-case hex digits.'
				);
			const phone = data.devices[device]?.phone;
			if (!phone?.broker)
				return refuse(
					403,
					'This device has no broker login yet: open the wallet here first (it is made with the phone’s car node).'
				);
			const { stationId, sessionId } = b;
			const status = broker.statusOf(stationId);
			if (!status)
				return refuse(
					404,
					`Station ${stationId} has published no status on this devnet’s broker: is its kiosk running?`
				);
			if (status.sessionId !== sessionId)
				return refuse(
					409,
					`Station ${stationId} is not offering or running session ${sessionId} now; scan the code its screen shows now.`
				);
			if (!hasValidMac(status, Buffer.from(b.stationMac, 'hex')))
				return refuse(
					403,
					`That is not the key of session ${sessionId}: only the code on the station’s screen gives it. Scan it again.`
				);
			const holders = broker.holdersOf(stationId, sessionId);
			if (!holders.includes(phone.broker.username) && holders.length >= MAX_PHONES_PER_SESSION) {
				return refuse(
					429,
					`${MAX_PHONES_PER_SESSION} phones already follow session ${sessionId}; one of them is its driver.`
				);
			}
			await phoneLogin(phone);
			if (await broker.grant(phone.broker.username, stationId, sessionId)) {
				grants++;
				phone.broker.grants = [
					...phone.broker.grants.filter(
						(g) => g.stationId !== stationId || g.sessionId !== sessionId
					),
					{ stationId, sessionId }
				].slice(-MAX_GRANTS_PER_LOGIN);
				save();
				opts.log?.(
					`broker login ${phone.broker.username} (a phone at ${address || 'this machine'}) may now read and write session ${stationId}/${sessionId}`
				);
			}
			return { stationId, sessionId, username: phone.broker.username };
		},
		brokerLogins() {
			const phones: { username: string; password: string; grants: SessionGrant[] }[] = [];
			const stations: { stationId: string; password: string }[] = [];
			for (const d of Object.values(data.devices)) {
				if (d.phone?.broker) phones.push({ ...d.phone.broker, grants: [...d.phone.broker.grants] });
				if (d.kiosk)
					stations.push({ stationId: d.kiosk.stationId, password: stationPassword(d.kiosk) });
			}
			return { phones, stations };
		},
		useBroker(b) {
			broker = b;
		},
		enrolment,
		requestEnrolment(device, body, address = '') {
			const b = (typeof body === 'object' && body !== null ? body : {}) as {
				signerAddress?: unknown;
				name?: unknown;
			};
			let signerAddress: string;
			try {
				signerAddress = getAddress(String(b.signerAddress ?? ''));
			} catch {
				throw new DeviceError(
					400,
					'signerAddress must be the Ethereum address (0x + 40 hex digits) of the station key this kiosk made.'
				);
			}
			const name =
				typeof b.name === 'string' && b.name.trim() !== ''
					? b.name.trim().slice(0, 64)
					: 'Kiosk on the LAN';
			if (/[\u0000-\u001f\u007f]/.test(name))
				throw new DeviceError(400, 'The station name may not contain control characters.');
			const now = enrolment(device);
			if (now.state === 'enrolled')
				throw new DeviceError(409, `This kiosk is already enrolled as ${now.stationId}.`);
			if (now.state === 'pending') pending.delete(now.code);
			if (!opts.lightning)
				throw new DeviceError(
					503,
					'This devnet runs real LND, which has no node per kiosk: enrol kiosks on the simnet.'
				);
			if (kiosks() >= maxKiosks)
				throw new DeviceError(
					503,
					`This devnet already has ${maxKiosks} enrolled kiosks, its limit.`
				);
			if ([...pending.values()].filter((p) => p.address === address).length >= 2) {
				throw new DeviceError(
					429,
					'Two kiosks at this address are already waiting for the operator; enrol those first.'
				);
			}
			if (pending.size >= maxPending)
				throw new DeviceError(
					503,
					`${maxPending} kiosks are already waiting for the operator; try again in a few minutes.`
				);
			let code = oneTimeCode();
			while (pending.has(code)) code = oneTimeCode();
			const expiresAt = Date.now() + codeTtlMs;
			pending.set(code, { device, address, code, signerAddress, name, expiresAt });
			opts.log?.(
				`a kiosk on the LAN asks to be enrolled ("${name}", signer ${signerAddress}): if its screen shows ${code}, type "enrol ${code}" here`
			);
			return { state: 'pending', code, expiresAt: new Date(expiresAt).toISOString() };
		},
		async confirm(typed) {
			dropExpired();
			const code = normaliseCode(typed);
			const p = pending.get(code);
			if (!p)
				throw new DeviceError(
					404,
					`No kiosk is waiting with the code ${code || '(empty)'}; codes are valid for ${Math.round(codeTtlMs / 60_000)} minutes.`
				);
			if (!opts.lightning)
				throw new DeviceError(503, 'This devnet runs real LND, which has no node per kiosk.');
			if (kiosks() >= maxKiosks)
				throw new DeviceError(
					503,
					`This devnet already has ${maxKiosks} enrolled kiosks, its limit.`
				);
			pending.delete(code);
			const stationId = `kiosk-${randomBytes(3).toString('hex')}`;
			const { pubkey } = opts.lightning.addSpoke(stationId);
			await opts.registerStation({
				stationId,
				signerAddress: p.signerAddress,
				lightningPubkey: pubkey,
				location: p.name
			});
			record(p.device).kiosk = {
				stationId,
				name: p.name,
				signerAddress: p.signerAddress,
				node: stationId,
				macaroonHex: opts.lightning.bakeMacaroon(stationId, STATION_OPS)
			};
			save();
			opts.log?.(
				`kiosk "${p.name}" enrolled as ${stationId} (signer ${p.signerAddress}), registered on the ledger`
			);
			return { stationId, signerAddress: p.signerAddress };
		},
		pending() {
			dropExpired();
			return [...pending.values()].map((p) => ({
				code: p.code,
				name: p.name,
				signerAddress: p.signerAddress,
				expiresAt: new Date(p.expiresAt).toISOString()
			}));
		},
		enrolledStations() {
			return Object.values(data.devices)
				.filter((d) => d.kiosk)
				.map((d) => ({
					stationId: d.kiosk!.stationId,
					signerAddress: d.kiosk!.signerAddress,
					lightningPubkey: opts.lightning?.pubkeyOf(d.kiosk!.node) ?? '',
					location: d.kiosk!.name
				}));
		},
		counts: () => ({
			phones: phones(),
			kiosks: kiosks(),
			pending: pending.size,
			grants,
			grantsRefused,
			brokerDeniedPublishes: broker?.deniedPublishes() ?? 0
		})
	};
}
