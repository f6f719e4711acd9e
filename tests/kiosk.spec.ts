// The station kiosk in Chromium against the devnet (chain, Lightning simnet) with a driver played
// by the test over MQTT (mqtt.js) and a Lightning node of the simnet:
//  - a full session: join, live signed readings, invoices paid, stop, settled with a receipt QR;
//  - the invoice QR in a screenshot decodes (jsqr) to exactly the BOLT11 published over MQTT;
//  - the broker stopped for 30 s mid-session: afterwards the driver holds every reading, in order,
//    with no gap (and no duplicate once deduplicated by seq, as the protocol asks receivers to);
//  - a reload mid-session resumes the same session without counting energy or invoicing twice;
//  - the operator setup screen: PIN, devnet key, a test read from a meter on (fake) Web Serial,
//    settings that then drive the kiosk.
// The kiosk talks to a broker this test runs (aedes, MQTT 3.1.1, as the devnet's), so the test can
// stop and start it; everything else is the devnet's.
import http from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import { Aedes, type Client } from 'aedes';
import jsQR from 'jsqr';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { E2E_PORTS } from '../playwright.config';
import { parseDevnetManifest, type DevnetManifest } from '../src/lib/config';
import { LndRestNode } from '../src/lib/lightning';
import { connectBus, type MessageBus } from '../src/lib/mqtt';
import {
	parseMessage,
	decodeSessionLink,
	ocmfPublicKeyHex,
	ReadingVerifier,
	TOPIC_ROOT,
	type InvoiceMessage,
	type ReadingMessage,
	type SessionEvent
} from '../src/lib/protocol';
import { DriverChannel } from '../src/lib/session';
import { installFakeSerial, kioskWithFakeSerial } from './fakes/web-serial';
import { decodePng } from './kiosk-png';

const WALLET = `http://127.0.0.1:${E2E_PORTS.wallet}`;
const KIOSK = `http://127.0.0.1:${E2E_PORTS.kiosk}`;
const TEST_BROKER_PORT = E2E_PORTS.kiosk + 30;
// Screenshots of every screen (1280×800 and 1920×1080); KIOSK_SHOTS moves them out of test-results.
const SHOTS = process.env.KIOSK_SHOTS ?? 'test-results/kiosk';

/** A broker the test can stop and start; `admit` holds the kiosk back until the driver is subscribed again. */
class TestBroker {
	private server: http.Server | null = null;
	private broker: Aedes | null = null;
	private wss: WebSocketServer | null = null;
	admitKiosk = true;
	private readonly kioskClients = new Set<Client>();
	get url() {
		return `ws://127.0.0.1:${TEST_BROKER_PORT}/mqtt`;
	}
	async start(): Promise<void> {
		const broker = (this.broker = await Aedes.createBroker());
		broker.preConnect = (client, _packet, done) =>
			done(null, this.admitKiosk || !String(client.id).startsWith('kiosk-'));
		broker.on('client', (client) => {
			if (String(client.id).startsWith('kiosk-')) this.kioskClients.add(client);
		});
		broker.on('clientDisconnect', (client) => this.kioskClients.delete(client));
		broker.on('clientError', () => {});
		broker.on('connectionError', () => {});
		const server = (this.server = http.createServer());
		const wss = (this.wss = new WebSocketServer({ server }));
		wss.on('connection', (socket, req) => {
			const stream = createWebSocketStream(socket);
			stream.on('error', () => socket.terminate());
			broker.handle(stream, req);
		});
		await new Promise<void>((resolve) => server.listen(TEST_BROKER_PORT, '127.0.0.1', resolve));
	}
	async stop(): Promise<void> {
		const server = this.server;
		const broker = this.broker;
		this.server = null;
		this.broker = null;
		// The kiosk loses the broker first, and what the broker already acknowledged to it reaches the
		// driver before the broker goes: a broker that dies holding acknowledged messages loses them
		// (CI once lost reading 23 that way), and that is not the outage this test is about.
		if (broker) {
			for (const client of this.kioskClients) client.close();
			this.kioskClients.clear();
			await new Promise((r) => setTimeout(r, 300));
		}
		for (const c of this.wss?.clients ?? []) c.terminate();
		this.wss?.close();
		this.wss = null;
		server?.closeAllConnections();
		await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
		await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
	}
}

/** The driver: a subscriber that keeps everything the station publishes about its sessions. */
class Driver {
	readings: ReadingMessage[] = [];
	invoices: InvoiceMessage[] = [];
	events: SessionEvent[] = [];
	private constructor(readonly bus: MessageBus) {}
	static async connect(url: string, stationId: string): Promise<Driver> {
		const bus = await connectBus(url, {
			protocolVersion: 4,
			clientId: `driver-${Date.now()}`,
			reconnectPeriodMs: 100
		});
		const d = new Driver(bus);
		await bus.subscribe(`${TOPIC_ROOT}/stations/${stationId}/sessions/+/+`, (topic, payload) => {
			const m = parseMessage(topic, payload);
			if (!m.ok) return;
			if (m.kind === 'readings') d.readings.push(m.message);
			else if (m.kind === 'invoices') d.invoices.push(m.message);
			else if (m.kind === 'events') d.events.push(m.message);
		});
		return d;
	}
}

let manifest: DevnetManifest;
test.beforeAll(async () => {
	manifest = parseDevnetManifest(await (await fetch(`${WALLET}/devnet.json`)).json());
});

async function decodeQr(page: Page, testId: string): Promise<string | null> {
	// A frame can miss (CI once read nothing off a sharp invoice QR): up to five screenshots, 200 ms
	// apart; what is asserted is still what the code on screen says.
	for (let attempt = 0; attempt < 5; attempt++) {
		const png = await page.getByTestId(testId).screenshot();
		const img = decodePng(png);
		const text = jsQR(img.data, img.width, img.height)?.data;
		if (text) return text;
		await page.waitForTimeout(200);
	}
	return null;
}

async function shot(page: Page, name: string) {
	await page.screenshot({ path: `${SHOTS}/${name}-1280.png` });
	await page.setViewportSize({ width: 1920, height: 1080 });
	await page.screenshot({ path: `${SHOTS}/${name}-1920.png` });
	await page.setViewportSize({ width: 1280, height: 800 });
}

test('a kiosk session: invoice QR = published BOLT11, 30 s broker outage without a lost reading, reload resumes, receipt', async ({
	browser
}) => {
	test.setTimeout(150_000);
	const broker = new TestBroker();
	await broker.start();
	const station = manifest.stations[0]!;
	const payer = new LndRestNode({
		restUrl: manifest.lightning.nodes['vehicle-1']!.restUrl,
		macaroonHex: manifest.lightning.nodes['vehicle-1']!.macaroonHex
	});
	const driver = await Driver.connect(broker.url, station.stationId);
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	const page = await ctx.newPage();
	page.on('pageerror', (e) => console.log(`[kiosk pageerror] ${e.message}`));
	try {
		const tuning = `?broker=${encodeURIComponent(broker.url)}&brokerVersion=4&pollMs=250&incrementWh=25&graceWh=1000000&powerW=60000&anchorMs=3000&settledPauseMs=600000&db=kiosk-e2e-${Date.now()}&fiat=EUR&fiatPerBtc=90000`;
		await page.goto(`${KIOSK}/${tuning}`);
		await expect(page.getByTestId('session-qr').locator('svg')).toBeVisible();
		await expect(page.getByTestId('price-fiat')).toContainText('€');
		const href = (await page.getByTestId('session-link').getAttribute('href'))!;
		// What the driver's phone reads off the QR code: the session and its one-time join secret.
		const channel = new DriverChannel(decodeSessionLink(href));
		const sessionId = channel.link.sessionId;
		expect(await decodeQr(page, 'session-qr')).toBe(href);
		await shot(page, 'idle');

		await driver.bus.publish(channel.topic, channel.join(100_000_000n, 'e2e-driver', Date.now()));
		await expect(page.locator('h1.charging')).toBeVisible();

		// The invoice QR on screen is exactly the BOLT11 published over MQTT (upper case in the code).
		await expect.poll(() => driver.invoices.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
		const first = driver.invoices[0]!;
		await expect(page.getByTestId('invoice-qr')).toHaveAttribute('data-bolt11', first.bolt11);
		await expect(page.getByTestId('invoice-qr').locator('svg')).toBeVisible();
		const decoded = await decodeQr(page, 'invoice-qr');
		expect(decoded).toBe(first.bolt11.toUpperCase());
		await shot(page, 'invoice');

		// The driver pays every invoice as it arrives.
		const paid = new Set<string>();
		const payAll = async () => {
			for (const inv of driver.invoices) {
				if (paid.has(inv.bolt11)) continue;
				paid.add(inv.bolt11);
				const r = await payer.pay({
					paymentRequest: inv.bolt11,
					feeLimitMsat: 100_000n,
					timeoutSeconds: 30
				});
				expect(r.status).toBe('succeeded');
			}
		};
		await payAll();
		await expect(page.getByTestId('paid')).not.toHaveText('0');
		await expect
			.poll(() => page.getByTestId('power-chart').locator('path').getAttribute('d'))
			.toMatch(/^M.+L/);
		await shot(page, 'charging');

		// The broker goes away for 30 s; the kiosk keeps metering, signing and storing.
		const beforeOutage = driver.readings.length;
		await broker.stop();
		await expect(page.getByTestId('broker-state')).not.toHaveText('Broker connected');
		await expect(page.getByTestId('outbox')).toBeVisible({ timeout: 10_000 });
		await page.waitForTimeout(30_000);
		await shot(page, 'broker-down');
		broker.admitKiosk = false;
		await broker.start();
		await expect.poll(() => driver.bus.state, { timeout: 10_000 }).toBe('connected');
		await new Promise((r) => setTimeout(r, 300)); // the driver's subscription is renewed on reconnect
		broker.admitKiosk = true;
		await expect(page.getByTestId('broker-state')).toHaveText('Broker connected', {
			timeout: 15_000
		});
		await expect(page.getByTestId('outbox')).toBeHidden({ timeout: 15_000 });
		expect(driver.readings.length).toBeGreaterThan(beforeOutage + 60); // 30 s at 4 readings/s arrived late, not lost
		await payAll();

		// A reload mid-session resumes the same session from IndexedDB.
		const energyBefore = Number(
			(await page.getByTestId('energy').textContent())!.replace(/,/g, '')
		);
		const readingsBefore = driver.readings.length;
		await page.reload();
		await expect(page.getByTestId('resumed')).toBeVisible();
		await expect(page.locator('h1.charging')).toBeVisible();
		await expect
			.poll(async () => Number((await page.getByTestId('energy').textContent())!.replace(/,/g, '')))
			.toBeGreaterThan(energyBefore);
		await expect.poll(() => driver.readings.length).toBeGreaterThan(readingsBefore + 8);
		await payAll();

		// Stop; the last invoice is paid; settled, with a receipt QR.
		await driver.bus.publish(channel.topic, channel.stop(Date.now()));
		await expect
			.poll(async () => (await payAll(), driver.events.some((e) => e.event === 'stopped')), {
				timeout: 20_000
			})
			.toBe(true);
		await expect
			.poll(async () => (await payAll(), await page.getByTestId('settled').isVisible()), {
				timeout: 30_000
			})
			.toBe(true);
		await expect(page.getByTestId('receipt-qr').locator('svg')).toBeVisible();
		await expect(page.getByTestId('settled')).toContainText(/closed in 0x/, { timeout: 20_000 });
		const receipt = JSON.parse((await decodeQr(page, 'receipt-qr'))!) as {
			sessionId: string;
			energyWh: number;
			closeTx?: string;
		};
		expect(receipt.sessionId).toBe(sessionId);
		expect(receipt.closeTx).toMatch(/^0x[0-9a-f]{64}$/);
		await shot(page, 'settled');

		// Every reading, in order, no gap, none twice after deduplication; each verified with the station key.
		const verifier = new ReadingVerifier({
			stationId: station.stationId,
			sessionId,
			publicKey: ocmfPublicKeyHex(station.signingKeyHex)
		});
		const order: number[] = [];
		let wireDuplicates = 0;
		for (const r of driver.readings.filter((x) => x.sessionId === sessionId)) {
			const res = verifier.accept(r);
			expect(res.ok, res.ok ? '' : res.reason).toBe(true);
			if (res.ok && res.duplicate) wireDuplicates++;
			else order.push(r.seq);
		}
		expect(order).toEqual(Array.from({ length: order.length }, (_, i) => i + 1));
		expect(verifier.gaps()).toEqual([]);
		expect(verifier.ended).toBe(true);
		console.log(
			`kiosk e2e: ${order.length} readings held in order (${wireDuplicates} redelivered copies deduplicated), ${driver.invoices.length} invoices`
		);
		// No invoice twice: one per seq, each starting where the previous ended, and the energy billed is the energy metered.
		const invoices = [
			...new Map(
				driver.invoices.filter((i) => i.sessionId === sessionId).map((i) => [i.seq, i])
			).values()
		].sort((a, b) => a.seq - b.seq);
		expect(new Set(driver.invoices.map((i) => i.bolt11)).size).toBe(invoices.length);
		for (let i = 1; i < invoices.length; i++)
			expect(invoices[i]!.record.fromReading).toBe(invoices[i - 1]!.record.toReading);
		expect(invoices.reduce((sum, i) => sum + i.record.energyWh, 0)).toBe(receipt.energyWh);
	} finally {
		await ctx.close();
		await driver.bus.close();
		await broker.stop();
	}
});

test('operator setup: PIN, station key, a test read from the meter on Web Serial, settings drive the kiosk', async ({
	browser
}) => {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	await installFakeSerial(ctx, {
		profile: 'eastron-sdm630',
		serial: '20240917',
		startWh: 1_234_000,
		carAllowed: false
	});
	const page = await ctx.newPage();
	page.on('pageerror', (e) => console.log(`[setup pageerror] ${e.message}`));
	const db = `kiosk-setup-${Date.now()}`;
	try {
		await page.goto(`${KIOSK}/setup?db=${db}`);
		await page.getByTestId('pin').fill('12');
		await page.getByTestId('pin-submit').click();
		await expect(page.getByTestId('setup-message')).toContainText('4 to 12 digits');
		await page.getByTestId('pin').fill('2468');
		await page.getByTestId('pin-submit').click();
		await page.getByTestId('fill-devnet').click();
		await expect(page.getByTestId('station-id')).toHaveValue(manifest.stations[0]!.stationId);
		await page.getByTestId('passphrase').fill('operator passphrase 1');
		await page.getByTestId('devnet-key').click();
		await expect(page.getByTestId('key-card')).toContainText(manifest.stations[0]!.signerAddress);
		await page.getByTestId('meter-serial').check();
		await page.getByTestId('choose-port').click();
		await page.getByTestId('test-read').click();
		await expect(page.getByTestId('test-read-result')).toContainText(
			'Eastron SDM630 serial 20240917: 1234.000 kWh'
		);
		await page.getByTestId('test-lightning').click();
		await expect(page.getByTestId('lightning-result')).toContainText('regtest');
		await page.getByTestId('price-input').fill('abc');
		await page.getByTestId('save').click();
		await expect(page.getByTestId('setup-message')).toContainText('Price per kWh must be a number');
		await page.getByTestId('price-input').fill('321');
		await page
			.getByTestId('meter-serial')
			.uncheck()
			.catch(() => undefined);
		await page.locator('input[type=radio][value=simulated]').check();
		await page.screenshot({ path: `${SHOTS}/setup-1280.png`, fullPage: true });
		await page.getByTestId('save').click();
		await expect(page.getByTestId('setup-message')).toContainText('Saved');

		// A reload asks for the PIN again; the kiosk now runs on the saved settings.
		await page.reload();
		await expect(page.getByTestId('pin-submit')).toHaveText('Unlock');
		await page.goto(`${KIOSK}/?db=${db}`);
		await expect(page.getByTestId('price')).toContainText('321');
		await expect(page.getByTestId('session-qr').locator('svg')).toBeVisible();
	} finally {
		await ctx.close();
	}
});

test('a session on a Modbus meter over Web Serial: a silent meter suspends with an operator alarm; acknowledged, charging goes on', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const ctx = await kioskWithFakeSerial(browser, {
		profile: 'eastron-sdm630',
		serial: '20240917',
		startWh: 1_234_000,
		carAllowed: true,
		maxPowerW: 11_000,
		rampSeconds: 0
	});
	const page = await ctx.newPage();
	page.on('pageerror', (e) => console.log(`[serial kiosk pageerror] ${e.message}`));
	const station = manifest.stations[0]!;
	const driver = await Driver.connect(manifest.broker.wsUrl, station.stationId);
	const payer = new LndRestNode({
		restUrl: manifest.lightning.nodes['vehicle-1']!.restUrl,
		macaroonHex: manifest.lightning.nodes['vehicle-1']!.macaroonHex
	});
	const db = `kiosk-serial-${Date.now()}`;
	try {
		await page.goto(`${KIOSK}/setup?db=${db}`);
		await page.getByTestId('pin').fill('1357');
		await page.getByTestId('pin-submit').click();
		await page.getByTestId('fill-devnet').click();
		await page.getByTestId('passphrase').fill('operator passphrase 2');
		await page.getByTestId('devnet-key').click();
		await expect(page.getByTestId('key-card')).toContainText('unlocked on this device');
		await page.getByTestId('meter-serial').check();
		await page.getByTestId('increment-input').fill('5');
		await page.getByTestId('test-read').click();
		await expect(page.getByTestId('test-read-result')).toContainText(
			'Eastron SDM630 serial 20240917'
		);
		await page.getByTestId('save').click();
		await expect(page.getByTestId('setup-message')).toContainText('Saved');

		await page.goto(`${KIOSK}/?db=${db}&pollMs=500&settledPauseMs=600000`);
		await expect(page.getByTestId('session-qr').locator('svg')).toBeVisible();
		const href = (await page.getByTestId('session-link').getAttribute('href'))!;
		// What the driver's phone reads off the QR code: the session and its one-time join secret.
		const channel = new DriverChannel(decodeSessionLink(href));
		const sessionId = channel.link.sessionId;
		await driver.bus.publish(
			channel.topic,
			channel.join(100_000_000n, 'serial-driver', Date.now())
		);
		await expect(page.locator('h1.charging')).toBeVisible();
		await expect
			.poll(() => driver.readings.filter((r) => r.sessionId === sessionId).length)
			.toBeGreaterThanOrEqual(3);
		// The readings carry the Modbus meter's identity.
		expect(driver.readings.find((r) => r.sessionId === sessionId)!.ocmf).toContain(
			'"MS":"20240917"'
		);
		await expect
			.poll(() => driver.invoices.filter((i) => i.sessionId === sessionId).length, {
				timeout: 20_000
			})
			.toBeGreaterThanOrEqual(1);
		await payer.pay({
			paymentRequest: driver.invoices.find((i) => i.sessionId === sessionId)!.bolt11,
			feeLimitMsat: 100_000n,
			timeoutSeconds: 30
		});

		// The meter goes silent: suspended, operator alarm, nothing signed while it is silent.
		await page.evaluate(() =>
			(
				window as unknown as { __lightchargeFakeMeter: { setFaults(f: object): void } }
			).__lightchargeFakeMeter.setFaults({ silent: true })
		);
		await expect(page.getByTestId('alarm')).toContainText(
			/does not answer|Reading the meter failed/,
			{ timeout: 20_000 }
		);
		await expect(page.getByTestId('suspended')).toContainText('the meter needs the operator');
		await expect
			.poll(() => driver.events.some((e) => e.sessionId === sessionId && e.event === 'fault'))
			.toBe(true);
		const signedDuringFault = driver.readings.length;
		await page.screenshot({ path: `${SHOTS}/meter-fault-1280.png` });
		await page.waitForTimeout(2000);
		expect(driver.readings.length).toBe(signedDuringFault);

		// The meter answers again; the operator acknowledges: charging goes on from the last verified reading.
		await page.evaluate(() =>
			(
				window as unknown as { __lightchargeFakeMeter: { setFaults(f: object): void } }
			).__lightchargeFakeMeter.setFaults({})
		);
		await page.getByRole('button', { name: 'Checked — acknowledge' }).click();
		await expect(page.locator('h1.charging')).toBeVisible({ timeout: 15_000 });
		await expect
			.poll(() => driver.readings.length, { timeout: 15_000 })
			.toBeGreaterThan(signedDuringFault + 2);
		const verifier = new ReadingVerifier({
			stationId: station.stationId,
			sessionId,
			publicKey: ocmfPublicKeyHex(station.signingKeyHex)
		});
		for (const r of driver.readings.filter((x) => x.sessionId === sessionId))
			expect(verifier.accept(r).ok).toBe(true);
		expect(verifier.gaps()).toEqual([]);
	} finally {
		await ctx.close();
		await driver.bus.close();
	}
});
