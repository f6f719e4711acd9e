// The whole devnet in-process, as Playwright's global setup would start it. ~4 s per start on 2 cores.
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { HDNodeWallet, Mnemonic, Wallet } from 'ethers';
import { connectLedger } from '../src/lib/ledger/index';
import { parseDevnetManifest } from '../src/lib/config';
import {
	loadOrCreateOperatorKey,
	loadOrCreateStationKey,
	OPERATOR_FILE,
	OPERATOR_KEY_FILE,
	startDevnet,
	STATION_ID,
	type DevnetOptions
} from './devnet';
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
	const [chain, mqttPort, ws, lightning, wallet, kiosk, httpsWallet, httpsKiosk] = ports as [
		number,
		number,
		number,
		number,
		number,
		number,
		number,
		number
	];
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
			const served = parseDevnetManifest(
				await (await fetch(new URL('/devnet.json', m.kiosk.url))).json()
			);
			expect(served).toEqual(m);
			expect(JSON.parse(readFileSync(devnet.manifestFile, 'utf8'))).toEqual(m);

			// The station is on the fresh chain with its signer and its simnet node's pubkey.
			const station = m.stations[0]!;
			expect(station.stationId).toBe(STATION_ID);
			const ledger = await connectLedger({
				rpcUrl: m.chain.rpcUrl,
				addresses: m.chain.contracts,
				expectedChainId: m.chain.chainId
			});
			try {
				const record = await ledger.getStation(STATION_ID);
				expect(record?.signer).toBe(station.signerAddress);
				expect(record?.lightningPubkey).toBe(
					m.lightning.nodes[station.lightningNode]!.pubkey.replace(/^0x/, '')
				);
				expect(await ledger.getOperator()).toBe(m.operator.address);
			} finally {
				ledger.close();
			}

			// The operator is the state dir's own random key (0600), not one of Hardhat's public accounts, and is never served.
			const operatorFile = path.join(opts.stateDir!, OPERATOR_FILE);
			const kept = JSON.parse(readFileSync(operatorFile, 'utf8')) as {
				address: string;
				privateKey: string;
			};
			expect(kept.address).toBe(m.operator.address);
			expect(new Wallet(kept.privateKey).address).toBe(m.operator.address);
			expect(statSync(operatorFile).mode & 0o777).toBe(0o600);
			expect(statSync(path.join(opts.stateDir!, OPERATOR_KEY_FILE)).mode & 0o777).toBe(0o600);
			const seed = Mnemonic.fromPhrase(
				'test test test test test test test test test test test junk'
			).computeSeed();
			const wellKnown = Array.from(
				{ length: 20 },
				(_, i) => HDNodeWallet.fromSeed(seed).derivePath(`m/44'/60'/0'/0/${i}`).address
			);
			expect(wellKnown).not.toContain(m.operator.address);
			expect(JSON.stringify(m)).not.toContain(kept.privateKey.slice(2));
			// Anyone else's key cannot register or re-point a station.
			const intruder = await connectLedger({
				rpcUrl: m.chain.rpcUrl,
				addresses: m.chain.contracts,
				expectedChainId: m.chain.chainId,
				signerKey: HDNodeWallet.fromSeed(seed).derivePath("m/44'/60'/0'/0/0").privateKey
			});
			try {
				const entry = {
					stationId: 'intruder-1',
					signer: intruder.signerAddress!,
					lightningPubkey: m.lightning.nodes.hub!.pubkey.replace(/^0x/, ''),
					tariffRef: `0x${'00'.repeat(32)}`,
					location: 'x'
				};
				await expect(intruder.registerStation(entry)).rejects.toThrow(
					/is not the registry operator/
				);
				await expect(intruder.updateStation({ ...entry, stationId: STATION_ID })).rejects.toThrow(
					/is not the registry operator/
				);
			} finally {
				intruder.close();
			}

			// The broker in the manifest carries a retained message.
			const client = await mqtt.connectAsync(m.broker.wsUrl, {
				protocolVersion: m.broker.protocolVersion,
				reconnectPeriod: 0
			});
			try {
				await client.publishAsync('lightcharge/v1/test', 'hello', { qos: 1, retain: true });
				const got = new Promise<string>((resolve) =>
					client.on('message', (_t, p) => resolve(p.toString()))
				);
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
				expect(again.manifest.operator.address).toBe(m.operator.address);
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
	it('makes a random operator key per state dir and keeps it', () => {
		const a = loadOrCreateOperatorKey(path.join(root, 'op-a'));
		const b = loadOrCreateOperatorKey(path.join(root, 'op-b'));
		expect(a.address).not.toBe(b.address);
		expect(loadOrCreateOperatorKey(path.join(root, 'op-a'))).toEqual(a);
		writeFileSync(path.join(root, 'op-b', OPERATOR_FILE), '{"privateKey":"0x00"}');
		expect(() => loadOrCreateOperatorKey(path.join(root, 'op-b'))).toThrow(
			/holds no valid operator key — fix it or remove it/
		);
	});

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
		expect(() => loadOrCreateStationKey(dir, 'station-1')).toThrow(
			/no valid key for station-1 — fix it or start with --fresh/
		);
		writeFileSync(path.join(dir, 'station-keys.json'), '{oops');
		expect(() => loadOrCreateStationKey(dir, 'station-1')).toThrow(/not valid JSON.*--fresh/);
	});
});
