// The wallet's wiring to the outside world, from its own configuration: the driver's Lightning node
// (devnet simnet, LND REST or LNC), the networks it trusts (build, the devnet that served it, the
// driver's Settings), which a session link may only select, and the station identity check against
// the selected network's registry. Heavy libraries (ethers, lnc-web) load only when used.
import {
	loadDevnetManifest,
	builtInNetworks,
	combineNetworks,
	findNetwork,
	matchLegacyLink,
	networkFromManifest,
	trustedNetwork,
	UNTRUSTED_NETWORK_MESSAGE,
	type TrustedNetwork,
	type DevnetManifest
} from '$lib/config';
import { fiat } from '$lib/format';
import { lang } from '$lib/ui/lang.svelte';
import { LndRestNode, type LightningNode } from '$lib/lightning';
import {
	decodeLegacySessionLink,
	decodeSessionLink,
	type SessionLink,
	type StationStatus
} from '$lib/protocol';
import { pinOf, type IdentityVerdict } from '$lib/session';
import {
	getPin,
	loadSettings,
	openWalletDb,
	savePin,
	type LedgerRef,
	type WalletDb,
	type WalletSettings
} from '$lib/storage';

export interface WalletContext {
	db: WalletDb;
	settings: WalletSettings;
	/** The devnet's manifest when the wallet is served by one (null offline or in production). */
	manifest: DevnetManifest | null;
}

let dbPromise: Promise<WalletDb> | null = null;
export function walletDb(): Promise<WalletDb> {
	return (dbPromise ??= openWalletDb());
}

let manifestPromise: Promise<DevnetManifest | null> | null = null;
export function devnetManifest(): Promise<DevnetManifest | null> {
	return (manifestPromise ??= loadDevnetManifest().catch(() => {
		manifestPromise = null; // try again next time (e.g. back online)
		return null;
	}));
}

export async function walletContext(): Promise<WalletContext> {
	const db = await walletDb();
	const [settings, manifest] = await Promise.all([loadSettings(db), devnetManifest()]);
	return { db, settings, manifest };
}

export async function lightningNode(ctx: WalletContext): Promise<LightningNode> {
	const l = ctx.settings.lightning;
	if (l.kind === 'lnd-rest')
		return new LndRestNode({ restUrl: l.restUrl.replace(/\/$/, ''), macaroonHex: l.macaroonHex });
	if (l.kind === 'lnc') {
		// This browser session's stored LNC session; a new tab or browser start needs the password (Settings → Unlock).
		const { loginLnc, resolveWasmClientCode } = await import('$lib/lightning/lnc');
		const conn = await loginLnc(
			{ method: 'session' },
			{
				namespace: l.namespace,
				...(l.serverHost ? { serverHost: l.serverHost } : {}),
				wasmClientCode: await resolveWasmClientCode(),
				locks: navigator.locks ?? null
			}
		).catch((e: Error) => {
			throw new Error(
				`Your Lightning node (LNC) is locked: unlock it in Settings with your password. (${e.message})`
			);
		});
		return conn.node;
	}
	const m = ctx.manifest;
	if (!m)
		throw new Error(
			'The devnet cannot be reached (/devnet.json): you are offline, or this wallet is not served by a devnet. Choose a Lightning node in Settings.'
		);
	const node = m.lightning.nodes[l.node];
	if (!node) throw new Error(`The devnet has no Lightning node "${l.node}".`);
	return new LndRestNode({ restUrl: node.restUrl, macaroonHex: node.macaroonHex });
}

/**
 * Every network this wallet trusts: compiled into the build, described by the devnet that served
 * this very code (/devnet.json of our own origin), and added by the driver in Settings.
 */
export function trustedNetworks(ctx: WalletContext): TrustedNetwork[] {
	let origin: TrustedNetwork | null = null;
	try {
		origin = ctx.manifest ? networkFromManifest(ctx.manifest) : null;
	} catch {
		origin = null;
	}
	const user = ctx.settings.networks.flatMap((n) => {
		try {
			return [trustedNetwork(n, 'user')];
		} catch {
			return [];
		}
	});
	let built: TrustedNetwork[] = [];
	try {
		built = builtInNetworks();
	} catch {
		built = [];
	}
	return combineNetworks(built, origin, user);
}

/**
 * The devnet's broker login for this wallet (`--secure-broker`): only for the very broker the devnet
 * that served this page named, never handed to another. `grants`: ask for a session's topics first.
 */
export function brokerLoginFor(
	ctx: WalletContext,
	brokerUrl: string
): { username: string; password: string; grants: boolean } | undefined {
	const login = ctx.manifest?.broker.login;
	return login && ctx.manifest!.broker.wsUrl === brokerUrl ? login : undefined;
}

/** The network a page uses when no session link chose one (stations, reservations): the first trusted. */
export function defaultNetwork(ctx: WalletContext): TrustedNetwork | null {
	return trustedNetworks(ctx)[0] ?? null;
}

export type LinkTarget =
	| { ok: true; link: SessionLink; network: TrustedNetwork }
	| { ok: false; untrusted: boolean; message: string; detail: string | null };

/**
 * What a scanned or pasted link may do: select one of the wallet's own networks, nothing more. A
 * link to any other network, or an old-style link (it names its own broker, chain and registry and
 * carries no join secret), gets a sentence and no way to pay.
 */
export function resolveLink(ctx: WalletContext, fragment: string): LinkTarget {
	const networks = trustedNetworks(ctx);
	let link: SessionLink;
	try {
		link = decodeSessionLink(fragment);
	} catch (e) {
		let legacy;
		try {
			legacy = decodeLegacySessionLink(fragment);
		} catch {
			return { ok: false, untrusted: false, message: (e as Error).message, detail: null };
		}
		const named = `It names chain ${legacy.chainId}, registry ${legacy.registry} and broker ${legacy.broker}.`;
		if (!matchLegacyLink(networks, legacy))
			return { ok: false, untrusted: true, message: UNTRUSTED_NETWORK_MESSAGE, detail: named };
		return {
			ok: false,
			untrusted: false,
			message:
				'This station shows an old-style code, which cannot prove that the session is yours. Ask the operator to update its kiosk.',
			detail: named
		};
	}
	const network = findNetwork(networks, link.network);
	if (!network)
		return {
			ok: false,
			untrusted: true,
			message: UNTRUSTED_NETWORK_MESSAGE,
			detail: `It names network ${link.network}, which is not in your list (Settings → Trusted networks).`
		};
	return { ok: true, link, network };
}

/** Where a network's sessions are anchored, for the receipt. */
export function ledgerOf(n: TrustedNetwork): LedgerRef & { reservations: string } {
	return {
		chainId: n.chainId,
		rpcUrl: n.rpcUrl,
		registry: n.registry,
		sessions: n.sessions,
		reservations: n.reservations
	};
}

export async function connectWalletLedger(
	ref: LedgerRef & { reservations: string },
	signerKey?: string
) {
	const { connectLedger } = await import('$lib/ledger/client');
	return connectLedger({
		rpcUrl: ref.rpcUrl,
		expectedChainId: ref.chainId,
		addresses: ref,
		signerKey,
		connectTimeoutMs: 4000
	});
}

/**
 * Checks the station's signed status against the network's registry. A network the driver marked
 * as offline (`first-use`) falls back, when its registry cannot be read, to the keys this wallet
 * pinned the first time it saw the station on that network; every other network fails closed.
 * A definite "not registered" or "wrong key" from the registry is final on either.
 */
export async function checkIdentity(
	db: WalletDb,
	network: TrustedNetwork,
	status: StationStatus
): Promise<IdentityVerdict> {
	const pin = await getPin(db, network.fingerprint, status.stationId);
	const keys = {
		signingKey: status.signingKey,
		signerAddress: status.signerAddress,
		lightningPubkey: status.lightningPubkey
	};
	let verdict: IdentityVerdict | null = null;
	if (navigator.onLine) {
		const { checkStationIdentity } = await import('$lib/session/registry-identity');
		verdict = await checkStationIdentity({
			rpcUrl: network.rpcUrl,
			chainId: network.chainId,
			registry: network.registry,
			status
		});
		if (verdict.ok && network.identity === 'first-use')
			await savePin(db, {
				network: network.fingerprint,
				stationId: status.stationId,
				...keys,
				firstSeen: pin?.firstSeen ?? Date.now(),
				confirmedOnLedger: true
			});
		if (verdict.ok || verdict.reason !== 'cannot_check' || network.identity === 'ledger')
			return verdict;
	}
	if (network.identity === 'ledger')
		return {
			ok: false,
			reason: 'cannot_check',
			message:
				'You are offline: the station cannot be checked on the ledger. Do not pay it until it can.'
		};
	const samePin =
		pin &&
		pin.signingKey === keys.signingKey &&
		pin.lightningPubkey.toLowerCase() === keys.lightningPubkey.toLowerCase();
	if (pin && !samePin)
		return {
			ok: false,
			reason: 'changed',
			message: `Station ${status.stationId} now shows different keys than when this wallet first saw it, and the ledger cannot be reached to check them. Do not pay it.`
		};
	if (pin)
		return {
			ok: true,
			source: 'pinned',
			detail: `keys pinned ${new Date(pin.firstSeen).toLocaleDateString()}${pin.confirmedOnLedger ? ', confirmed on the ledger then' : ''}`,
			pin: pinOf(status, pin.lightningPubkey, false)
		};
	await savePin(db, {
		network: network.fingerprint,
		stationId: status.stationId,
		...keys,
		firstSeen: Date.now(),
		confirmedOnLedger: false
	});
	return {
		ok: true,
		source: 'pinned',
		detail:
			'first sight on a network you marked as offline: keys pinned now, not checked on the ledger',
		pin: pinOf(status, status.lightningPubkey, false)
	};
}

/** Fiat text for an msat amount at the driver's manual rate, or '' (the one formatter: $lib/format, in the screen's language). */
export function fiatText(settings: WalletSettings, msat: bigint): string {
	return fiat(msat, settings.fiat, lang.locale);
}
