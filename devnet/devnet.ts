// Brings the whole devnet up in this process: chain + contracts + station registration, Lightning
// simnet, MQTT broker, the two apps over HTTP/HTTPS, and the manifest that ties them together.
// `devnet/index.ts` is the CLI; Playwright's global setup can call `startDevnet` directly.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { computeAddress } from 'ethers';
import type { DevnetBrokerLogin, DevnetManifest, DevnetLightningNode } from '../src/lib/config';
import {
	reapOrphanMosquitto,
	startBroker,
	type BrokerControl,
	type BrokerKind,
	type BrokerSecurity
} from './broker';
import { newBrokerPassword } from './broker-access';
import { watchStationStatus } from './status-watch';
import { startChainProcess } from './chain-process';
import { createDeviceRegistry, DEVICES_FILE, type DeviceRegistry } from './devices';
import { deployAndRegister, registerStations, type LedgerContracts } from './ledger-setup';
import { startLightningSimnet } from './lightning';
import { startLndGateway } from './lnd/gateway';
import { startLncStack, type LncStack } from './lnd/lnc';
import { startLndRegtest, type LndRegtest } from './lnd/regtest';
import { writeManifest } from './manifest';
import { DEFAULT_PORTS, PORT_LABELS, ensurePortFree, type DevnetPorts } from './ports';
import { startStaticServers, type AppUrls } from './static';

export { DEFAULT_PORTS, PORT_LABELS, type DevnetPorts } from './ports';

export interface DevnetOptions {
	/** Bind address of everything but HTTPS. Default 127.0.0.1. */
	host?: string;
	/** Bind address of the HTTPS servers. Default 0.0.0.0, so phones on the LAN reach them. */
	httpsHost?: string;
	ports?: Partial<DevnetPorts>;
	broker?: BrokerKind;
	/** Chain block period. Default 1000 ms; 0 mines each transaction at once. */
	blockIntervalMs?: number;
	/** Default `.devnet` (relative to the working directory). */
	stateDir?: string;
	/** Forget the station key, the Lightning simnet's state and the manifest before starting. */
	fresh?: boolean;
	/** Mosquitto with TLS (wss://), per-station credentials and topic ACLs (see broker.ts). */
	secureBroker?: boolean;
	/** Serve HTTPS too. Default true. */
	https?: boolean;
	/** Folder with `wallet/` and `kiosk/` static builds. Default `build`. */
	buildDir?: string;
	/** `simnet` (default, zero install) or `lnd`: real LND on regtest (binaries from scripts/build-lnd.sh). */
	lightning?: 'simnet' | 'lnd';
	/** First of the ports real LND uses (btcd RPC, then p2p/gRPC/REST per node). Default the Lightning port + 100. */
	lndPortBase?: number;
	/** With `lightning: 'lnd'`: also the LNC mailbox (aperture) and Lightning Terminal in front of vehicle-1's LND, and a pairing phrase (scripts/build-lnc.sh). */
	lnc?: boolean;
	/** aperture on this port, litd on the next. Default the LND port base + 20. */
	lncPortBase?: number;
	/** Progress lines ("chain up at …"); default silent. */
	log?: (line: string) => void;
}

export interface RunningDevnet {
	manifest: DevnetManifest;
	/** Absolute path of the written devnet.json. */
	manifestFile: string;
	wallet: AppUrls;
	kiosk: AppUrls;
	/** SHA-256 fingerprint of the HTTPS certificate, or null without HTTPS. */
	tlsFingerprint: string | null;
	/** The real LND network, with `--lightning lnd` (null on the simnet). */
	lnd: LndRegtest | null;
	/** The LNC mailbox and litd, with `lnc` (null otherwise). */
	lnc: LncStack | null;
	/** Devices on the LAN: phones' car nodes, kiosks waiting for the operator's confirmation. */
	devices: DeviceRegistry;
	/**
	 * With --secure-broker: the logins this machine's apps get (the kiosk station-1's, the wallet the
	 * broad `driver` one) and the broker's logins and grants; null otherwise.
	 */
	secureBroker: {
		stationLogin: DevnetBrokerLogin;
		driverLogin: DevnetBrokerLogin;
		control: BrokerControl;
	} | null;
	/** Stops every component (in reverse start order); safe to call twice. */
	stop(): Promise<void>;
}

export const STATION_ID = 'station-1';
/** The node Lightning Terminal fronts with `--lnc`: the driver's. */
export const LNC_NODE = 'vehicle-1';
const STATION_NAME = 'Devnet station 1';
const STATION_KEYS_FILE = 'station-keys.json';
const LIGHTNING_STATE_FILE = 'lightning.json';
/** Files --fresh removes. The TLS certificate stays, so phones that accepted it keep working. */
const FRESH_REMOVES = [
	STATION_KEYS_FILE,
	LIGHTNING_STATE_FILE,
	DEVICES_FILE,
	'devnet.json',
	'mosquitto',
	'lnd',
	path.join('chain', 'journal.ndjson'),
	path.join('chain', 'genesis.json'),
	path.join('chain', 'contracts.json')
];
const CONTRACTS_FILE = path.join('chain', 'contracts.json');

/** What the devnet's Lightning side hands on, whichever backend runs it. */
interface StartedLightning {
	url: string;
	nodes: {
		name: string;
		restUrl: string;
		macaroonHex: string;
		pubkey: string;
		lnd?: DevnetLightningNode['lnd'];
	}[];
}

export const OPERATOR_FILE = path.join('chain', 'operator.json');
export const OPERATOR_KEY_FILE = path.join('chain', 'operator.key');

/**
 * The ledger operator's key: random per state dir, made on the first start and kept in
 * `<state-dir>/chain/operator.json` ({ address, privateKey }, mode 0600; the same key as hex in
 * `operator.key` for `npm run register-station -- --key-file`). Never one of Hardhat's well-known
 * accounts, whose keys anyone can look up, and never served: the manifest names its address only.
 */
export function loadOrCreateOperatorKey(stateDir: string): { address: string; privateKey: string } {
	const file = path.join(stateDir, OPERATOR_FILE);
	let privateKey: string | null = null;
	if (existsSync(file)) {
		let parsed: { privateKey?: unknown };
		try {
			parsed = JSON.parse(readFileSync(file, 'utf8')) as { privateKey?: unknown };
		} catch (err) {
			throw new Error(
				`${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}) — fix it or remove it for a new operator`
			);
		}
		const key = typeof parsed.privateKey === 'string' ? parsed.privateKey.replace(/^0x/, '') : '';
		if (!/^[0-9a-f]{64}$/.test(key) || !secp256k1.utils.isValidSecretKey(hexToBytes(key))) {
			throw new Error(
				`${file} holds no valid operator key — fix it or remove it for a new operator`
			);
		}
		privateKey = `0x${key}`;
	}
	privateKey ??= `0x${bytesToHex(secp256k1.utils.randomSecretKey())}`;
	const address = computeAddress(privateKey);
	mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
	writeFileSync(file, `${JSON.stringify({ address, privateKey }, null, '\t')}\n`, { mode: 0o600 });
	chmodSync(file, 0o600);
	const keyFile = path.join(stateDir, OPERATOR_KEY_FILE);
	writeFileSync(keyFile, `${privateKey}\n`, { mode: 0o600 });
	chmodSync(keyFile, 0o600);
	return { address, privateKey };
}

/**
 * The station's OCMF signing key, kept in the state dir so the station's identity survives restarts
 * (the chain is fresh on each start and gets it re-registered; the simnet's state is persisted).
 */
export function loadOrCreateStationKey(stateDir: string, stationId: string): string {
	const file = path.join(stateDir, STATION_KEYS_FILE);
	let keys: Record<string, string> = {};
	if (existsSync(file)) {
		try {
			keys = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
		} catch (err) {
			throw new Error(
				`${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}) — fix it or start with --fresh`
			);
		}
		const existing = keys[stationId];
		if (existing !== undefined) {
			if (
				typeof existing !== 'string' ||
				!/^[0-9a-f]{64}$/.test(existing) ||
				!secp256k1.utils.isValidSecretKey(hexToBytes(existing))
			) {
				throw new Error(
					`${file} holds no valid key for ${stationId} — fix it or start with --fresh`
				);
			}
			return existing;
		}
	}
	const key = bytesToHex(secp256k1.utils.randomSecretKey());
	keys[stationId] = key;
	mkdirSync(stateDir, { recursive: true });
	writeFileSync(file, `${JSON.stringify(keys, null, '\t')}\n`, { mode: 0o600 });
	return key;
}

function checkPortSet(ports: DevnetPorts, https: boolean): void {
	const used = new Map<number, keyof DevnetPorts>();
	for (const name of Object.keys(ports) as (keyof DevnetPorts)[]) {
		if (!https && (name === 'httpsWallet' || name === 'httpsKiosk')) continue;
		const port = ports[name];
		const other = used.get(port);
		if (other !== undefined) {
			throw new Error(
				`${PORT_LABELS[other].flag} and ${PORT_LABELS[name].flag} are both ${port} — give each its own port`
			);
		}
		used.set(port, name);
	}
}

export async function startDevnet(opts: DevnetOptions = {}): Promise<RunningDevnet> {
	const log = opts.log ?? (() => {});
	const host = opts.host ?? '127.0.0.1';
	const httpsHost = opts.httpsHost ?? '0.0.0.0';
	const ports: DevnetPorts = { ...DEFAULT_PORTS, ...opts.ports };
	const https = opts.https ?? true;
	const brokerKind = opts.broker ?? 'aedes';
	const blockIntervalMs = opts.blockIntervalMs ?? 1000;
	const stateDir = path.resolve(opts.stateDir ?? '.devnet');
	const buildDir = path.resolve(opts.buildDir ?? 'build');
	if (!Number.isInteger(blockIntervalMs) || blockIntervalMs < 0) {
		throw new Error(
			`--block-interval-ms must be a whole number of milliseconds >= 0 (got ${blockIntervalMs})`
		);
	}

	// A Mosquitto left running by a devnet killed with -9 holds its ports: stop it first (PID file).
	await reapOrphanMosquitto(path.join(stateDir, 'mosquitto'));
	// Every port first, so a taken one is named before anything starts.
	checkPortSet(ports, https);
	for (const name of Object.keys(ports) as (keyof DevnetPorts)[]) {
		const isHttps = name === 'httpsWallet' || name === 'httpsKiosk';
		if (isHttps && !https) continue;
		await ensurePortFree(
			ports[name],
			isHttps ? httpsHost : host,
			PORT_LABELS[name].what,
			PORT_LABELS[name].flag
		);
	}

	if (opts.fresh) {
		for (const entry of FRESH_REMOVES)
			rmSync(path.join(stateDir, entry), { recursive: true, force: true });
	}
	mkdirSync(stateDir, { recursive: true });

	// Stops run in reverse order; each is isolated so one failing stop does not leak the rest.
	const stops: { name: string; stop: () => Promise<void> }[] = [];
	let stopping: Promise<void> | null = null;
	const stopAll = () => {
		stopping ??= (async () => {
			for (const { name, stop } of stops.reverse()) {
				try {
					await stop();
				} catch (err) {
					log(`stopping the ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
				}
			}
		})();
		return stopping;
	};
	let manifest: DevnetManifest | null = null;
	let lndRegtest: LndRegtest | null = null;
	let lncStack: LncStack | null = null;
	if (opts.lnc && opts.lightning !== 'lnd')
		throw new Error(
			'--lnc needs --lightning lnd: Lightning Node Connect runs in front of a real LND'
		);

	try {
		const stationKeyHex = loadOrCreateStationKey(stateDir, STATION_ID);
		const signerAddress = computeAddress(
			`0x${bytesToHex(secp256k1.getPublicKey(hexToBytes(stationKeyHex), true))}`
		);

		// The chain is kept in <state-dir>/chain (a journal of its transactions, replayed on start).
		// …in a process of its own, so one call that exhausts it cannot take the rest down (and it comes back).
		const chain = await startChainProcess({
			host,
			port: ports.chain,
			blockIntervalMs,
			stateDir: path.join(stateDir, 'chain'),
			log
		}).catch((err: unknown) => {
			throw new Error(
				`the chain did not start: ${err instanceof Error ? err.message : String(err)}`
			);
		});
		stops.push({ name: 'chain', stop: () => chain.stop() });
		log(
			`chain        ${chain.rpcUrl} (chainId ${chain.chainId}, a block every ${blockIntervalMs} ms)`
		);

		let lightning: StartedLightning;
		if (opts.lightning === 'lnd') {
			const regtest = await startLndRegtest({
				dir: path.join(stateDir, 'lnd'),
				portBase: opts.lndPortBase ?? ports.lightning + 100,
				rpcMiddlewareNodes: opts.lnc ? [LNC_NODE] : [],
				log
			}).catch((err: unknown) => {
				throw new Error(
					`real LND did not start: ${err instanceof Error ? err.message : String(err)}`
				);
			});
			stops.push({ name: 'LND regtest', stop: () => regtest.stop() });
			const gateway = await startLndGateway({
				host,
				port: ports.lightning,
				nodes: () => regtest.nodes,
				restartNode: async (name) => {
					await regtest.stopNode(name);
					await regtest.startNode(name);
				},
				lnc: () => lncStack
			});
			stops.push({ name: 'Lightning gateway', stop: () => gateway.stop() });
			lightning = {
				url: gateway.url,
				nodes: regtest.nodes.map((n) => ({
					name: n.name,
					restUrl: `${gateway.url}/nodes/${n.name}`,
					macaroonHex: n.appMacaroonHex,
					pubkey: n.pubkey,
					lnd: {
						restUrl: n.restUrl,
						tlsCertPem: n.tlsCertPem,
						adminMacaroonPath: n.adminMacaroonPath
					}
				}))
			};
			lndRegtest = regtest;
		} else {
			lightning = await startLightningSimnet({
				host,
				port: ports.lightning,
				stateFile: path.join(stateDir, LIGHTNING_STATE_FILE)
			}).catch((err: unknown) => {
				throw new Error(
					`the Lightning simnet did not start: ${err instanceof Error ? err.message : String(err)}`
				);
			});
			const simnet = lightning as Awaited<ReturnType<typeof startLightningSimnet>>;
			stops.push({ name: 'Lightning simnet', stop: () => simnet.stop() });
		}
		const stationNode = lightning.nodes.find((n) => n.name === STATION_ID);
		if (!stationNode) {
			throw new Error(
				`the Lightning network has no node "${STATION_ID}" (it has ${lightning.nodes.map((n) => n.name).join(', ') || 'none'})`
			);
		}
		log(`lightning    ${lightning.url} (${lightning.nodes.map((n) => n.name).join(', ')})`);

		// Gas is free on the devnet chain: the operator needs no funds, only a key nobody else has.
		const operator = loadOrCreateOperatorKey(stateDir);
		const simnet =
			opts.lightning === 'lnd'
				? null
				: (lightning as Awaited<ReturnType<typeof startLightningSimnet>>);
		let deployed: LedgerContracts | null = null;
		const devices = createDeviceRegistry({
			stateDir,
			lightning: simnet && {
				addSpoke: (name) => simnet.addSpoke(name),
				bakeMacaroon: (name, ops) => simnet.bakeMacaroon(name, ops),
				pubkeyOf: (name) => simnet.network.node(name).pubkey
			},
			registerStation: async (station) => {
				if (!deployed) throw new Error('the ledger is not deployed yet');
				await registerStations({
					rpcUrl: chain.rpcUrl,
					chainId: chain.chainId,
					operatorKey: operator.privateKey,
					contracts: deployed,
					stations: [station]
				});
			},
			log
		});
		const stationsToRegister = [
			{
				stationId: STATION_ID,
				signerAddress,
				lightningPubkey: stationNode.pubkey,
				location: STATION_NAME
			},
			...devices.enrolledStations()
		];
		const kept = (chain.replayed ?? 0) > 0 ? await keptContracts(stateDir, chain.rpcUrl) : null;
		let contracts: LedgerContracts;
		if (kept) {
			// The chain came back from its journal: same contracts, stations and sessions; register only what is missing.
			contracts = kept;
			await registerStations({
				rpcUrl: chain.rpcUrl,
				chainId: chain.chainId,
				operatorKey: operator.privateKey,
				contracts,
				stations: stationsToRegister,
				skipRegistered: true
			}).catch((err: unknown) => {
				throw new Error(
					`registering the stations on the kept chain failed: ${err instanceof Error ? err.message : String(err)}`
				);
			});
			log(
				`chain        kept: ${chain.replayed} transactions replayed from ${path.join(stateDir, 'chain', 'journal.ndjson')}`
			);
		} else {
			contracts = await deployAndRegister({
				rpcUrl: chain.rpcUrl,
				chainId: chain.chainId,
				operatorKey: operator.privateKey,
				// Kiosks enrolled before are registered again on a new chain.
				stations: stationsToRegister
			}).catch((err: unknown) => {
				throw new Error(
					`deploying the contracts failed: ${err instanceof Error ? err.message : String(err)}`
				);
			});
			writeFileSync(
				path.join(stateDir, CONTRACTS_FILE),
				`${JSON.stringify(contracts, null, '\t')}\n`,
				{ mode: 0o600 }
			);
		}
		deployed = contracts;
		log(
			`contracts    registry ${contracts.registry}, ${STATION_ID} registered with signer ${signerAddress}`
		);

		const creds = opts.secureBroker ? brokerCredentials(stateDir) : null;
		const security = creds ? await brokerSecurity(stateDir, creds, devices, log) : undefined;
		let deniedLogged = 0;
		const broker = await startBroker({
			kind: security ? 'mosquitto' : brokerKind,
			host,
			tcpPort: ports.mqtt,
			wsPort: ports.ws,
			dir: path.join(stateDir, 'mosquitto'),
			security,
			// Every refusal is counted (control.deniedPublishes()); the console gets the first 20, then every 100th.
			onDenied: (d) => {
				deniedLogged++;
				if (deniedLogged <= 20 || deniedLogged % 100 === 0)
					log(
						`broker refused a publish by ${d.username ?? d.clientId} to ${d.topic} (${deniedLogged} refused so far)`
					);
			}
		});
		stops.push({ name: 'broker', stop: () => broker.stop() });
		log(`broker       ${broker.kind} ${broker.wsUrl} and ${broker.tcpUrl}`);
		let secureBroker: RunningDevnet['secureBroker'] = null;
		if (creds && broker.control) {
			const control = broker.control;
			const watch = await watchStationStatus(broker.tcpUrl, {
				username: OBSERVER_USER,
				password: creds.observer
			});
			stops.push({ name: 'status watch', stop: () => watch.close() });
			devices.useBroker({
				addLogin: (login) => control.addLogin(login),
				grant: (user, stationId, sessionId) => control.grant(user, stationId, sessionId),
				statusOf: (stationId) => watch.statusOf(stationId),
				holdersOf: (stationId, sessionId) => control.access.holdersOf(stationId, sessionId),
				deniedPublishes: () => control.deniedPublishes()
			});
			secureBroker = {
				stationLogin: {
					username: STATION_ID,
					password: creds.stations[STATION_ID]!,
					grants: false
				},
				driverLogin: { username: DRIVER_USER, password: creds.driver, grants: false },
				control
			};
		}

		const web = await startStaticServers({
			host,
			httpsHost,
			apps: {
				wallet: {
					dir: path.join(buildDir, 'wallet'),
					port: ports.wallet,
					httpsPort: https ? ports.httpsWallet : null
				},
				kiosk: {
					dir: path.join(buildDir, 'kiosk'),
					port: ports.kiosk,
					httpsPort: https ? ports.httpsKiosk : null
				}
			},
			tlsDir: path.join(stateDir, 'tls'),
			getManifest: () => manifest,
			devices,
			// This machine's apps log in as station-1 (kiosk) and the broad driver (wallet).
			loopbackBrokerLogin: (app) =>
				secureBroker
					? app === 'kiosk'
						? secureBroker.stationLogin
						: secureBroker.driverLogin
					: undefined
		});
		stops.push({ name: 'web servers', stop: () => web.stop() });

		const nodes: Record<string, DevnetLightningNode> = Object.fromEntries(
			lightning.nodes.map((n) => [
				n.name,
				{
					restUrl: n.restUrl,
					macaroonHex: n.macaroonHex,
					pubkey: n.pubkey,
					...(n.lnd ? { lnd: n.lnd } : {})
				}
			])
		);
		if (opts.lnc && lndRegtest) {
			const vehicle = lndRegtest.node(LNC_NODE);
			// The mailbox shows the devnet's own certificate, so a phone that accepted the wallet's accepts it too.
			const cert = path.join(stateDir, 'tls', 'cert.pem');
			const key = path.join(stateDir, 'tls', 'key.pem');
			const stack = await startLncStack({
				dir: path.join(stateDir, 'lnc'),
				portBase: opts.lncPortBase ?? (opts.lndPortBase ?? ports.lightning + 100) + 20,
				// Phones reach the mailbox like the apps' HTTPS: on the LAN, with the devnet's certificate.
				listenHost: https ? httpsHost : host,
				lnd: {
					name: LNC_NODE,
					rpcHost: vehicle.rpcHost,
					tlsCertPath: path.join(vehicle.lndDir, 'tls.cert'),
					adminMacaroonPath: vehicle.adminMacaroonPath,
					walletMacaroonHex: vehicle.appMacaroonHex
				},
				tls: https && existsSync(cert) && existsSync(key) ? { certFile: cert, keyFile: key } : null,
				log
			}).catch((err: unknown) => {
				throw new Error(
					`Lightning Node Connect did not start: ${err instanceof Error ? err.message : String(err)}`
				);
			});
			stops.push({ name: 'LNC mailbox and litd', stop: () => stack.stop() });
			lncStack = stack;
			const session = await stack.newSession('devnet-start');
			nodes[LNC_NODE] = {
				...nodes[LNC_NODE]!,
				lnc: {
					mailbox: stack.mailbox,
					pairingPhrase: session.pairingPhrase,
					mailboxFingerprint256: stack.mailboxFingerprint256
				}
			};
		}
		const complete: DevnetManifest = {
			version: 1,
			startedAt: new Date().toISOString(),
			wallet: { url: web.wallet.url, httpsUrl: web.wallet.httpsUrl },
			kiosk: { url: web.kiosk.url, httpsUrl: web.kiosk.httpsUrl },
			chain: { rpcUrl: chain.rpcUrl, chainId: chain.chainId, blockIntervalMs, contracts },
			broker: {
				kind: broker.kind,
				wsUrl: broker.wsUrl,
				tcpUrl: broker.tcpUrl,
				protocolVersion: broker.protocolVersion
			},
			lightning: {
				network: 'regtest',
				backend: opts.lightning ?? 'simnet',
				url: lightning.url,
				nodes
			},
			stations: [
				{
					stationId: STATION_ID,
					name: STATION_NAME,
					signingKeyHex: stationKeyHex,
					signerAddress,
					lightningNode: STATION_ID
				}
			],
			operator: { address: operator.address }
		};
		const manifestFile = writeManifest(stateDir, complete);
		manifest = complete;
		return {
			manifest: complete,
			manifestFile,
			wallet: web.wallet,
			kiosk: web.kiosk,
			tlsFingerprint: web.tlsFingerprint,
			lnd: lndRegtest,
			lnc: lncStack,
			devices,
			secureBroker,
			stop: stopAll
		};
	} catch (err) {
		await stopAll();
		throw err;
	}
}

/** The contracts of a chain replayed from its journal, when the state dir names them and they have code there. */
async function keptContracts(stateDir: string, rpcUrl: string): Promise<LedgerContracts | null> {
	const file = path.join(stateDir, CONTRACTS_FILE);
	if (!existsSync(file)) return null;
	const c = JSON.parse(readFileSync(file, 'utf8')) as LedgerContracts;
	const res = await fetch(rpcUrl, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({
			jsonrpc: '2.0',
			id: 1,
			method: 'eth_getCode',
			params: [c.registry, 'latest']
		})
	});
	const code = ((await res.json()) as { result?: string }).result ?? '0x';
	return code.length > 2 ? c : null;
}

const DRIVER_USER = 'driver';
const OBSERVER_USER = 'devnet-observer';

interface BrokerCredentials {
	stations: Record<string, string>;
	driver: string;
	observer: string;
}

/** --secure-broker: the passwords of station-1, this machine's wallet and the devnet's observer, kept (0600) in the state dir. */
function brokerCredentials(stateDir: string): BrokerCredentials {
	const file = path.join(stateDir, 'broker-credentials.json');
	let creds: Partial<BrokerCredentials> = {};
	if (existsSync(file)) {
		try {
			creds = JSON.parse(readFileSync(file, 'utf8')) as Partial<BrokerCredentials>;
		} catch (err) {
			throw new Error(
				`${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}) — fix it or remove it for new broker logins`
			);
		}
	}
	const ok = (p: unknown): p is string =>
		typeof p === 'string' && p.length >= 8 && !/[\n\r:]/.test(p);
	const full: BrokerCredentials = {
		stations: {
			...(typeof creds.stations === 'object' && creds.stations !== null ? creds.stations : {})
		},
		driver: ok(creds.driver) ? creds.driver : newBrokerPassword(),
		observer: ok(creds.observer) ? creds.observer : newBrokerPassword()
	};
	if (!ok(full.stations[STATION_ID])) full.stations[STATION_ID] = newBrokerPassword();
	writeFileSync(file, `${JSON.stringify(full, null, '\t')}\n`, { mode: 0o600 });
	chmodSync(file, 0o600);
	return full;
}

/** --secure-broker: the devnet's TLS certificate and every login: stations, this machine's wallet, each phone, the observer. */
async function brokerSecurity(
	stateDir: string,
	creds: BrokerCredentials,
	devices: DeviceRegistry,
	log: (line: string) => void
): Promise<BrokerSecurity> {
	const { loadOrCreateTls, lanIPv4Addresses } = await import('./static');
	const tls = await loadOrCreateTls(path.join(stateDir, 'tls'), lanIPv4Addresses());
	const lan = devices.brokerLogins();
	log(
		`broker logins in ${path.join(stateDir, 'broker-credentials.json')} (station user = station id; this machine's wallet user "${DRIVER_USER}"); ${lan.phones.length} phone and ${lan.stations.length} kiosk logins in ${DEVICES_FILE}`
	);
	return {
		tls,
		stations: [
			...Object.entries(creds.stations).map(([stationId, password]) => ({ stationId, password })),
			...lan.stations.filter((s) => !(s.stationId in creds.stations))
		],
		drivers: [{ username: DRIVER_USER, password: creds.driver }],
		phones: lan.phones,
		observer: { username: OBSERVER_USER, password: creds.observer }
	};
}
