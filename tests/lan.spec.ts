// The phone-on-the-LAN flow: kiosk and wallet opened over the devnet's HTTPS (self-signed, so the
// contexts ignore certificate errors the way a phone does once its user accepted the certificate),
// by this machine's LAN address when it has one. Everything the pages talk to must then go through
// their own origin's gateways (wss://…/mqtt, https://…/rpc, https://…/ln/…): nothing plain, nothing
// on loopback ports, exactly what a phone could reach.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import jsQR from 'jsqr';
import mqtt from 'mqtt';
import { E2E_PORTS, E2E_SECURE_BROKER } from '../playwright.config';
import { parseDevnetManifest } from '../src/lib/config';
import { decodeSessionLink } from '../src/lib/protocol';
import { lanIPv4Addresses } from '../devnet/static';

const HOST = lanIPv4Addresses()[0] ?? 'localhost';
const WALLET = `https://${HOST}:${E2E_PORTS.httpsWallet}`;
const KIOSK = `https://${HOST}:${E2E_PORTS.httpsKiosk}`;
const KIOSK_TUNING =
	'?pollMs=250&incrementWh=20&graceWh=200&powerW=60000&anchorMs=2000&settledPauseMs=600000';

/** Every URL a page requests or opens a WebSocket to. */
function recordTraffic(page: Page): string[] {
	const urls: string[] = [];
	page.on('request', (r) => urls.push(r.url()));
	page.on('websocket', (ws) => urls.push(ws.url()));
	return urls;
}

/** Reads the kiosk's QR code as a phone camera would: the rendered SVG, rasterised, decoded with jsQR. */
async function readQr(page: Page): Promise<string> {
	const size = 480;
	const pixels = await page.getByTestId('session-qr').evaluate(async (el, size) => {
		const svg = el.querySelector('svg');
		if (!svg) throw new Error('no QR code SVG');
		const image = new Image();
		image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg.outerHTML)}`;
		await image.decode();
		const canvas = document.createElement('canvas');
		canvas.width = canvas.height = size;
		const ctx = canvas.getContext('2d')!;
		ctx.fillStyle = '#fff';
		ctx.fillRect(0, 0, size, size);
		ctx.drawImage(image, 0, 0, size, size);
		return Array.from(ctx.getImageData(0, 0, size, size).data);
	}, size);
	const code = jsQR(Uint8ClampedArray.from(pixels), size, size);
	if (!code) throw new Error('the kiosk QR code could not be decoded');
	return code.data;
}

/** The kiosk shows its one-time code; the LAN cannot confirm it, the operator on loopback does. Returns its station id. */
async function enrolKiosk(
	kiosk: Page,
	lan: APIRequestContext,
	playwright: { request: { newContext(): Promise<APIRequestContext> } }
): Promise<string> {
	const waiting = kiosk.getByTestId('waiting-lightning');
	await expect(waiting).toContainText('Enrolment code');
	const code = /Enrolment code ([2-9A-Z]{4}-[2-9A-Z]{4})/.exec(
		(await waiting.textContent()) ?? ''
	)?.[1];
	expect(code).toBeTruthy();
	await kiosk.screenshot({ path: 'test-results/lan-kiosk-enrolment.png' });
	const fromLan = await lan.post(`${KIOSK}/devnet/enrol/confirm`, { data: { code } });
	expect(fromLan.status()).toBe(403);
	const operator = await playwright.request.newContext();
	try {
		const confirmed = await operator.post(
			`http://127.0.0.1:${E2E_PORTS.kiosk}/devnet/enrol/confirm`,
			{ data: { code } }
		);
		expect(confirmed.status()).toBe(200);
		return ((await confirmed.json()) as { stationId: string }).stationId;
	} finally {
		await operator.dispose();
	}
}

test('a phone on the LAN: kiosk and wallet over HTTPS, everything through the same-origin gateways', async ({
	browser,
	playwright
}) => {
	const kioskCtx = await browser.newContext({
		viewport: { width: 1280, height: 800 },
		ignoreHTTPSErrors: true
	});
	const walletCtx = await browser.newContext({
		viewport: { width: 360, height: 740 },
		isMobile: true,
		hasTouch: true,
		ignoreHTTPSErrors: true
	});

	// What the kiosk's origin hands out: its own gateways, and the wallet on the same host over HTTPS.
	const seen = parseDevnetManifest(
		await (await kioskCtx.request.get(`${KIOSK}/devnet.json`)).json()
	);
	expect(seen.broker.wsUrl).toBe(`wss://${HOST}:${E2E_PORTS.httpsKiosk}/mqtt`);
	expect(seen.chain.rpcUrl).toBe(`${KIOSK}/rpc`);
	expect(seen.wallet.httpsUrl).toBe(`${WALLET}/`);
	for (const node of Object.values(seen.lightning.nodes))
		expect(node.restUrl.startsWith(`${KIOSK}/ln/nodes/`)).toBe(true);

	const kiosk = await kioskCtx.newPage();
	const wallet = await walletCtx.newPage();
	for (const [name, page] of [
		['kiosk', kiosk],
		['wallet', wallet]
	] as const)
		page.on('pageerror', (e) => console.log(`[${name} pageerror] ${e.message}`));
	const kioskTraffic = recordTraffic(kiosk);
	const walletTraffic = recordTraffic(wallet);

	// A kiosk on the LAN is served no station key: it makes its own and shows a one-time code, which
	// the operator confirms on the devnet's machine (loopback only); the devnet then registers it.
	// (Without a LAN address the pages run on localhost, which is this machine: no enrolment then.)
	const onLan = HOST !== 'localhost';
	const noSecrets = await (await kioskCtx.request.get(`${KIOSK}/devnet.json`)).text();
	if (onLan) expect(noSecrets).not.toMatch(/"signingKeyHex":"[0-9a-f]{64}"/);
	if (onLan) expect(noSecrets).not.toMatch(/"macaroonHex":"[0-9a-f]+"/);
	await kiosk.goto(`${KIOSK}/${KIOSK_TUNING}`);
	const stationId = onLan ? await enrolKiosk(kiosk, kioskCtx.request, playwright) : 'station-1';
	await expect(kiosk.getByTestId('session-qr').locator('svg')).toBeVisible();
	const href = await kiosk.getByTestId('session-link').getAttribute('href');
	const scanned = await readQr(kiosk);
	expect(scanned).toBe(href);
	expect(scanned.startsWith(`${WALLET}/#c=`)).toBe(true);
	// The link names no broker, chain or RPC: the wallet takes them from its own origin's network.
	const link = decodeSessionLink(scanned);
	expect(link.stationId).toBe(stationId);
	expect(Object.keys(link).sort()).toEqual(['network', 'secret', 'sessionId', 'stationId', 'v']);
	expect(scanned).not.toContain('mqtt');
	expect(scanned).not.toContain('rpc');
	await kiosk.screenshot({ path: 'test-results/lan-kiosk-qr.png' });

	await wallet.goto(scanned);
	await expect(wallet.getByTestId('identity')).toContainText('Registered on the ledger');
	await wallet.getByTestId('budget').fill('5000');
	await wallet.getByTestId('join').click();
	await expect
		.poll(async () => Number(await wallet.getByTestId('verified-count').textContent()))
		.toBeGreaterThanOrEqual(3);
	await expect
		.poll(async () => wallet.locator('[data-testid=invoices] li[data-state=paid]').count(), {
			timeout: 30_000
		})
		.toBeGreaterThanOrEqual(1);
	await expect(kiosk.getByTestId('paid')).not.toHaveText('0');
	await wallet.screenshot({ path: 'test-results/lan-wallet-paid.png', fullPage: true });

	// --secure-broker: the phone paid over a broker login of its own, opened to this session only after
	// it showed the devnet the session's key; a second phone's login gets nothing of it.
	if (E2E_SECURE_BROKER && onLan) await strangerIsRefused(walletCtx.request, browser, link);

	// End the session cleanly, so the next test finds the station idle.
	await wallet.getByTestId('stop').click();
	await expect(kiosk.getByTestId('settled')).toBeVisible({ timeout: 30_000 });
	await expect(wallet.getByTestId('settled')).toBeVisible({ timeout: 30_000 });

	// Nothing either page fetched or opened was plain or on a port the phone cannot reach.
	const allowed = [
		`${WALLET}/`,
		`${KIOSK}/`,
		`wss://${HOST}:${E2E_PORTS.httpsWallet}/`,
		`wss://${HOST}:${E2E_PORTS.httpsKiosk}/`
	];
	const outside = [...kioskTraffic, ...walletTraffic].filter(
		(u) => !u.startsWith('data:') && !u.startsWith('blob:') && !allowed.some((a) => u.startsWith(a))
	);
	expect(outside).toEqual([]);
	expect(walletTraffic.some((u) => u.startsWith('wss://') && u.endsWith('/mqtt'))).toBe(true);
	// The phone paid from a car node of its own, never the devnet's vehicle-1.
	expect(walletTraffic.some((u) => /\/ln\/nodes\/phone-[0-9a-f]{8}\//.test(u))).toBe(true);
	expect(walletTraffic.some((u) => u.includes('/ln/nodes/vehicle-1/'))).toBe(false);
	expect(walletTraffic.some((u) => u.endsWith('/rpc'))).toBe(true);
	// Under --secure-broker the phone asked the devnet for this session's topics (never otherwise).
	expect(walletTraffic.includes(`${WALLET}/devnet/broker/grant`)).toBe(E2E_SECURE_BROKER && onLan);

	await kioskCtx.close();
	await walletCtx.close();
});

/**
 * Under --secure-broker: phone A (the wallet that joined) holds its own login, granted this session;
 * phone B, another cookie with a login of its own, subscribes to A's session and hears nothing while
 * A's login hears the readings; B's publish to the session's driver topic and its grant request
 * with a wrong key are refused, and the devnet counts both (its operator endpoint, loopback only).
 */
async function strangerIsRefused(
	phoneA: APIRequestContext,
	browser: import('@playwright/test').Browser,
	link: { stationId: string; sessionId: string }
): Promise<void> {
	const a = parseDevnetManifest(await (await phoneA.get(`${WALLET}/devnet.json`)).json());
	expect(a.broker.login).toMatchObject({
		username: expect.stringMatching(/^driver-[0-9a-f]{8}$/),
		grants: true
	});
	const strangerCtx = await browser.newContext({ ignoreHTTPSErrors: true });
	const clients: mqtt.MqttClient[] = [];
	try {
		const b = parseDevnetManifest(
			await (await strangerCtx.request.get(`${WALLET}/devnet.json`)).json()
		);
		expect(b.broker.login!.username).not.toBe(a.broker.login!.username);
		const topics = `lightcharge/v1/stations/${link.stationId}/sessions/${link.sessionId}/+`;
		const listen = async (login: { username: string; password: string }, clientId: string) => {
			const c = await mqtt.connectAsync(`wss://${HOST}:${E2E_PORTS.httpsWallet}/mqtt`, {
				protocolVersion: 5,
				clientId,
				username: login.username,
				password: login.password,
				rejectUnauthorized: false,
				reconnectPeriod: 0,
				connectTimeout: 10_000
			});
			clients.push(c);
			const got: string[] = [];
			c.on('message', (t) => got.push(t));
			await c.subscribeAsync(topics, { qos: 1 });
			return { c, got };
		};
		const own = await listen(a.broker.login!, `e2e-a-${Date.now()}`);
		const stranger = await listen(b.broker.login!, `e2e-b-${Date.now()}`);
		await expect
			.poll(() => own.got.filter((t) => t.endsWith('/readings')).length, { timeout: 15_000 })
			.toBeGreaterThanOrEqual(2);
		expect(stranger.got).toEqual([]);
		const code = await new Promise<number>((resolve) =>
			stranger.c.publish(
				`lightcharge/v1/stations/${link.stationId}/sessions/${link.sessionId}/driver`,
				'{"v":1,"type":"stop"}',
				{ qos: 1 },
				(err, packet) =>
					resolve(
						(packet as { reasonCode?: number } | undefined)?.reasonCode ??
							(err as { code?: number } | undefined)?.code ??
							0
					)
			)
		);
		expect(code).toBe(135);
		const grant = await strangerCtx.request.post(`${WALLET}/devnet/broker/grant`, {
			data: { stationId: link.stationId, sessionId: link.sessionId, stationMac: '00'.repeat(32) }
		});
		expect(grant.status()).toBe(403);
		expect(((await grant.json()) as { message: string }).message).toContain(
			'That is not the key of session'
		);
		// The operator's figures (this machine only): the grant, the refused grant, the refused publish.
		const counts = async () =>
			(await (
				await strangerCtx.request.get(`http://127.0.0.1:${E2E_PORTS.kiosk}/devnet/counts`)
			).json()) as { grants: number; grantsRefused: number; brokerDeniedPublishes: number };
		await expect
			.poll(
				async () => {
					const c = await counts();
					return c.grants >= 1 && c.grantsRefused >= 1 && c.brokerDeniedPublishes >= 1;
				},
				{ timeout: 10_000 }
			)
			.toBe(true);
		console.log(
			`[lan.spec] devnet counts under --secure-broker: ${JSON.stringify(await counts())}`
		);
		// The LAN may not read the operator's counts.
		expect((await strangerCtx.request.get(`${KIOSK}/devnet/counts`)).status()).toBe(403);
	} finally {
		await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
		await strangerCtx.close();
	}
}

test('a curious visitor on the LAN: admin API, foreign origins, a looping call and idle WebSockets are refused; the devnet goes on serving', async ({
	playwright
}) => {
	const visitor = await playwright.request.newContext({ ignoreHTTPSErrors: true });
	try {
		// The simnet's admin API, in the spellings of issue 11 (sent raw: the request context does not normalise %-escapes).
		for (const trick of [
			'/ln/nodes/%2e%2e/admin/state',
			'/ln/nodes/%2E%2E/admin/state',
			'/ln/nodes/.%2e/admin/state',
			'/ln/nodes/%252e%252e/admin/state',
			'/ln/nodes/hub%2f..%2f..%2fadmin/state',
			'/ln/admin/state'
		]) {
			const res = await visitor.get(`${KIOSK}${trick}`);
			expect(res.status(), trick).toBeGreaterThanOrEqual(400);
			expect(await res.text(), trick).not.toContain('"nodes":{');
		}
		// The manifest for another page, or for a rebound DNS name.
		const foreign = await visitor.get(`${KIOSK}/devnet.json`, {
			headers: { Origin: 'https://attacker.example' }
		});
		expect(foreign.status()).toBe(403);
		expect(foreign.headers()['access-control-allow-origin']).toBeUndefined();
		const rebound = await visitor.get(`${KIOSK}/devnet.json`, {
			headers: { Host: `attacker.example:${E2E_PORTS.httpsKiosk}` }
		});
		expect(rebound.status()).toBe(421);
		// A looping eth_call is answered (out of gas) in bounded time; the node's accounts are not reachable.
		const started = Date.now();
		const loop = await visitor.post(`${KIOSK}/rpc`, {
			data: {
				jsonrpc: '2.0',
				id: 1,
				method: 'eth_call',
				params: [{ data: '0x5b600056', gas: '0xffffffffffff' }, 'latest']
			}
		});
		expect(loop.status()).toBe(200);
		expect(JSON.stringify(await loop.json())).toMatch(/out of gas/i);
		expect(Date.now() - started).toBeLessThan(10_000);
		const accounts = await visitor.post(`${KIOSK}/rpc`, {
			data: { jsonrpc: '2.0', id: 2, method: 'eth_accounts', params: [] }
		});
		expect(accounts.status()).toBe(403);
		// The chain still answers.
		const chainId = await visitor.post(`${KIOSK}/rpc`, {
			data: { jsonrpc: '2.0', id: 3, method: 'eth_chainId', params: [] }
		});
		expect((await chainId.json()).result).toBe('0x539');
	} finally {
		await visitor.dispose();
	}
	// 40 idle WebSockets from one browser on the LAN address: at most 16 get in (loopback, when there is no LAN address, is not limited).
	const ctx = await playwright.chromium.launch({
		executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
		args: [
			'--disable-background-networking',
			'--disable-component-update',
			'--no-first-run',
			'--ignore-certificate-errors'
		]
	});
	try {
		const page = await ctx.newPage();
		await page.goto(`${WALLET}/devnet.json`);
		const opened = await page.evaluate(async (url) => {
			const results = await Promise.all(
				Array.from(
					{ length: 40 },
					() =>
						new Promise<boolean>((resolve) => {
							const ws = new WebSocket(url, 'mqtt');
							ws.onopen = () => resolve(true);
							ws.onerror = () => resolve(false);
						})
				)
			);
			return results.filter(Boolean).length;
		}, `wss://${HOST}:${E2E_PORTS.httpsWallet}/mqtt`);
		expect(opened).toBeLessThanOrEqual(HOST === 'localhost' ? 40 : 16);
		expect(opened).toBeGreaterThan(0);
	} finally {
		await ctx.close();
	}
});
