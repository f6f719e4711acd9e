// The devnet manifest (`/devnet.json`): every endpoint and address a local devnet offers.
// The devnet writes it; the wallet and the kiosk fetch it and read it through `parseDevnetManifest`.
// Browser-safe: no Node APIs.

export const DEVNET_MANIFEST_VERSION = 1 as const;

export interface AppEndpoints {
	/** Plain HTTP on the devnet host, e.g. `http://127.0.0.1:5173/`. */
	url: string;
	/** HTTPS with the devnet's self-signed certificate, on a LAN address when there is one (for phones); null with `--no-https`. */
	httpsUrl: string | null;
}

export interface ContractAddresses {
	registry: string;
	reservations: string;
	sessions: string;
}

export interface DevnetChain {
	rpcUrl: string;
	chainId: number;
	/** Interval mining period, like a QBFT block period. */
	blockIntervalMs: number;
	contracts: ContractAddresses;
}

export type DevnetBrokerKind = 'aedes' | 'mosquitto';

export interface DevnetBroker {
	kind: DevnetBrokerKind;
	/** MQTT over WebSockets, for the apps. */
	wsUrl: string;
	/** MQTT over TCP, for Node tools. */
	tcpUrl: string;
	/** Protocol level clients must use: 4 (MQTT 3.1.1) on aedes, 5 on Mosquitto. */
	protocolVersion: 4 | 5;
	/**
	 * With `--secure-broker`: this app's own broker login (a station's for the kiosk, a driver's for
	 * the wallet; on the LAN one per phone). `grants`: the login reads a session's topics only after
	 * the wallet proved to the devnet (POST /devnet/broker/grant) that it holds the session's secret.
	 */
	login?: DevnetBrokerLogin;
}

export interface DevnetBrokerLogin {
	username: string;
	password: string;
	grants: boolean;
}

/** A real LND behind a devnet node (`lightning.backend: 'lnd'`), for Node tools that talk to it directly. */
export interface DevnetLndNode {
	/** LND's own REST listener, https with its self-signed certificate. */
	restUrl: string;
	/** LND's tls.cert (PEM): pin it, trust nothing else. */
	tlsCertPem: string;
	/** Path of the node's admin macaroon on the devnet machine (tests and tools; never handed to an app). */
	adminMacaroonPath: string;
}

export interface DevnetLightningNode {
	/** LND REST base URL of this node: the simnet's, or the devnet gateway to a real LND. */
	restUrl: string;
	/**
	 * The macaroon the node's app uses: with real LND, baked with only what that app needs. Empty when
	 * this device is not trusted with one (the devnet serves macaroons to a LAN device only for its own node).
	 */
	macaroonHex: string;
	/** Compressed secp256k1 node pubkey, hex (66 chars). */
	pubkey: string;
	/** Present when the node is a real LND. */
	lnd?: DevnetLndNode;
	/** Present with `--lnc`: Lightning Terminal fronts this node; a phone pairs through the mailbox. */
	lnc?: DevnetLncNode;
}

/** Lightning Node Connect to a devnet node (`npm start -- --lightning lnd --lnc`); loopback only, like macaroons. */
export interface DevnetLncNode {
	/** host:port of the LNC mailbox (aperture), the wallet's `serverHost`. */
	mailbox: string;
	/** A one-time pairing phrase made at start (litcli sessions add). */
	pairingPhrase: string;
	/** SHA-256 fingerprint of the mailbox's TLS certificate, to compare on a phone. */
	mailboxFingerprint256: string;
}

export type DevnetLightningBackend = 'simnet' | 'lnd';

export interface DevnetLightning {
	network: 'regtest';
	/** `simnet`: our simulator (zero install); `lnd`: real LND on regtest behind the devnet's gateway. */
	backend: DevnetLightningBackend;
	/** Base URL of the simnet, or of the gateway to the real nodes. */
	url: string;
	nodes: Record<string, DevnetLightningNode>;
}

export interface DevnetStation {
	stationId: string;
	name: string;
	/**
	 * The station's secp256k1 signing private key, hex (64 chars). Devnet only, and only to this machine:
	 * empty for any other device (a kiosk on the LAN makes its own key and is enrolled, see `enrolment`).
	 */
	signingKeyHex: string;
	/** Checksummed Ethereum address of that key, as registered on the ledger. */
	signerAddress: string;
	/** Name of the station's node in `lightning.nodes`. */
	lightningNode: string;
}

export interface DevnetManifest {
	version: typeof DEVNET_MANIFEST_VERSION;
	/** ISO 8601 time the devnet came up. */
	startedAt: string;
	wallet: AppEndpoints;
	kiosk: AppEndpoints;
	chain: DevnetChain;
	broker: DevnetBroker;
	lightning: DevnetLightning;
	stations: DevnetStation[];
	operator: { address: string };
	/** Served to a kiosk on the LAN: where its enrolment stands (the operator confirms a one-time code at the devnet). */
	enrolment?: DevnetEnrolment;
}

export type DevnetEnrolment =
	| { state: 'none' }
	| { state: 'pending'; code: string; expiresAt: string }
	| { state: 'enrolled'; stationId: string };

/** Thrown for a manifest that does not have the expected shape; `message` names the field. */
export class DevnetManifestError extends Error {
	constructor(message: string) {
		super(`invalid devnet manifest: ${message}`);
		this.name = 'DevnetManifestError';
	}
}

type Json = Record<string, unknown>;

function describe(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
	if (typeof value === 'object') return 'an object';
	return `${typeof value} ${String(value)}`;
}

function fail(path: string, expected: string, value: unknown): never {
	throw new DevnetManifestError(`${path} must be ${expected}, got ${describe(value)}`);
}

function object(value: unknown, path: string): Json {
	if (typeof value !== 'object' || value === null || Array.isArray(value))
		fail(path, 'an object', value);
	return value as Json;
}

function string(value: unknown, path: string): string {
	if (typeof value !== 'string' || value.length === 0) fail(path, 'a non-empty string', value);
	return value;
}

function url(value: unknown, path: string, protocols: readonly string[]): string {
	const text = string(value, path);
	let parsed: URL;
	try {
		parsed = new URL(text);
	} catch {
		fail(path, `a URL (${protocols.join(', ')})`, value);
	}
	if (!protocols.includes(parsed.protocol))
		fail(path, `a URL with scheme ${protocols.join(' or ')}`, value);
	return text;
}

function integer(value: unknown, path: string, min: number): number {
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
		fail(path, `an integer >= ${min}`, value);
	return value;
}

function hexOf(value: unknown, path: string, chars: number | null, what: string): string {
	const text = string(value, path);
	const ok =
		/^[0-9a-fA-F]+$/.test(text) && (chars === null ? text.length % 2 === 0 : text.length === chars);
	if (!ok) fail(path, what, value);
	return text;
}

function address(value: unknown, path: string): string {
	const text = string(value, path);
	if (!/^0x[0-9a-fA-F]{40}$/.test(text))
		fail(path, 'an Ethereum address (0x + 40 hex digits)', value);
	return text;
}

function oneOf<T extends string | number>(value: unknown, path: string, options: readonly T[]): T {
	if (!options.includes(value as T))
		fail(path, `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`, value);
	return value as T;
}

function app(value: unknown, path: string): AppEndpoints {
	const o = object(value, path);
	return {
		url: url(o.url, `${path}.url`, ['http:', 'https:']),
		httpsUrl: o.httpsUrl === null ? null : url(o.httpsUrl, `${path}.httpsUrl`, ['https:'])
	};
}

/**
 * Checks a parsed `/devnet.json` (or its text) and returns it typed. Throws `DevnetManifestError`
 * naming the first field that is missing or wrong. Unknown extra fields are dropped.
 */
export function parseDevnetManifest(input: unknown): DevnetManifest {
	let value = input;
	if (typeof input === 'string') {
		try {
			value = JSON.parse(input);
		} catch (err) {
			throw new DevnetManifestError(
				`not JSON (${err instanceof Error ? err.message : String(err)})`
			);
		}
	}
	const root = object(value, 'manifest');
	if (root.version !== DEVNET_MANIFEST_VERSION) {
		throw new DevnetManifestError(
			`version ${JSON.stringify(root.version) ?? 'missing'} is not supported (this app reads version ${DEVNET_MANIFEST_VERSION}) — restart the devnet or update the app`
		);
	}
	const startedAt = string(root.startedAt, 'startedAt');
	if (Number.isNaN(Date.parse(startedAt))) fail('startedAt', 'an ISO 8601 date', startedAt);

	const chainIn = object(root.chain, 'chain');
	const contractsIn = object(chainIn.contracts, 'chain.contracts');
	const chain: DevnetChain = {
		rpcUrl: url(chainIn.rpcUrl, 'chain.rpcUrl', ['http:', 'https:', 'ws:', 'wss:']),
		chainId: integer(chainIn.chainId, 'chain.chainId', 1),
		blockIntervalMs: integer(chainIn.blockIntervalMs, 'chain.blockIntervalMs', 0),
		contracts: {
			registry: address(contractsIn.registry, 'chain.contracts.registry'),
			reservations: address(contractsIn.reservations, 'chain.contracts.reservations'),
			sessions: address(contractsIn.sessions, 'chain.contracts.sessions')
		}
	};

	const brokerIn = object(root.broker, 'broker');
	const broker: DevnetBroker = {
		kind: oneOf(brokerIn.kind, 'broker.kind', ['aedes', 'mosquitto'] as const),
		wsUrl: url(brokerIn.wsUrl, 'broker.wsUrl', ['ws:', 'wss:']),
		tcpUrl: url(brokerIn.tcpUrl, 'broker.tcpUrl', ['mqtt:', 'mqtts:']),
		protocolVersion: oneOf(brokerIn.protocolVersion, 'broker.protocolVersion', [4, 5] as const)
	};
	if (brokerIn.login !== undefined) {
		const l = object(brokerIn.login, 'broker.login');
		if (typeof l.grants !== 'boolean') fail('broker.login.grants', 'true or false', l.grants);
		broker.login = {
			username: string(l.username, 'broker.login.username'),
			password: string(l.password, 'broker.login.password'),
			grants: l.grants
		};
	}

	const lightningIn = object(root.lightning, 'lightning');
	const nodesIn = object(lightningIn.nodes, 'lightning.nodes');
	// fromEntries defines own properties, so a node named "__proto__" cannot touch the prototype.
	const nodes: Record<string, DevnetLightningNode> = Object.fromEntries(
		Object.entries(nodesIn).map(([name, nodeValue]): [string, DevnetLightningNode] => {
			const p = `lightning.nodes.${name}`;
			const n = object(nodeValue, p);
			const node: DevnetLightningNode = {
				restUrl: url(n.restUrl, `${p}.restUrl`, ['http:', 'https:']),
				macaroonHex:
					n.macaroonHex === ''
						? ''
						: hexOf(
								n.macaroonHex,
								`${p}.macaroonHex`,
								null,
								'hex (an even number of hex digits), or empty'
							),
				pubkey: hexOf(n.pubkey, `${p}.pubkey`, 66, 'a compressed public key (66 hex digits)')
			};
			if (n.lnd !== undefined) {
				const l = object(n.lnd, `${p}.lnd`);
				const pem = string(l.tlsCertPem, `${p}.lnd.tlsCertPem`);
				if (!/^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+-----END CERTIFICATE-----\s*$/.test(pem))
					fail(`${p}.lnd.tlsCertPem`, 'a PEM certificate', pem);
				node.lnd = {
					restUrl: url(l.restUrl, `${p}.lnd.restUrl`, ['https:']),
					tlsCertPem: pem,
					adminMacaroonPath: string(l.adminMacaroonPath, `${p}.lnd.adminMacaroonPath`)
				};
			}
			if (n.lnc !== undefined) {
				const l = object(n.lnc, `${p}.lnc`);
				const mailbox = string(l.mailbox, `${p}.lnc.mailbox`);
				if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(mailbox))
					fail(`${p}.lnc.mailbox`, 'host:port', mailbox);
				const pairingPhrase = string(l.pairingPhrase, `${p}.lnc.pairingPhrase`);
				if (!/^[a-z]+( [a-z]+){9}$/.test(pairingPhrase))
					fail(`${p}.lnc.pairingPhrase`, 'ten lowercase words', '(a phrase)');
				node.lnc = {
					mailbox,
					pairingPhrase,
					mailboxFingerprint256: string(l.mailboxFingerprint256, `${p}.lnc.mailboxFingerprint256`)
				};
			}
			return [name, node];
		})
	);
	const lightning: DevnetLightning = {
		network: oneOf(lightningIn.network, 'lightning.network', ['regtest'] as const),
		// Manifests from before real LND have no backend: they are the simnet's.
		backend:
			lightningIn.backend === undefined
				? 'simnet'
				: oneOf(lightningIn.backend, 'lightning.backend', ['simnet', 'lnd'] as const),
		url: url(lightningIn.url, 'lightning.url', ['http:', 'https:']),
		nodes
	};

	if (!Array.isArray(root.stations)) fail('stations', 'an array', root.stations);
	const seen = new Set<string>();
	const stations = root.stations.map((stationValue: unknown, i): DevnetStation => {
		const p = `stations[${i}]`;
		const s = object(stationValue, p);
		const station: DevnetStation = {
			stationId: string(s.stationId, `${p}.stationId`),
			name: string(s.name, `${p}.name`),
			signingKeyHex:
				s.signingKeyHex === ''
					? ''
					: hexOf(
							s.signingKeyHex,
							`${p}.signingKeyHex`,
							64,
							'a private key (64 hex digits), or empty'
						),
			signerAddress: address(s.signerAddress, `${p}.signerAddress`),
			lightningNode: string(s.lightningNode, `${p}.lightningNode`)
		};
		if (seen.has(station.stationId))
			throw new DevnetManifestError(`${p}.stationId "${station.stationId}" appears twice`);
		seen.add(station.stationId);
		if (!Object.hasOwn(nodes, station.lightningNode)) {
			throw new DevnetManifestError(
				`${p}.lightningNode "${station.lightningNode}" is not one of lightning.nodes (${Object.keys(nodes).join(', ') || 'none'})`
			);
		}
		return station;
	});

	const operatorIn = object(root.operator, 'operator');
	let enrolment: DevnetEnrolment | undefined;
	if (root.enrolment !== undefined) {
		const e = object(root.enrolment, 'enrolment');
		const state = oneOf(e.state, 'enrolment.state', ['none', 'pending', 'enrolled'] as const);
		enrolment =
			state === 'pending'
				? {
						state,
						code: string(e.code, 'enrolment.code'),
						expiresAt: string(e.expiresAt, 'enrolment.expiresAt')
					}
				: state === 'enrolled'
					? { state, stationId: string(e.stationId, 'enrolment.stationId') }
					: { state };
	}
	return {
		...(enrolment ? { enrolment } : {}),
		version: DEVNET_MANIFEST_VERSION,
		startedAt,
		wallet: app(root.wallet, 'wallet'),
		kiosk: app(root.kiosk, 'kiosk'),
		chain,
		broker,
		lightning,
		stations,
		operator: { address: address(operatorIn.address, 'operator.address') }
	};
}
