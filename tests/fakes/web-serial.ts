// Playwright helper: replaces navigator.serial in every page of a context (or one page) with a
// fake bridged to a simulated Modbus RTU meter running in the page. Node side: bundles
// web-serial-page.ts with esbuild into one init script, once per test run.
//
//   import { installFakeSerial } from './fakes/web-serial';
//   await installFakeSerial(page, { profile: 'eastron-sdm630', serial: '20240917', startWh: 1_000_000 });
//   await page.goto(KIOSK);                       // the app calls navigator.serial.requestPort() as usual
//   await page.evaluate(() => window.__lightchargeFakeMeter!.setFaults({ silent: true }));  // rehearse a fault
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import type { FakeSerialConfig } from './web-serial-page';

export type { FakeMeterControls, FakeSerialConfig } from './web-serial-page';

let bundle: Promise<string> | null = null;

/** The init script's code (an IIFE, no imports), built from the real src/lib/meter files. */
export function fakeSerialBundle(): Promise<string> {
	bundle ??= build({
		entryPoints: [fileURLToPath(new URL('./web-serial-page.ts', import.meta.url))],
		bundle: true,
		format: 'iife',
		platform: 'browser',
		target: 'es2022',
		write: false,
		logLevel: 'silent'
	}).then((r) => r.outputFiles[0]!.text);
	return bundle;
}

export async function installFakeSerial(
	target: Page | BrowserContext,
	config: FakeSerialConfig
): Promise<void> {
	const code = await fakeSerialBundle();
	await target.addInitScript({
		content: `globalThis.__lightchargeFakeSerialConfig = ${JSON.stringify(config)};\n${code}`
	});
}

/**
 * A landscape kiosk context whose meter is the fake on Web Serial. Chrome remembers a granted port
 * across loads; the fake forgets it, so it is granted again at each load, as a kiosk's would be.
 */
export async function kioskWithFakeSerial(
	browser: Browser,
	config: FakeSerialConfig
): Promise<BrowserContext> {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	await installFakeSerial(ctx, config);
	await ctx.addInitScript(
		() =>
			void (
				navigator as unknown as { serial?: { requestPort(): Promise<unknown> } }
			).serial?.requestPort()
	);
	return ctx;
}
