// Lightning Node Connect, nothing faked (LIGHTCHARGE_E2E_LIGHTNING=lnd LIGHTCHARGE_E2E_LNC=1, the
// stack from scripts/build-lnc.sh): the wallet loads its own wasm client from /lnc/, pairs with a
// phrase from Lightning Terminal (litd in front of vehicle-1's real LND) through the hashmail
// mailbox (aperture), shows the node's alias and balance, logs in again after a reload with the
// password alone, joins a kiosk session and pays several increments over LNC through the hub; the
// mailbox stops for 15 s mid-session, the wallet says the connection dropped, reconnects and goes
// on paying, and nothing is paid twice (checked against the station's and the vehicle's LND). A
// wrong phrase and a wrong password each get a sentence. Chromium trusts the mailbox's self-signed
// certificate by its public key (--ignore-certificate-errors-spki-list), as a phone trusts it
// after accepting it once; nothing else is trusted.
//
// Run once on 2026-12-03 with the project's lnc-server in place of litd (litd does not build from
// the Go module proxy, docs/lightning.md): "a wrong pairing phrase gets a sentence" passed (the wasm
// client in Chromium, through the real aperture mailbox: "Session Not Found" → the sentence); the
// pairing in the first test did not complete within 60 s (not yet debugged). Not in `npm test`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { E2E_LNC, E2E_PORTS, E2E_STATE_DIR } from '../playwright.config';
import { pinnedFetch } from '../devnet/lnd/pinned-fetch';
import { spkiSha256 } from '../devnet/lnd/lnc';
import { parseDevnetManifest, type DevnetManifest } from '../src/lib/config';

const WALLET = `http://127.0.0.1:${E2E_PORTS.wallet}`;
const KIOSK = `http://127.0.0.1:${E2E_PORTS.kiosk}`;
const KIOSK_TUNING =
	'?pollMs=250&incrementWh=20&graceWh=200&powerW=60000&anchorMs=2000&settledPauseMs=600000';
const PASSWORD = 'correct horse battery';

// playwright.config.ts leaves this file out unless LIGHTCHARGE_E2E_LNC=1 (with lnd).
if (!E2E_LNC)
	throw new Error(
		'tests/lnc.spec.ts runs with LIGHTCHARGE_E2E_LIGHTNING=lnd LIGHTCHARGE_E2E_LNC=1 only'
	);

let manifest: DevnetManifest;
let browser: Browser;

/** One figure, printed as a JSON line (collected in the run's output and the note). */
function figure(name: string, value: Record<string, unknown>): void {
	console.log(JSON.stringify({ figure: name, ...value }));
}

test.beforeAll(async () => {
	manifest = parseDevnetManifest(await (await fetch(`${WALLET}/devnet.json`)).json());
	const cert = readFileSync(path.join(E2E_STATE_DIR, 'lnc', 'aperture', 'tls.cert'), 'utf8');
	browser = await chromium.launch({
		executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
		args: [
			'--disable-background-networking',
			'--disable-component-update',
			'--no-first-run',
			'--disable-gpu',
			'--disable-quic',
			'--disable-sync',
			// Trust the mailbox's certificate, by its key, and no other.
			`--ignore-certificate-errors-spki-list=${spkiSha256(cert)}`
		]
	});
});

test.afterAll(async () => {
	await browser?.close();
});

async function admin(
	route: 'sessions' | 'mailbox/stop' | 'mailbox/start'
): Promise<{ pairingPhrase?: string }> {
	const res = await fetch(`${manifest.lightning.url}/admin/lnc/${route}`, { method: 'POST' });
	expect(res.status, await res.clone().text()).toBe(200);
	return (await res.json()) as { pairingPhrase?: string };
}

/** A node's LND with its admin macaroon, TLS pinned: what the test checks against. */
function lndAdmin(name: string) {
	const lnd = manifest.lightning.nodes[name]!.lnd!;
	const macaroonHex = readFileSync(lnd.adminMacaroonPath).toString('hex');
	const f = pinnedFetch(lnd.tlsCertPem);
	const get = async <T>(p: string): Promise<T> =>
		(await (
			await f(`${lnd.restUrl}${p}`, { headers: { 'Grpc-Metadata-macaroon': macaroonHex } })
		).json()) as T;
	return {
		settledInvoices: async () =>
			(
				await get<{ invoices: { r_hash: string; state: string }[] }>(
					'/v1/invoices?num_max_invoices=1000'
				)
			).invoices
				.filter((i) => i.state === 'SETTLED')
				.map((i) => Buffer.from(i.r_hash, 'base64').toString('hex')),
		payments: async () =>
			(
				await get<{ payments: { payment_hash: string; status: string }[] }>(
					'/v1/payments?max_payments=1000&include_incomplete=true'
				)
			).payments
	};
}

async function openLncSettings(page: Page): Promise<void> {
	await page.goto(`${WALLET}/settings`);
	await page.getByLabel('Lightning Node Connect (pairing phrase)').check();
}

test('pairs over LNC, logs in again with the password, pays a session through a mailbox outage, nothing twice', async () => {
	test.setTimeout(300_000);
	const lnc = manifest.lightning.nodes['vehicle-1']!.lnc!;
	expect(lnc.mailbox).toMatch(/^127\.0\.0\.1:\d+$/);
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
	// The wasm comes from the wallet's own origin, as application/wasm; nothing from a CDN.
	const wasm: { url: string; type: string | undefined; bytes: number }[] = [];
	const foreign: string[] = [];
	wallet.on('response', async (r) => {
		if (r.url().endsWith('.wasm'))
			wasm.push({
				url: r.url(),
				type: r.headers()['content-type'],
				bytes: Number(r.headers()['content-length'] ?? 0)
			});
	});
	wallet.on('request', (r) => {
		const u = new URL(r.url());
		if (u.hostname !== '127.0.0.1' && u.protocol !== 'data:' && u.protocol !== 'blob:')
			foreign.push(r.url());
	});

	const station = lndAdmin('station-1');
	const vehicle = lndAdmin('vehicle-1');
	const settledBefore = new Set(await station.settledInvoices());
	const paymentsBefore = new Set((await vehicle.payments()).map((p) => p.payment_hash));

	// Pair: the mailbox address comes from the devnet, the phrase from litcli sessions add.
	await openLncSettings(wallet);
	await expect(wallet.getByTestId('lnc-mailbox')).toHaveValue(lnc.mailbox);
	await wallet.getByRole('textbox', { name: 'Pairing phrase' }).fill(lnc.pairingPhrase);
	await wallet.getByLabel('Password (protects the pairing on this phone)').fill(PASSWORD);
	const pairStart = Date.now();
	await wallet.getByTestId('connect-lightning').click();
	await expect(
		wallet.getByText(/Connected to vehicle-1 on regtest: [\d,]+ sat spendable\./)
	).toBeVisible({ timeout: 60_000 });
	figure('lncPairMs', { ms: Date.now() - pairStart });
	expect(wasm[0]?.url).toBe(`${WALLET}/lnc/wasm-client.wasm`);
	expect(wasm[0]?.type).toBe('application/wasm');
	figure('lncWasmServed', { bytes: wasm[0]?.bytes });

	// A reload forgets the connection; the password alone logs in again (no phrase). A wrong one is a sentence.
	await openLncSettings(wallet);
	await wallet.getByLabel('Password (protects the pairing on this phone)').fill('not the password');
	await wallet.getByRole('button', { name: 'Unlock paired node' }).click();
	await expect(
		wallet.getByText('The password is wrong: the stored pairing could not be unlocked.')
	).toBeVisible({ timeout: 30_000 });
	await wallet.reload();
	await wallet.getByLabel('Lightning Node Connect (pairing phrase)').check();
	await wallet.getByLabel('Password (protects the pairing on this phone)').fill(PASSWORD);
	const loginStart = Date.now();
	await wallet.getByRole('button', { name: 'Unlock paired node' }).click();
	await expect(wallet.getByText('Your node is unlocked for this browser session.')).toBeVisible({
		timeout: 60_000
	});
	figure('lncReloginMs', { ms: Date.now() - loginStart });

	// A kiosk session, paid over LNC through the hub.
	await kiosk.goto(`${KIOSK}/${KIOSK_TUNING}`);
	const href = await kiosk.getByTestId('session-link').getAttribute('href');
	await wallet.goto(href!);
	await expect(wallet.getByTestId('identity')).toContainText('Registered on the ledger', {
		timeout: 60_000
	});
	await wallet.getByTestId('budget').fill('20000');
	await wallet.getByTestId('join').click();
	const paid = wallet.locator('[data-testid=invoices] li[data-state=paid]');
	await expect.poll(() => paid.count(), { timeout: 90_000 }).toBeGreaterThanOrEqual(3);

	// The mailbox goes away for 15 s: the wallet says so, then reconnects and goes on paying.
	await admin('mailbox/stop');
	const paidAtStop = await paid.count();
	await expect(wallet.getByTestId('invoices')).toContainText(
		/Lightning Node Connect|connection to your node dropped|did not answer within/,
		{ timeout: 30_000 }
	);
	await wallet.screenshot({ path: 'test-results/lnc-mailbox-down.png' });
	await new Promise((r) => setTimeout(r, 15_000 - 0));
	await admin('mailbox/start');
	await expect
		.poll(() => paid.count(), { timeout: 120_000 })
		.toBeGreaterThanOrEqual(paidAtStop + 3);

	await wallet.getByTestId('stop').click();
	await expect(kiosk.getByTestId('settled')).toBeVisible({ timeout: 90_000 });
	await expect(wallet.getByTestId('settled')).toBeVisible({ timeout: 90_000 });
	await expect(wallet.locator('[data-testid=invoices] li[data-state=refused]')).toHaveCount(0);

	// Every invoice the station settled in this session was paid once, by one payment from the vehicle.
	const settled = (await station.settledInvoices()).filter((h) => !settledBefore.has(h));
	expect(new Set(settled).size).toBe(settled.length);
	expect(settled.length).toBe(await paid.count());
	const succeeded = (await vehicle.payments())
		.filter((p) => !paymentsBefore.has(p.payment_hash) && p.status === 'SUCCEEDED')
		.map((p) => p.payment_hash);
	expect(new Set(succeeded).size).toBe(succeeded.length);
	expect(new Set(succeeded)).toEqual(new Set(settled));
	expect(foreign).toEqual([]);
	await kioskCtx.close();
	await walletCtx.close();
});

test('a wrong pairing phrase gets a sentence', async () => {
	test.setTimeout(120_000);
	const ctx = await browser.newContext({ viewport: { width: 360, height: 740 } });
	const wallet = await ctx.newPage();
	// Real words of a real phrase in another order: a mailbox session nobody created.
	const { pairingPhrase } = await admin('sessions');
	const wrong = pairingPhrase!.split(' ').reverse().join(' ');
	await openLncSettings(wallet);
	await wallet.getByRole('textbox', { name: 'Pairing phrase' }).fill(wrong);
	await wallet.getByLabel('Password (protects the pairing on this phone)').fill(PASSWORD);
	await wallet.getByTestId('connect-lightning').click();
	await expect(
		wallet.getByText(/^Pairing failed: The mailbox knows no session for this pairing phrase/)
	).toBeVisible({ timeout: 60_000 });
	// A phrase of the wrong length never reaches the mailbox.
	await wallet.getByRole('textbox', { name: 'Pairing phrase' }).fill('alpha bravo charlie');
	await wallet.getByTestId('connect-lightning').click();
	await expect(
		wallet.getByText(
			'A pairing phrase has 10 words; this one has 3. Copy all of it from Lightning Terminal.'
		)
	).toBeVisible();
	await ctx.close();
});
