// The fleet simulator's live view: the page builds a city in a web worker, plays, and the clock,
// the vehicles on the map and the counters move. Also keeps screenshots for a booth screen and a laptop.
import { expect, test } from '@playwright/test';
import { E2E_PORTS } from '../playwright.config';

const WALLET = `http://127.0.0.1:${E2E_PORTS.wallet}`;

test('the live view plays a scenario: clock, vehicles and counters move', async ({ browser }) => {
	const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
	const page = await ctx.newPage();
	const errors: string[] = [];
	page.on('pageerror', (e) => errors.push(e.message));
	await page.goto(`${WALLET}/sim?vehicles=300&stations=15&hours=24`);

	const play = page.getByTestId('sim-play');
	await expect(play).toBeEnabled({ timeout: 30_000 });
	await expect(page.getByTestId('sim-clock')).toHaveText('00:00');
	await expect(page.getByTestId('phase-idle')).toHaveText('300');
	const canvas = page.getByTestId('sim-canvas');
	const before = await canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL());

	await page.getByRole('button', { name: '1 h/s' }).click();
	await play.click();
	await expect(page.getByTestId('sim-pause')).toBeVisible();
	// Shifts start from 05:00: by then vehicles drive, reserve, charge and pay.
	await expect(page.getByTestId('sim-clock')).not.toHaveText('00:00');
	await expect.poll(async () => Number((await page.getByTestId('sim-sessions').textContent())?.replace(/,/g, '')), { timeout: 40_000 }).toBeGreaterThan(0);
	await expect.poll(async () => Number((await page.getByTestId('sim-ledger-tx').textContent())?.replace(/,/g, '')), { timeout: 20_000 }).toBeGreaterThan(0);
	await expect(page.getByTestId('sim-feed').locator('li').first()).toBeVisible();
	expect(Number(await page.getByTestId('phase-idle').textContent())).toBeLessThan(300);
	const after = await canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL());
	expect(after).not.toBe(before);
	await expect(page.getByTestId('sim-load-chart').locator('canvas')).toBeVisible();

	// Let it reach the busy afternoon, then pause: the clock stops.
	await expect.poll(async () => (await page.getByTestId('sim-clock').textContent()) ?? '', { timeout: 60_000 }).toMatch(/^1[2-9]:|^2\d:/);
	await page.getByTestId('sim-pause').click();
	const paused = await page.getByTestId('sim-clock').textContent();
	await page.waitForTimeout(800);
	await expect(page.getByTestId('sim-clock')).toHaveText(paused!);
	await page.screenshot({ path: test.info().outputPath('sim-1920.png') });

	await page.setViewportSize({ width: 1366, height: 768 });
	await page.waitForTimeout(300);
	await page.screenshot({ path: test.info().outputPath('sim-1366.png') });
	expect(errors).toEqual([]);
	await ctx.close();
});
