// --secure-broker behind the /mqtt gateway: Mosquitto serves wss:// with the devnet's own certificate,
// and the gateway must trust that certificate (not the system's CAs) to carry a phone's login through.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleManifest } from '../src/lib/config/devnet-manifest.fixture';
import { findMosquitto, MOSQUITTO_MISSING, startBroker } from './broker';
import { freePort } from './ports';
import { lanIPv4Addresses, loadOrCreateTls, startStaticServers } from './static';

const root = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-secure-gw-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const installed = findMosquitto() !== null;

describe.skipIf(!installed && process.env.LIGHTCHARGE_REQUIRE_ALL !== '1')(
	'the /mqtt gateway in front of --secure-broker',
	() => {
		it('carries a driver login through to the wss:// Mosquitto, trusting the devnet certificate', async () => {
			if (!installed) throw new Error(MOSQUITTO_MISSING);
			// Mosquitto started as root opens its files after dropping to user `mosquitto`.
			chmodSync(root, 0o755);
			const tlsDir = path.join(root, 'tls');
			const tls = await loadOrCreateTls(tlsDir, lanIPv4Addresses());
			const broker = await startBroker({
				kind: 'mosquitto',
				tcpPort: await freePort(),
				wsPort: await freePort(),
				dir: path.join(root, 'mosquitto'),
				security: {
					tls,
					stations: [{ stationId: 'station-1', password: 'password-of-station' }],
					drivers: [{ username: 'driver', password: 'password-of-driver' }]
				}
			});
			for (const app of ['wallet', 'kiosk']) {
				mkdirSync(path.join(root, 'build', app), { recursive: true });
				writeFileSync(path.join(root, 'build', app, '200.html'), `<title>${app}</title>`);
			}
			const base = sampleManifest();
			const manifest = {
				...base,
				broker: {
					...base.broker,
					kind: 'mosquitto' as const,
					wsUrl: broker.wsUrl,
					tcpUrl: broker.tcpUrl,
					protocolVersion: 5 as const
				}
			};
			const servers = await startStaticServers({
				apps: {
					wallet: {
						dir: path.join(root, 'build', 'wallet'),
						port: await freePort(),
						httpsPort: await freePort()
					},
					kiosk: { dir: path.join(root, 'build', 'kiosk'), port: await freePort(), httpsPort: null }
				},
				httpsHost: '127.0.0.1',
				tlsDir,
				getManifest: () => manifest
			});
			try {
				expect(broker.wsUrl).toMatch(/^wss:/);
				const url = `wss://127.0.0.1:${new URL(servers.wallet.httpsLocalUrl!).port}/mqtt`;
				const client = await mqtt.connectAsync(url, {
					protocolVersion: 5,
					username: 'driver',
					password: 'password-of-driver',
					ca: tls.cert,
					reconnectPeriod: 0,
					connectTimeout: 5000
				});
				expect(client.connected).toBe(true);
				await client.endAsync(true);
				await expect(
					mqtt.connectAsync(url, {
						protocolVersion: 5,
						username: 'driver',
						password: 'wrong-password',
						ca: tls.cert,
						reconnectPeriod: 0,
						connectTimeout: 5000
					})
				).rejects.toThrow();
			} finally {
				await servers.stop();
				await broker.stop();
			}
		}, 30_000);
	}
);
