// Both builds are installable PWAs: a valid web manifest with icons, a service worker that takes
// control, and a reload with the network off still shows the app (the SPA fallback is precached).
import { expect, test, type Page } from '@playwright/test';
import { E2E_PORTS } from '../playwright.config';

const apps = [
	{
		name: 'wallet',
		url: `http://127.0.0.1:${E2E_PORTS.wallet}/`,
		display: 'standalone',
		shell: 'Lightcharge'
	},
	// Offline, the kiosk shell still comes up and says why it cannot reach its network.
	{
		name: 'kiosk',
		url: `http://127.0.0.1:${E2E_PORTS.kiosk}/`,
		display: 'fullscreen',
		shell: 'offline'
	}
] as const;

async function waitForController(page: Page): Promise<void> {
	await page.waitForFunction(
		async () => {
			await navigator.serviceWorker.ready;
			return navigator.serviceWorker.controller !== null;
		},
		undefined,
		{ timeout: 20_000 }
	);
}

for (const app of apps) {
	test(`${app.name}: installable manifest and icons`, async ({ page, request }) => {
		await page.goto(app.url);
		const href = await page.locator('link[rel=manifest]').getAttribute('href');
		const manifest = await (await request.get(new URL(href!, app.url).href)).json();
		expect(manifest.display).toBe(app.display);
		if (app.name === 'kiosk') expect(manifest.orientation).toBe('landscape');
		expect(manifest.start_url).toBe('/');
		const sizes = manifest.icons.map((i: { sizes: string }) => i.sizes);
		expect(sizes).toContain('192x192');
		expect(sizes).toContain('512x512');
		for (const icon of manifest.icons) {
			const res = await request.get(new URL(icon.src, app.url).href);
			expect(res.headers()['content-type']).toBe('image/png');
		}
	});

	test(`${app.name}: reload with the network off still shows the app`, async ({
		page,
		context
	}) => {
		await page.goto(app.url);
		await waitForController(page);
		await context.setOffline(true);
		await page.reload();
		await expect(page.getByText(app.shell, { exact: false }).first()).toBeVisible();
		// Proof the network is really off: something not precached cannot be fetched.
		const fetched = await page.evaluate(() =>
			fetch('/devnet.json', { cache: 'no-store' }).then(
				() => 'fetched',
				() => 'failed'
			)
		);
		expect(fetched).toBe('failed');
		await context.setOffline(false);
	});
}
