// The kiosk's reactive state: one StationRuntime wired to the devnet's (or the operator's)
// meter, charger, Lightning node, broker and ledger. Components only read from here.
import { SimulatedCharger } from '$lib/charger/simulated';
import { loadDevnetManifest, queryNumber } from '$lib/config/app-config';
import type { DevnetManifest } from '$lib/config/devnet-manifest';
import { LndRestNode } from '$lib/lightning/lnd-rest';
import { SimulatedMeter } from '$lib/meter/simulated';
import { connectBus, type BusState, type MessageBus } from '$lib/mqtt/bus';
import { encodeMessage } from '$lib/protocol/messages';
import { ocmfPublicKeyHex } from '$lib/protocol/ocmf';
import { encodeSessionLink } from '$lib/protocol/session-link';
import { statusTopic } from '$lib/protocol/topics';
import type { Tariff } from '$lib/protocol/types';
import { StationRuntime, type StationView } from '$lib/session/station-runtime';
import { costSoFarMsat, deliveredWh, paidMsat, unpaid } from '$lib/session/station';
import QRCode from 'qrcode';

export const DEFAULT_TARIFF: Tariff = {
	pricePerKwhMsat: '250000',
	startFeeMsat: '0',
	incrementWh: 100,
	graceWh: 50,
	mode: 'stream',
	invoiceExpirySeconds: 600
};

export class KioskState {
	view = $state<StationView | null>(null);
	setupError = $state<string | null>(null);
	busState = $state<BusState>('connecting');
	starting = $state(true);
	sessionQr = $state('');
	invoiceQr = $state('');
	sessionLink = $state('');
	stationName = $state('');
	log = $state<string[]>([]);

	private runtime: StationRuntime | null = null;
	private bus: MessageBus | null = null;
	private manifest: DevnetManifest | null = null;
	private qrFor = { session: '', invoice: '' };
	private nextSessionTimer: ReturnType<typeof setTimeout> | null = null;
	private settledPauseMs = 15_000;

	get phase() {
		return this.view?.session.phase ?? 'idle';
	}
	get energyWh() {
		return this.view ? deliveredWh(this.view.session) : 0;
	}
	get costMsat() {
		return this.view ? costSoFarMsat(this.view.session) : 0n;
	}
	get paidMsat() {
		return this.view ? paidMsat(this.view.session) : 0n;
	}
	get owedMsat() {
		return this.costMsat - this.paidMsat;
	}
	get openInvoice() {
		return this.view ? unpaid(this.view.session).at(-1) ?? null : null;
	}

	async start(url: URL): Promise<void> {
		try {
			const manifest = (this.manifest = await loadDevnetManifest());
			const station = manifest.stations[0];
			if (!station) throw new Error('The devnet manifest lists no station.');
			const node = manifest.lightning.nodes[station.lightningNode];
			if (!node) throw new Error(`The devnet has no Lightning node "${station.lightningNode}".`);
			const q = url.searchParams;
			const tariff: Tariff = {
				...DEFAULT_TARIFF,
				incrementWh: queryNumber(q, 'incrementWh', DEFAULT_TARIFF.incrementWh),
				graceWh: queryNumber(q, 'graceWh', DEFAULT_TARIFF.graceWh),
				pricePerKwhMsat: String(queryNumber(q, 'pricePerKwhMsat', Number(DEFAULT_TARIFF.pricePerKwhMsat)))
			};
			this.settledPauseMs = queryNumber(q, 'settledPauseMs', this.settledPauseMs);
			this.stationName = station.name;
			const maxPowerW = queryNumber(q, 'powerW', 11_000);
			const meter = new SimulatedMeter({ maxPowerW, wantedWh: queryNumber(q, 'wantedWh', 40_000), speed: queryNumber(q, 'meterSpeed', 1) });
			const signingKey = ocmfPublicKeyHex(station.signingKeyHex);
			this.bus = await connectBus(manifest.broker.wsUrl, {
				protocolVersion: manifest.broker.protocolVersion,
				clientId: `kiosk-${station.stationId}-${Math.random().toString(16).slice(2, 8)}`,
				will: {
					topic: statusTopic(station.stationId),
					retain: true,
					payload: encodeMessage({
						v: 1,
						type: 'status',
						stationId: station.stationId,
						name: station.name,
						state: 'offline',
						tariff,
						connectors: [{ id: 1, type: 'Type 2', maxPowerW }],
						signingKey,
						signerAddress: station.signerAddress,
						lightningPubkey: node.pubkey,
						network: 'regtest',
						updatedAt: Date.now()
					})
				}
			});
			this.bus.onState((s) => (this.busState = s));
			this.busState = this.bus.state;
			const { createStationLedger } = await import('$lib/ledger/station-ledger');
			const ledger = await createStationLedger({
				rpcUrl: manifest.chain.rpcUrl,
				chainId: manifest.chain.chainId,
				addresses: manifest.chain.contracts,
				stationId: station.stationId,
				signerKey: station.signingKeyHex
			});
			this.runtime = new StationRuntime({
				identity: {
					stationId: station.stationId,
					name: station.name,
					signingKeyHex: station.signingKeyHex,
					signingKey,
					signerAddress: station.signerAddress,
					maxPowerW
				},
				tariff,
				meter,
				charger: new SimulatedCharger(meter),
				lightning: new LndRestNode({ restUrl: node.restUrl, macaroonHex: node.macaroonHex }),
				bus: this.bus,
				ledger,
				pollMs: queryNumber(q, 'pollMs', 1000),
				anchorIntervalMs: queryNumber(q, 'anchorMs', 60_000),
				onLog: (line) => (this.log = [...this.log.slice(-49), line])
			});
			this.runtime.subscribe((v) => this.onView(v));
			await this.runtime.start();
		} catch (e) {
			this.setupError = (e as Error).message;
		} finally {
			this.starting = false;
		}
	}

	private onView(v: StationView): void {
		this.view = v;
		const s = v.session;
		if (this.manifest && s.sessionId) {
			const walletBase = location.protocol === 'https:' && this.manifest.wallet.httpsUrl ? this.manifest.wallet.httpsUrl : this.manifest.wallet.url;
			const link = encodeSessionLink(walletBase, {
				v: 1,
				stationId: s.stationId,
				sessionId: s.sessionId,
				broker: this.manifest.broker.wsUrl,
				chainId: this.manifest.chain.chainId,
				registry: this.manifest.chain.contracts.registry,
				rpc: this.manifest.chain.rpcUrl
			});
			if (link !== this.qrFor.session) {
				this.qrFor.session = link;
				this.sessionLink = link;
				void QRCode.toString(link, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }).then((svg) => (this.sessionQr = svg));
			}
		}
		const open = unpaid(s).at(-1);
		const bolt11 = open?.bolt11 ?? '';
		if (bolt11 !== this.qrFor.invoice) {
			this.qrFor.invoice = bolt11;
			// Upper case puts BOLT11 in the QR code's dense alphanumeric mode; every wallet reads it.
			if (bolt11) void QRCode.toString(bolt11.toUpperCase(), { type: 'svg', margin: 2, errorCorrectionLevel: 'L' }).then((svg) => (this.invoiceQr = svg));
			else this.invoiceQr = '';
		}
		if (s.phase === 'settled' && s.closed && !this.nextSessionTimer) {
			this.nextSessionTimer = setTimeout(() => {
				this.nextSessionTimer = null;
				void this.runtime?.offerNewSession();
			}, this.settledPauseMs);
		}
	}

	stopSession(): void {
		this.runtime?.requestStop('operator');
	}
}
