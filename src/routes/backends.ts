// The wallet's wiring to the outside world, from its settings: the driver's Lightning node (devnet
// simnet, LND REST or LNC), the ledger, and the station identity check with a key pinned at first
// sight when the ledger cannot be reached. Heavy libraries (ethers, lnc-web) load only when used.
import { loadDevnetManifest } from '$lib/config/app-config';
import type { DevnetManifest } from '$lib/config/devnet-manifest';
import { LndRestNode } from '$lib/lightning/lnd-rest';
import type { LightningNode } from '$lib/lightning/port';
import type { SessionLink, StationStatus } from '$lib/protocol/types';
import type { IdentityVerdict } from '$lib/session/driver-runtime';
import { getPin, loadSettings, openWalletDb, savePin, type LedgerRef, type WalletDb, type WalletSettings } from '$lib/storage/wallet-db';

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
	if (l.kind === 'lnd-rest') return new LndRestNode({ restUrl: l.restUrl.replace(/\/$/, ''), macaroonHex: l.macaroonHex });
	if (l.kind === 'lnc') {
		// This browser session's stored LNC session; a new tab or browser start needs the password (Settings → Unlock).
		const { loginLnc, resolveWasmClientCode } = await import('$lib/lightning/lnc');
		const conn = await loginLnc({ method: 'session' }, { namespace: l.namespace, wasmClientCode: await resolveWasmClientCode(), locks: navigator.locks ?? null }).catch((e: Error) => {
			throw new Error(`Your Lightning node (LNC) is locked: unlock it in Settings with your password. (${e.message})`);
		});
		return conn.node;
	}
	const m = ctx.manifest;
	if (!m) throw new Error('The devnet cannot be reached (/devnet.json): you are offline, or this wallet is not served by a devnet. Choose a Lightning node in Settings.');
	const node = m.lightning.nodes[l.node];
	if (!node) throw new Error(`The devnet has no Lightning node "${l.node}".`);
	return new LndRestNode({ restUrl: node.restUrl, macaroonHex: node.macaroonHex });
}

/** The ledger to use: the settings', else the devnet's; the session link's chain and registry win. */
export function ledgerRef(ctx: WalletContext, link?: SessionLink): (LedgerRef & { reservations: string }) | null {
	const base = ctx.settings.ledger ?? (ctx.manifest ? { rpcUrl: ctx.manifest.chain.rpcUrl, chainId: ctx.manifest.chain.chainId, ...ctx.manifest.chain.contracts } : null);
	if (!base) return link?.rpc ? { rpcUrl: link.rpc, chainId: link.chainId, registry: link.registry, sessions: link.registry, reservations: link.registry } : null;
	return link ? { ...base, rpcUrl: link.rpc ?? base.rpcUrl, chainId: link.chainId, registry: link.registry } : base;
}

export async function connectWalletLedger(ref: LedgerRef & { reservations: string }, signerKey?: string) {
	const { connectLedger } = await import('$lib/ledger/client');
	return connectLedger({ rpcUrl: ref.rpcUrl, expectedChainId: ref.chainId, addresses: ref, signerKey, connectTimeoutMs: 4000 });
}

/**
 * Checks the station against the registry; when the ledger cannot be reached, against the keys
 * pinned the first time this wallet saw the station (pinning them now if it never did).
 */
export async function checkIdentity(db: WalletDb, rpcUrl: string | null, link: SessionLink, status: StationStatus): Promise<IdentityVerdict> {
	const pin = await getPin(db, status.stationId);
	const keys = { signingKey: status.signingKey, signerAddress: status.signerAddress, lightningPubkey: status.lightningPubkey };
	const samePin = pin && pin.signingKey === keys.signingKey && pin.lightningPubkey.toLowerCase() === keys.lightningPubkey.toLowerCase();
	if (rpcUrl && navigator.onLine) {
		const { checkStationIdentity } = await import('$lib/ledger/station-identity');
		const verdict = await checkStationIdentity({ rpcUrl, chainId: link.chainId, registry: link.registry, status });
		if (verdict.ok) {
			await savePin(db, { stationId: status.stationId, ...keys, firstSeen: pin?.firstSeen ?? Date.now(), confirmedOnLedger: true });
			return verdict;
		}
		// A definite "not registered"/"wrong key" is final; only an unreachable ledger falls back to the pin.
		if (!/could not be checked/.test(verdict.message)) return verdict;
	}
	if (pin && !samePin)
		return { ok: false, message: `Station ${status.stationId} now shows different keys than when this wallet first saw it, and the ledger cannot be reached to check them. Do not pay it.` };
	if (pin) return { ok: true, source: 'pinned', detail: `keys pinned ${new Date(pin.firstSeen).toLocaleDateString()}${pin.confirmedOnLedger ? ', confirmed on the ledger then' : ''}` };
	await savePin(db, { stationId: status.stationId, ...keys, firstSeen: Date.now(), confirmedOnLedger: false });
	return { ok: true, source: 'pinned', detail: 'first sight: keys pinned now, not checked on the ledger' };
}

/** Fiat text for an msat amount at the driver's manual rate, or ''. */
export function fiatText(settings: WalletSettings, msat: bigint): string {
	if (!settings.fiat || !(settings.fiat.perBtc > 0)) return '';
	const value = (Number(msat) / 1e11) * settings.fiat.perBtc;
	try {
		return value.toLocaleString('en-US', { style: 'currency', currency: settings.fiat.currency, maximumFractionDigits: value < 1 ? 3 : 2 });
	} catch {
		return `${value.toFixed(2)} ${settings.fiat.currency}`;
	}
}
