// The kiosk's reactive state: one StationRuntime wired to the operator's settings (setup screen)
// or, when none are saved, to the devnet's manifest (one click on a devnet). Sessions, the outbox
// and ledger jobs live in IndexedDB, so a reload resumes the running session. Components only read
// from here.
import {
	EvccCharger,
	ManualCharger,
	SimulatedCharger,
	SmartEvseCharger,
	type Charger
} from '$lib/charger';
import {
	loadDevnetManifest,
	queryNumber,
	networkFingerprint,
	KIOSK_SETTINGS_KEY,
	parseKioskSettings,
	tariffOf,
	type ChargerSetting,
	type KioskSettings,
	type MeterSetting,
	type DevnetManifest
} from '$lib/config';
import { fiat } from '$lib/format';
import { lang } from '$lib/ui/lang.svelte';
import { LndRestNode, waitUntilReady } from '$lib/lightning';
import { SimulatedMeter, type ModbusRtuMaster, type Meter } from '$lib/meter';
import { connectBus, type BusState, type MessageBus } from '$lib/mqtt';
import {
	ethereumAddressOf,
	ocmfPublicKeyHex,
	encodeSessionLink,
	statusTopic,
	type Tariff
} from '$lib/protocol';
import {
	DEFAULT_TARIFF,
	costSoFarMsat,
	deliveredWh,
	paidMsat,
	unpaid,
	loadStationSnapshot,
	StationRuntime,
	type StationView,
	offlineStatusPayload,
	type KioskStore
} from '$lib/session';
import { IdbKioskStore, KIOSK_DB_NAME, rememberOnDevice, unlockOnDevice } from '$lib/storage';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { qrSvg } from '$lib/ui/qr';
import { defaultIncrement, limitsFromQuery } from '$lib/ui/default-increment';

/** Everything the kiosk needs to run, from the setup screen or from the devnet manifest. */
interface KioskConfig {
	source: 'settings' | 'devnet';
	stationId: string;
	name: string;
	signingKeyHex: string;
	maxPowerW: number;
	tariff: Tariff;
	broker: { url: string; username?: string; password?: string; protocolVersion?: 4 | 5 };
	lightning: { restUrl: string; macaroonHex: string };
	chain: {
		rpcUrl: string;
		chainId: number;
		contracts: { registry: string; sessions: string; reservations: string };
	} | null;
	/** The ledger network the session links name (its 8-hex id); null when the kiosk knows no registry. */
	networkId: string | null;
	walletUrl: string;
	meter: MeterSetting;
	charger: ChargerSetting;
	fiat: KioskSettings['fiat'];
	meterSpeed: number;
}

export class KioskState {
	view = $state<StationView | null>(null);
	setupError = $state<string | null>(null);
	busState = $state<BusState>('connecting');
	starting = $state(true);
	/** What the start is waiting for (the Lightning node starting or syncing), or null. */
	waitingFor = $state<string | null>(null);
	sessionQr = $state('');
	invoiceQr = $state('');
	receiptQr = $state('');
	receiptText = $state('');
	sessionLink = $state('');
	stationName = $state('');
	source = $state<'settings' | 'devnet'>('devnet');
	fiat = $state<KioskSettings['fiat']>(null);
	/** Recent meter power, for the live chart. */
	powerPoints = $state<{ t: number; y: number }[]>([]);
	log = $state<string[]>([]);
	/** With the manual charger: what the driver must do now (plug in, unplug), shown large. */
	driverInstruction = $state<string | null>(null);

	private runtime: StationRuntime | null = null;
	private bus: MessageBus | null = null;
	private config: KioskConfig | null = null;
	private qrFor = { session: '', invoice: '', receipt: '' };
	private nextSessionTimer: ReturnType<typeof setTimeout> | null = null;
	private settledPauseMs = 15_000;
	private lastPowerAt = 0;

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
		return this.view ? (unpaid(this.view.session).at(-1) ?? null) : null;
	}
	/** The operator's fiat rate applied to `msat` in the screen's language; null without a rate. */
	fiatText(msat: bigint): string | null {
		return fiat(msat, this.fiat, lang.locale) || null;
	}

	async start(url: URL): Promise<void> {
		try {
			const q = url.searchParams;
			const store = await IdbKioskStore.open(q.get('db') ?? KIOSK_DB_NAME);
			const config = (this.config = await loadConfig(
				store,
				q,
				(sentence) => (this.waitingFor = sentence)
			));
			this.waitingFor = null;
			if (!config.networkId)
				throw new Error(
					'No ledger is configured (Setup → Chain): a wallet checks every station on its network’s registry, so no wallet could pay this one.'
				);
			this.source = config.source;
			this.fiat = config.fiat;
			this.settledPauseMs = queryNumber(q, 'settledPauseMs', this.settledPauseMs);
			this.stationName = config.name;
			// The ledger client is the kiosk's largest download (ethers) and nothing before the runtime
			// needs it: fetched and connected while the node, the meter and the broker come up, not after
			// them (on a station's slow link that was about a second more before "Scan to charge").
			// Awaited below, so a wrong or unreachable chain still stops the start with its sentence.
			const chain = config.chain;
			const ledgerReady = chain
				? import('$lib/ledger/station-ledger').then(({ createStationLedger }) =>
						createStationLedger({
							rpcUrl: chain.rpcUrl,
							chainId: chain.chainId,
							addresses: chain.contracts,
							stationId: config.stationId,
							signerKey: config.signingKeyHex
						})
					)
				: Promise.resolve(undefined);
			ledgerReady.catch(() => undefined); // its failure is reported where it is awaited
			const signingKey = ocmfPublicKeyHex(config.signingKeyHex);
			const signerAddress = ethereumAddressOf(signingKey);
			// One identity for the runtime and its last will, so the "offline" status is signed as the others are.
			const identity = {
				stationId: config.stationId,
				name: config.name,
				signingKeyHex: config.signingKeyHex,
				signingKey,
				signerAddress,
				maxPowerW: config.maxPowerW
			};
			const lightning = new LndRestNode({
				restUrl: config.lightning.restUrl,
				macaroonHex: config.lightning.macaroonHex
			});
			// A node still starting or syncing is waited for (and said so), not a failed start.
			const nodeInfo = await waitUntilReady(lightning, {
				onWaiting: (sentence) => (this.waitingFor = sentence)
			});
			this.waitingFor = null;
			const opened = await openMeter(config, store);
			this.bus = await connectBus(config.broker.url, {
				protocolVersion: config.broker.protocolVersion,
				username: config.broker.username,
				password: config.broker.password,
				clientId: `kiosk-${config.stationId}-${Math.random().toString(16).slice(2, 8)}`,
				will: {
					topic: statusTopic(config.stationId),
					retain: true,
					// The runtime's own status message with state offline, signed the same way.
					payload: offlineStatusPayload({
						identity,
						tariff: config.tariff,
						lightningPubkey: nodeInfo.pubkey,
						network: nodeInfo.network,
						at: Date.now()
					})
				}
			});
			this.bus.onState((s) => (this.busState = s));
			this.busState = this.bus.state;
			const charger = await openCharger(config.charger, opened, this.bus);
			if (charger instanceof ManualCharger)
				charger.onInstruction((i) => (this.driverInstruction = i.message));
			const ledger = await ledgerReady;
			this.runtime = new StationRuntime({
				identity,
				tariff: config.tariff,
				meter: opened.meter,
				charger,
				lightning,
				bus: this.bus,
				ledger,
				store,
				pollMs: queryNumber(q, 'pollMs', 1000),
				anchorIntervalMs: queryNumber(q, 'anchorMs', 60_000),
				// The longest the charger runs without a meter reading (default 5 s, or three polls).
				maxMeterGapMs: q.has('meterGapMs') ? queryNumber(q, 'meterGapMs', 5000) : undefined,
				maxPlausiblePowerW: config.maxPowerW * config.meterSpeed * 1.5,
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
		const sample = v.lastSample;
		if (sample && sample.at !== this.lastPowerAt) {
			this.lastPowerAt = sample.at;
			this.powerPoints = [
				...this.powerPoints.slice(-119),
				{ t: sample.at, y: sample.powerW / 1000 }
			];
		}
		const c = this.config;
		if (c && s.sessionId && s.joinSecret && c.networkId) {
			// Only what the wallet cannot know: which of its networks, station, session, the one-time secret.
			const link = encodeSessionLink(c.walletUrl, {
				v: 2,
				network: c.networkId,
				stationId: s.stationId,
				sessionId: s.sessionId,
				secret: s.joinSecret
			});
			if (link !== this.qrFor.session) {
				this.qrFor.session = link;
				this.sessionLink = link;
				void qrSvg(link, 'M').then((svg) => (this.sessionQr = svg));
			}
		}
		const bolt11 = unpaid(s).at(-1)?.bolt11 ?? '';
		if (bolt11 !== this.qrFor.invoice) {
			this.qrFor.invoice = bolt11;
			// Upper case puts BOLT11 in the QR code's dense alphanumeric mode; every wallet reads it.
			if (bolt11) void qrSvg(bolt11.toUpperCase(), 'L').then((svg) => (this.invoiceQr = svg));
			else this.invoiceQr = '';
		}
		if (s.phase === 'settled') {
			const receipt = JSON.stringify({
				v: 1,
				type: 'lightcharge-receipt',
				stationId: s.stationId,
				sessionId: s.sessionId,
				energyWh: deliveredWh(s),
				paidMsat: paidMsat(s).toString(),
				payments: s.increments.length,
				readings: `${s.first?.seq ?? 0}-${s.last?.seq ?? 0}`,
				...(c?.chain && { chainId: c.chain.chainId, sessions: c.chain.contracts.sessions }),
				...(v.closeTx && { closeTx: v.closeTx })
			});
			if (receipt !== this.qrFor.receipt) {
				this.qrFor.receipt = receipt;
				this.receiptText = receipt;
				void qrSvg(receipt, 'M').then((svg) => (this.receiptQr = svg));
			}
		}
		if (s.phase === 'settled' && s.closed && !this.nextSessionTimer) {
			this.nextSessionTimer = setTimeout(() => {
				this.nextSessionTimer = null;
				this.powerPoints = [];
				void this.runtime?.offerNewSession();
			}, this.settledPauseMs);
		}
	}

	stopSession(): void {
		this.runtime?.requestStop('operator');
	}

	acknowledgeAlarm(): void {
		this.runtime?.clearAlarm();
	}
}

/** The operator's saved settings, or the devnet's manifest when there are none. */
/**
 * A kiosk on the LAN is served no station key: it makes its own (kept on this device, as in
 * production) and asks the devnet to enrol it; the operator confirms the one-time code it shows at
 * the devnet's terminal, and the devnet registers the key on the ledger. Resolves with the manifest
 * that names this kiosk's own station and node.
 */
async function enrolOnDevnet(
	store: KioskStore,
	first: DevnetManifest,
	onWaiting: (sentence: string) => void
): Promise<{ manifest: DevnetManifest; key: string }> {
	let key = await unlockOnDevice(store);
	if (!key) {
		key = bytesToHex(secp256k1.utils.randomSecretKey());
		await rememberOnDevice(store, key);
	}
	const signerAddress = ethereumAddressOf(ocmfPublicKeyHex(key));
	let manifest = first;
	for (;;) {
		const e = manifest.enrolment;
		if (e?.state === 'enrolled') {
			const station = manifest.stations.find((s) => s.stationId === e.stationId);
			if (!station)
				throw new Error(
					`The devnet says this kiosk is ${e.stationId} but does not list that station.`
				);
			if (station.signerAddress.toLowerCase() !== signerAddress.toLowerCase()) {
				throw new Error(
					`This kiosk was enrolled as ${e.stationId} with another station key than the one it holds now; clear this site's data on the tablet to enrol it again.`
				);
			}
			return {
				manifest: {
					...manifest,
					stations: [station, ...manifest.stations.filter((s) => s !== station)]
				},
				key
			};
		}
		let code = e?.state === 'pending' ? e.code : null;
		if (code === null) {
			const res = await fetch('/devnet/enrol', {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ signerAddress, name: 'Kiosk on the LAN' }),
				cache: 'no-store'
			});
			const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
			if (!res.ok || !body.code)
				throw new Error(
					`This kiosk could not ask the devnet to enrol it: ${body.message ?? `the devnet answered ${res.status}`}`
				);
			code = body.code;
		}
		onWaiting(
			`Enrolment code ${code}. This kiosk made its own station key; ask the operator to type "enrol ${code}" at the devnet's terminal to register it.`
		);
		await new Promise((r) => setTimeout(r, 1000));
		manifest = await loadDevnetManifest();
	}
}

async function loadConfig(
	store: KioskStore,
	q: URLSearchParams,
	onWaiting: (sentence: string) => void
): Promise<KioskConfig> {
	const saved = await store.getSetting<unknown>(KIOSK_SETTINGS_KEY);
	if (saved !== null && q.get('devnet') !== '1') {
		let settings: KioskSettings;
		try {
			settings = parseKioskSettings(saved);
		} catch (e) {
			throw new Error(
				`The saved settings are not usable (${(e as Error).message}). Open Setup to fix them.`
			);
		}
		const key = await unlockOnDevice(store);
		if (!key)
			throw new Error(
				'The station key is locked. Open Setup and unlock it with the operator passphrase.'
			);
		return {
			source: 'settings',
			stationId: settings.stationId,
			name: settings.name,
			signingKeyHex: key,
			maxPowerW: settings.maxPowerW,
			tariff: tariffOf(settings.tariff),
			broker: settings.broker,
			lightning: settings.lightning,
			chain: settings.chain && {
				rpcUrl: settings.chain.rpcUrl,
				chainId: settings.chain.chainId,
				contracts: settings.chain
			},
			networkId: settings.chain
				? networkFingerprint(settings.chain.chainId, settings.chain.registry).slice(0, 8)
				: null,
			walletUrl: settings.walletUrl,
			meter: settings.meter,
			charger: settings.charger,
			fiat: settings.fiat,
			meterSpeed: 1
		};
	}
	let manifest = await loadDevnetManifest();
	let signingKeyHex = manifest.stations[0]?.signingKeyHex ?? '';
	if (signingKeyHex === '' && manifest.enrolment)
		({ manifest, key: signingKeyHex } = await enrolOnDevnet(store, manifest, onWaiting));
	const station = manifest.stations[0];
	if (!station) throw new Error('The devnet manifest lists no station.');
	if (signingKeyHex === '')
		throw new Error(
			'The devnet served no station key to this device and offers no enrolment: open the kiosk on the devnet machine, or use Setup.'
		);
	const node = manifest.lightning.nodes[station.lightningNode];
	if (!node) throw new Error(`The devnet has no Lightning node "${station.lightningNode}".`);
	const maxPowerW = queryNumber(q, 'powerW', 11_000);
	const fiatRate = q.get('fiatPerBtc');
	const pricePerKwhMsat = queryNumber(q, 'pricePerKwhMsat', Number(DEFAULT_TARIFF.pricePerKwhMsat));
	// No increment named: the least one under 1 % fee overhead at this price and power, within the
	// station's limits (?minIncrementWh, ?maxIncrementWh). The demo tuning names its own (20 Wh).
	const chosen = defaultIncrement(pricePerKwhMsat, maxPowerW, limitsFromQuery(q));
	return {
		source: 'devnet',
		stationId: station.stationId,
		name: station.name,
		signingKeyHex,
		maxPowerW,
		tariff: {
			...DEFAULT_TARIFF,
			incrementWh: queryNumber(q, 'incrementWh', chosen.incrementWh),
			graceWh: queryNumber(q, 'graceWh', DEFAULT_TARIFF.graceWh),
			pricePerKwhMsat: String(pricePerKwhMsat),
			startFeeMsat: String(queryNumber(q, 'startFeeMsat', 0) || 0)
		},
		// A test may point the kiosk at a broker it can stop and start (?broker=ws://…&brokerVersion=4).
		broker: q.get('broker')
			? { url: q.get('broker')!, protocolVersion: q.get('brokerVersion') === '5' ? 5 : 4 }
			: {
					url: manifest.broker.wsUrl,
					protocolVersion: manifest.broker.protocolVersion,
					// --secure-broker: the station's own login, served by the devnet to this kiosk only.
					...(manifest.broker.login && {
						username: manifest.broker.login.username,
						password: manifest.broker.login.password
					})
				},
		lightning: node,
		// ?ledger=off: sessions are not anchored, but the links still name the devnet's network.
		chain: q.get('ledger') === 'off' ? null : manifest.chain,
		networkId: networkFingerprint(manifest.chain.chainId, manifest.chain.contracts.registry).slice(
			0,
			8
		),
		walletUrl:
			location.protocol === 'https:' && manifest.wallet.httpsUrl
				? manifest.wallet.httpsUrl
				: manifest.wallet.url,
		meter: { kind: 'simulated', maxPowerW },
		charger: { kind: 'simulated' },
		fiat: fiatRate ? { currency: q.get('fiat') ?? 'EUR', perBtc: Number(fiatRate) } : null,
		meterSpeed: queryNumber(q, 'meterSpeed', 1)
	};
}

/** The simulated car (its register continues from a resumed session) or the meter on the granted serial port. */
async function openMeter(c: KioskConfig, store: KioskStore): Promise<OpenedMeter> {
	if (c.meter.kind === 'simulated') {
		// The simulated meter stands for hardware: its register outlives the page, as a real meter's
		// does, so a reload never sees the energy go backwards (which the meter guard would refuse).
		const registerKey = `lightcharge-sim-register-${c.stationId}`;
		const snapshot = await loadStationSnapshot(store, c.stationId);
		const saved = Number(localStorage.getItem(registerKey) ?? NaN);
		const candidates = [
			snapshot?.session.last?.energyWh,
			Number.isFinite(saved) ? saved : undefined
		].filter((x): x is number => x !== undefined);
		const startWh = candidates.length ? Math.max(...candidates) : undefined;
		const car = new SimulatedMeter({
			maxPowerW: c.meter.maxPowerW,
			wantedWh: 40_000,
			speed: c.meterSpeed,
			...(startWh !== undefined && { startWh })
		});
		const meter: Meter = {
			identity: car.identity,
			async read() {
				const sample = await car.read();
				localStorage.setItem(registerKey, String(sample.energyWh));
				return sample;
			}
		};
		return { meter, car };
	}
	const { webSerial, openSerialMeter } = await import('$lib/meter');
	const serial = webSerial();
	if (!serial)
		throw new Error(
			'This browser has no Web Serial: use Chrome or Edge on a PC, or Chrome on Android with a USB-RS485 adapter.'
		);
	const [port] = await serial.getPorts();
	if (!port)
		throw new Error(
			'No serial port is granted to the kiosk yet. Open Setup and choose the meter’s USB-RS485 adapter.'
		);
	const opened = await openSerialMeter(port, {
		profile: c.meter.profile,
		unitId: c.meter.unitId,
		serial: c.meter.serial,
		line: { baudRate: c.meter.baudRate }
	});
	return { meter: opened.meter, master: opened.master };
}

/** The meter as opened, with what a charger may need from it: the simulated car, or the RS-485 bus master. */
interface OpenedMeter {
	meter: Meter;
	car?: SimulatedMeter;
	master?: ModbusRtuMaster;
}

/** The operator's charger (settings already checked it fits the meter); confirmSuspended in the runtime watches the meter for obedience. */
async function openCharger(
	setting: ChargerSetting,
	opened: OpenedMeter,
	bus: MessageBus
): Promise<Charger> {
	switch (setting.kind) {
		case 'simulated':
			if (!opened.car)
				throw new Error(
					'The simulated charger needs the simulated meter. Open Setup and choose another charger.'
				);
			return new SimulatedCharger(opened.car);
		case 'smartevse':
			// Same RS-485 bus, same master: its requests are serialised with the meter's polls.
			if (!opened.master)
				throw new Error(
					'SmartEVSE is reached over the meter’s RS-485 bus. Open Setup and choose the meter on RS-485.'
				);
			return new SmartEvseCharger(opened.master, { unitId: setting.unitId });
		case 'evcc': {
			const charger = new EvccCharger(bus, {
				topic: setting.topicPrefix,
				loadpoint: setting.loadpointId
			});
			await charger.start();
			return charger;
		}
		case 'manual':
			// No charger to switch: the kiosk tells the driver; the meter confirms they obeyed.
			return new ManualCharger();
	}
}
