// Wallet benchmark (run through `npm run bench:wallet`, which builds the wallet first).
// Serves build/wallet with sirv (SPA fallback) plus a fixture /devnet.json, opens it in Debian's
// Chromium at phone size and measures:
//   initialJsGzKb   — gzipped size of every script the first page load fetched (home screen);
//   offlineReloadMs — median time from a reload with the network off until the home screen is
//                     interactive (its history read from IndexedDB and rendered), over 7 reloads.
// Targets: initialJsGzKb ≤ 120, offlineReloadMs ≤ 1000. The last line is the JSON result.
import { chromium } from '@playwright/test';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import sirv from 'sirv';
import { sampleManifest } from '../src/lib/config/devnet-manifest.fixture';

const DIR = 'build/wallet';
if (!existsSync(`${DIR}/200.html`)) {
	console.error(`${DIR} is missing: run \`npm run bench:wallet\` (it builds the wallet first).`);
	process.exit(2);
}
const files = sirv(DIR, { single: '200.html', dev: false, etag: true });
const manifest = JSON.stringify(sampleManifest());
const server = createServer((req, res) => {
	if (req.url === '/devnet.json') {
		res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
		res.end(manifest);
		return;
	}
	files(req, res, () => {
		res.statusCode = 404;
		res.end('not found');
	});
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	args: ['--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
});
try {
	const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
	const page = await context.newPage();
	const scripts = new Map<string, number>();
	page.on('response', async (response) => {
		if (response.request().resourceType() !== 'script') return;
		const body = await response.body().catch(() => null);
		if (body) scripts.set(response.url(), gzipSync(body).length);
	});
	await page.goto(`${origin}/`, { waitUntil: 'networkidle' });
	await page.getByTestId('history-empty').waitFor();
	const rawKb = [...scripts.values()].reduce((a, b) => a + b, 0) / 1024;
	console.log(`first page: ${scripts.size} scripts, ${rawKb.toFixed(1)} KB gzipped`);
	for (const [url, size] of [...scripts].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`  ${(size / 1024).toFixed(1).padStart(6)} KB  ${url.replace(origin, '')}`);

	// Offline: the service worker must control the page first.
	await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
	await page.waitForFunction(() => !!navigator.serviceWorker.controller, undefined, { timeout: 10_000 }).catch(async () => {
		await page.reload();
		await page.waitForFunction(() => !!navigator.serviceWorker.controller);
	});
	await context.setOffline(true);
	const offlineFetch = await page.evaluate(() => fetch('/devnet.json').then(() => 'reached', () => 'failed'));
	if (offlineFetch !== 'failed') throw new Error('the network is not off: /devnet.json was still fetched');
	const times: number[] = [];
	for (let i = 0; i < 7; i++) {
		const t0 = performance.now();
		await page.reload({ waitUntil: 'commit' });
		await page.getByTestId('history-empty').waitFor();
		await page.getByTestId('scan').waitFor();
		times.push(performance.now() - t0);
	}
	const sorted = [...times].sort((a, b) => a - b);
	const median = sorted[Math.floor(sorted.length / 2)]!;
	console.log(`offline reloads until interactive: ${times.map((t) => t.toFixed(0)).join(', ')} ms (median ${median.toFixed(0)} ms)`);
	console.log('targets: initialJsGzKb <= 120, offlineReloadMs <= 1000');
	console.log(JSON.stringify({ initialJsGzKb: Math.round(rawKb * 10) / 10, offlineReloadMs: Math.round(median) }));
} finally {
	await browser.close();
	server.close();
}
