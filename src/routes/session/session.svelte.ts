// The wallet's reactive state for one session: a DriverRuntime wired to the driver's Lightning
// node, the broker named in the session link and the ledger. Components only read from here.
import { loadDevnetManifest } from '$lib/config/app-config';
import { LndRestNode } from '$lib/lightning/lnd-rest';
import { connectBus, type BusState, type MessageBus } from '$lib/mqtt/bus';
import { decodeSessionLink } from '$lib/protocol/session-link';
import type { SessionLink } from '$lib/protocol/types';
import { DriverRuntime, type DriverView } from '$lib/session/driver-runtime';
import { IdbJournal, openWalletDb, saveReceipt, type WalletDb } from '$lib/storage/wallet-db';

export class WalletSession {
	view = $state<DriverView | null>(null);
	link = $state<SessionLink | null>(null);
	error = $state<string | null>(null);
	busState = $state<BusState>('connecting');
	loading = $state(true);
	joining = $state(false);

	private runtime: DriverRuntime | null = null;
	private bus: MessageBus | null = null;
	private db: WalletDb | null = null;
	private startedAt = Date.now();

	get energyWh(): number {
		const r = this.view?.readings;
		return r && r.length > 0 ? r[r.length - 1]!.energyWh - r[0]!.energyWh : 0;
	}
	get powerW(): number {
		const r = this.view?.readings;
		if (!r || r.length < 2) return 0;
		const a = r[r.length - 2]!, b = r[r.length - 1]!;
		return b.at > a.at ? ((b.energyWh - a.energyWh) * 3_600_000) / (b.at - a.at) : 0;
	}
	get costMsat(): bigint {
		const t = this.view?.status?.tariff;
		if (!t) return 0n;
		return (BigInt(this.energyWh) * BigInt(t.pricePerKwhMsat)) / 1000n + (this.energyWh > 0 ? BigInt(t.startFeeMsat) : 0n);
	}

	async start(fragment: string): Promise<void> {
		try {
			const link = (this.link = decodeSessionLink(fragment));
			const manifest = await loadDevnetManifest();
			const node = manifest.lightning.nodes['vehicle-1'];
			if (!node) throw new Error('No Lightning node is configured for this wallet.');
			this.db = await openWalletDb();
			const journal = await IdbJournal.open(this.db);
			this.bus = await connectBus(link.broker, {
				protocolVersion: link.broker === manifest.broker.wsUrl ? manifest.broker.protocolVersion : undefined
			});
			this.bus.onState((s) => (this.busState = s));
			this.busState = this.bus.state;
			const rpc = link.rpc ?? manifest.chain.rpcUrl;
			this.runtime = new DriverRuntime({
				link,
				bus: this.bus,
				lightning: new LndRestNode({ restUrl: node.restUrl, macaroonHex: node.macaroonHex }),
				journal,
				checkIdentity: async (status) => {
					const { checkStationIdentity } = await import('$lib/ledger/station-identity');
					return checkStationIdentity({ rpcUrl: rpc, chainId: link.chainId, registry: link.registry, status });
				},
				feeLimitMsat: 20_000n
			});
			this.runtime.subscribe((v) => {
				this.view = v;
				void this.persist(v);
			});
			await this.runtime.start();
		} catch (e) {
			this.error = (e as Error).message;
		} finally {
			this.loading = false;
		}
	}

	async join(budgetSat: number): Promise<void> {
		if (!this.runtime) return;
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

	private async persist(v: DriverView): Promise<void> {
		if (!this.db || !this.link || v.readings.length === 0) return;
		await saveReceipt(this.db, {
			sessionId: this.link.sessionId,
			stationId: this.link.stationId,
			stationName: v.status?.name ?? this.link.stationId,
			startedAt: this.startedAt,
			updatedAt: Date.now(),
			energyWh: this.energyWh,
			paidMsat: v.paidMsat.toString(),
			feesMsat: v.feesMsat.toString(),
			evidence: {
				status: v.status,
				readings: v.readings.map((r) => r.ocmf),
				invoices: v.invoices.map((i) => ({ ...i, amountMsat: i.amountMsat.toString(), feeMsat: i.feeMsat?.toString() })),
				events: v.events
			}
		}).catch(() => undefined);
	}
}
