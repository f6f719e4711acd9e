// Lightning Node Connect on the devnet: the hashmail mailbox (aperture, sqlite, authentication off,
// TLS on 127.0.0.1) and Lightning Terminal (litd) in remote mode in front of one real LND (loop,
// pool, faraday, taproot assets and autopilot off), plus pairing phrases made by
// `litcli sessions add --mailboxserveraddr=… --devserver`. The binaries come from
// scripts/build-lnc.sh; the LND must run with --rpcmiddleware.enable (devnet/lnd/regtest.ts does
// for every node when asked). Every process it starts ends with stop(), also when the start fails
// half way, and (sentinel) within a second when this process dies by SIGKILL. Node only.
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import {
	accessSync,
	constants,
	copyFileSync,
	existsSync,
	mkdirSync,
	readFileSync,
	rmSync,
	statSync,
	writeFileSync
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePortFree, waitForPort } from '../ports';
import { LND_BIN_DIR } from './binaries';
import { PIDS_TEXT, startProcessGroup, tail } from './processes';

export const LNC_BINARIES = ['aperture', 'litd', 'litcli'] as const;
/**
 * While litd does not build from the Go module proxy (docs/lightning.md), the node side of a
 * session can be the project's own `lnc-server` (infra/lnc/lnc-server): one pairing per process,
 * calls forwarded to LND under the wallet's macaroon. Used only when litd is absent.
 */
export const LNC_FALLBACK_SERVER = 'lnc-server';

function executable(file: string): boolean {
	try {
		accessSync(file, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

/** Which node side of LNC sessions is built: litd, else the project's lnc-server, else none. */
export function lncServerKind(binDir = LND_BIN_DIR): 'litd' | 'lnc-server' | null {
	if (executable(path.join(binDir, 'litd')) && executable(path.join(binDir, 'litcli')))
		return 'litd';
	if (executable(path.join(binDir, LNC_FALLBACK_SERVER))) return 'lnc-server';
	return null;
}
/** Where scripts/build-lnc.sh puts the wasm client; the wallet serves it as /lnc/wasm-client.wasm. */
export const LNC_WASM_FILE = path.resolve(
	path.dirname(fileURLToPath(import.meta.url)),
	'../../static/lnc/wasm-client.wasm'
);

/** What of the LNC stack is not built yet (empty when all is there). */
export function missingLncParts(binDir = LND_BIN_DIR, wasmFile = LNC_WASM_FILE): string[] {
	const missing: string[] = executable(path.join(binDir, 'aperture')) ? [] : ['aperture'];
	if (!lncServerKind(binDir)) missing.push('litd and litcli (or lnc-server)');
	try {
		if (statSync(wasmFile).size === 0) missing.push('static/lnc/wasm-client.wasm');
	} catch {
		missing.push('static/lnc/wasm-client.wasm');
	}
	return missing;
}

export function lncStackPresent(binDir = LND_BIN_DIR): boolean {
	return missingLncParts(binDir).length === 0;
}

/** The permissions of the wallet's LNC session: those of its REST macaroon (pay, track, read), no more. */
export const LNC_WALLET_PERMISSIONS = ['info:read', 'offchain:read', 'offchain:write'];

export interface LncStackOptions {
	dir: string;
	/** aperture on portBase, litd on portBase+1. */
	portBase: number;
	/** Where the mailbox listens (default 127.0.0.1; the devnet's HTTPS host with phones on the LAN). litd always on 127.0.0.1. */
	listenHost?: string;
	/** The LND litd fronts (started with --rpcmiddleware.enable). */
	lnd: {
		name: string;
		rpcHost: string;
		tlsCertPath: string;
		adminMacaroonPath: string;
		/** What an lnc-server session hands the wallet. */ walletMacaroonHex: string;
	};
	/** A certificate for the mailbox (the devnet's own, so a phone that trusts the wallet trusts it); else aperture makes one. */
	tls?: { certFile: string; keyFile: string } | null;
	binDir?: string;
	log?: (line: string) => void;
	timeoutMs?: number;
}

export interface LncSession {
	pairingPhrase: string;
	label: string;
	/** Unix seconds. */
	expiry: number;
}

export interface LncStack {
	/** host:port of the mailbox, what the wallet's LNC settings take as serverHost. */
	mailbox: string;
	mailboxCertPem: string;
	/** base64 SHA-256 of the mailbox certificate's public key (Chromium's --ignore-certificate-errors-spki-list). */
	mailboxSpkiSha256: string;
	/** SHA-256 fingerprint of the mailbox certificate, as browsers show it. */
	mailboxFingerprint256: string;
	litdRpc: string;
	/** litd, or (while litd does not build) the project's lnc-server. */
	server: 'litd' | 'lnc-server';
	/** A new one-time pairing phrase for the wallet (custom session, LNC_WALLET_PERMISSIONS). */
	newSession(label?: string): Promise<LncSession>;
	stopMailbox(): Promise<void>;
	startMailbox(): Promise<void>;
	stop(): Promise<void>;
	startMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function spkiSha256(certPem: string): string {
	const der = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
	return createHash('sha256').update(der).digest('base64');
}

export async function startLncStack(options: LncStackOptions): Promise<LncStack> {
	const started = Date.now();
	const log = options.log ?? (() => {});
	const binDir = options.binDir ?? LND_BIN_DIR;
	const missing = missingLncParts(binDir);
	if (missing.length > 0) {
		throw new Error(
			`Lightning Node Connect needs ${missing.join(', ')}, which are not built yet — run scripts/build-lnc.sh (after scripts/build-lnd.sh)`
		);
	}
	const host = '127.0.0.1';
	const aperturePort = options.portBase;
	const litdPort = options.portBase + 1;
	const listenHost = options.listenHost ?? host;
	// What clients on this machine dial (and what litd gives the phone with the phrase).
	const mailbox = `${host}:${aperturePort}`;
	const litdRpc = `${host}:${litdPort}`;
	const deadline = started + (options.timeoutMs ?? 90_000);
	const dir = path.resolve(options.dir);
	const apertureDir = path.join(dir, 'aperture');
	const litDir = path.join(dir, 'litd');
	await ensurePortFree(aperturePort, listenHost, 'LNC mailbox (aperture)', '--lnc-port-base');
	await ensurePortFree(litdPort, host, 'Lightning Terminal (litd)', '--lnc-port-base');
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(apertureDir, { recursive: true });
	mkdirSync(litDir, { recursive: true });
	if (options.tls) {
		// aperture uses tls.cert/tls.key from its base dir when both are there.
		copyFileSync(options.tls.certFile, path.join(apertureDir, 'tls.cert'));
		copyFileSync(options.tls.keyFile, path.join(apertureDir, 'tls.key'));
	}

	const pidsFile = path.join(dir, PIDS_TEXT);
	const {
		procs,
		spawn: spawnProc,
		stop: stopProc,
		died,
		endSentinel
	} = startProcessGroup({ dir, sentinelName: 'lnc-sentinel' });
	const remaining = () => Math.max(1000, deadline - Date.now());

	const apertureArgs = [
		`--basedir=${apertureDir}`,
		`--listenaddr=${listenHost}:${aperturePort}`,
		'--servername=localhost',
		'--dbbackend=sqlite',
		`--sqlite.dbfile=${path.join(apertureDir, 'aperture.db')}`,
		'--authenticator.disable',
		'--hashmail.enabled',
		// A bound on what one mailbox stream may send: LNC's go-back-n packets, with room for bursts.
		'--hashmail.messagerate=5ms',
		'--hashmail.messageburstallowance=2000',
		'--debuglevel=info'
	];
	const startMailbox = async () => {
		if (procs.get('aperture')?.exitReason === null) return;
		spawnProc(
			'aperture',
			path.join(binDir, 'aperture'),
			apertureArgs,
			path.join(apertureDir, 'aperture.out')
		);
		await waitForPort(aperturePort, host, remaining(), () => died('aperture'));
	};
	const litMacaroon = path.join(litDir, 'regtest', 'lit.macaroon');
	const litCert = path.join(litDir, 'tls.cert');
	const litcli = (args: string[]) =>
		spawnSync(
			path.join(binDir, 'litcli'),
			[
				`--rpcserver=${litdRpc}`,
				`--tlscertpath=${litCert}`,
				`--macaroonpath=${litMacaroon}`,
				'--network=regtest',
				...args
			],
			{ encoding: 'utf8', timeout: 30_000 }
		);

	const stopAll = async () => {
		for (const name of [...procs.keys()].filter((n) => n.startsWith('lnc-server')))
			await stopProc(name);
		await stopProc('litd');
		await stopProc('aperture');
		rmSync(pidsFile, { force: true });
		endSentinel();
	};

	try {
		await startMailbox();
		const mailboxCertPem = readFileSync(path.join(apertureDir, 'tls.cert'), 'utf8');
		log(
			`lnc mailbox  wss://${mailbox} (aperture hashmail, TLS ${new X509Certificate(mailboxCertPem).fingerprint256.slice(0, 23)}…)`
		);
		const server = lncServerKind(binDir)!;
		let count = 0;
		let newSession: (label?: string) => Promise<LncSession>;
		if (server === 'litd') {
			spawnProc(
				'litd',
				path.join(binDir, 'litd'),
				[
					`--lit-dir=${litDir}`,
					'--network=regtest',
					'--lnd-mode=remote',
					`--remote.lnd.rpcserver=${options.lnd.rpcHost}`,
					`--remote.lnd.macaroonpath=${options.lnd.adminMacaroonPath}`,
					`--remote.lnd.tlscertpath=${options.lnd.tlsCertPath}`,
					`--httpslisten=${litdRpc}`,
					'--disableui',
					'--faraday-mode=disable',
					'--loop-mode=disable',
					'--pool-mode=disable',
					'--taproot-assets-mode=disable',
					'--autopilot.disable',
					// A devnet phrase printed at start may wait a while for a phone (default 10 min).
					'--firstlncconndeadline=24h',
					'--lit-debuglevel=info'
				],
				path.join(litDir, 'litd.out')
			);
			await waitForPort(litdPort, host, remaining(), () => died('litd'));
			// litd answers once it reached lnd and made its macaroon.
			let lastError = '';
			for (;;) {
				const reason = died('litd');
				if (reason) throw new Error(`litd did not start: ${reason}`);
				if (existsSync(litMacaroon)) {
					const r = litcli(['sessions', 'list', 'all']);
					if (r.status === 0) break;
					lastError = (r.stderr || r.stdout).trim();
				}
				if (Date.now() > deadline)
					throw new Error(
						`litd did not become ready in time (last: ${lastError || 'no macaroon yet'}); see ${path.join(litDir, 'litd.out')}`
					);
				await sleep(250);
			}
			newSession = async (label?: string): Promise<LncSession> => {
				const name = label ?? `lightcharge-wallet-${++count}`;
				const r = litcli([
					'sessions',
					'add',
					`--label=${name}`,
					'--type=custom',
					...LNC_WALLET_PERMISSIONS.map((p) => `--permission=${p}`),
					`--mailboxserveraddr=${mailbox}`,
					'--devserver',
					'--expiry=604800'
				]);
				if (r.status !== 0)
					throw new Error(`litcli sessions add failed: ${(r.stderr || r.stdout).trim()}`);
				const parsed = JSON.parse(r.stdout) as {
					session?: {
						pairing_secret_mnemonic?: string;
						expiry_timestamp_seconds?: string | number;
					};
				};
				const phrase = parsed.session?.pairing_secret_mnemonic ?? '';
				if (phrase.split(' ').length !== 10)
					throw new Error(`litcli sessions add gave no pairing phrase: ${r.stdout.slice(0, 300)}`);
				return {
					pairingPhrase: phrase,
					label: name,
					expiry: Number(parsed.session?.expiry_timestamp_seconds ?? 0)
				};
			};
		} else {
			const macFile = path.join(dir, 'wallet.macaroon.hex');
			writeFileSync(macFile, options.lnd.walletMacaroonHex, { mode: 0o600 });
			newSession = async (label?: string): Promise<LncSession> => {
				const name = label ?? `lightcharge-wallet-${++count}`;
				const proc = spawnProc(
					`lnc-server ${name}`,
					path.join(binDir, LNC_FALLBACK_SERVER),
					[
						`--mailbox=${mailbox}`,
						'--devserver',
						`--lnd=${options.lnd.rpcHost}`,
						`--lnd-tlscert=${options.lnd.tlsCertPath}`,
						`--macaroon-hex-file=${macFile}`
					],
					path.join(dir, `${name}.out`),
					['ignore', 'pipe', 'pipe']
				);
				const phrase = await new Promise<string>((resolve, reject) => {
					let text = '';
					const timer = setTimeout(
						() =>
							reject(new Error(`lnc-server gave no pairing phrase in 10 s: ${tail(proc.logFile)}`)),
						10_000
					);
					proc.child.stdout!.on('data', (c: Buffer) => {
						text += c.toString('utf8');
						const line = text.split('\n')[0];
						if (text.includes('\n')) {
							clearTimeout(timer);
							try {
								resolve((JSON.parse(line!) as { pairingPhrase: string }).pairingPhrase);
							} catch {
								reject(new Error(`lnc-server printed ${line}`));
							}
						}
					});
					proc.child.stderr!.on('data', (c: Buffer) =>
						writeFileSync(proc.logFile, c, { flag: 'a' })
					);
					void proc.exited.then(() => reject(new Error(`lnc-server ended: ${proc.exitReason}`)));
				});
				return { pairingPhrase: phrase, label: name, expiry: 0 };
			};
		}
		const startMs = Date.now() - started;
		log(
			server === 'litd'
				? `lnc litd     ${litdRpc} (remote mode, in front of ${options.lnd.name}) in ${(startMs / 1000).toFixed(1)} s`
				: `lnc server   the project's lnc-server in front of ${options.lnd.name} (litd is not built; see docs/lightning.md)`
		);
		return {
			mailbox,
			mailboxCertPem,
			mailboxSpkiSha256: spkiSha256(mailboxCertPem),
			mailboxFingerprint256: new X509Certificate(mailboxCertPem).fingerprint256,
			litdRpc,
			server,
			newSession,
			stopMailbox: () => stopProc('aperture'),
			startMailbox,
			stop: stopAll,
			startMs
		};
	} catch (e) {
		await stopAll();
		throw e;
	}
}
