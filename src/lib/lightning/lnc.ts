// The Lightning Node Connect backend of the LightningNode port: the driver's or operator's own LND
// reached through @lightninglabs/lnc-web (a Go wasm client talking to LND over an encrypted mailbox).
//
// What LNC needs that a plain REST client does not:
// - every call gets a timeout, because a call made while the mailbox is down may never settle;
// - a dropped connection is re-established with exponential backoff before the next call;
// - streams cannot be cancelled in lnc-web (subscribe returns nothing), so "closing" one means we
//   stop listening; an invoice watch also polls lookupInvoice, because a dead mailbox may end a
//   stream without any error;
// - one pairing can serve one tab at a time ("stream occupied"), so a Web Lock per namespace makes
//   a second tab wait, or take over (the first tab is told and disconnects).
// LND's types come from lnc-core: camelCase fields, bytes as base64, int64 as strings, enums as names.

import type LNC from '@lightninglabs/lnc-web';
import type { LightningNodeConnect, LightningNodeConnectConfig, lnrpc } from '@lightninglabs/lnc-web';
import { Bolt11Error, decodeBolt11 } from './bolt11';
import {
	big,
	bytesFieldToHex,
	failureReasonOf,
	hexToBase64,
	INVOICE_STATES,
	NETWORKS,
	networkOfPaymentRequest,
	paymentStatusOf,
	preimageOrUndefined,
	lndErrorKind,
	refusalReason,
	txidFromFundingBytes
} from './lnd-json';
import {
	LightningError,
	type Balances,
	type Channel,
	type CreatedInvoice,
	type CreateInvoiceRequest,
	type DecodedPaymentRequest,
	type InvoiceStatus,
	type LightningErrorCode,
	type LightningNode,
	type NodeInfo,
	type OpenChannelRequest,
	type PaymentUpdate,
	type PayRequest,
	type Subscription
} from './port';

/** What LncNode uses of lnc-web's client; both `LNC` and `LightningNodeConnect` have it. */
export type LncClient = Pick<LNC, 'lnd' | 'isConnected' | 'connect' | 'disconnect'>;

/** What pairing and logging in use of lnc-web's `LightningNodeConnect` (password, passkey, session). */
export type LncPairingClient = LncClient & Pick<LightningNodeConnect, 'pair' | 'login' | 'clear'>;

export interface LncNodeOptions {
	/** Limit for one unary call (default 20 s). */
	callTimeoutMs?: number;
	/** Limit for one `connect()` attempt (default 15 s; lnc-web itself gives up after about 10 s). */
	connectTimeoutMs?: number;
	/** Reconnect attempts before a call fails (default 5), with delays doubling from `reconnectDelayMs` (default 500 ms) up to 15 s. */
	reconnectAttempts?: number;
	reconnectDelayMs?: number;
	/** How often an invoice watch also asks lookupInvoice (default 5 s). */
	invoicePollMs?: number;
	/** How long trackPayment follows a payment before giving up (default 120 s). */
	trackTimeoutMs?: number;
	sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function messageOf(e: unknown): string {
	if (e instanceof Error) return e.message;
	if (typeof e === 'string') return e;
	return String(e);
}

/** Signs that the mailbox connection, not the request, is what failed. */
const CONNECTION_TROUBLE = /not connected|connection|disconnect|mailbox|closed|EOF|websocket|stream occupied|transport|unavailable/i;

/** Maps an error lnc-web or LND reported into the port's vocabulary, with a sentence. */
export function lncError(e: unknown, what: string): LightningError {
	if (e instanceof LightningError) return e;
	const message = messageOf(e);
	const kind = lndErrorKind(message);
	let code: LightningErrorCode = 'backend';
	if (kind === 'permission_denied' || kind === 'bad_macaroon') {
		return new LightningError(
			'unauthorized',
			`Your node refused to ${what} (${message}). The LNC session may not have the permission: create a session with the right rights in Lightning Terminal.`,
			e
		);
	}
	if (kind === 'starting') return new LightningError('starting', `Your node is still starting and cannot ${what} yet (${message}); waiting for it.`, e);
	if (kind === 'not_found' || kind === 'insufficient_balance') code = kind;
	else if (CONNECTION_TROUBLE.test(message)) code = 'unreachable';
	const prefix = code === 'unreachable' ? 'The connection to your node dropped while trying to' : 'Your node could not';
	return new LightningError(code, `${prefix} ${what}: ${message}`, e);
}

/** Rejects with a timeout error if `promise` has not settled in `ms`; the late result is ignored. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new LightningError('timeout', `Your node did not answer within ${Math.round(ms / 100) / 10} s while trying to ${what}; the LNC connection may have dropped.`)),
			ms
		);
		promise.then(
			(v) => {
				clearTimeout(timer);
				resolve(v);
			},
			(e: unknown) => {
				clearTimeout(timer);
				reject(e);
			}
		);
	});
}

function invoiceStatus(invoice: lnrpc.Invoice): InvoiceStatus {
	const state = String(invoice.state);
	const status: InvoiceStatus = {
		paymentHash: bytesFieldToHex(invoice.rHash),
		state: INVOICE_STATES[state] ?? 'open',
		valueMsat: big(invoice.valueMsat),
		amountPaidMsat: big(invoice.amtPaidMsat)
	};
	if (state === 'SETTLED') {
		status.settledAt = Number(invoice.settleDate) * 1000;
		const preimage = preimageOrUndefined(bytesFieldToHex(invoice.rPreimage));
		if (preimage) status.preimage = preimage;
	}
	return status;
}

function paymentUpdate(payment: lnrpc.Payment): PaymentUpdate {
	const status = paymentStatusOf(String(payment.status));
	const update: PaymentUpdate = {
		paymentHash: payment.paymentHash.toLowerCase(),
		status,
		valueMsat: big(payment.valueMsat),
		feeMsat: big(payment.feeMsat)
	};
	const preimage = preimageOrUndefined(payment.paymentPreimage);
	if (preimage) update.preimage = preimage;
	if (status === 'failed') update.failureReason = failureReasonOf(String(payment.failureReason)) ?? 'error';
	return update;
}

export class LncNode implements LightningNode {
	readonly kind = 'lnc' as const;
	private readonly callTimeoutMs: number;
	private readonly connectTimeoutMs: number;
	private readonly reconnectAttempts: number;
	private readonly reconnectDelayMs: number;
	private readonly invoicePollMs: number;
	private readonly trackTimeoutMs: number;
	private readonly sleep: (ms: number) => Promise<void>;
	private reconnecting: Promise<void> | null = null;
	private closed = false;

	constructor(
		private readonly client: LncClient,
		options: LncNodeOptions = {}
	) {
		this.callTimeoutMs = options.callTimeoutMs ?? 20_000;
		this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
		this.reconnectAttempts = options.reconnectAttempts ?? 5;
		this.reconnectDelayMs = options.reconnectDelayMs ?? 500;
		this.invoicePollMs = options.invoicePollMs ?? 5_000;
		this.trackTimeoutMs = options.trackTimeoutMs ?? 120_000;
		this.sleep = options.sleep ?? defaultSleep;
	}

	/** Stops using the connection (another tab took over, or the user logged out). */
	shutdown(): void {
		this.closed = true;
		try {
			this.client.disconnect();
		} catch {
			// already down
		}
	}

	/** Connects if the mailbox connection is down, with exponential backoff; concurrent callers share one attempt. */
	ensureConnected(): Promise<void> {
		if (this.closed) return Promise.reject(new LightningError('unreachable', 'This tab no longer uses the LNC connection (another tab took it over, or you logged out).'));
		if (this.client.isConnected) return Promise.resolve();
		this.reconnecting ??= this.reconnect().finally(() => (this.reconnecting = null));
		return this.reconnecting;
	}

	private async reconnect(): Promise<void> {
		let last: unknown;
		for (let attempt = 0; attempt < this.reconnectAttempts; attempt++) {
			if (attempt > 0) await this.sleep(Math.min(15_000, this.reconnectDelayMs * 2 ** (attempt - 1)));
			if (this.closed) break;
			try {
				await withTimeout(this.client.connect(), this.connectTimeoutMs, 'connect through the LNC mailbox');
				if (this.client.isConnected) return;
				last = new Error('connect() returned but the client is not connected');
			} catch (e) {
				last = e;
			}
		}
		throw new LightningError(
			'unreachable',
			`Your node cannot be reached through Lightning Node Connect (${this.reconnectAttempts} attempts): ${messageOf(last)}. Check the phone's connection and that your node is online.`,
			last
		);
	}

	/** One unary call: connected first, with a timeout; reads are retried once after reconnecting. */
	private async call<T>(what: string, fn: () => Promise<T>, idempotent: boolean): Promise<T> {
		for (let attempt = 0; ; attempt++) {
			await this.ensureConnected();
			try {
				return await withTimeout(fn(), this.callTimeoutMs, what);
			} catch (e) {
				const err = lncError(e, what);
				const connectionLost = err.code === 'timeout' || err.code === 'unreachable';
				if (!idempotent || !connectionLost || attempt > 0) throw err;
				// The mailbox probably dropped: start over on a fresh connection.
				try {
					this.client.disconnect();
				} catch {
					// it is down already
				}
			}
		}
	}

	async getInfo(): Promise<NodeInfo> {
		const info = await this.call('read its info', () => this.client.lnd.lightning.getInfo({}), true);
		const chainNetwork = info.chains?.[0]?.network ?? (info.testnet ? 'testnet' : 'mainnet');
		const network = NETWORKS[chainNetwork];
		if (!network) throw new LightningError('backend', `Your node runs on an unknown network "${chainNetwork}".`);
		return {
			pubkey: info.identityPubkey,
			alias: info.alias,
			network,
			blockHeight: Number(info.blockHeight),
			syncedToChain: info.syncedToChain === true
		};
	}

	async getBalances(): Promise<Balances> {
		const b = await this.call('read its channel balance', () => this.client.lnd.lightning.channelBalance({}), true);
		return {
			localMsat: big(b.localBalance?.msat),
			remoteMsat: big(b.remoteBalance?.msat),
			pendingOpenLocalMsat: big(b.pendingOpenLocalBalance?.msat)
		};
	}

	async listChannels(): Promise<Channel[]> {
		const lightning = this.client.lnd.lightning;
		const [open, pending] = await Promise.all([
			this.call('list its channels', () => lightning.listChannels({}), true),
			this.call('list its pending channels', () => lightning.pendingChannels({}), true)
		]);
		const channels: Channel[] = (open.channels ?? []).map((c) => ({
			channelPoint: c.channelPoint,
			remotePubkey: c.remotePubkey,
			capacitySat: big(c.capacity),
			localMsat: big(c.localBalance) * 1000n,
			remoteMsat: big(c.remoteBalance) * 1000n,
			reserveSat: big(c.localChanReserveSat),
			active: c.active === true,
			pending: false
		}));
		for (const p of pending.pendingOpenChannels ?? []) {
			if (!p.channel) continue;
			channels.push({
				channelPoint: p.channel.channelPoint,
				remotePubkey: p.channel.remoteNodePub,
				capacitySat: big(p.channel.capacity),
				localMsat: big(p.channel.localBalance) * 1000n,
				remoteMsat: big(p.channel.remoteBalance) * 1000n,
				reserveSat: big(p.channel.localChanReserveSat),
				active: false,
				pending: true
			});
		}
		return channels;
	}

	async openChannel(req: OpenChannelRequest): Promise<{ channelPoint: string }> {
		const point = await this.call(
			'open a channel',
			() =>
				this.client.lnd.lightning.openChannelSync({
					nodePubkey: hexToBase64(req.remotePubkey),
					localFundingAmount: req.localFundingSat.toString(),
					pushSat: (req.pushSat ?? 0n).toString()
				}),
			false
		);
		const txid = point.fundingTxidStr || txidFromFundingBytes(bytesFieldToHex(point.fundingTxidBytes));
		return { channelPoint: `${txid}:${point.outputIndex ?? 0}` };
	}

	async createInvoice(req: CreateInvoiceRequest): Promise<CreatedInvoice> {
		const request: { valueMsat: string; expiry: string; memo?: string; descriptionHash?: string } = {
			valueMsat: req.amountMsat.toString(),
			expiry: String(req.expirySeconds)
		};
		if (req.memo !== undefined) request.memo = req.memo;
		if (req.descriptionHash !== undefined) request.descriptionHash = hexToBase64(req.descriptionHash);
		// Not retried: a retry after a lost answer would leave a second invoice behind.
		const added = await this.call('create an invoice', () => this.client.lnd.lightning.addInvoice(request), false);
		return { paymentRequest: added.paymentRequest, paymentHash: bytesFieldToHex(added.rHash) };
	}

	async lookupInvoice(paymentHash: string): Promise<InvoiceStatus> {
		return invoiceStatus(
			await this.call('look up the invoice', () => this.client.lnd.lightning.lookupInvoice({ rHash: hexToBase64(paymentHash) }), true)
		);
	}

	watchInvoice(paymentHash: string, onUpdate: (s: InvoiceStatus) => void, onError?: (e: LightningError) => void): Subscription {
		const hash = paymentHash.toLowerCase();
		let closed = false;
		let lastState: string | null = null;
		let streamAlive = true;
		let pollFailures = 0;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const close = () => {
			closed = true;
			if (timer !== undefined) clearTimeout(timer);
		};
		const deliver = (s: InvoiceStatus) => {
			if (closed || s.paymentHash !== hash || s.state === lastState) return;
			lastState = s.state;
			onUpdate(s);
			if (s.state === 'settled' || s.state === 'canceled') close();
		};
		const poll = async () => {
			if (closed) return;
			try {
				deliver(await this.lookupInvoice(hash));
				pollFailures = 0;
			} catch (e) {
				pollFailures++;
				// With the stream gone and lookups failing, tell the caller; otherwise keep trying quietly.
				if (!streamAlive && pollFailures >= 3) {
					close();
					onError?.(lncError(e, 'watch the invoice'));
					return;
				}
			}
			if (!closed) timer = setTimeout(() => void poll(), this.invoicePollMs);
		};
		void this.ensureConnected().then(
			() => {
				if (closed) return;
				try {
					this.client.lnd.invoices.subscribeSingleInvoice(
						{ rHash: hexToBase64(hash) },
						(invoice) => deliver(invoiceStatus(invoice)),
						() => {
							// lnc-web cannot resume a stream: carry on by polling lookupInvoice.
							streamAlive = false;
						}
					);
				} catch {
					streamAlive = false;
				}
				timer = setTimeout(() => void poll(), this.invoicePollMs);
			},
			(e: unknown) => {
				if (closed) return;
				close();
				onError?.(lncError(e, 'watch the invoice'));
			}
		);
		return { close };
	}

	async pay(req: PayRequest, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate> {
		// The hash is known locally, so a payment whose stream dies can be tracked without another call.
		let paymentHash: string;
		try {
			paymentHash = decodeBolt11(req.paymentRequest).paymentHash;
		} catch (e) {
			const failed: PaymentUpdate = {
				paymentHash: '',
				status: 'failed',
				valueMsat: 0n,
				feeMsat: 0n,
				failureReason: 'invalid_request',
				message: e instanceof Bolt11Error ? e.message : messageOf(e)
			};
			onUpdate?.(failed);
			return failed;
		}
		await this.ensureConnected();
		const outcome = await this.follow(
			(onMessage, onError) =>
				this.client.lnd.router.sendPaymentV2(
					{
						paymentRequest: req.paymentRequest,
						timeoutSeconds: req.timeoutSeconds,
						// fee_limit_msat; unset would mean "no fee at all", and `amt` is never sent: the invoice has it.
						feeLimitMsat: req.feeLimitMsat.toString()
					},
					onMessage,
					onError
				),
			req.timeoutSeconds * 1000 + 2 * this.callTimeoutMs,
			onUpdate
		);
		if (outcome.kind === 'final') return outcome.update;
		if (outcome.kind === 'error' && !outcome.sawMessage) {
			const reason = refusalReason(outcome.message);
			if (reason) {
				// LND refused before sending anything (already paid, expired, ...).
				const failed: PaymentUpdate = { paymentHash, status: 'failed', valueMsat: 0n, feeMsat: 0n, failureReason: reason, message: outcome.message };
				onUpdate?.(failed);
				return failed;
			}
		}
		// The stream died or went quiet: the payment may be in flight; follow it by hash.
		try {
			return await this.trackPayment(paymentHash, onUpdate);
		} catch (e) {
			if (e instanceof LightningError && e.code === 'not_found') {
				// LND never saw it: nothing left the wallet.
				const failed: PaymentUpdate = {
					paymentHash,
					status: 'failed',
					valueMsat: 0n,
					feeMsat: 0n,
					failureReason: 'error',
					message: `The payment was not sent: ${outcome.kind === 'error' ? outcome.message : 'the connection went quiet'}`
				};
				onUpdate?.(failed);
				return failed;
			}
			throw e;
		}
	}

	async trackPayment(paymentHash: string, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate> {
		const hash = paymentHash.toLowerCase();
		for (let attempt = 0; ; attempt++) {
			await this.ensureConnected();
			const outcome = await this.follow(
				(onMessage, onError) => this.client.lnd.router.trackPaymentV2({ paymentHash: hexToBase64(hash) }, onMessage, onError),
				this.trackTimeoutMs,
				onUpdate
			);
			if (outcome.kind === 'final') return outcome.update;
			const err = outcome.kind === 'error' ? lncError(outcome.message, 'track the payment') : null;
			if (err && err.code !== 'unreachable' && err.code !== 'timeout') throw err;
			if (attempt >= 2) {
				throw new LightningError(
					'timeout',
					`The payment ${hash.slice(0, 8)}… has no final state yet (${err?.message ?? 'no news from your node'}); it may still complete, so it will not be paid again.`
				);
			}
			try {
				this.client.disconnect();
			} catch {
				// down already
			}
		}
	}

	/**
	 * Runs one payment stream until a final update, an error, or silence. The first message must
	 * come within the call timeout (a call on a dead mailbox never answers); the whole stream
	 * within `totalMs`. Late messages after we gave up are ignored.
	 */
	private follow(
		start: (onMessage: (p: lnrpc.Payment) => void, onError: (e: Error) => void) => void,
		totalMs: number,
		onUpdate?: (u: PaymentUpdate) => void
	): Promise<
		| { kind: 'final'; update: PaymentUpdate }
		| { kind: 'error'; message: string; sawMessage: boolean }
		| { kind: 'silent'; sawMessage: boolean }
	> {
		return new Promise((resolve) => {
			let done = false;
			let sawMessage = false;
			const finish = (r: Parameters<typeof resolve>[0]) => {
				if (done) return;
				done = true;
				clearTimeout(firstTimer);
				clearTimeout(totalTimer);
				resolve(r);
			};
			const firstTimer = setTimeout(() => {
				if (!sawMessage) finish({ kind: 'silent', sawMessage });
			}, this.callTimeoutMs);
			const totalTimer = setTimeout(() => finish({ kind: 'silent', sawMessage }), totalMs);
			try {
				start(
					(payment) => {
						if (done) return;
						sawMessage = true;
						const update = paymentUpdate(payment);
						onUpdate?.(update);
						if (update.status !== 'in_flight') finish({ kind: 'final', update });
					},
					(e) => finish({ kind: 'error', message: messageOf(e), sawMessage })
				);
			} catch (e) {
				finish({ kind: 'error', message: messageOf(e), sawMessage });
			}
		});
	}

	async decodePaymentRequest(paymentRequest: string): Promise<DecodedPaymentRequest> {
		const d = await this.call('decode the invoice', () => this.client.lnd.lightning.decodePayReq({ payReq: paymentRequest }), true);
		const amountMsat = big(d.numMsat);
		const decoded: DecodedPaymentRequest = {
			network: networkOfPaymentRequest(paymentRequest),
			payee: d.destination,
			paymentHash: d.paymentHash,
			amountMsat: amountMsat === 0n ? null : amountMsat,
			timestamp: Number(d.timestamp),
			expirySeconds: Number(d.expiry),
			minFinalCltvExpiry: Number(d.cltvExpiry)
		};
		if (d.descriptionHash) decoded.descriptionHash = d.descriptionHash;
		if (d.description) decoded.description = d.description;
		const secret = bytesFieldToHex(d.paymentAddr);
		if (secret) decoded.paymentSecret = secret;
		return decoded;
	}
}

// ---------- one connection per pairing across tabs (Web Locks) ----------

/** The part of the Web Locks API used here (`navigator.locks`). */
export type LockManagerLike = Pick<LockManager, 'request'>;

export interface HeldTabLock {
	release(): void;
	/** Resolves when another tab took the lock over; this tab must stop using the connection. */
	lost: Promise<void>;
}

export type TabPolicy = 'wait' | 'take_over';

/**
 * Holds the lock named for this pairing. `wait` queues behind the tab that has it (`onWaiting` is
 * told, so the UI can say so); `take_over` steals it, and the other tab's `lost` resolves.
 */
export function acquireTabLock(
	locks: LockManagerLike,
	name: string,
	policy: TabPolicy,
	options: { onWaiting?: () => void; signal?: AbortSignal } = {}
): Promise<HeldTabLock> {
	return new Promise<HeldTabLock>((resolveHeld, rejectHeld) => {
		let held = false;
		let release!: () => void;
		const released = new Promise<void>((r) => (release = r));
		let markLost!: () => void;
		const lost = new Promise<void>((r) => (markLost = r));
		const hold = async (lock: Lock | null): Promise<void> => {
			if (!lock) return;
			held = true;
			resolveHeld({ release, lost });
			await released;
		};
		const onRejected = (e: unknown) => {
			if (held) markLost();
			else rejectHeld(new LightningError('unreachable', `Another tab is using this node connection: ${messageOf(e)}`, e));
		};
		if (policy === 'take_over') {
			locks.request(name, { steal: true }, hold).catch(onRejected);
			return;
		}
		// First ask without queueing, to know whether to tell the user we are waiting.
		locks
			.request(name, { ifAvailable: true }, async (lock) => {
				if (lock) return hold(lock);
				options.onWaiting?.();
				const queued: LockOptions = options.signal ? { signal: options.signal } : {};
				locks.request(name, queued, hold).catch(onRejected);
			})
			.catch(onRejected);
	});
}

// ---------- pairing and logging in ----------

export type LncUnlock = { method: 'password'; password: string } | { method: 'passkey' } | { method: 'session' };

export interface LncConnectOptions {
	/** Separates stored credentials and the tab lock; one per pairing (default "lightcharge"). */
	namespace?: string;
	/** LNC mailbox; lnc-web's default is mailbox.terminal.lightning.today:443. */
	serverHost?: string;
	/** Where the wasm client comes from; see `resolveWasmClientCode`. */
	wasmClientCode?: string;
	/** Builds lnc-web's client; by default `new LightningNodeConnect(config)` from the package. */
	createClient?: (config: LightningNodeConnectConfig) => LncPairingClient | Promise<LncPairingClient>;
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

/** A pairing phrase as Lightning Terminal shows it: lowercase words separated by spaces. */
export function normalisePairingPhrase(phrase: string): string {
	const words = phrase.trim().toLowerCase().split(/\s+/).filter(Boolean);
	if (words.length === 0) throw new LightningError('invalid_request', 'Enter the pairing phrase Lightning Terminal showed you.');
	if (words.some((w) => !/^[a-z]+$/.test(w))) {
		throw new LightningError('invalid_request', 'A pairing phrase has only words of letters, separated by spaces: check for typos or pasted punctuation.');
	}
	return words.join(' ');
}

function pairingError(e: unknown, action: 'pair' | 'login'): LightningError {
	if (e instanceof LightningError && e.code === 'timeout') {
		return new LightningError('timeout', `${action === 'pair' ? 'Pairing' : 'Logging in'} took too long: the LNC mailbox or your node did not answer. Check your connection and that your node is online, then try again.`, e);
	}
	const message = messageOf(e);
	if (/password provided is not valid|failed to unlock|decrypt|bad password|wrong password/i.test(message)) {
		return new LightningError('unauthorized', 'The password is wrong: the stored pairing could not be unlocked.', e);
	}
	if (/no pairing phrase or local key|not paired|no stored|no credentials/i.test(message)) {
		return new LightningError('not_found', 'This browser has no stored pairing: pair again with a pairing phrase from Lightning Terminal.', e);
	}
	if (/passkey|webauthn|notallowederror|credential/i.test(message)) {
		return new LightningError('unauthorized', `The passkey was not accepted (${message}). Try again, or use the password.`, e);
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

function open(o: LncConnectOptions, action: 'pair' | 'login', run: (client: LncPairingClient) => Promise<void>): Promise<LncConnection> {
	const namespace = o.namespace ?? 'lightcharge';
	const reuse = o.reuseInTab !== false;
	const existing = reuse ? openInTab.get(namespace) : undefined;
	if (existing && action === 'login') return existing;
	// A new pairing replaces this tab's connection for the namespace.
	const before = existing ? existing.then((c) => c.close()).catch(() => undefined) : Promise.resolve();
	const forgetInTab = () => {
		if (openInTab.get(namespace) === opening) openInTab.delete(namespace);
	};
	const opening: Promise<LncConnection> = before.then(() => connect(o, namespace, action, run, forgetInTab));
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
		? await acquireTabLock(o.locks, `lightcharge-lnc:${namespace}`, o.tabPolicy ?? 'wait', { onWaiting: o.onWaitingForOtherTab })
		: null;
	let client: LncPairingClient;
	try {
		client = await (o.createClient ?? defaultCreateClient)(clientConfig(o));
		await withTimeout(run(client), o.connectTimeoutMs ?? 30_000, action === 'pair' ? 'pair' : 'log in');
	} catch (e) {
		lock?.release();
		throw pairingError(e, action);
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
		throw new LightningError('invalid_request', 'Choose a password of at least 8 characters: it protects the stored pairing on this device.');
	}
	return open(options, 'pair', (client) =>
		client.pair(phrase, protect.method === 'password' ? { method: 'password', password: protect.password } : { method: 'passkey', createIfMissing: true })
	);
}

/** Logs in again later without the phrase: password, passkey, or this browser session's stored session. */
export function loginLnc(unlock: LncUnlock, options: LncConnectOptions = {}): Promise<LncConnection> {
	return open(options, 'login', (client) => client.login(unlock.method === 'password' ? { method: 'password', password: unlock.password } : unlock));
}

/** Whether this browser can protect a pairing with a passkey (WebAuthn with a platform authenticator). */
export async function passkeysSupported(): Promise<boolean> {
	const pkc = (globalThis as { PublicKeyCredential?: { isUserVerifyingPlatformAuthenticatorAvailable?: () => Promise<boolean> } }).PublicKeyCredential;
	if (!pkc?.isUserVerifyingPlatformAuthenticatorAvailable) return false;
	try {
		return await pkc.isUserVerifyingPlatformAuthenticatorAvailable();
	} catch {
		return false;
	}
}

// ---------- the wasm client ----------

/** Where the app serves its own copy of lnc-web's wasm client, when the operator put one in static/. */
export const SELF_HOSTED_WASM_PATH = '/lnc/wasm-client.wasm';

/**
 * Picks the wasm client URL: the configured one, else the self-hosted copy when it is really there
 * and served as `application/wasm` (lnc-web instantiates it with `WebAssembly.instantiateStreaming`,
 * which refuses any other type; a SPA fallback answering HTML does not count), else undefined
 * (lnc-web's default, its CDN).
 */
export async function resolveWasmClientCode(
	options: { configured?: string; selfHostedUrl?: string; fetch?: typeof fetch } = {}
): Promise<string | undefined> {
	if (options.configured) return options.configured;
	const url = options.selfHostedUrl ?? SELF_HOSTED_WASM_PATH;
	const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
	try {
		const response = await fetchFn(url, { method: 'HEAD' });
		const type = response.headers.get('content-type') ?? '';
		return response.ok && /^application\/wasm\b/i.test(type) ? url : undefined;
	} catch {
		return undefined;
	}
}
