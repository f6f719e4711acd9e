// The operator's setup screen state: PIN gate, settings form, station key, meter test read.
// The logic lives in src/lib (settings validation, keystore, meter); this class only wires it.
import {
	loadDevnetManifest,
	hashPin,
	KIOSK_PIN_KEY,
	KIOSK_SETTINGS_KEY,
	parseKioskSettings,
	SettingsError,
	type ChargerSetting,
	type KioskSettings
} from '$lib/config';
import { LndRestNode } from '$lib/lightning';
import {
	IdbKioskStore,
	KIOSK_DB_NAME,
	createStationKey,
	decryptStationKey,
	encryptStationKey,
	exportStationKey,
	importStationKey,
	loadEncryptedStationKey,
	rememberOnDevice,
	STATION_KEY_SETTING,
	type EncryptedStationKey
} from '$lib/storage';
import { defaultIncrement } from '$lib/ui/default-increment';
import { lang } from '$lib/ui/lang.svelte';

const t = lang.t;

export interface SetupForm {
	stationId: string;
	name: string;
	maxPowerW: string;
	brokerUrl: string;
	brokerUser: string;
	brokerPassword: string;
	rpcUrl: string;
	chainId: string;
	registry: string;
	sessions: string;
	reservations: string;
	lndUrl: string;
	macaroonHex: string;
	pricePerKwhSat: string;
	startFeeSat: string;
	incrementWh: string;
	graceWh: string;
	fiatCurrency: string;
	fiatPerBtc: string;
	meterKind: 'simulated' | 'serial';
	profile: string;
	unitId: string;
	baudRate: string;
	meterSerial: string;
	chargerKind: ChargerSetting['kind'];
	smartevseUnitId: string;
	evccTopic: string;
	evccLoadpoint: string;
	walletUrl: string;
}

const EMPTY: SetupForm = {
	stationId: '',
	name: '',
	maxPowerW: '11000',
	brokerUrl: '',
	brokerUser: '',
	brokerPassword: '',
	rpcUrl: '',
	chainId: '1337',
	registry: '',
	sessions: '',
	reservations: '',
	lndUrl: '',
	macaroonHex: '',
	pricePerKwhSat: '250',
	startFeeSat: '0',
	// The least increment under 1 % fee overhead at the default price and power (410 Wh at 250 sat/kWh, 11 kW).
	incrementWh: String(defaultIncrement(250_000, 11_000).incrementWh),
	graceWh: '50',
	fiatCurrency: '',
	fiatPerBtc: '',
	meterKind: 'simulated',
	profile: 'eastron-sdm630',
	unitId: '1',
	baudRate: '9600',
	meterSerial: '',
	chargerKind: 'simulated',
	smartevseUnitId: '2',
	evccTopic: 'evcc',
	evccLoadpoint: '1',
	walletUrl: ''
};

function toForm(s: KioskSettings): SetupForm {
	return {
		stationId: s.stationId,
		name: s.name,
		maxPowerW: String(s.maxPowerW),
		brokerUrl: s.broker.url,
		brokerUser: s.broker.username ?? '',
		brokerPassword: s.broker.password ?? '',
		rpcUrl: s.chain?.rpcUrl ?? '',
		chainId: String(s.chain?.chainId ?? 1337),
		registry: s.chain?.registry ?? '',
		sessions: s.chain?.sessions ?? '',
		reservations: s.chain?.reservations ?? '',
		lndUrl: s.lightning.restUrl,
		macaroonHex: s.lightning.macaroonHex,
		pricePerKwhSat: String(s.tariff.pricePerKwhSat),
		startFeeSat: String(s.tariff.startFeeSat),
		incrementWh: String(s.tariff.incrementWh),
		graceWh: String(s.tariff.graceWh),
		fiatCurrency: s.fiat?.currency ?? '',
		fiatPerBtc: s.fiat ? String(s.fiat.perBtc) : '',
		meterKind: s.meter.kind,
		profile: s.meter.kind === 'serial' ? s.meter.profile : 'eastron-sdm630',
		unitId: s.meter.kind === 'serial' ? String(s.meter.unitId) : '1',
		baudRate: s.meter.kind === 'serial' ? String(s.meter.baudRate) : '9600',
		meterSerial: s.meter.kind === 'serial' ? (s.meter.serial ?? '') : '',
		chargerKind: s.charger.kind,
		smartevseUnitId:
			s.charger.kind === 'smartevse' ? String(s.charger.unitId) : EMPTY.smartevseUnitId,
		evccTopic: s.charger.kind === 'evcc' ? s.charger.topicPrefix : EMPTY.evccTopic,
		evccLoadpoint: s.charger.kind === 'evcc' ? String(s.charger.loadpointId) : EMPTY.evccLoadpoint,
		walletUrl: s.walletUrl
	};
}

function fromForm(f: SetupForm): unknown {
	return {
		stationId: f.stationId.trim(),
		name: f.name,
		maxPowerW: f.maxPowerW,
		broker: {
			url: f.brokerUrl.trim(),
			username: f.brokerUser.trim() || undefined,
			password: f.brokerPassword || undefined
		},
		chain: f.rpcUrl.trim()
			? {
					rpcUrl: f.rpcUrl.trim(),
					chainId: f.chainId,
					registry: f.registry,
					sessions: f.sessions,
					reservations: f.reservations
				}
			: null,
		lightning: { restUrl: f.lndUrl.trim(), macaroonHex: f.macaroonHex },
		tariff: {
			pricePerKwhSat: f.pricePerKwhSat,
			startFeeSat: f.startFeeSat,
			incrementWh: f.incrementWh,
			graceWh: f.graceWh
		},
		fiat: f.fiatCurrency.trim() ? { currency: f.fiatCurrency, perBtc: f.fiatPerBtc } : null,
		meter:
			f.meterKind === 'serial'
				? {
						kind: 'serial',
						profile: f.profile,
						unitId: f.unitId,
						baudRate: f.baudRate,
						serial: f.meterSerial || undefined
					}
				: { kind: 'simulated' },
		charger:
			f.chargerKind === 'smartevse'
				? { kind: 'smartevse', unitId: f.smartevseUnitId }
				: f.chargerKind === 'evcc'
					? { kind: 'evcc', topicPrefix: f.evccTopic, loadpointId: f.evccLoadpoint }
					: { kind: f.chargerKind },
		walletUrl: f.walletUrl.trim()
	};
}

export class SetupState {
	locked = $state(true);
	hasPin = $state(false);
	ready = $state(false);
	form = $state<SetupForm>({ ...EMPTY });
	message = $state<{ kind: 'good' | 'bad'; text: string; field?: string } | null>(null);
	key = $state<EncryptedStationKey | null>(null);
	keyUnlocked = $state(false);
	busy = $state<string | null>(null);
	testRead = $state<{ ok: boolean; text: string } | null>(null);
	lightningTest = $state<{ ok: boolean; text: string } | null>(null);
	portName = $state<string | null>(null);
	saved = $state(false);
	private store: IdbKioskStore | null = null;
	private pin: { salt: string; hash: string } | null = null;

	async load(url: URL): Promise<void> {
		this.store = await IdbKioskStore.open(url.searchParams.get('db') ?? KIOSK_DB_NAME);
		this.pin = await this.store.getSetting<{ salt: string; hash: string }>(KIOSK_PIN_KEY);
		this.hasPin = this.pin !== null;
		const saved = await this.store.getSetting<unknown>(KIOSK_SETTINGS_KEY);
		if (saved) {
			try {
				this.form = toForm(parseKioskSettings(saved));
				this.saved = true;
			} catch (e) {
				this.message = { kind: 'bad', text: t('setup.unusable', { error: (e as Error).message }) };
			}
		}
		this.key = await loadEncryptedStationKey(this.store).catch(() => null);
		this.ready = true;
	}

	/** A charger that cannot work with the new meter (simulated needs the simulated car, SmartEVSE the RS-485 bus) becomes manual. */
	chooseMeter(kind: SetupForm['meterKind']): void {
		this.form.meterKind = kind;
		const fits =
			this.form.chargerKind === 'simulated'
				? kind === 'simulated'
				: this.form.chargerKind === 'smartevse'
					? kind === 'serial'
					: true;
		if (!fits) this.form.chargerKind = 'manual';
	}

	/** First visit: choose the PIN. Later: enter it. */
	async enterPin(pin: string): Promise<void> {
		this.message = null;
		try {
			if (!this.pin) {
				const salt = crypto.randomUUID();
				this.pin = { salt, hash: hashPin(pin, salt) };
				await this.store!.putSetting(KIOSK_PIN_KEY, this.pin);
				this.hasPin = true;
				this.locked = false;
				return;
			}
			if (hashPin(pin, this.pin.salt) !== this.pin.hash) throw new Error('Wrong PIN.');
			this.locked = false;
		} catch (e) {
			this.message = { kind: 'bad', text: (e as Error).message };
		}
	}

	/** Fills broker, chain, Lightning and wallet from the devnet this kiosk is served by. */
	async fillFromDevnet(): Promise<void> {
		try {
			const m = await loadDevnetManifest();
			const st = m.stations[0];
			const node = st ? m.lightning.nodes[st.lightningNode] : undefined;
			this.form = {
				...this.form,
				stationId: st?.stationId ?? this.form.stationId,
				name: st?.name ?? this.form.name,
				brokerUrl: m.broker.wsUrl,
				rpcUrl: m.chain.rpcUrl,
				chainId: String(m.chain.chainId),
				registry: m.chain.contracts.registry,
				sessions: m.chain.contracts.sessions,
				reservations: m.chain.contracts.reservations,
				lndUrl: node?.restUrl ?? '',
				macaroonHex: node?.macaroonHex ?? '',
				walletUrl: m.wallet.url
			};
			this.message = { kind: 'good', text: t('setup.filled') };
		} catch (e) {
			this.message = { kind: 'bad', text: (e as Error).message };
		}
	}

	async save(): Promise<boolean> {
		this.message = null;
		try {
			const settings = parseKioskSettings(fromForm(this.form));
			if (!this.key) throw new SettingsError('Station key', t('setup.keyFirst'));
			if (this.key.stationId !== settings.stationId)
				throw new SettingsError(
					'Station key',
					t('setup.keyOther', { keyStation: this.key.stationId, station: settings.stationId })
				);
			await this.store!.putSetting(KIOSK_SETTINGS_KEY, settings);
			this.saved = true;
			this.message = { kind: 'good', text: t('setup.saved') };
			return true;
		} catch (e) {
			this.message = {
				kind: 'bad',
				text: (e as Error).message,
				field: e instanceof SettingsError ? e.field : undefined
			};
			return false;
		}
	}

	async forgetSettings(): Promise<void> {
		await this.store!.deleteSetting(KIOSK_SETTINGS_KEY);
		this.saved = false;
		this.message = { kind: 'good', text: t('setup.removed') };
	}

	private async withBusy(what: string, job: () => Promise<void>): Promise<void> {
		this.busy = what;
		this.message = null;
		try {
			await job();
		} catch (e) {
			this.message = { kind: 'bad', text: (e as Error).message };
		} finally {
			this.busy = null;
		}
	}

	createKey(passphrase: string, confirm: string): Promise<void> {
		return this.withBusy(t('setup.busyCreate'), async () => {
			if (passphrase !== confirm) throw new Error(t('setup.differ'));
			if (!this.form.stationId.trim()) throw new Error(t('setup.stationIdFirst'));
			const { privateKeyHex, encrypted } = await createStationKey(
				this.store!,
				this.form.stationId.trim(),
				passphrase
			);
			await rememberOnDevice(this.store!, privateKeyHex);
			this.key = encrypted;
			this.keyUnlocked = true;
			this.message = { kind: 'good', text: t('setup.keyCreated', { address: encrypted.address }) };
		});
	}

	/** Devnet: keep the manifest's key, encrypted like any other (the devnet already registered it). */
	useDevnetKey(passphrase: string): Promise<void> {
		return this.withBusy(t('setup.busyDevnetKey'), async () => {
			const m = await loadDevnetManifest();
			const st =
				m.stations.find((s) => s.stationId === this.form.stationId.trim()) ?? m.stations[0];
			if (!st) throw new Error(t('setup.noDevnetStation'));
			const encrypted = await encryptStationKey(st.stationId, st.signingKeyHex, passphrase);
			await this.store!.putSetting(STATION_KEY_SETTING, encrypted);
			await rememberOnDevice(this.store!, st.signingKeyHex);
			this.key = encrypted;
			this.keyUnlocked = true;
			this.message = {
				kind: 'good',
				text: t('setup.usingDevnetKey', { station: st.stationId, address: encrypted.address })
			};
		});
	}

	unlock(passphrase: string): Promise<void> {
		return this.withBusy(t('setup.busyUnlock'), async () => {
			if (!this.key) throw new Error(t('setup.noKeyYet'));
			const hex = await decryptStationKey(this.key, passphrase);
			await rememberOnDevice(this.store!, hex);
			this.keyUnlocked = true;
			this.message = { kind: 'good', text: t('setup.unlocked') };
		});
	}

	importKey(fileText: string, passphrase: string): Promise<void> {
		return this.withBusy(t('setup.busyImport'), async () => {
			const enc = await importStationKey(this.store!, fileText, passphrase);
			await rememberOnDevice(this.store!, await decryptStationKey(enc, passphrase));
			this.key = enc;
			this.keyUnlocked = true;
			if (!this.form.stationId) this.form.stationId = enc.stationId;
			this.message = {
				kind: 'good',
				text: t('setup.imported', { station: enc.stationId, address: enc.address })
			};
		});
	}

	backupFile(): { name: string; text: string } | null {
		return this.key
			? { name: `lightcharge-${this.key.stationId}-key.json`, text: exportStationKey(this.key) }
			: null;
	}

	choosePort(): Promise<void> {
		return this.withBusy(t('setup.busyPort'), async () => {
			const { requestSerialPort } = await import('$lib/meter');
			const port = await requestSerialPort();
			const info = (
				port as { getInfo?: () => { usbVendorId?: number; usbProductId?: number } }
			).getInfo?.();
			this.portName = info?.usbVendorId
				? `USB ${info.usbVendorId.toString(16)}:${(info.usbProductId ?? 0).toString(16)}`
				: 'serial port';
		});
	}

	/** Opens the granted port with the chosen profile, reads once, and closes it again. */
	testMeter(): Promise<void> {
		return this.withBusy(t('setup.busyMeter'), async () => {
			this.testRead = null;
			const { webSerial, openSerialMeter } = await import('$lib/meter');
			const serial = webSerial();
			if (!serial) throw new Error('This browser has no Web Serial (use Chrome or Edge).');
			const [port] = await serial.getPorts();
			if (!port) throw new Error(t('setup.portFirst'));
			try {
				const m = await openSerialMeter(port, {
					profile: this.form.profile,
					unitId: Number(this.form.unitId),
					serial: this.form.meterSerial || undefined,
					line: { baudRate: Number(this.form.baudRate) }
				});
				try {
					const s = await m.meter.read();
					const id = m.meter.identity;
					this.testRead = {
						ok: true,
						text: `${id.vendor} ${id.model} serial ${id.serial}: ${(s.energyWh / 1000).toFixed(3)} kWh, ${(s.powerW / 1000).toFixed(2)} kW, ${s.voltageV} V`
					};
				} finally {
					await m.close();
				}
			} catch (e) {
				this.testRead = { ok: false, text: (e as Error).message };
			}
		});
	}

	testLightning(): Promise<void> {
		return this.withBusy(t('setup.busyLightning'), async () => {
			this.lightningTest = null;
			try {
				const info = await new LndRestNode({
					restUrl: this.form.lndUrl.trim(),
					macaroonHex: this.form.macaroonHex.trim()
				}).getInfo();
				this.lightningTest = {
					ok: true,
					text: `${info.alias || 'node'} ${info.pubkey.slice(0, 16)}… on ${info.network}`
				};
			} catch (e) {
				this.lightningTest = { ok: false, text: (e as Error).message };
			}
		});
	}
}
