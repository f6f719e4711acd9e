// The fleet simulator's live view: the page builds a city in a web worker and plays two policies
// side by side on the same trips; the clock, the vehicles on both maps and the counters move; at
// the end the counters equal the report the same scenario gives headless. Keeps screenshots for
// a booth screen, a laptop and a phone.
import { expect, test, type Page } from '@playwright/test';
import { E2E_PORTS } from '../playwright.config';
import { buildScenario, DEFAULT_READING_SAMPLE, runPolicy } from '../src/lib/sim/index';

const WALLET = `http://127.0.0.1:${E2E_PORTS.wallet}`;
const count = async (page: Page, testid: string) =>
	Number((await page.getByTestId(testid).textContent())?.replace(/,/g, ''));

test('the live view plays two policies side by side: clock, vehicles and counters move', async ({
	browser
}) => {
	const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
	const page = await ctx.newPage();
	const errors: string[] = [];
	page.on('pageerror', (e) => errors.push(e.message));
	await page.goto(`${WALLET}/sim?vehicles=300&stations=15&hours=24`);

	const play = page.getByTestId('sim-play');
	await expect(play).toBeEnabled({ timeout: 30_000 });
	await expect(page.getByTestId('sim-clock')).toHaveText('00:00');
	await expect(page.getByTestId('phase-idle')).toHaveText('300');
	await expect(page.getByTestId('phase-idle-2')).toHaveText('300');
	await expect(page.getByTestId('sim-policy')).toHaveValue('optimal');
	await expect(page.getByTestId('sim-compare')).toHaveValue('live');
	const canvas = page.getByTestId('sim-canvas');
	const before = await canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL());

	await page.getByRole('button', { name: '1 h/s' }).click();
	await play.click();
	await expect(page.getByTestId('sim-pause')).toBeVisible();
	// Shifts start from 05:00: by then vehicles drive, reserve, charge and pay.
	await expect(page.getByTestId('sim-clock')).not.toHaveText('00:00');
	await expect.poll(() => count(page, 'sim-sessions'), { timeout: 40_000 }).toBeGreaterThan(0);
	await expect.poll(() => count(page, 'sim-sessions-2'), { timeout: 20_000 }).toBeGreaterThan(0);
	await expect.poll(() => count(page, 'sim-ledger-tx'), { timeout: 20_000 }).toBeGreaterThan(0);
	await expect(page.getByTestId('sim-feed').locator('li').first()).toBeVisible();
	expect(await count(page, 'phase-idle')).toBeLessThan(300);
	const after = await canvas.evaluate((c: HTMLCanvasElement) => c.toDataURL());
	expect(after).not.toBe(before);
	await expect(page.getByTestId('sim-canvas-2')).toBeVisible();
	await expect(page.getByTestId('sim-load-chart').locator('canvas')).toBeVisible();

	// Let it reach the busy afternoon, then pause: the clock stops.
	await expect
		.poll(async () => (await page.getByTestId('sim-clock').textContent()) ?? '', {
			timeout: 60_000
		})
		.toMatch(/^1[2-9]:|^2\d:/);
	await page.getByTestId('sim-pause').click();
	const paused = await page.getByTestId('sim-clock').textContent();
	await page.waitForTimeout(800);
	await expect(page.getByTestId('sim-clock')).toHaveText(paused!);
	await page.screenshot({ path: test.info().outputPath('sim-1920.png') });

	await page.setViewportSize({ width: 1366, height: 768 });
	await page.waitForTimeout(300);
	await page.screenshot({ path: test.info().outputPath('sim-1366.png') });
	await page.setViewportSize({ width: 360, height: 740 });
	await page.waitForTimeout(300);
	await page.screenshot({ path: test.info().outputPath('sim-360.png') });
	await page.screenshot({ path: test.info().outputPath('sim-360-full.png'), fullPage: true });
	expect(errors).toEqual([]);
	await ctx.close();
});

test('at the end the live view shows the report’s own figures, for each policy', async ({
	browser
}) => {
	const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
	const page = await ctx.newPage();
	await page.goto(
		`${WALLET}/sim?vehicles=200&stations=10&hours=10&seed=3&policy=reserve&compare=nearest&speed=3600&autoplay`
	);
	await expect(page.getByTestId('sim-clock')).toHaveText('10:00', { timeout: 60_000 });
	await expect(page.getByTestId('sim-play')).toBeDisabled();
	const scenario = buildScenario({
		seed: 3,
		vehicles: 200,
		stations: 10,
		hours: 10,
		readingSample: DEFAULT_READING_SAMPLE
	});
	for (const [policy, suffix] of [
		['reserve', ''],
		['nearest', '-2']
	] as const) {
		const { summary } = await runPolicy(scenario, policy);
		expect(await count(page, `sim-errands${suffix}`)).toBe(summary.errandsStarted);
		expect(await count(page, `sim-sessions${suffix}`)).toBe(summary.sessionsFinished);
		expect(await count(page, `sim-ledger-tx${suffix}`)).toBe(summary.ledgerTransactions);
		expect(await page.getByTestId(`sim-wait${suffix}`).textContent()).toBe(
			summary.meanWaitMin.toLocaleString('en-US', {
				minimumFractionDigits: 1,
				maximumFractionDigits: 1
			})
		);
		expect(await page.getByTestId(`sim-total${suffix}`).textContent()).toBe(
			summary.meanTotalMin.toLocaleString('en-US', {
				minimumFractionDigits: 1,
				maximumFractionDigits: 1
			})
		);
	}
	await ctx.close();
});
