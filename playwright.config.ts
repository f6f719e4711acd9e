// Whole flows in Debian's Chromium against a devnet this run starts itself, on its own ports so a
// running `npm start` is left alone. No browser is downloaded: CHROMIUM_PATH or /usr/bin/chromium.
import { defineConfig } from '@playwright/test';

export const E2E_PORTS = {
	chain: 18545,
	mqtt: 11883,
	ws: 19001,
	ln: 18180,
	wallet: 15173,
	kiosk: 15174
};
const p = E2E_PORTS;
const broker = process.env.LIGHTCHARGE_E2E_BROKER ?? 'aedes';

export default defineConfig({
	testDir: 'tests',
	timeout: 90_000,
	expect: { timeout: 20_000 },
	fullyParallel: false,
	workers: 1,
	retries: 0,
	reporter: [['list']],
	outputDir: 'test-results',
	use: {
		launchOptions: {
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: ['--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-gpu', '--disable-quic', '--disable-sync']
		},
		trace: 'retain-on-failure',
		screenshot: 'only-on-failure'
	},
	webServer: {
		command:
			`npx tsx devnet/index.ts --fresh --no-https --state-dir .devnet/e2e --block-interval-ms 250 --broker ${broker}` +
			` --chain-port ${p.chain} --mqtt-port ${p.mqtt} --ws-port ${p.ws} --ln-port ${p.ln} --wallet-port ${p.wallet} --kiosk-port ${p.kiosk}`,
		url: `http://127.0.0.1:${p.wallet}/devnet.json`,
		timeout: 120_000,
		reuseExistingServer: false,
		stdout: 'pipe',
		stderr: 'pipe'
	}
});
