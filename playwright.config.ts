// Whole flows in Debian's Chromium against a devnet this run starts itself, on its own ports so a
// running `npm start` is left alone. No browser is downloaded: CHROMIUM_PATH or /usr/bin/chromium.
import { defineConfig } from '@playwright/test';

// LIGHTCHARGE_E2E_PORT_BASE moves the whole set (default 20000), so two runs can share a machine.
const base = Number(process.env.LIGHTCHARGE_E2E_PORT_BASE ?? 20000);
export const E2E_PORTS = {
	chain: base + 1,
	mqtt: base + 2,
	ws: base + 3,
	ln: base + 4,
	wallet: base + 5,
	kiosk: base + 6,
	// HTTPS (all interfaces, self-signed) for the LAN/phone flow in tests/lan.spec.ts.
	httpsWallet: base + 7,
	httpsKiosk: base + 8
};
const p = E2E_PORTS;
const broker = process.env.LIGHTCHARGE_E2E_BROKER ?? 'aedes';
// LIGHTCHARGE_E2E_SECURE_BROKER=1: Mosquitto with --secure-broker (TLS, a login per station and per phone, ACLs).
export const E2E_SECURE_BROKER = process.env.LIGHTCHARGE_E2E_SECURE_BROKER === '1';
// LIGHTCHARGE_E2E_LIGHTNING=lnd: the same flows against real LND on regtest (scripts/build-lnd.sh first).
export const E2E_LIGHTNING = process.env.LIGHTCHARGE_E2E_LIGHTNING === 'lnd' ? 'lnd' : 'simnet';
// LIGHTCHARGE_E2E_LNC=1 (with lnd): also the LNC mailbox and Lightning Terminal (scripts/build-lnc.sh); tests/lnc.spec.ts.
export const E2E_LNC = E2E_LIGHTNING === 'lnd' && process.env.LIGHTCHARGE_E2E_LNC === '1';
/** The devnet's state folder of this run (its certificate, LND and LNC files). */
export const E2E_STATE_DIR = `.devnet/e2e-${base}`;

export default defineConfig({
	testDir: 'tests',
	// Flows that need real LND (restarting a node) run only in the real-LND pass.
	// Flows over Lightning Node Connect run only in the LNC pass.
	testIgnore: [
		...(E2E_LIGHTNING === 'lnd' ? [] : ['**/lnd.spec.ts']),
		...(E2E_LNC ? [] : ['**/lnc.spec.ts'])
	],
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
			args: [
				'--disable-background-networking',
				'--disable-component-update',
				'--no-first-run',
				'--disable-gpu',
				'--disable-quic',
				'--disable-sync'
			]
		},
		trace: 'retain-on-failure',
		screenshot: 'only-on-failure'
	},
	webServer: {
		command:
			`npx tsx devnet/index.ts --fresh --state-dir ${E2E_STATE_DIR} --block-interval-ms 250 --broker ${broker}` +
			` --chain-port ${p.chain} --mqtt-port ${p.mqtt} --ws-port ${p.ws} --ln-port ${p.ln} --wallet-port ${p.wallet} --kiosk-port ${p.kiosk}` +
			` --https-wallet-port ${p.httpsWallet} --https-kiosk-port ${p.httpsKiosk} --no-qr` +
			(E2E_SECURE_BROKER ? ' --secure-broker' : '') +
			(E2E_LIGHTNING === 'lnd' ? ` --lightning lnd --lnd-port-base ${base + 100}` : '') +
			(E2E_LNC ? ` --lnc --lnc-port-base ${base + 150}` : ''),
		url: `http://127.0.0.1:${p.wallet}/devnet.json`,
		timeout: E2E_LIGHTNING === 'lnd' ? 240_000 : 120_000,
		reuseExistingServer: false,
		stdout: 'pipe',
		stderr: 'pipe'
	}
});
