// Real LND only (LIGHTCHARGE_E2E_LIGHTNING=lnd): the station's LND restarts in the middle of a
// session; the kiosk reconnects and goes on invoicing, the wallet goes on paying, and nothing is
// lost or paid twice — every invoice the station's LND settled was paid exactly once, and what
// the kiosk shows as paid is what the station's node received.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { E2E_LIGHTNING, E2E_PORTS } from '../playwright.config';
import { pinnedFetch } from '../devnet/lnd/pinned-fetch';
import { parseDevnetManifest, type DevnetManifest } from '../src/lib/config';
import { LndRestNode } from '../src/lib/lightning';

const WALLET = `http://127.0.0.1:${E2E_PORTS.wallet}`;
const KIOSK = `http://127.0.0.1:${E2E_PORTS.kiosk}`;
const KIOSK_TUNING =
	'?pollMs=250&incrementWh=20&graceWh=200&powerW=60000&anchorMs=2000&settledPauseMs=600000';

// playwright.config.ts leaves this file out unless LIGHTCHARGE_E2E_LIGHTNING=lnd.
if (E2E_LIGHTNING !== 'lnd')
	throw new Error('tests/lnd.spec.ts runs on real LND only (LIGHTCHARGE_E2E_LIGHTNING=lnd)');

let manifest: DevnetManifest;
test.beforeAll(async () => {
	manifest = parseDevnetManifest(await (await fetch(`${WALLET}/devnet.json`)).json());
});

/** The station's LND with its admin macaroon, TLS pinned: what the test checks against. */
function stationAdmin(): {
	node: LndRestNode;
	listSettled: () => Promise<{ hash: string; paidMsat: bigint }[]>;
} {
	const lnd = manifest.lightning.nodes['station-1']!.lnd!;
	const macaroonHex = readFileSync(lnd.adminMacaroonPath).toString('hex');
	const fetchPinned = pinnedFetch(lnd.tlsCertPem);
	return {
		node: new LndRestNode({ restUrl: lnd.restUrl, macaroonHex, fetch: fetchPinned }),
		listSettled: async () => {
			const res = await fetchPinned(`${lnd.restUrl}/v1/invoices?num_max_invoices=1000`, {
				headers: { 'Grpc-Metadata-macaroon': macaroonHex }
			});
			const body = (await res.json()) as {
				invoices: { r_hash: string; state: string; amt_paid_msat: string }[];
			};
			return body.invoices
				.filter((i) => i.state === 'SETTLED')
				.map((i) => ({
					hash: Buffer.from(i.r_hash, 'base64').toString('hex'),
					paidMsat: BigInt(i.amt_paid_msat)
				}));
		}
	};
}

test("the station's LND restarts mid-session: the kiosk reconnects, nothing is lost or paid twice", async ({
	browser
}) => {
	test.setTimeout(180_000);
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

	const station = stationAdmin();
	const before = await station.listSettled();
	const balanceBefore = (await station.node.getBalances()).localMsat;

	await kiosk.goto(`${KIOSK}/${KIOSK_TUNING}`);
	const href = await kiosk.getByTestId('session-link').getAttribute('href');
	await wallet.goto(href!);
	await expect(wallet.getByTestId('identity')).toContainText('Registered on the ledger');
	await wallet.getByTestId('budget').fill('5000');
	await wallet.getByTestId('join').click();
	const paid = wallet.locator('[data-testid=invoices] li[data-state=paid]');
	await expect.poll(() => paid.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);

	// Restart the station's LND (the devnet gateway's loopback admin call waits until it serves again).
	const restarted = await fetch(`${manifest.lightning.url}/admin/nodes/station-1/restart`, {
		method: 'POST'
	});
	expect(restarted.status).toBe(200);
	const paidAtRestart = await paid.count();
	// The session goes on: more increments are invoiced and paid after the restart.
	await expect
		.poll(() => paid.count(), { timeout: 60_000 })
		.toBeGreaterThanOrEqual(paidAtRestart + 3);
	await kiosk.screenshot({ path: 'test-results/lnd-restart-kiosk.png' });

	await wallet.getByTestId('stop').click();
	await expect(kiosk.getByTestId('settled')).toBeVisible({ timeout: 60_000 });
	await expect(wallet.getByTestId('settled')).toBeVisible({ timeout: 60_000 });
	await expect(wallet.locator('[data-testid=invoices] li[data-state=refused]')).toHaveCount(0);

	// Every invoice the station's node settled in this session was paid once; the wallet shows each;
	// the station's balance grew by exactly what was settled.
	const known = new Set(before.map((i) => i.hash));
	const settled = (await station.listSettled()).filter((i) => !known.has(i.hash));
	expect(new Set(settled.map((i) => i.hash)).size).toBe(settled.length);
	expect(settled.length).toBe(await paid.count());
	const received = (await station.node.getBalances()).localMsat - balanceBefore;
	expect(received).toBe(settled.reduce((sum, i) => sum + i.paidMsat, 0n));
	await kiosk.screenshot({ path: 'test-results/lnd-restart-kiosk-settled.png' });
	await wallet.screenshot({ path: 'test-results/lnd-restart-wallet-settled.png', fullPage: true });
	await kioskCtx.close();
	await walletCtx.close();
});

test("a kiosk opened while the station's LND restarts waits and says so, then offers a session", async ({
	browser
}) => {
	test.setTimeout(120_000);
	const kioskCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	const kiosk = await kioskCtx.newPage();
	const restarting = fetch(`${manifest.lightning.url}/admin/nodes/station-1/restart`, {
		method: 'POST'
	});
	await new Promise((r) => setTimeout(r, 300));
	await kiosk.goto(`${KIOSK}/${KIOSK_TUNING}`);
	await expect(kiosk.getByTestId('waiting-lightning')).toContainText(
		/Lightning node (is still starting|does not answer yet); waiting for it/
	);
	await kiosk.screenshot({ path: 'test-results/lnd-kiosk-waiting.png' });
	await expect(kiosk.getByTestId('setup-error')).toHaveCount(0);
	expect((await restarting).status).toBe(200);
	await expect(kiosk.getByTestId('session-link')).toBeVisible({ timeout: 60_000 });
	await kioskCtx.close();
});

test('a wallet opened while its own LND restarts waits and says so, then joins and pays', async ({
	browser
}) => {
	test.setTimeout(180_000);
	const kioskCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	const walletCtx = await browser.newContext({
		viewport: { width: 360, height: 740 },
		isMobile: true,
		hasTouch: true
	});
	const kiosk = await kioskCtx.newPage();
	const wallet = await walletCtx.newPage();
	await kiosk.goto(`${KIOSK}/${KIOSK_TUNING}`);
	const href = await kiosk.getByTestId('session-link').getAttribute('href');
	const restarting = fetch(`${manifest.lightning.url}/admin/nodes/vehicle-1/restart`, {
		method: 'POST'
	});
	// Open the wallet only once its node has stopped answering (a graceful stop still serves a while).
	const vehicle = manifest.lightning.nodes['vehicle-1']!.lnd!;
	const vehicleAdmin = new LndRestNode({
		restUrl: vehicle.restUrl,
		macaroonHex: readFileSync(vehicle.adminMacaroonPath).toString('hex'),
		fetch: pinnedFetch(vehicle.tlsCertPem)
	});
	await expect
		.poll(
			() =>
				vehicleAdmin.getInfo().then(
					() => 'serving',
					(e: Error) => e.message
				),
			{ timeout: 30_000, intervals: [100] }
		)
		.not.toBe('serving');
	await wallet.goto(href!);
	await expect(wallet.getByTestId('node-waiting')).toContainText(
		/Your Lightning node (is still starting|does not answer yet|is catching up with the chain)/
	);
	await wallet.screenshot({ path: 'test-results/lnd-wallet-waiting.png' });
	await expect(wallet.getByTestId('last-error')).toHaveCount(0);
	expect((await restarting).status).toBe(200);
	await expect(wallet.getByTestId('identity')).toContainText('Registered on the ledger', {
		timeout: 60_000
	});
	await expect(wallet.getByTestId('node-waiting')).toHaveCount(0);
	await wallet.getByTestId('budget').fill('5000');
	await wallet.getByTestId('join').click();
	const paid = wallet.locator('[data-testid=invoices] li[data-state=paid]');
	await expect.poll(() => paid.count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
	await wallet.getByTestId('stop').click();
	await expect(wallet.getByTestId('settled')).toBeVisible({ timeout: 60_000 });
	await kioskCtx.close();
	await walletCtx.close();
});
