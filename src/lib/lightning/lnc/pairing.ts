// Pairing with a phrase from Lightning Terminal and logging in again later (password, passkey or
// this browser session), one open connection per namespace in a tab, behind the tab lock.
import type { LightningNodeConnectConfig } from '@lightninglabs/lnc-web';
import { LightningError } from '../port';
import { messageOf, withTimeout } from './errors';
import { LncNode, type LncNodeOptions, type LncPairingClient } from './node';
import { acquireTabLock, type LockManagerLike, type TabPolicy } from './tab-lock';

export type LncUnlock =
	{ method: 'password'; password: string } | { method: 'passkey' } | { method: 'session' };

export interface LncConnectOptions {
	/** Separates stored credentials and the tab lock; one per pairing (default "lightcharge"). */
	namespace?: string;
	/** LNC mailbox; lnc-web's default is mailbox.terminal.lightning.today:443. */
	serverHost?: string;
	/** Where the wasm client comes from; see `resolveWasmClientCode`. */
	wasmClientCode?: string;
	/** Builds lnc-web's client; by default `new LightningNodeConnect(config)` from the package. */
	createClient?: (
		config: LightningNodeConnectConfig
	) => LncPairingClient | Promise<LncPairingClient>;
	/** `navigator.locks` in a browser; null disables the one-tab rule (Node, tests). */
	locks?: LockManagerLike | null;
	tabPolicy?: TabPolicy;
	onWaitingForOtherTab?: () => void;
	/** Called when another tab takes the connection over; this tab's node is shut down first. */
	onTakenOver?: () => void;
	/** Limit for pairing or logging in (default 30 s). */
	connectTimeoutMs?: number;
	node?: LncNodeOptions;
	/**
	 * Within one tab, a login while a connection for the namespace is open returns that connection
	 * (default true), so two parts of the app never queue behind their own tab's lock.
	 */
	reuseInTab?: boolean;
}

export interface LncConnection {
	node: LncNode;
	client: LncPairingClient;
	/** Disconnects and lets another tab have the pairing. */
	close(): void;
	/** Forgets the stored pairing in this browser (the next start needs a new pairing phrase). */
	forget(): void;
}

async function defaultCreateClient(config: LightningNodeConnectConfig): Promise<LncPairingClient> {
	// Loaded on demand: the package pulls in the wasm loader, which only the LNC path needs.
	const { LightningNodeConnect } = await import('@lightninglabs/lnc-web');
	return new LightningNodeConnect(config);
}

function clientConfig(o: LncConnectOptions): LightningNodeConnectConfig {
	const config: LightningNodeConnectConfig = {
		namespace: o.namespace ?? 'lightcharge',
		allowPasskeys: true,
		enableSessions: true
	};
	if (o.serverHost) config.serverHost = o.serverHost;
	if (o.wasmClientCode) config.wasmClientCode = o.wasmClientCode;
	return config;
}

/** Words in an LNC pairing phrase (lightning-node-connect mailbox.NumPassphraseWords). */
export const PAIRING_PHRASE_WORDS = 10;

/** A pairing phrase as Lightning Terminal shows it: ten lowercase words separated by spaces. */
export function normalisePairingPhrase(phrase: string): string {
	if (phrase.length > 400)
		throw new LightningError(
			'invalid_request',
			'That is too long for a pairing phrase: it has ten words.'
		);
	const words = phrase.trim().toLowerCase().split(/\s+/).filter(Boolean);
	if (words.length === 0)
		throw new LightningError(
			'invalid_request',
			'Enter the pairing phrase Lightning Terminal showed you.'
		);
	if (words.some((w) => !/^[a-z]+$/.test(w))) {
		throw new LightningError(
			'invalid_request',
			'A pairing phrase has only words of letters, separated by spaces: check for typos or pasted punctuation.'
		);
	}
	if (words.length !== PAIRING_PHRASE_WORDS) {
		throw new LightningError(
			'invalid_request',
			`A pairing phrase has ${PAIRING_PHRASE_WORDS} words; this one has ${words.length}. Copy all of it from Lightning Terminal.`
		);
	}
	return words.join(' ');
}

/**
 * The LNC mailbox address as lnc-web takes it (`serverHost`): host:port, no scheme or path. Accepts a
 * pasted wss:// or https:// URL and strips it; anything else gets a sentence.
 */
export function normaliseMailboxAddress(input: string): string {
	let text = input.trim();
	if (text.length > 300)
		throw new LightningError(
			'invalid_request',
			'That is too long for a mailbox address (host:port).'
		);
	const scheme = /^(wss|https):\/\//i.exec(text);
	if (scheme) text = text.slice(scheme[0].length);
	text = text.replace(/\/+$/, '');
	const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(text);
	const port = m ? Number(m[2]) : 0;
	if (!m || port < 1 || port > 65535) {
		throw new LightningError(
			'invalid_request',
			'The mailbox address must be host:port, for example mailbox.terminal.lightning.today:443 (no path).'
		);
	}
	return `${m[1]!.toLowerCase()}:${port}`;
}

/** What the wasm client's status says about a failed pairing or login, as a sentence (null: nothing useful). */
export function lncStatusSentence(
	status: string | undefined,
	serverHost: string | undefined
): string | null {
	if (!status) return null;
	if (/^Session Not Found$/i.test(status)) {
		return 'The mailbox knows no session for this pairing phrase: check the words, or create a new session in Lightning Terminal (a phrase works once, and expires).';
	}
	if (/^Session In Use$/i.test(status))
		return 'Another device or tab is connected with this pairing right now; close it, or wait a minute and try again.';
	if (/^Not Connected$/i.test(status)) {
		return `The mailbox${serverHost ? ` at ${serverHost}` : ''} cannot be reached: check the address, that it runs, and that this device trusts its certificate.`;
	}
	const error = /^Error: (.+)$/s.exec(status);
	if (error)
		return `${error[1]!.charAt(0).toUpperCase()}${error[1]!.slice(1).replace(/\.?$/, '.')}`;
	return null;
}

function pairingError(
	e: unknown,
	action: 'pair' | 'login',
	statusSentence: string | null = null
): LightningError {
	// The wasm client knows why better than lnc-web's "Failed to connect …" after its 10 s wait.
	if (statusSentence && !(e instanceof LightningError && e.code === 'unauthorized')) {
		const message = messageOf(e);
		if (
			!/password provided is not valid|failed to unlock|decrypt|bad password|wrong password/i.test(
				message
			)
		) {
			return new LightningError(
				'unreachable',
				`${action === 'pair' ? 'Pairing' : 'Logging in'} failed: ${statusSentence}`,
				e
			);
		}
	}
	if (e instanceof LightningError && e.code === 'timeout') {
		return new LightningError(
			'timeout',
			`${action === 'pair' ? 'Pairing' : 'Logging in'} took too long: the LNC mailbox or your node did not answer. Check your connection and that your node is online, then try again.`,
			e
		);
	}
	const message = messageOf(e);
	if (
		/password provided is not valid|failed to unlock|decrypt|bad password|wrong password/i.test(
			message
		)
	) {
		return new LightningError(
			'unauthorized',
			'The password is wrong: the stored pairing could not be unlocked.',
			e
		);
	}
	if (/no pairing phrase or local key|not paired|no stored|no credentials/i.test(message)) {
		return new LightningError(
			'not_found',
			'This browser has no stored pairing: pair again with a pairing phrase from Lightning Terminal.',
			e
		);
	}
	if (/passkey|webauthn|notallowederror|credential/i.test(message)) {
		return new LightningError(
			'unauthorized',
			`The passkey was not accepted (${message}). Try again, or use the password.`,
			e
		);
	}
	if (action === 'pair') {
		return new LightningError(
			'unreachable',
			`Pairing failed: ${message}. A pairing phrase works once and expires; create a new session in Lightning Terminal if this one was used, and check the connection.`,
			e
		);
	}
	return new LightningError('unreachable', `Logging in to your node failed: ${message}.`, e);
}

/** This tab's open connections, by namespace. */
const openInTab = new Map<string, Promise<LncConnection>>();

function open(
	o: LncConnectOptions,
	action: 'pair' | 'login',
	run: (client: LncPairingClient) => Promise<void>
): Promise<LncConnection> {
	const namespace = o.namespace ?? 'lightcharge';
	const reuse = o.reuseInTab !== false;
	const existing = reuse ? openInTab.get(namespace) : undefined;
	if (existing && action === 'login') return existing;
	// A new pairing replaces this tab's connection for the namespace.
	const before = existing
		? existing.then((c) => c.close()).catch(() => undefined)
		: Promise.resolve();
	const forgetInTab = () => {
		if (openInTab.get(namespace) === opening) openInTab.delete(namespace);
	};
	const opening: Promise<LncConnection> = before.then(() =>
		connect(o, namespace, action, run, forgetInTab)
	);
	if (!reuse) return opening;
	openInTab.set(namespace, opening);
	opening.catch(forgetInTab);
	return opening;
}

async function connect(
	o: LncConnectOptions,
	namespace: string,
	action: 'pair' | 'login',
	run: (client: LncPairingClient) => Promise<void>,
	onClosed: () => void
): Promise<LncConnection> {
	const lock = o.locks
		? await acquireTabLock(o.locks, `lightcharge-lnc:${namespace}`, o.tabPolicy ?? 'wait', {
				onWaiting: o.onWaitingForOtherTab
			})
		: null;
	let client: LncPairingClient | null = null;
	try {
		client = await (o.createClient ?? defaultCreateClient)(clientConfig(o));
		await withTimeout(
			run(client),
			o.connectTimeoutMs ?? 30_000,
			action === 'pair' ? 'pair' : 'log in'
		);
	} catch (e) {
		let status: string | undefined;
		try {
			status = (client as { status?: unknown } | null)?.status as string | undefined;
			// Stop the wasm client's attempt; a later try starts a new one.
			client?.disconnect();
		} catch {
			// not connected
		}
		lock?.release();
		throw pairingError(
			e,
			action,
			lncStatusSentence(typeof status === 'string' ? status : undefined, o.serverHost)
		);
	}
	const node = new LncNode(client, o.node);
	let closed = false;
	const close = () => {
		if (closed) return;
		closed = true;
		onClosed();
		node.shutdown();
		lock?.release();
	};
	void lock?.lost.then(() => {
		if (closed) return;
		close();
		o.onTakenOver?.();
	});
	return {
		node,
		client,
		close,
		forget: () => {
			close();
			client.clear({ session: true, persisted: true });
		}
	};
}

/** Pairs with a pairing phrase and stores the credentials, encrypted by a password or a passkey. */
export async function pairLnc(
	pairingPhrase: string,
	protect: Extract<LncUnlock, { method: 'password' | 'passkey' }>,
	options: LncConnectOptions = {}
): Promise<LncConnection> {
	const phrase = normalisePairingPhrase(pairingPhrase);
	if (protect.method === 'password' && protect.password.length < 8) {
		throw new LightningError(
			'invalid_request',
			'Choose a password of at least 8 characters: it protects the stored pairing on this device.'
		);
	}
	return open(options, 'pair', (client) =>
		client.pair(
			phrase,
			protect.method === 'password'
				? { method: 'password', password: protect.password }
				: { method: 'passkey', createIfMissing: true }
		)
	);
}

/** Logs in again later without the phrase: password, passkey, or this browser session's stored session. */
export function loginLnc(
	unlock: LncUnlock,
	options: LncConnectOptions = {}
): Promise<LncConnection> {
	return open(options, 'login', (client) =>
		client.login(
			unlock.method === 'password' ? { method: 'password', password: unlock.password } : unlock
		)
	);
}

/** Whether this browser can protect a pairing with a passkey (WebAuthn with a platform authenticator). */
export async function passkeysSupported(): Promise<boolean> {
	const pkc = (
		globalThis as {
			PublicKeyCredential?: {
				isUserVerifyingPlatformAuthenticatorAvailable?: () => Promise<boolean>;
			};
		}
	).PublicKeyCredential;
	if (!pkc?.isUserVerifyingPlatformAuthenticatorAvailable) return false;
	try {
		return await pkc.isUserVerifyingPlatformAuthenticatorAvailable();
	} catch {
		return false;
	}
}
