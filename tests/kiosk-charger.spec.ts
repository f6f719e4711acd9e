// The charger chosen on the setup screen drives the real kiosk: evcc over MQTT on the devnet's
// broker. The test plays evcc (it follows `evcc/loadpoints/1/mode/set`, switches the car at the
// meter on fake Web Serial and reports `enabled` back, as evcc does) and the driver (join, stop over
// MQTT). It sees `now` when charging is allowed, `off` when the session stops, and the meter
// confirming the power fell (no "charger did not obey" alarm).
import { expect, test, type Page } from '@playwright/test';
import { E2E_PORTS } from '../playwright.config';
import { parseDevnetManifest, type DevnetManifest } from '../src/lib/config';
import { connectBus, type MessageBus } from '../src/lib/mqtt';
import {
	parseMessage,
	decodeSessionLink,
	TOPIC_ROOT,
	type InvoiceMessage,
	type ReadingMessage,
	type SessionEvent
} from '../src/lib/protocol';
import { DriverChannel } from '../src/lib/session';
import { LndRestNode } from '../src/lib/lightning';
import { kioskWithFakeSerial, type FakeMeterControls } from './fakes/web-serial';

const WALLET = `http://127.0.0.1:${E2E_PORTS.wallet}`;
const KIOSK = `http://127.0.0.1:${E2E_PORTS.kiosk}`;
const SHOTS = process.env.KIOSK_SHOTS ?? 'test-results/kiosk';

let manifest: DevnetManifest;
test.beforeAll(async () => {
	manifest = parseDevnetManifest(await (await fetch(`${WALLET}/devnet.json`)).json());
});

/** evcc's side of its MQTT API for one loadpoint: obeys `mode/set` by switching the car at the meter. */
class FakeEvcc {
	modes: string[] = [];
	private constructor(
		readonly bus: MessageBus,
		private readonly base: string
	) {}
	static async start(url: string, page: Page, base = 'evcc/loadpoints/1'): Promise<FakeEvcc> {
		const bus = await connectBus(url, { protocolVersion: 4, clientId: `evcc-${Date.now()}` });
		const evcc = new FakeEvcc(bus, base);
		await bus.subscribe(`${base}/mode/set`, (_topic, payload) => {
			const mode = new TextDecoder().decode(payload);
			evcc.modes.push(mode);
			void evcc.apply(page, mode);
		});
		return evcc;
	}
	private async apply(page: Page, mode: string) {
		const enabled = mode !== 'off';
		await page.evaluate(
			(on) =>
				(
					window as unknown as { __lightchargeFakeMeter: FakeMeterControls }
				).__lightchargeFakeMeter.setAllowed(on),
			enabled
		);
		await this.bus.publish(`${this.base}/mode`, mode, { retain: true });
		await this.bus.publish(`${this.base}/enabled`, String(enabled), { retain: true });
	}
}

test('evcc chosen on the setup screen: "now" when charging is allowed, "off" when the session stops', async ({
	browser
}) => {
	test.setTimeout(90_000);
	// The car draws nothing until evcc lets it: the contactor is the fake evcc's to switch.
	const ctx = await kioskWithFakeSerial(browser, {
		profile: 'eastron-sdm630',
		serial: '20240917',
		startWh: 1_234_000,
		carAllowed: false,
		maxPowerW: 11_000,
		rampSeconds: 0
	});
	const page = await ctx.newPage();
	page.on('pageerror', (e) => console.log(`[charger kiosk pageerror] ${e.message}`));
	const station = manifest.stations[0]!;
	const db = `kiosk-charger-${Date.now()}`;
	const driverBus = await connectBus(manifest.broker.wsUrl, {
		protocolVersion: 4,
		clientId: `driver-${Date.now()}`
	});
	const readings: ReadingMessage[] = [];
	const events: SessionEvent[] = [];
	const invoices: InvoiceMessage[] = [];
	const payer = new LndRestNode({
		restUrl: manifest.lightning.nodes['vehicle-1']!.restUrl,
		macaroonHex: manifest.lightning.nodes['vehicle-1']!.macaroonHex
	});
	await driverBus.subscribe(
		`${TOPIC_ROOT}/stations/${station.stationId}/sessions/+/+`,
		(topic, payload) => {
			const m = parseMessage(topic, payload);
			if (m.ok && m.kind === 'readings') readings.push(m.message);
			else if (m.ok && m.kind === 'events') events.push(m.message);
			else if (m.ok && m.kind === 'invoices') invoices.push(m.message);
		}
	);
	const evcc = await FakeEvcc.start(manifest.broker.wsUrl, page);
	try {
		await page.goto(`${KIOSK}/setup?db=${db}`);
		await page.getByTestId('pin').fill('8642');
		await page.getByTestId('pin-submit').click();
		await page.getByTestId('fill-devnet').click();
		await page.getByTestId('passphrase').fill('operator passphrase 3');
		await page.getByTestId('devnet-key').click();
		await expect(page.getByTestId('key-card')).toContainText('unlocked on this device');

		// The simulated charger only fits the simulated meter; SmartEVSE only the meter on RS-485.
		await expect(page.getByTestId('charger-simulated')).toBeChecked();
		await expect(page.getByTestId('charger-smartevse')).toBeDisabled();
		// Choosing the meter on RS-485 turns the simulated charger (which cannot switch a real car) into manual.
		await page.getByTestId('meter-serial').check();
		await expect(page.getByTestId('charger-simulated')).toBeDisabled();
		await expect(page.getByTestId('charger-manual')).toBeChecked();
		await expect(page.getByTestId('charger-smartevse')).toBeEnabled();

		// A bad loadpoint gets a sentence; then evcc on loadpoint 1.
		await page.getByTestId('charger-evcc').check();
		await expect(page.getByTestId('evcc-topic')).toHaveValue('evcc');
		await page.getByTestId('evcc-loadpoint').fill('0');
		await page.getByTestId('save').click();
		await expect(page.getByTestId('setup-message')).toContainText(
			'evcc loadpoint must be a whole number from 1 to 99'
		);
		await page.getByTestId('evcc-loadpoint').fill('1');
		const card = page.getByTestId('charger-card');
		await card.scrollIntoViewIfNeeded();
		await card.screenshot({ path: `${SHOTS}/setup-charger-1280.png` });
		await page.screenshot({ path: `${SHOTS}/setup-charger-page-1280.png` });
		await page.getByTestId('save').click();
		await expect(page.getByTestId('setup-message')).toContainText('Saved');

		// Persisted: a reload shows evcc again.
		await page.reload();
		await page.getByTestId('pin').fill('8642');
		await page.getByTestId('pin-submit').click();
		await expect(page.getByTestId('charger-evcc')).toBeChecked();
		await expect(page.getByTestId('evcc-loadpoint')).toHaveValue('1');

		await page.goto(`${KIOSK}/?db=${db}&pollMs=500&settledPauseMs=600000`);
		await expect(page.getByTestId('session-qr').locator('svg')).toBeVisible();
		const href = (await page.getByTestId('session-link').getAttribute('href'))!;
		const channel = new DriverChannel(decodeSessionLink(href));
		const sessionId = channel.link.sessionId;
		expect(evcc.modes).toEqual([]);

		await driverBus.publish(channel.topic, channel.join(100_000_000n, 'evcc-driver', Date.now()));
		await expect(page.locator('h1.charging')).toBeVisible();
		await expect.poll(() => evcc.modes).toEqual(['now']);
		// evcc let the car charge: the meter shows energy flowing.
		await expect
			.poll(
				async () => Number.parseFloat((await page.getByTestId('energy').textContent()) ?? '0'),
				{ timeout: 20_000 }
			)
			.toBeGreaterThan(0);
		await expect
			.poll(() => readings.filter((r) => r.sessionId === sessionId).length)
			.toBeGreaterThanOrEqual(3);

		await driverBus.publish(channel.topic, channel.stop(Date.now()));
		await expect.poll(() => evcc.modes, { timeout: 15_000 }).toEqual(['now', 'off']);
		// The meter confirms evcc obeyed: the power falls to zero.
		await expect
			.poll(async () => Number.parseFloat((await page.getByTestId('power').textContent()) ?? '1'), {
				timeout: 10_000
			})
			.toBe(0);
		// The driver pays the last invoice; the session settles.
		await expect
			.poll(() => invoices.filter((i) => i.sessionId === sessionId).length, { timeout: 20_000 })
			.toBeGreaterThanOrEqual(1);
		for (const inv of new Map(
			invoices.filter((i) => i.sessionId === sessionId).map((i) => [i.bolt11, i])
		).values()) {
			await payer.pay({ paymentRequest: inv.bolt11, feeLimitMsat: 100_000n, timeoutSeconds: 30 });
		}
		await expect(page.getByTestId('settled')).toBeVisible({ timeout: 20_000 });
		// The meter confirmed evcc obeyed: no alarm, within the runtime's 5 s allowance and after it.
		await page.waitForTimeout(6000);
		await expect(page.getByTestId('alarm')).toHaveCount(0);
		expect(evcc.modes).toEqual(['now', 'off']);
		expect(events.some((e) => e.sessionId === sessionId && e.event === 'stopped')).toBe(true);
	} finally {
		await ctx.close();
		await evcc.bus.close();
		await driverBus.close();
	}
});

test('manual charger with a meter on RS-485: the kiosk tells the driver to plug in, then to unplug', async ({
	browser
}) => {
	test.setTimeout(60_000);
	const ctx = await kioskWithFakeSerial(browser, {
		profile: 'eastron-sdm630',
		serial: '20240917',
		startWh: 1_234_000,
		carAllowed: true,
		maxPowerW: 11_000,
		rampSeconds: 0
	});
	const page = await ctx.newPage();
	page.on('pageerror', (e) => console.log(`[manual kiosk pageerror] ${e.message}`));
	const db = `kiosk-manual-${Date.now()}`;
	const driverBus = await connectBus(manifest.broker.wsUrl, {
		protocolVersion: 4,
		clientId: `driver-m-${Date.now()}`
	});
	try {
		await page.goto(`${KIOSK}/setup?db=${db}`);
		await page.getByTestId('pin').fill('9753');
		await page.getByTestId('pin-submit').click();
		await page.getByTestId('fill-devnet').click();
		await page.getByTestId('passphrase').fill('operator passphrase 4');
		await page.getByTestId('devnet-key').click();
		await expect(page.getByTestId('key-card')).toContainText('unlocked on this device');
		await page.getByTestId('meter-serial').check();
		await expect(page.getByTestId('charger-manual')).toBeChecked();
		await page.getByTestId('save').click();
		await expect(page.getByTestId('setup-message')).toContainText('Saved');

		await page.goto(`${KIOSK}/?db=${db}&pollMs=500&settledPauseMs=600000`);
		await expect(page.getByTestId('session-qr').locator('svg')).toBeVisible();
		const href = (await page.getByTestId('session-link').getAttribute('href'))!;
		const channel = new DriverChannel(decodeSessionLink(href));
		await driverBus.publish(channel.topic, channel.join(100_000_000n, 'manual-driver', Date.now()));
		await expect(page.getByTestId('driver-instruction')).toContainText('plug in your car');
		await driverBus.publish(channel.topic, channel.stop(Date.now()));
		await expect(page.getByTestId('driver-instruction')).toContainText('Please unplug your car');
		await page.screenshot({ path: `${SHOTS}/manual-unplug-1280.png` });
	} finally {
		await ctx.close();
		await driverBus.close();
	}
});
