// The devnet CLI's options and summary. Flags beat LIGHTCHARGE_* variables beat defaults.
import path from 'node:path';
import { parseArgs } from 'node:util';
import qrcodeTerminal from 'qrcode-terminal';
import type { DevnetOptions, RunningDevnet } from './devnet';
import { DEFAULT_PORTS, type DevnetPorts } from './ports';
import { isLoopbackHostname } from './proxy';

const PORT_FLAGS: { flag: string; env: string; key: keyof DevnetPorts }[] = [
	{ flag: 'chain-port', env: 'LIGHTCHARGE_CHAIN_PORT', key: 'chain' },
	{ flag: 'mqtt-port', env: 'LIGHTCHARGE_MQTT_PORT', key: 'mqtt' },
	{ flag: 'ws-port', env: 'LIGHTCHARGE_WS_PORT', key: 'ws' },
	{ flag: 'ln-port', env: 'LIGHTCHARGE_LN_PORT', key: 'lightning' },
	{ flag: 'wallet-port', env: 'LIGHTCHARGE_WALLET_PORT', key: 'wallet' },
	{ flag: 'kiosk-port', env: 'LIGHTCHARGE_KIOSK_PORT', key: 'kiosk' },
	{ flag: 'https-wallet-port', env: 'LIGHTCHARGE_HTTPS_WALLET_PORT', key: 'httpsWallet' },
	{ flag: 'https-kiosk-port', env: 'LIGHTCHARGE_HTTPS_KIOSK_PORT', key: 'httpsKiosk' }
];

export const USAGE = `Usage: tsx devnet/index.ts [options]   (npm start builds both apps first)

Starts a local chain with the contracts, an MQTT broker, the Lightning simnet and serves the
wallet and kiosk. Each option also reads the LIGHTCHARGE_* variable shown.

  --host <addr>               bind address for all but HTTPS (LIGHTCHARGE_HOST, 127.0.0.1)
  --https-host <addr>         bind address for HTTPS (LIGHTCHARGE_HTTPS_HOST, 0.0.0.0: phones on the LAN)
${PORT_FLAGS.map((p) => `  --${p.flag} <port>`.padEnd(30) + `(${p.env}, ${DEFAULT_PORTS[p.key]})`).join('\n')}
  --broker aedes|mosquitto    MQTT broker (LIGHTCHARGE_BROKER, aedes)
  --lightning simnet|lnd      Lightning network (LIGHTCHARGE_LIGHTNING, simnet): lnd runs btcd + 3 real LND
                              nodes on regtest (build them once with scripts/build-lnd.sh; ~30 s to come up)
  --lnd-port-base <port>      first of the 10 ports real LND uses (LIGHTCHARGE_LND_PORT_BASE, --ln-port + 100)
  --lnc                       with --lightning lnd: also the LNC mailbox (aperture) and Lightning Terminal in front
                              of vehicle-1's LND, and a pairing phrase for the wallet (LIGHTCHARGE_LNC=1; build them
                              once with scripts/build-lnc.sh)
  --lnc-port-base <port>      mailbox port, litd on the next (LIGHTCHARGE_LNC_PORT_BASE, the LND port base + 20)
  --block-interval-ms <ms>    chain block period, 0 = mine each tx (LIGHTCHARGE_BLOCK_INTERVAL_MS, 1000)
  --state-dir <dir>           station key, simnet state, certificate, devnet.json (LIGHTCHARGE_STATE_DIR, .devnet)
  --build-dir <dir>           folder with wallet/ and kiosk/ builds (LIGHTCHARGE_BUILD_DIR, build)
  --fresh                     forget the station key, simnet state and manifest (keeps the certificate)
  --no-https                  serve HTTP only
  --no-qr                     print no QR codes
  --secure-broker             Mosquitto with TLS on the WebSocket listener, a login per station and per phone,
                              topic ACLs per login (a phone reads a session only after showing its key);
                              each app gets its own login in its /devnet.json (docs/devnet.md, Broker logins)
  --ready-file <path>         write the manifest there once everything is up (for test harnesses)
  -h, --help                  this text`;

export interface CliOptions {
	devnet: DevnetOptions;
	readyFile: string | null;
	qr: boolean;
}

function portValue(raw: string, source: string): number {
	const port = Number(raw);
	if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(port) || port < 1 || port > 65535) {
		throw new Error(`${source} must be a port number from 1 to 65535 (got "${raw}")`);
	}
	return port;
}

/** Parses argv and the environment into devnet options; throws a one-line error for bad input. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliOptions | 'help' {
	const { values } = parseArgs({
		args: argv,
		strict: true,
		allowPositionals: false,
		options: {
			host: { type: 'string' },
			'https-host': { type: 'string' },
			...Object.fromEntries(PORT_FLAGS.map((p) => [p.flag, { type: 'string' as const }])),
			broker: { type: 'string' },
			lightning: { type: 'string' },
			'lnd-port-base': { type: 'string' },
			lnc: { type: 'boolean' },
			'lnc-port-base': { type: 'string' },
			'block-interval-ms': { type: 'string' },
			'state-dir': { type: 'string' },
			'build-dir': { type: 'string' },
			fresh: { type: 'boolean' },
			'no-https': { type: 'boolean' },
			'no-qr': { type: 'boolean' },
			'secure-broker': { type: 'boolean' },
			'ready-file': { type: 'string' },
			help: { type: 'boolean', short: 'h' }
		}
	});
	if (values.help) return 'help';
	const pick = (flag: string, envName: string): { raw: string; source: string } | null => {
		const fromFlag = values[flag as keyof typeof values];
		if (typeof fromFlag === 'string') return { raw: fromFlag, source: `--${flag}` };
		const fromEnv = env[envName];
		if (fromEnv !== undefined && fromEnv !== '') return { raw: fromEnv, source: envName };
		return null;
	};

	const ports: Partial<DevnetPorts> = {};
	for (const p of PORT_FLAGS) {
		const v = pick(p.flag, p.env);
		if (v) ports[p.key] = portValue(v.raw, v.source);
	}
	const broker = pick('broker', 'LIGHTCHARGE_BROKER');
	if (broker && broker.raw !== 'aedes' && broker.raw !== 'mosquitto') {
		throw new Error(`${broker.source} must be aedes or mosquitto (got "${broker.raw}")`);
	}
	const lightning = pick('lightning', 'LIGHTCHARGE_LIGHTNING');
	if (lightning && lightning.raw !== 'simnet' && lightning.raw !== 'lnd') {
		throw new Error(`${lightning.source} must be simnet or lnd (got "${lightning.raw}")`);
	}
	const lndBase = pick('lnd-port-base', 'LIGHTCHARGE_LND_PORT_BASE');
	const lndPortBase = lndBase ? portValue(lndBase.raw, lndBase.source) : undefined;
	if (lndPortBase !== undefined && lndPortBase > 65535 - 9)
		throw new Error(
			`${lndBase!.source} leaves no room for the 10 ports real LND uses (got ${lndPortBase})`
		);
	const lnc = values.lnc === true || env.LIGHTCHARGE_LNC === '1';
	if (lnc && (lightning?.raw ?? 'simnet') !== 'lnd')
		throw new Error(
			'--lnc needs --lightning lnd: Lightning Node Connect runs in front of a real LND'
		);
	const lncBase = pick('lnc-port-base', 'LIGHTCHARGE_LNC_PORT_BASE');
	const lncPortBase = lncBase ? portValue(lncBase.raw, lncBase.source) : undefined;
	if (lncPortBase !== undefined && lncPortBase > 65534)
		throw new Error(
			`${lncBase!.source} leaves no room for litd on the next port (got ${lncPortBase})`
		);
	const interval = pick('block-interval-ms', 'LIGHTCHARGE_BLOCK_INTERVAL_MS');
	let blockIntervalMs: number | undefined;
	if (interval) {
		blockIntervalMs = Number(interval.raw);
		if (!/^\d+$/.test(interval.raw.trim()))
			throw new Error(
				`${interval.source} must be a whole number of milliseconds (got "${interval.raw}")`
			);
	}
	const host = pick('host', 'LIGHTCHARGE_HOST')?.raw;
	const httpsHost = pick('https-host', 'LIGHTCHARGE_HTTPS_HOST')?.raw;
	const stateDir = pick('state-dir', 'LIGHTCHARGE_STATE_DIR')?.raw;
	const buildDir = pick('build-dir', 'LIGHTCHARGE_BUILD_DIR')?.raw;
	return {
		devnet: {
			...(host !== undefined && { host }),
			...(httpsHost !== undefined && { httpsHost }),
			ports,
			...(broker && { broker: broker.raw as 'aedes' | 'mosquitto' }),
			...(lightning && { lightning: lightning.raw as 'simnet' | 'lnd' }),
			...(lndPortBase !== undefined && { lndPortBase }),
			...(lnc && { lnc: true }),
			...(lncPortBase !== undefined && { lncPortBase }),
			...(blockIntervalMs !== undefined && { blockIntervalMs }),
			...(stateDir !== undefined && { stateDir }),
			...(buildDir !== undefined && { buildDir }),
			fresh: values.fresh === true,
			...(values['secure-broker'] === true && { secureBroker: true }),
			https: values['no-https'] !== true
		},
		readyFile: typeof values['ready-file'] === 'string' ? path.resolve(values['ready-file']) : null,
		qr: values['no-qr'] !== true
	};
}

function qr(text: string): Promise<string> {
	return new Promise((resolve) => qrcodeTerminal.generate(text, { small: true }, resolve));
}

/** The HTTPS URLs a phone on the LAN can open (loopback ones excluded), wallet first. */
export function phoneUrls(
	devnet: Pick<RunningDevnet, 'wallet' | 'kiosk'>
): { label: 'wallet' | 'kiosk'; url: string }[] {
	const reachable = (urls: string[]) => urls.find((u) => !isLoopbackHostname(new URL(u).hostname));
	return (['wallet', 'kiosk'] as const).flatMap((label) => {
		const url = reachable(devnet[label].httpsLanUrls);
		return url ? [{ label, url }] : [];
	});
}

/** The text `npm start` prints once the devnet is up (QR codes come separately). */
export function summaryText(
	devnet: Pick<RunningDevnet, 'manifest' | 'manifestFile' | 'wallet' | 'kiosk' | 'tlsFingerprint'>
): string {
	const m = devnet.manifest;
	const lines = [
		'',
		'Lightcharge devnet is up.',
		'',
		'  On this machine:',
		`  wallet   ${m.wallet.url}${devnet.wallet.httpsLocalUrl ? `   ${devnet.wallet.httpsLocalUrl}` : ''}`,
		`  kiosk    ${m.kiosk.url}${devnet.kiosk.httpsLocalUrl ? `   ${devnet.kiosk.httpsLocalUrl}` : ''}`,
		`  chain    ${m.chain.rpcUrl}  chainId ${m.chain.chainId}  registry ${m.chain.contracts.registry}`,
		`  broker   ${m.broker.kind}  ${m.broker.wsUrl}  ${m.broker.tcpUrl}`,
		`  ln       ${m.lightning.url}  ${m.lightning.backend === 'lnd' ? 'real LND on regtest' : 'simnet'}, nodes: ${Object.keys(m.lightning.nodes).join(', ')}`,
		...Object.entries(m.lightning.nodes).flatMap(([name, n]) =>
			n.lnc
				? [
						`  lnc      ${name} through Lightning Node Connect; mailbox ${n.lnc.mailbox} (TLS SHA-256 ${n.lnc.mailboxFingerprint256})`,
						`  pairing  ${n.lnc.pairingPhrase}   (one phone, once: wallet → Settings → Lightning Node Connect)`
					]
				: []
		),
		`  station  ${m.stations.map((s) => `${s.stationId} signer ${s.signerAddress}`).join('; ')}`,
		`  manifest ${devnet.manifestFile}  (also GET /devnet.json on each app)`,
		''
	];
	const phones = phoneUrls(devnet);
	if (devnet.tlsFingerprint === null) {
		lines.push(
			'  Phones: HTTPS is off (--no-https), so phones cannot use the apps; drop --no-https to serve them.'
		);
	} else if (phones.length === 0) {
		lines.push(
			'  Phones: this machine has no LAN address (or --https-host is loopback), so phones cannot reach it.'
		);
	} else {
		lines.push(
			'  On a phone on the same network (open the kiosk on a tablet or screen, scan its code with the phone):'
		);
		for (const { label, url } of phones) lines.push(`  ${label.padEnd(8)} ${url}`);
		for (const label of ['wallet', 'kiosk'] as const) {
			for (const other of devnet[label].httpsLanUrls.slice(1))
				lines.push(`  ${''.padEnd(8)} ${other}   (${label}, another interface)`);
		}
		lines.push(
			'  The certificate is self-signed: accept the certificate once on the phone (and once per port in Firefox).',
			`  Check it is this one: SHA-256 ${devnet.tlsFingerprint}`,
			'  Over HTTPS the apps reach the broker, chain and Lightning through their own origin (/mqtt, /rpc, /ln).'
		);
		const lnc = Object.values(m.lightning.nodes).find((n) => n.lnc)?.lnc;
		if (lnc && phones[0]) {
			lines.push(
				`  LNC on a phone: mailbox ${new URL(phones[0].url).hostname}:${lnc.mailbox.split(':').pop()} (same certificate as the apps: accept it there first), then the pairing phrase above.`
			);
		}
	}
	return lines.join('\n');
}

export async function printSummary(devnet: RunningDevnet, showQr: boolean): Promise<void> {
	console.log(summaryText(devnet));
	if (showQr) {
		for (const { label, url } of phoneUrls(devnet))
			console.log(`\n  ${label} (HTTPS, LAN): ${url}\n${await qr(url)}`);
	}
	console.log(
		`\nA kiosk tablet on the LAN makes its own station key and shows a one-time code: type "enrol <code>" here,\nor open ${devnet.kiosk.url}devnet/operator on this machine. Phones get their own car node on their first visit.`
	);
	console.log('\nCtrl+C stops everything.');
}
