// The headless station: the kiosk's core (StationRuntime) in Node without a UI, for load tests,
// demos and the simulator.
//   npm run station -- --sim                                   in-process broker + Lightning simnet
//   npm run station -- --sim --devnet .devnet/devnet.json      against a running devnet (its broker,
//                                                              its Lightning REST node, its ledger)
// Each station offers a session, prints the wallet link and serves drivers; finished sessions are
// followed by new ones. State (session, outbox, ledger jobs) lives in --state-dir, one JSON file per
// station, so a restart resumes a running session.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { startBroker, type RunningBroker } from '../devnet/broker.js';
import {
	parseDevnetManifest,
	type DevnetManifest,
	networkFingerprint
} from '../src/lib/config/index.js';
import { LndRestNode, type LightningNode } from '../src/lib/lightning/index.js';
import { buildHubTopology, Simnet, SimnetNode } from '../src/lib/lightning/simnet/index.js';
import { connectBus, type MessageBus } from '../src/lib/mqtt/index.js';
import { parseMessage, TOPIC_ROOT, encodeSessionLink } from '../src/lib/protocol/index.js';
import {
	DriverChannel,
	createSimulatedStation,
	stationTariff,
	type HeadlessStation,
	type StationLedger
} from '../src/lib/session/index.js';
import { MemoryKioskStore } from '../src/lib/storage/index.js';

const USAGE = `usage: npm run station -- --sim [--devnet FILE] [--stations N] [--poll-ms MS] [--increment-wh WH]
       [--meter-speed X] [--state-dir DIR] [--next-session-after-ms MS] [--drive WH]

  --sim                  simulated car, meter and charger (required: real meters run in the kiosk)
  --devnet FILE          a devnet manifest (.devnet/devnet.json): its broker, Lightning node and ledger;
                         without it an in-process broker and Lightning simnet are started
  --stations N           how many stations (default 1); on a devnet only its registered stations
                         anchor on the ledger, the others run without a ledger
  --increment-wh WH      energy per invoice (default: as the kiosk, the least under 1 % fee overhead,
                         410 Wh at the devnet's 250 sat/kWh and 11 kW)
  --state-dir DIR        where sessions, outboxes and ledger jobs are kept (default .devnet/stations)
  --drive WH             also play a driver at every station: join each session, pay every invoice
                         (from the devnet's vehicle-1, or a simnet car), stop after WH watt-hours`;

function fail(message: string): never {
	console.error(`station: ${message}\n${USAGE}`);
	process.exit(2);
}
function positive(name: string, raw: string | undefined, fallback: number): number {
	if (raw === undefined) return fallback;
	const n = Number(raw);
	if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, got "${raw}"`);
	return n;
}

async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/** A MemoryKioskStore written to a JSON file (atomically, at most every 200 ms). */
function fileStore(file: string): MemoryKioskStore {
	let initial;
	if (existsSync(file)) {
		try {
			initial = JSON.parse(readFileSync(file, 'utf8'));
		} catch (e) {
			fail(`${file} is not valid JSON (${(e as Error).message}); move it away to start afresh`);
		}
	}
	let timer: NodeJS.Timeout | null = null;
	const store: MemoryKioskStore = new MemoryKioskStore(initial, () => {
		timer ??= setTimeout(() => {
			timer = null;
			writeFileSync(`${file}.tmp`, JSON.stringify(store.dump()));
			renameSync(`${file}.tmp`, file);
		}, 200);
	});
	return store;
}

/** A driver for one station: joins each offered session, pays each invoice, stops after `wh`. */
async function drive(
	id: string,
	station: HeadlessStation,
	bus: MessageBus,
	payer: LightningNode,
	wh: number
): Promise<void> {
	const stationId = station.runtime.statusMessage().stationId;
	const paid = new Set<string>();
	await bus.subscribe(
		`${TOPIC_ROOT}/stations/${stationId}/sessions/+/invoices`,
		(topic, payload) => {
			const m = parseMessage(topic, payload);
			if (!m.ok || m.kind !== 'invoices' || paid.has(m.message.bolt11)) return;
			paid.add(m.message.bolt11);
			void payer
				.pay({ paymentRequest: m.message.bolt11, feeLimitMsat: 100_000n, timeoutSeconds: 60 })
				.then((u) =>
					console.log(
						`[${id}] driver paid invoice ${m.message.seq}: ${u.status}${u.failureReason ? ` (${u.failureReason})` : ''}`
					)
				)
				.catch((e) => console.log(`[${id}] driver could not pay: ${(e as Error).message}`));
		}
	);
	// The driver stands at the station: it reads the session's join secret off its screen (the QR code).
	const channels = new Map<string, DriverChannel>();
	const stopped = new Set<string>();
	station.runtime.subscribe((v) => {
		const s = v.session;
		if (s.phase === 'awaiting_driver' && !channels.has(s.sessionId)) {
			const channel = new DriverChannel(station.runtime.offer()!);
			channels.set(s.sessionId, channel);
			setTimeout(
				() =>
					void bus.publish(
						channel.topic,
						channel.join(1_000_000_000n, `headless-${id}`, Date.now())
					),
				1000
			);
		}
		const delivered = s.first && s.last ? s.last.energyWh - s.first.energyWh : 0;
		const channel = channels.get(s.sessionId);
		if (s.phase === 'charging' && delivered >= wh && !stopped.has(s.sessionId) && channel) {
			stopped.add(s.sessionId);
			void bus.publish(channel.topic, channel.stop(Date.now()));
		}
	});
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			sim: { type: 'boolean' },
			devnet: { type: 'string' },
			stations: { type: 'string' },
			'poll-ms': { type: 'string' },
			'increment-wh': { type: 'string' },
			'meter-speed': { type: 'string' },
			'state-dir': { type: 'string' },
			'next-session-after-ms': { type: 'string' },
			drive: { type: 'string' },
			help: { type: 'boolean', short: 'h' }
		},
		strict: true
	});
	if (values.help) return void console.log(USAGE);
	if (!values.sim) fail('only simulated stations run headless: pass --sim');
	const count = Math.floor(positive('stations', values.stations, 1));
	const pollMs = positive('poll-ms', values['poll-ms'], 1000);
	const nextAfterMs = positive('next-session-after-ms', values['next-session-after-ms'], 15_000);
	// No --increment-wh: the kiosk's default, the least increment under 1 % fee overhead.
	const defaults = stationTariff();
	const tariff = {
		...defaults,
		incrementWh: Math.floor(positive('increment-wh', values['increment-wh'], defaults.incrementWh))
	};
	const stateDir = path.resolve(values['state-dir'] ?? '.devnet/stations');
	mkdirSync(stateDir, { recursive: true });

	let manifest: DevnetManifest | null = null;
	let broker: RunningBroker | null = null;
	let simnet: Simnet | null = null;
	let wsUrl: string;
	let protocolVersion: 4 | 5;
	if (values.devnet) {
		try {
			manifest = parseDevnetManifest(JSON.parse(readFileSync(values.devnet, 'utf8')));
		} catch (e) {
			fail(`cannot read the devnet manifest ${values.devnet}: ${(e as Error).message}`);
		}
		wsUrl = manifest.broker.wsUrl;
		protocolVersion = manifest.broker.protocolVersion;
	} else {
		broker = await startBroker({
			kind: 'aedes',
			tcpPort: await freePort(),
			wsPort: await freePort(),
			dir: path.join(os.tmpdir(), 'lightcharge-station')
		});
		wsUrl = broker.wsUrl;
		protocolVersion = broker.protocolVersion;
		simnet = new Simnet();
		console.log(`in-process broker ${broker.wsUrl} (${broker.tcpUrl}) and Lightning simnet`);
	}

	const driveWh = values.drive === undefined ? null : positive('drive', values.drive, 0);
	const stations: {
		id: string;
		station: HeadlessStation;
		bus: MessageBus;
		payer: LightningNode | null;
	}[] = [];
	for (let i = 1; i <= count; i++) {
		const stationId = `station-${i}`;
		const fromManifest =
			manifest?.stations.find((s) => s.stationId === stationId) ??
			(i === 1 ? manifest?.stations[0] : undefined);
		let lightning: LightningNode;
		let ledger: StationLedger | undefined;
		let signingKeyHex: string;
		const keyFile = path.join(stateDir, `${stationId}.key`);
		if (fromManifest) signingKeyHex = fromManifest.signingKeyHex;
		else if (existsSync(keyFile)) signingKeyHex = readFileSync(keyFile, 'utf8').trim();
		else
			writeFileSync(keyFile, (signingKeyHex = bytesToHex(secp256k1.utils.randomSecretKey())), {
				mode: 0o600
			});
		if (manifest) {
			const nodeName = fromManifest?.lightningNode ?? manifest.stations[0]!.lightningNode;
			const node = manifest.lightning.nodes[nodeName];
			if (!node) fail(`the devnet has no Lightning node "${nodeName}"`);
			lightning = new LndRestNode({ restUrl: node.restUrl, macaroonHex: node.macaroonHex });
			if (fromManifest) {
				const { createStationLedger } = await import('../src/lib/ledger/index.js');
				ledger = await createStationLedger({
					rpcUrl: manifest.chain.rpcUrl,
					chainId: manifest.chain.chainId,
					addresses: manifest.chain.contracts,
					stationId: fromManifest.stationId,
					signerKey: fromManifest.signingKeyHex
				});
			}
		} else {
			buildHubTopology(simnet!, [stationId, `car-${stationId}`]);
			lightning = new SimnetNode(simnet!, stationId);
		}
		let payer: LightningNode | null = null;
		if (driveWh !== null) {
			const vehicle = manifest?.lightning.nodes['vehicle-1'];
			if (manifest && !vehicle) fail("--drive needs the devnet's vehicle-1 Lightning node");
			payer = vehicle
				? new LndRestNode({ restUrl: vehicle.restUrl, macaroonHex: vehicle.macaroonHex })
				: new SimnetNode(simnet!, `car-${stationId}`);
		}
		const bus = await connectBus(wsUrl, {
			protocolVersion,
			clientId: `station-${stationId}-${process.pid}`
		});
		const station = await createSimulatedStation({
			stationId: fromManifest?.stationId ?? stationId,
			name: fromManifest?.name,
			signingKeyHex,
			tariff,
			lightning,
			bus,
			ledger,
			store: fileStore(path.join(stateDir, `${stationId}.json`)),
			pollMs,
			meterSpeed: positive('meter-speed', values['meter-speed'], 1),
			onLog: (line) => console.log(`[${stationId}] ${line}`)
		});
		stations.push({ id: stationId, station, bus, payer });
	}

	for (const { id, station, bus, payer } of stations) {
		if (payer && driveWh !== null) await drive(id, station, bus, payer, driveWh);
		let lastPhase = '';
		let nextTimer: NodeJS.Timeout | null = null;
		station.runtime.subscribe((v) => {
			const s = v.session;
			if (s.phase !== lastPhase) {
				lastPhase = s.phase;
				const extra =
					s.phase === 'suspended'
						? ` — ${s.suspendReason}`
						: s.phase === 'settled'
							? ` — ${s.last && s.first ? s.last.energyWh - s.first.energyWh : 0} Wh`
							: '';
				console.log(`[${id}] ${s.sessionId} ${s.phase}${extra}`);
				if (s.phase === 'awaiting_driver' && manifest && s.joinSecret) {
					const network = networkFingerprint(
						manifest.chain.chainId,
						manifest.chain.contracts.registry
					).slice(0, 8);
					const link = encodeSessionLink(manifest.wallet.url, {
						v: 2,
						network,
						stationId: s.stationId,
						sessionId: s.sessionId,
						secret: s.joinSecret
					});
					console.log(`[${id}] wallet link: ${link}`);
				}
			}
			if (s.phase === 'settled' && s.closed && !nextTimer) {
				console.log(
					`[${id}] ${s.sessionId} closed${v.closeTx ? ` on the ledger (${v.closeTx}, ${v.anchors.length} anchors)` : ''}`
				);
				nextTimer = setTimeout(() => {
					nextTimer = null;
					void station.runtime.offerNewSession();
				}, nextAfterMs);
			}
		});
		await station.runtime.start();
	}
	console.log(`${stations.length} station(s) running; Ctrl+C stops.`);

	let stopping = false;
	const shutdown = async () => {
		if (stopping) return;
		stopping = true;
		console.log('stopping…');
		for (const { station, bus } of stations) {
			await station.runtime.stop();
			await bus.close();
		}
		await broker?.stop();
		process.exit(0);
	};
	process.on('SIGINT', () => void shutdown());
	process.on('SIGTERM', () => void shutdown());
}

await main().catch((e) => {
	console.error(`station: ${(e as Error).message}`);
	process.exit(1);
});
