// The networks this wallet trusts: where its trust anchors come from. A network is a ledger (chain
// id + StationRegistry, read through an RPC the wallet chose) plus the brokers the wallet may use
// for it. Three sources, in order: the list compiled into the build, the network described by the
// /devnet.json of the very origin that served the wallet's code (exactly as trusted as the code
// itself), and the networks the driver added in Settings. A session link or QR code never adds
// one: it only *selects* one of these by its short id. Browser-safe, no Node APIs.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, canonicalize, utf8Encode } from '../protocol';
import type { DevnetManifest } from './devnet-manifest';

/** How the wallet checks a station of this network before it pays it. */
export type IdentityPolicy =
	/** Only the registry vouches: a registry that cannot be read means "cannot be checked", never a pin. */
	| 'ledger'
	/** The driver marked this network as offline: keys are pinned the first time they are seen (shown as such). */
	| 'first-use';

export type NetworkSource = 'build' | 'origin' | 'user';

export interface TrustedNetwork {
	/** 8 hex digits: the first 4 bytes of the fingerprint. What a session link carries. */
	id: string;
	/** 16 hex digits (64 bits) of SHA-256 over {chainId, registry}: what a person compares. */
	fingerprint: string;
	name: string;
	chainId: number;
	/** StationRegistry address (checksummed or lower case). */
	registry: string;
	sessions: string;
	reservations: string;
	/** JSON-RPC of a node of this chain, from the wallet's own configuration. */
	rpcUrl: string;
	/** MQTT-over-WebSockets brokers the wallet may use for this network, in order of preference. */
	brokers: { url: string; protocolVersion?: 4 | 5 }[];
	identity: IdentityPolicy;
	source: NetworkSource;
}

/** What the driver enters in Settings (the id and fingerprint are computed). */
export type TrustedNetworkInput = Omit<TrustedNetwork, 'id' | 'fingerprint' | 'source'>;

export class TrustedNetworkError extends Error {}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * 64-bit fingerprint of a ledger: SHA-256 of the RFC 8785 JSON of `{chainId, registry}` (registry
 * in lower case). Brokers and the RPC are not part of it: they are transport, reached under other
 * URLs from other places (a phone on the LAN sees the devnet's gateways), and every message they
 * carry is checked against this ledger's registry anyway.
 */
export function networkFingerprint(chainId: number, registry: string): string {
	if (!Number.isSafeInteger(chainId) || chainId < 1)
		throw new TrustedNetworkError('chain id must be a positive integer');
	if (!ADDRESS.test(registry))
		throw new TrustedNetworkError('registry must be a contract address (0x and 40 hex digits)');
	return bytesToHex(
		sha256(utf8Encode(canonicalize({ chainId, registry: registry.toLowerCase() })))
	).slice(0, 16);
}

/** "1a2b 3c4d 5e6f 7a8b": the fingerprint as a person reads it aloud or compares it with a poster. */
export function formatFingerprint(fingerprint: string): string {
	return fingerprint.match(/.{1,4}/g)?.join(' ') ?? fingerprint;
}

function url(value: unknown, what: string, protocols: string[]): string {
	if (typeof value !== 'string' || value.length > 2048)
		throw new TrustedNetworkError(`${what} must be a URL`);
	let parsed: URL;
	try {
		parsed = new URL(value);
	} catch {
		throw new TrustedNetworkError(`${what} "${value}" is not a URL`);
	}
	if (!protocols.includes(parsed.protocol))
		throw new TrustedNetworkError(
			`${what} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`
		);
	return value;
}

function address(value: unknown, what: string): string {
	if (typeof value !== 'string' || !ADDRESS.test(value.trim()))
		throw new TrustedNetworkError(`${what} must be a contract address (0x and 40 hex digits)`);
	return value.trim();
}

/** Checks one network entry (from the build, storage or the settings form) and computes its id. */
export function trustedNetwork(input: unknown, source: NetworkSource): TrustedNetwork {
	const v = (input ?? {}) as Record<string, unknown>;
	const name =
		typeof v.name === 'string' && v.name.trim() ? v.name.trim().slice(0, 60) : 'Unnamed network';
	const chainId = typeof v.chainId === 'string' ? Number(v.chainId) : v.chainId;
	if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 1)
		throw new TrustedNetworkError('chain id must be a positive integer');
	const registry = address(v.registry, 'registry');
	const brokersIn = Array.isArray(v.brokers) ? v.brokers : [];
	if (brokersIn.length === 0 || brokersIn.length > 8)
		throw new TrustedNetworkError('list 1 to 8 brokers');
	const brokers = brokersIn.map((b, i) => {
		const o = (typeof b === 'string' ? { url: b } : (b ?? {})) as Record<string, unknown>;
		const protocolVersion: 4 | 5 | undefined =
			o.protocolVersion === 4 || o.protocolVersion === 5 ? o.protocolVersion : undefined;
		const broker: TrustedNetwork['brokers'][number] = {
			url: url(o.url, `broker ${i + 1}`, ['ws:', 'wss:'])
		};
		if (protocolVersion) broker.protocolVersion = protocolVersion;
		return broker;
	});
	const fingerprint = networkFingerprint(chainId, registry);
	return {
		id: fingerprint.slice(0, 8),
		fingerprint,
		name,
		chainId,
		registry,
		sessions: address(v.sessions, 'sessions contract'),
		reservations: address(v.reservations, 'reservations contract'),
		rpcUrl: url(v.rpcUrl, 'ledger RPC', ['http:', 'https:']),
		brokers,
		identity: v.identity === 'first-use' ? 'first-use' : 'ledger',
		source
	};
}

/** The network /devnet.json describes, as the origin that served the wallet sees it. */
export function networkFromManifest(m: DevnetManifest): TrustedNetwork {
	return trustedNetwork(
		{
			name: 'This devnet',
			chainId: m.chain.chainId,
			registry: m.chain.contracts.registry,
			sessions: m.chain.contracts.sessions,
			reservations: m.chain.contracts.reservations,
			rpcUrl: m.chain.rpcUrl,
			brokers: [{ url: m.broker.wsUrl, protocolVersion: m.broker.protocolVersion }],
			identity: 'ledger'
		},
		'origin'
	);
}

declare const __LIGHTCHARGE_TRUSTED_NETWORKS__: unknown;

/**
 * The networks compiled into this build (`LIGHTCHARGE_TRUSTED_NETWORKS`, a JSON file named at build
 * time; see docs/wallet.md). Empty in a plain devnet build. An entry that does not check out fails
 * the build's own test, not silently at a charger.
 */
export function builtInNetworks(): TrustedNetwork[] {
	const list =
		typeof __LIGHTCHARGE_TRUSTED_NETWORKS__ === 'undefined' ? [] : __LIGHTCHARGE_TRUSTED_NETWORKS__;
	return (Array.isArray(list) ? list : []).map((n) => trustedNetwork(n, 'build'));
}

/**
 * Every network the wallet trusts, without duplicates (the first source wins: build, then origin,
 * then the driver's). A driver's entry may mark a built-in or origin network as offline
 * (`first-use`): that is the only field it can change about it.
 */
export function combineNetworks(
	build: TrustedNetwork[],
	origin: TrustedNetwork | null,
	user: TrustedNetwork[]
): TrustedNetwork[] {
	const out: TrustedNetwork[] = [];
	for (const n of [...build, ...(origin ? [origin] : []), ...user]) {
		const same = out.find((o) => o.fingerprint === n.fingerprint);
		if (!same) out.push({ ...n, brokers: [...n.brokers] });
		else if (n.source === 'user' && n.identity === 'first-use') same.identity = 'first-use';
	}
	return out;
}

export function findNetwork(
	networks: readonly TrustedNetwork[],
	id: string
): TrustedNetwork | null {
	return networks.find((n) => n.id === id.toLowerCase()) ?? null;
}

/** An old-style link names its chain, registry and broker itself: all three must match one trusted network. */
export function matchLegacyLink(
	networks: readonly TrustedNetwork[],
	link: { chainId: number; registry: string; broker: string }
): TrustedNetwork | null {
	return (
		networks.find(
			(n) =>
				n.chainId === link.chainId &&
				n.registry.toLowerCase() === link.registry.toLowerCase() &&
				n.brokers.some((b) => b.url === link.broker)
		) ?? null
	);
}

/** The sentence every link to an unknown network gets, whatever it names. */
export const UNTRUSTED_NETWORK_MESSAGE = 'This code does not belong to a network you trust.';
