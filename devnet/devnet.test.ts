// The whole devnet in-process, as Playwright's global setup would start it. ~4 s per start on 2 cores.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { connectLedger } from '../src/lib/ledger/index';
import { parseDevnetManifest } from '../src/lib/config/devnet-manifest';
import { loadOrCreateStationKey, startDevnet, STATION_ID, type DevnetOptions } from './devnet';
import { freePort, type DevnetPorts } from './ports';

const root = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-devnet-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

for (const app of ['wallet', 'kiosk']) {
	mkdirSync(path.join(root, 'build', app), { recursive: true });
	writeFileSync(path.join(root, 'build', app, '200.html'), `<title>${app}</title>`);
}

async function freePorts(): Promise<DevnetPorts> {
	const ports: number[] = [];
	while (ports.length < 8) {
		const p = await freePort();
		if (!ports.includes(p)) ports.push(p);
	}
	const [chain, mqttPort, ws, lightning, wallet, kiosk, httpsWallet, httpsKiosk] = ports as [number, number, number, number, number, number, number, number];
	return { chain, mqtt: mqttPort, ws, lightning, wallet, kiosk, httpsWallet, httpsKiosk };
}

async function options(): Promise<DevnetOptions> {
	return {
		ports: await freePorts(),
		httpsHost: '127.0.0.1',
		blockIntervalMs: 0,
		stateDir: path.join(root, 'state'),
		buildDir: path.join(root, 'build')
	};
}

function portIsFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const probe = net.createServer();
		probe.once('error', () => resolve(false));
		probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
	});
}

describe('startDevnet', () => {
	it('starts every component, registers the station, serves the manifest, and stops cleanly', async () => {
		const opts = await options();
		const devnet = await startDevnet(opts);
		let stopped = false;
		try {
			const m = devnet.manifest;
			// The manifest is served live and is what the apps accept.
			const served = parseDevnetManifest(await (await fetch(new URL('/devnet.json', m.kiosk.url))).json());
			expect(served).toEqual(m);
			expect(JSON.parse(readFileSync(devnet.manifestFile, 'utf8'))).toEqual(m);

			// The station is on the fresh chain with its signer and its simnet node's pubkey.
			const station = m.stations[0]!;
			expect(station.stationId).toBe(STATION_ID);
			const ledger = await connectLedger({ rpcUrl: m.chain.rpcUrl, addresses: m.chain.contracts, expectedChainId: m.chain.chainId });
			try {
				const record = await ledger.getStation(STATION_ID);
				expect(record?.signer).toBe(station.signerAddress);
				expect(record?.lightningPubkey).toBe(m.lightning.nodes[station.lightningNode]!.pubkey.replace(/^0x/, ''));
				expect(await ledger.getOperator()).toBe(m.operator.address);
			} finally {
				ledger.close();
			}

			// The broker in the manifest carries a retained message.
			const client = await mqtt.connectAsync(m.broker.wsUrl, { protocolVersion: m.broker.protocolVersion, reconnectPeriod: 0 });
			try {
				await client.publishAsync('lightcharge/v1/test', 'hello', { qos: 1, retain: true });
				const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
				await client.subscribeAsync('lightcharge/v1/test', { qos: 1 });
				expect(await got).toBe('hello');
			} finally {
				await client.endAsync(true);
			}

			await devnet.stop();
			stopped = true;
			for (const port of Object.values(opts.ports!)) expect(await portIsFree(port)).toBe(true);

			// A restart keeps the station's key (the simnet's persisted state refers to it).
			const again = await startDevnet(await options());
			try {
				expect(again.manifest.stations[0]!.signerAddress).toBe(station.signerAddress);
			} finally {
				await again.stop();
			}
		} finally {
			if (!stopped) await devnet.stop();
		}
	}, 60_000);

	it('names a taken port before starting anything', async () => {
		const opts = await options();
		const blocker = net.createServer();
		await new Promise<void>((r) => blocker.listen(opts.ports!.ws!, '127.0.0.1', () => r()));
		try {
			await expect(startDevnet(opts)).rejects.toThrow(
				`port ${opts.ports!.ws} (MQTT WebSocket) is already in use — stop whatever uses it or pass --ws-port <port>`
			);
			expect(await portIsFree(opts.ports!.chain!)).toBe(true);
		} finally {
			await new Promise<void>((r) => blocker.close(() => r()));
		}
	});
});

describe('loadOrCreateStationKey', () => {
	it('creates a key once and returns the same one after', () => {
		const dir = path.join(root, 'keys');
		const key = loadOrCreateStationKey(dir, 'station-9');
		expect(key).toMatch(/^[0-9a-f]{64}$/);
		expect(loadOrCreateStationKey(dir, 'station-9')).toBe(key);
		expect(loadOrCreateStationKey(dir, 'station-10')).not.toBe(key);
	});

	it('refuses a damaged key file with a way out', () => {
		const dir = path.join(root, 'damaged');
		mkdirSync(dir, { recursive: true });
		writeFileSync(path.join(dir, 'station-keys.json'), '{"station-1": "zz"}');
		expect(() => loadOrCreateStationKey(dir, 'station-1')).toThrow(/no valid key for station-1 — fix it or start with --fresh/);
		writeFileSync(path.join(dir, 'station-keys.json'), '{oops');
		expect(() => loadOrCreateStationKey(dir, 'station-1')).toThrow(/not valid JSON.*--fresh/);
	});
});
