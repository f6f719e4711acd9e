// The wallet's reactive state for one session: a DriverRuntime wired to the driver's Lightning
// node (from Settings) and to the trusted network the session link selected (its broker and its
// ledger, from the wallet's own configuration, never from the link). Every change is stored in
// IndexedDB, so a reload resumes the session (readings, invoices, payments in flight) and the
// receipt stays complete. Components only read from here.
import type { TrustedNetwork } from '$lib/config';
import { smoothPowerW } from '$lib/format';
import { connectBus, requestSessionTopics, type BusState, type MessageBus } from '$lib/mqtt';
import type { SessionLink } from '$lib/protocol';
import { DriverRuntime, toSnapshot, type DriverSnapshot, type DriverView } from '$lib/session';
import {
	IdbJournal,
	getReceipt,
	saveReceipt,
	type LedgerRef,
	type ReceiptRecord
} from '$lib/storage';
import {
	brokerLoginFor,
	checkIdentity,
	connectWalletLedger,
	ledgerOf,
	lightningNode,
	resolveLink,
	trustedNetworks,
	walletContext,
	type WalletContext
} from '../backends';

/** A payment still in flight after this long is shown as pending. */
export const PENDING_AFTER_MS = 4000;
/** How long "Resumed after the app was closed" stays on the screen. */
const RESUMED_NOTE_MS = 10_000;

export class WalletSession {
	view = $state<DriverView | null>(null);
	link = $state<SessionLink | null>(null);
	/** The trusted network the link selected. */
	network = $state<TrustedNetwork | null>(null);
	error = $state<string | null>(null);
	/** A link to a network this wallet does not trust: what it names. */
	untrusted = $state<{ message: string; detail: string | null } | null>(null);
	busState = $state<BusState>('connecting');
	loading = $state(true);
	joining = $state(false);
	resumed = $state(false);
	defaultBudgetSat = $state(2000);
	ctx = $state<WalletContext | null>(null);
	/** Offline with a stored session: where its receipt is. */
	offlineReceipt = $state<string | null>(null);

	private runtime: DriverRuntime | null = null;
	/** The link outside Svelte's state proxy, so IndexedDB can store it. */
	private rawLink: SessionLink | null = null;
	private bus: MessageBus | null = null;
	private startedAt = Date.now();
	private ledger: LedgerRef | null = null;
	/** The newest view not yet written, and the write loop while one runs (see `persist`). */
	private unsaved: DriverView | null = null;
	private writing: Promise<void> | null = null;
	/** The session's ledger anchors as stored (kept here so a write does not read the record back). */
	private ledgerAnchors: ReceiptRecord<DriverSnapshot>['ledgerAnchors'];
	private anchorsFetched = false;
	/** When each invoice was first seen being paid (phone clock), to tell "pending" from "paying". */
	// Bookkeeping the view reads through `view`, not state itself.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	private payingSince = new Map<number, number>();
	/** The phone's clock, ticking once a second while the page is open. */
	now = $state(Date.now());
	private ticker: ReturnType<typeof setInterval> | null = null;

	get energyWh(): number {
		const r = this.view?.readings;
		return r && r.length > 0 ? r[r.length - 1]!.energyWh - r[0]!.energyWh : 0;
	}
	/** Power over the last 10 s of readings (a single second's figure jumps with the meter's whole-Wh steps). */
	get powerW(): number {
		return smoothPowerW(this.view?.readings ?? []);
	}
	/** Metered time of the session: from its first reading to its last (meter time, no clock skew). */
	get elapsedMs(): number {
		const r = this.view?.readings;
		return r && r.length > 1 ? r[r.length - 1]!.at - r[0]!.at : 0;
	}
	/** Budget not yet spent on energy (the budget bounds what the station bills; hub fees are apart, see the fee limit). */
	get budgetLeftMsat(): bigint {
		const v = this.view;
		if (!v) return 0n;
		const left = v.budgetMsat - v.paidMsat;
		return left > 0n ? left : 0n;
	}
	/**
	 * Payments in flight for longer than PENDING_AFTER_MS: shown as "pending", a normal state of
	 * Lightning (a hop holding the HTLC), not as a problem. Shorter ones are not worth a word.
	 */
	get pendingPayments(): number {
		const paying = (this.view?.invoices ?? []).filter((i) => i.state === 'paying');
		for (const seq of this.payingSince.keys())
			if (!paying.some((i) => i.seq === seq)) this.payingSince.delete(seq);
		return paying.filter(
			(i) => this.now - (this.payingSince.get(i.seq) ?? this.now) >= PENDING_AFTER_MS
		).length;
	}
	get costMsat(): bigint {
		const t = this.runtime?.acceptedTariff ?? this.view?.status?.tariff;
		if (!t) return 0n;
		return (
			(BigInt(this.energyWh) * BigInt(t.pricePerKwhMsat)) / 1000n +
			(this.energyWh > 0 ? BigInt(t.startFeeMsat) : 0n)
		);
	}

	async start(fragment: string): Promise<void> {
		this.ticker ??= setInterval(() => (this.now = Date.now()), 1000);
		try {
			const ctx = (this.ctx = await walletContext());
			const target = resolveLink(ctx, fragment);
			if (!target.ok) {
				if (target.untrusted) this.untrusted = { message: target.message, detail: target.detail };
				this.error = target.message;
				return;
			}
			const { link, network } = target;
			this.link = link;
			this.rawLink = link;
			this.network = network;
			this.defaultBudgetSat = ctx.settings.defaultBudgetSat;
			const saved = await getReceipt<DriverSnapshot>(ctx.db, link.sessionId);
			const snapshot =
				saved?.snapshot &&
				saved.snapshot.phase !== 'ready' &&
				saved.snapshot.phase !== 'connecting' &&
				saved.snapshot.phase !== 'failed'
					? saved.snapshot
					: null;
			if (saved) {
				this.startedAt = saved.startedAt;
				this.ledgerAnchors = saved.ledgerAnchors;
			}
			const ref = ledgerOf(network);
			this.ledger = {
				chainId: ref.chainId,
				rpcUrl: ref.rpcUrl,
				registry: ref.registry,
				sessions: ref.sessions
			};
			if (!navigator.onLine) {
				this.error = saved
					? 'You are offline: live readings and payments need the network. Your receipt of this session so far is kept on this phone.'
					: 'You are offline: joining a station needs the network.';
				this.offlineReceipt = saved ? link.sessionId : null;
				return;
			}
			const journal = await IdbJournal.open(ctx.db);
			const lightning = await lightningNode(ctx);
			const broker = network.brokers[0]!;
			// One MQTT session per wallet and charging session, kept by the broker across reloads, so
			// readings and invoices published while the page reloads are delivered when it is back. A
			// message is acknowledged only once what it changed is stored: one that arrived just before
			// a reload, and was not stored yet, comes again (a missed invoice stalled the session).
			// A devnet's secured broker: this phone's own login, opened to this session's topics by showing
			// the devnet the join secret's station key (a resumed session keeps the grant it had).
			const login = brokerLoginFor(ctx, broker.url);
			if (login?.grants)
				await requestSessionTopics(link).catch((e: unknown) => {
					if (!snapshot) throw e;
				});
			this.bus = await connectBus(broker.url, {
				protocolVersion: broker.protocolVersion,
				clientId: walletClientId(link.sessionId),
				persistentSession: { expirySeconds: 3600 },
				...(login && { username: login.username, password: login.password }),
				ackAfter: () => this.stored()
			});
			this.bus.onState((s) => (this.busState = s));
			this.busState = this.bus.state;
			this.runtime = new DriverRuntime({
				link,
				bus: this.bus,
				lightning,
				journal,
				checkIdentity: (status) => checkIdentity(ctx.db, network, status),
				feeLimitMsat: BigInt(Math.round(ctx.settings.feeLimitSat * 1000)),
				driverRef: ctx.settings.identity?.address ?? 'wallet'
			});
			this.runtime.subscribe((v) => {
				for (const i of v.invoices)
					if (i.state === 'paying' && !this.payingSince.has(i.seq))
						this.payingSince.set(i.seq, Date.now());
				this.view = v;
				this.persist(v);
			});
			if (snapshot) {
				// Said for a moment after the reload, then the screen is the driver's again.
				this.resumed = true;
				setTimeout(() => (this.resumed = false), RESUMED_NOTE_MS);
				await this.runtime.resume(snapshot);
			} else {
				await this.runtime.start();
			}
		} catch (e) {
			this.error = (e as Error).message;
		} finally {
			this.loading = false;
		}
	}

	async join(budgetSat: number): Promise<void> {
		if (!this.runtime) return;
		if (!navigator.onLine) {
			this.error = 'You are offline: joining a station needs the network.';
			return;
		}
		this.joining = true;
		try {
			this.startedAt = Date.now();
			await this.runtime.join(BigInt(Math.round(budgetSat * 1000)));
		} catch (e) {
			this.error = (e as Error).message;
		} finally {
			this.joining = false;
		}
	}

	async stop(): Promise<void> {
		await this.runtime?.stop();
	}

	async requestNewInvoice(seq: number): Promise<void> {
		await this.runtime?.requestNewInvoice(seq);
	}

	close(): void {
		if (this.ticker) clearInterval(this.ticker);
		this.ticker = null;
		this.runtime?.close();
		void this.bus?.close();
	}

	/** Resolves once every change seen so far is stored. */
	stored(): Promise<void> {
		return this.writing ?? Promise.resolve();
	}

	/**
	 * Stores the session after a change. One write at a time, always of the newest view (changes
	 * that come during a write are stored together by the next one), so the stored session is never
	 * more than one write behind the screen, however slow the device.
	 */
	private persist(v: DriverView): void {
		if (
			!this.ctx ||
			!this.rawLink ||
			!this.runtime ||
			v.phase === 'connecting' ||
			v.phase === 'ready' ||
			v.phase === 'failed'
		)
			return;
		this.unsaved = v;
		this.writing ??= this.writeAll();
		if (v.phase === 'settled' && !this.anchorsFetched) {
			this.anchorsFetched = true;
			const { ctx, rawLink } = this;
			void this.stored().then(() =>
				fetchLedgerAnchors(ctx, rawLink.sessionId)
					.then((r) => r && (this.ledgerAnchors = r.ledgerAnchors))
					.catch(() => undefined)
			);
		}
	}

	private async writeAll(): Promise<void> {
		try {
			while (this.unsaved) {
				const v = this.unsaved;
				this.unsaved = null;
				await this.write(v).catch((e) => console.error('The session could not be stored:', e));
			}
		} finally {
			this.writing = null;
		}
	}

	private async write(v: DriverView): Promise<void> {
		const ctx = this.ctx!;
		const link = this.rawLink!;
		const snapshot = toSnapshot(v, this.runtime!.acceptedTariff ?? v.status!.tariff);
		if (!snapshot) return;
		const r = v.readings;
		const record: ReceiptRecord<DriverSnapshot> = {
			sessionId: link.sessionId,
			stationId: link.stationId,
			stationName: v.status?.name ?? link.stationId,
			startedAt: this.startedAt,
			updatedAt: Date.now(),
			energyWh: r.length > 0 ? r[r.length - 1]!.energyWh - r[0]!.energyWh : 0,
			paidMsat: v.paidMsat.toString(),
			feesMsat: v.feesMsat.toString(),
			link,
			ledger: this.ledger,
			snapshot,
			ledgerAnchors: this.ledgerAnchors
		};
		await saveReceipt(ctx.db, record);
	}
}

/** Reads the session's anchors from the ledger into its stored record (for the receipt's proofs). */
export async function fetchLedgerAnchors(
	ctx: WalletContext,
	sessionId: string
): Promise<ReceiptRecord<DriverSnapshot> | undefined> {
	const record = await getReceipt<DriverSnapshot>(ctx.db, sessionId);
	if (!record?.ledger) return record;
	// Only a ledger of a network this wallet still trusts is asked.
	const network = trustedNetworks(ctx).find(
		(n) =>
			n.chainId === record.ledger!.chainId &&
			n.registry.toLowerCase() === record.ledger!.registry.toLowerCase()
	);
	if (!network) return record;
	const ledger = await connectWalletLedger(ledgerOf(network));
	try {
		const anchors = await ledger.getAnchors(record.stationId, sessionId);
		const next: ReceiptRecord<DriverSnapshot> = {
			...record,
			ledgerAnchors: anchors.map(({ anchorIndex, root, fromReading, toReading, txHash }) => ({
				anchorIndex,
				root,
				fromReading,
				toReading,
				txHash
			}))
		};
		await saveReceipt(ctx.db, next);
		return next;
	} finally {
		ledger.close();
	}
}

/** A stable MQTT client id for this phone and session (MQTT 3.1.1 allows 23 characters). */
function walletClientId(sessionId: string): string {
	let device = localStorage.getItem('lightcharge-device');
	if (!device) {
		device = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) =>
			b.toString(16).padStart(2, '0')
		).join('');
		localStorage.setItem('lightcharge-device', device);
	}
	return `lcw-${device}-${sessionId.replace(/[^A-Za-z0-9]/g, '').slice(-12)}`;
}
