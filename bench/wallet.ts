// Wallet benchmark (run through `npm run bench:wallet`, which builds the wallet and the kiosk first).
// Serves build/wallet with the devnet's own app handler (devnet/static.ts: the same headers,
// caching and SPA fallback `npm start` serves) and a fixture /devnet.json for the figures below
// but Lighthouse, and measures in Debian's Chromium:
//   initialJsGzKb    gzipped size of every script the wallet's first page load fetched (home screen);
//   offlineReloadMs  median of 7 reloads with the network off until the home screen is interactive
//                    (its receipt list read from IndexedDB and rendered), with no stored session;
//   offlineReloadWith50ReceiptsMs
//                    the same with 50 stored receipts of one-hour sessions: one real session
//                    (bench/wallet-receipt.ts: 3,600 signed readings verified by the wallet, 110
//                    invoices paid through its guard) stored 50 times under 50 session ids through
//                    the wallet's own storage code (bench/wallet-seed.ts → saveReceipt), as the
//                    home page then lists every stored receipt;
//   throttledInteractiveMs
//                    a first visit (empty profile, no service worker) on a throttled phone: Chromium's
//                    DevTools throttling of Lighthouse's mobile profile (slow 4G: 562.5 ms request
//                    latency, 1,474.6 kbit/s down, 675 kbit/s up; CPU 4× slower), from navigation to
//                    the home screen interactive; median of 3;
//   lighthouse       Lighthouse 12.2.3 (mobile, simulated slow 4G and 4× CPU, its defaults) on both
//                    apps as a running devnet serves them (devnet/devnet.ts with its chain, broker and
//                    Lightning simnet, on this bench's ports): the kiosk then starts for real — loads
//                    the manifest, reaches its Lightning node, connects to the broker, opens the
//                    ledger and offers a session — instead of failing on a fixture's broker.
//                    Performance, accessibility and best-practices scores (0-100). Lighthouse 12
//                    has no PWA category; installability is tested in tests/platform.spec.ts.
// Targets: initialJsGzKb ≤ 120, offlineReloadWith50ReceiptsMs ≤ 1000, every Lighthouse score ≥ 95.
//
//   npm run bench:wallet -- [--receipts 50] [--reloads 7] [--throttled-runs 3] [--lighthouse yes|no] [--port-base 25100]
//                           [--make-receipt FILE | --receipt-file FILE]
// The last line is the JSON result.
import { chromium, type Page } from '@playwright/test';
import * as chromeLauncher from 'chrome-launcher';
import { build } from 'esbuild';
import lighthouse from 'lighthouse';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { startDevnet } from '../devnet/devnet.js';
import { appHandler } from '../devnet/static.js';
import { sampleManifest } from '../src/lib/config/devnet-manifest.fixture.js';
import { benchFlags, loadLine, percentile, round, wholeNumber } from './common.js';
import type { DriverSnapshot } from '../src/lib/session/index.js';
import type { ReceiptRecord } from '../src/lib/storage/index.js';
import { oneHourReceipt } from './wallet-receipt.js';

const flags = benchFlags({
	receipts: { number: 50 },
	reloads: { number: 7 },
	'throttled-runs': { number: 3 },
	lighthouse: { text: 'yes' },
	'port-base': { number: 25100 },
	'make-receipt': { text: '' },
	'receipt-file': { text: '' }
});
// `--make-receipt FILE` only makes the one-hour receipt and writes it (npm run bench does that while
// the apps build: neither is timed); `--receipt-file FILE` then takes it instead of making it again.
if (flags['make-receipt']) {
	const t = performance.now();
	writeFileSync(flags['make-receipt'], JSON.stringify(await oneHourReceipt()));
	console.log(
		`one-hour receipt written to ${flags['make-receipt']} in ${round((performance.now() - t) / 1000, 1)} s`
	);
	process.exit(0);
}
const RECEIPTS = wholeNumber('receipts', flags.receipts);
const RELOADS = wholeNumber('reloads', flags.reloads);
const THROTTLED_RUNS = wholeNumber('throttled-runs', flags['throttled-runs']);
const PORT_BASE = wholeNumber('port-base', flags['port-base'], 1024);
if (flags.lighthouse !== 'yes' && flags.lighthouse !== 'no')
	throw new Error('--lighthouse must be yes or no.');
const CHROMIUM = '/usr/bin/chromium';

for (const app of ['wallet', 'kiosk']) {
	if (!existsSync(`build/${app}/200.html`)) {
		console.error(
			`build/${app} is missing: run \`npm run bench:wallet\` (it builds the wallet and the kiosk first).`
		);
		process.exit(2);
	}
}
const benchStarted = performance.now();
console.log(loadLine('start'));

/** A receipt written by --make-receipt, checked to be one: a one-hour session's snapshot. */
function readReceiptFile(file: string): ReceiptRecord<DriverSnapshot> {
	let r: ReceiptRecord<DriverSnapshot>;
	try {
		r = JSON.parse(readFileSync(file, 'utf8')) as ReceiptRecord<DriverSnapshot>;
	} catch (e) {
		throw new Error(
			`--receipt-file ${file} is not a receipt written by --make-receipt: ${(e as Error).message}`
		);
	}
	const readings = r?.snapshot?.readings?.length ?? 0;
	if (typeof r?.sessionId !== 'string' || readings < 3600 || !Array.isArray(r.snapshot?.invoices)) {
		throw new Error(
			`--receipt-file ${file} holds no one-hour session (${readings} readings): make it with --make-receipt.`
		);
	}
	return r;
}

async function serve(
	app: 'wallet' | 'kiosk',
	port: number
): Promise<{ server: Server; origin: string }> {
	const server = createServer(appHandler(`build/${app}`, () => sampleManifest()));
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', resolve);
	});
	return { server, origin: `http://127.0.0.1:${port}` };
}
const wallet = await serve('wallet', PORT_BASE);

const t0 = performance.now();
const receipt = flags['receipt-file']
	? readReceiptFile(flags['receipt-file'])
	: await oneHourReceipt();
console.log(
	`one-hour session for the receipts: ${receipt.snapshot!.readings.length} readings, ${receipt.snapshot!.invoices.length} invoices, ${receipt.energyWh} Wh, ${(JSON.stringify(receipt).length / 1e6).toFixed(2)} MB as JSON, ` +
		(flags['receipt-file']
			? `made beforehand (${flags['receipt-file']})`
			: `made in ${round((performance.now() - t0) / 1000, 1)} s (not timed below)`)
);
const seedScript = (
	await build({
		entryPoints: [new URL('./wallet-seed.ts', import.meta.url).pathname],
		bundle: true,
		format: 'iife',
		write: false,
		target: 'es2022',
		logLevel: 'error'
	})
).outputFiles[0]!.text;

const browser = await chromium.launch({
	executablePath: CHROMIUM,
	args: [
		'--disable-gpu',
		'--disable-background-networking',
		'--disable-component-update',
		'--no-first-run'
	]
});
const phone = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };

/** Waits until the home screen is interactive: the scan button and the receipt list (or its empty note) rendered. */
async function homeReady(page: Page, receipts: number): Promise<void> {
	await page.getByTestId('scan').waitFor();
	if (receipts === 0) await page.getByTestId('history-empty').waitFor();
	else
		await page.waitForFunction(
			(n) => document.querySelectorAll('[data-testid=history] li').length === n,
			receipts,
			{ polling: 'raf', timeout: 60_000 }
		);
}

async function offlineReloads(page: Page, receipts: number): Promise<number[]> {
	const times: number[] = [];
	for (let i = 0; i < RELOADS; i++) {
		const t = performance.now();
		await page.reload({ waitUntil: 'commit' });
		await homeReady(page, receipts);
		times.push(performance.now() - t);
	}
	return times;
}
const median = (xs: number[]) =>
	percentile(
		[...xs].sort((a, b) => a - b),
		50
	);
const ms = (xs: number[]) => xs.map((t) => t.toFixed(0)).join(', ');

let initialJsGzKb: number;
let offlineReloadMs: number;
let offlineReloadWith50ReceiptsMs: number;
let throttledInteractiveMs: number;
try {
	// --- first page, then offline reloads: empty, then with the receipts -------------------------
	{
		const context = await browser.newContext(phone);
		const page = await context.newPage();
		const scripts = new Map<string, number>();
		page.on('response', async (response) => {
			if (response.request().resourceType() !== 'script') return;
			const body = await response.body().catch(() => null);
			if (body) scripts.set(response.url(), gzipSync(body).length);
		});
		await page.goto(`${wallet.origin}/`, { waitUntil: 'networkidle' });
		await homeReady(page, 0);
		initialJsGzKb = round([...scripts.values()].reduce((a, b) => a + b, 0) / 1024, 1);
		console.log(`first page: ${scripts.size} scripts, ${initialJsGzKb} KB gzipped; largest:`);
		for (const [url, size] of [...scripts].sort((a, b) => b[1] - a[1]).slice(0, 5))
			console.log(
				`  ${(size / 1024).toFixed(1).padStart(6)} KB  ${url.replace(wallet.origin, '')}`
			);

		// Offline: the service worker must control the page first.
		await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
		await page
			.waitForFunction(() => !!navigator.serviceWorker.controller, undefined, { timeout: 10_000 })
			.catch(async () => {
				await page.reload();
				await page.waitForFunction(() => !!navigator.serviceWorker.controller);
			});
		await context.setOffline(true);
		const offlineFetch = await page.evaluate(() =>
			fetch('/devnet.json').then(
				() => 'reached',
				() => 'failed'
			)
		);
		if (offlineFetch !== 'failed')
			throw new Error('the network is not off: /devnet.json was still fetched');
		const empty = await offlineReloads(page, 0);
		offlineReloadMs = Math.round(median(empty));
		console.log(
			`offline reloads until interactive, no receipts: ${ms(empty)} ms (median ${offlineReloadMs} ms)`
		);

		await page.addScriptTag({ content: seedScript });
		const ts = performance.now();
		const stored = await page.evaluate(([template, n]) => window.benchSeedReceipts(template, n), [
			receipt,
			RECEIPTS
		] as const);
		const usage = await page.evaluate(() => navigator.storage.estimate().then((e) => e.usage ?? 0));
		console.log(
			`stored ${stored} receipts through saveReceipt in ${round((performance.now() - ts) / 1000, 1)} s (storage in use ${(usage / 1e6).toFixed(0)} MB)`
		);
		const full = await offlineReloads(page, RECEIPTS);
		offlineReloadWith50ReceiptsMs = Math.round(median(full));
		console.log(
			`offline reloads until interactive, ${RECEIPTS} receipts listed: ${ms(full)} ms (median ${offlineReloadWith50ReceiptsMs} ms)`
		);
		await context.close();
	}

	// --- a first visit on a throttled phone ------------------------------------------------------
	{
		const runs: number[] = [];
		for (let i = 0; i < THROTTLED_RUNS; i++) {
			const context = await browser.newContext(phone);
			const page = await context.newPage();
			const cdp = await context.newCDPSession(page);
			await cdp.send('Network.enable');
			await cdp.send('Network.emulateNetworkConditions', {
				offline: false,
				latency: 150 * 3.75,
				downloadThroughput: (1.6 * 1024 * 0.9 * 1024) / 8,
				uploadThroughput: (750 * 0.9 * 1024) / 8
			});
			await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
			await page.goto(`${wallet.origin}/`, { waitUntil: 'commit' });
			await homeReady(page, 0);
			// Milliseconds since the navigation started, by the page's own clock.
			runs.push(await page.evaluate(() => performance.now()));
			await context.close();
		}
		throttledInteractiveMs = Math.round(median(runs));
		console.log(
			`first visit on slow 4G with 4× CPU, until the home screen is interactive: ${ms(runs)} ms (median ${throttledInteractiveMs} ms)`
		);
	}
} finally {
	await browser.close();
}

// --- Lighthouse on both apps ---------------------------------------------------------------------
type Scores = { performance: number; accessibility: number; bestPractices: number };
const scores: { wallet?: Scores; kiosk?: Scores } = {};
if (flags.lighthouse === 'yes') {
	const stateDir = mkdtempSync(path.join(tmpdir(), 'bench-wallet-devnet-'));
	const p = PORT_BASE + 10;
	const t = performance.now();
	const devnet = await startDevnet({
		stateDir,
		fresh: true,
		https: false,
		ports: { chain: p, mqtt: p + 1, ws: p + 2, lightning: p + 3, wallet: p + 4, kiosk: p + 5 }
	});
	console.log(
		`devnet for Lighthouse up in ${round((performance.now() - t) / 1000, 1)} s: wallet ${devnet.wallet.url}, kiosk ${devnet.kiosk.url}`
	);
	try {
		for (const [name, origin] of [
			['wallet', devnet.wallet.url.replace(/\/$/, '')],
			['kiosk', devnet.kiosk.url.replace(/\/$/, '')]
		] as const) {
			const chrome = await chromeLauncher.launch({
				chromePath: process.env.CHROME_PATH ?? CHROMIUM,
				chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu']
			});
			try {
				const result = await lighthouse(`${origin}/`, {
					port: chrome.port,
					output: 'json',
					logLevel: 'error',
					onlyCategories: ['performance', 'accessibility', 'best-practices']
				});
				if (!result) throw new Error(`Lighthouse returned nothing for the ${name}`);
				const c = result.lhr.categories;
				const score = (k: string) => Math.round((c[k]?.score ?? NaN) * 100);
				scores[name] = {
					performance: score('performance'),
					accessibility: score('accessibility'),
					bestPractices: score('best-practices')
				};
				// The whole report, to read what a score is made of (Lighthouse's viewer opens it).
				const report = path.join(tmpdir(), `lightcharge-lighthouse-${name}.json`);
				writeFileSync(report, JSON.stringify(result.lhr));
				const a = result.lhr.audits;
				const metric = (k: string) => a[k]?.displayValue ?? 'n/a';
				console.log(
					`lighthouse ${name}: performance ${scores[name].performance}, accessibility ${scores[name].accessibility}, best practices ${scores[name].bestPractices} (FCP ${metric('first-contentful-paint')}, LCP ${metric('largest-contentful-paint')}, TBT ${metric('total-blocking-time')}, CLS ${metric('cumulative-layout-shift')})`
				);
				const failing = Object.values(result.lhr.categories)
					.flatMap((cat) => cat.auditRefs.filter((r) => r.weight > 0).map((r) => a[r.id]!))
					.filter((x) => x.score !== null && x.score < 0.9);
				for (const x of failing.slice(0, 6)) {
					// What the audit found, e.g. the console error itself.
					const items =
						(x.details as { items?: Record<string, unknown>[] } | undefined)?.items ?? [];
					const first = items[0]
						? ` — ${String(items[0].description ?? items[0].url ?? JSON.stringify(items[0])).slice(0, 160)}`
						: '';
					console.log(
						`  below 90: ${x.id} (${Math.round((x.score ?? 0) * 100)})${x.displayValue ? ` ${x.displayValue}` : ''}${first}`
					);
				}
				console.log(`  report: ${report}`);
			} finally {
				chrome.kill();
			}
		}
	} finally {
		await devnet.stop();
		rmSync(stateDir, { recursive: true, force: true });
	}
}
wallet.server.close();

console.log(
	'targets: initialJsGzKb ≤ 120, offlineReloadWith50ReceiptsMs ≤ 1000, Lighthouse scores ≥ 95'
);
console.log(`whole bench ${round((performance.now() - benchStarted) / 1000, 1)} s`);
console.log(loadLine('end'));
console.log(
	JSON.stringify({
		initialJsGzKb,
		offlineReloadMs,
		offlineReloadWith50ReceiptsMs,
		throttledInteractiveMs,
		lighthouse: scores
	})
);
process.exit(0);
