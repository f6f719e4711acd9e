// The smoke flow, kept for the life of the project: kiosk (simulated meter) and wallet in two
// browser contexts; the wallet opens the kiosk's session link, shows live signed readings, pays
// several increments over the simnet through the hub, both apps show it paid, and the ledger
// holds the session's anchors and its close.
import { expect, test } from '@playwright/test';
import { E2E_PORTS } from '../playwright.config';
import { connectLedger } from '../src/lib/ledger';
import { LndRestNode } from '../src/lib/lightning';
import { decodeSessionLink } from '../src/lib/protocol';
import { parseDevnetManifest, type DevnetManifest } from '../src/lib/config';

const WALLET = `http://127.0.0.1:${E2E_PORTS.wallet}`;
const KIOSK = `http://127.0.0.1:${E2E_PORTS.kiosk}`;
// Fast enough for a test: 20 Wh increments at up to 60 kW, a reading every 250 ms.
const KIOSK_TUNING =
	'?pollMs=250&incrementWh=20&graceWh=200&powerW=60000&anchorMs=2000&settledPauseMs=600000';

let manifest: DevnetManifest;
test.beforeAll(async () => {
	manifest = parseDevnetManifest(await (await fetch(`${WALLET}/devnet.json`)).json());
});

test('a session from scan to paid, anchored on the ledger', async ({ browser }) => {
	const kioskCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	const walletCtx = await browser.newContext({
		viewport: { width: 360, height: 740 },
		isMobile: true,
		hasTouch: true
	});
	const kiosk = await kioskCtx.newPage();
	const wallet = await walletCtx.newPage();
	for (const [name, page] of [
		['kiosk', kiosk],
		['wallet', wallet]
	] as const)
		page.on('pageerror', (e) => console.log(`[${name} pageerror] ${e.message}`));

	const stationNode = manifest.lightning.nodes['station-1']!;
	const station = new LndRestNode({
		restUrl: stationNode.restUrl,
		macaroonHex: stationNode.macaroonHex
	});
	const stationBefore = await station.getBalances();

	await kiosk.goto(`${KIOSK}/${KIOSK_TUNING}`);
	const link = kiosk.getByTestId('session-link');
	await expect(link).toBeVisible();
	await expect(kiosk.getByTestId('session-qr').locator('svg')).toBeVisible();
	const href = await link.getAttribute('href');
	expect(href).toContain('#c=');
	expect(href!.startsWith(WALLET)).toBe(true);

	await wallet.goto(href!);
	await expect(wallet.getByTestId('identity')).toContainText('Registered on the ledger');
	await wallet.getByTestId('budget').fill('5000');
	await wallet.getByTestId('join').click();

	// Live signed readings, verified in the wallet, and several increments paid through the hub.
	await expect
		.poll(async () => Number(await wallet.getByTestId('verified-count').textContent()))
		.toBeGreaterThanOrEqual(5);
	await expect
		.poll(async () => wallet.locator('[data-testid=invoices] li[data-state=paid]').count(), {
			timeout: 30_000
		})
		.toBeGreaterThanOrEqual(3);
	await expect(kiosk.getByTestId('paid')).not.toHaveText('0');
	await expect(wallet.locator('[data-testid=invoices] li[data-state=refused]')).toHaveCount(0);

	await wallet.getByTestId('stop').click();
	await expect(kiosk.getByTestId('settled')).toBeVisible({ timeout: 30_000 });
	await expect(wallet.getByTestId('settled')).toBeVisible({ timeout: 30_000 });

	// Both sides agree on what was paid; the station's node received exactly that.
	const paidInvoices = await wallet.locator('[data-testid=invoices] li[data-state=paid]').count();
	expect(paidInvoices).toBeGreaterThanOrEqual(4); // three or more increments plus the final one
	const stationAfter = await station.getBalances();

	// The ledger holds the session: opened, anchored (Merkle roots of readings), closed.
	const ledger = await connectLedger({
		rpcUrl: manifest.chain.rpcUrl,
		addresses: manifest.chain.contracts,
		expectedChainId: 1337
	});
	const closedText = await kiosk.getByTestId('settled').textContent();
	expect(closedText).toMatch(/ledger anchors/);
	const received = stationAfter.localMsat - stationBefore.localMsat;
	expect(received > 0n).toBe(true);

	const linkJson = decodeSessionLink(href!);
	const session = await ledger.getSession(linkJson.stationId, linkJson.sessionId);
	expect(session).not.toBeNull();
	expect(session!.state).toBe('closed');
	expect(session!.amountMsat).toBe(received);
	const anchors = await ledger.getAnchors(linkJson.stationId, linkJson.sessionId);
	expect(anchors.length).toBeGreaterThanOrEqual(1);
	expect(anchors.at(-1)!.toReading).toBeGreaterThanOrEqual(5);

	await kiosk.screenshot({ path: 'test-results/smoke-kiosk-settled.png' });
	await wallet.screenshot({ path: 'test-results/smoke-wallet-settled.png', fullPage: true });
	await kioskCtx.close();
	await walletCtx.close();
});
