// `npm start` (after both apps are built): the devnet CLI. See `--help` (devnet/cli.ts).
import { writeFileSync } from 'node:fs';
import readline from 'node:readline';
import { parseCli, printSummary, USAGE, type CliOptions } from './cli';
import { startDevnet, type RunningDevnet } from './devnet';

async function main(): Promise<number> {
	let cli: CliOptions | 'help';
	try {
		cli = parseCli(process.argv.slice(2), process.env);
	} catch (err) {
		console.error(`devnet: ${err instanceof Error ? err.message : String(err)} (see --help)`);
		return 2;
	}
	if (cli === 'help') {
		console.log(USAGE);
		return 0;
	}
	let devnet: RunningDevnet;
	try {
		devnet = await startDevnet({ ...cli.devnet, log: (line) => console.log(`  ${line}`) });
	} catch (err) {
		console.error(`devnet: ${err instanceof Error ? err.message : String(err)}`);
		return 1;
	}
	const { readyFile, qr: showQr } = cli;
	let shuttingDown = false;
	const shutdown = (signal: string) => {
		if (shuttingDown) return;
		shuttingDown = true;
		console.log(`\n${signal}: stopping the devnet…`);
		const force = setTimeout(() => {
			console.error('devnet: components did not stop within 10 s; exiting anyway');
			process.exit(1);
		}, 10_000);
		force.unref();
		void devnet.stop().then(() => process.exit(0));
	};
	process.on('SIGINT', () => shutdown('SIGINT'));
	process.on('SIGTERM', () => shutdown('SIGTERM'));

	await printSummary(devnet, showQr);
	// The operator's console: "enrol <code>" confirms a kiosk on the LAN, "kiosks" lists those waiting.
	const console_ = readline.createInterface({ input: process.stdin, terminal: false });
	console_.on('line', (line) => {
		const [command, ...rest] = line.trim().split(/\s+/);
		if (!command) return;
		if (command === 'enrol' || command === 'enroll') {
			devnet.devices.confirm(rest.join('')).then(
				({ stationId, signerAddress }) =>
					console.log(
						`  enrolled: ${stationId} (signer ${signerAddress}), registered on the ledger`
					),
				(err: unknown) =>
					console.log(`  not enrolled: ${err instanceof Error ? err.message : String(err)}`)
			);
		} else if (command === 'kiosks') {
			const waiting = devnet.devices.pending();
			console.log(
				waiting.length
					? waiting.map((p) => `  ${p.code}  "${p.name}"  signer ${p.signerAddress}`).join('\n')
					: '  no kiosk is waiting'
			);
		} else {
			console.log(
				'  commands: enrol <code> (confirm a kiosk on the LAN), kiosks (list those waiting)'
			);
		}
	});
	if (readyFile) writeFileSync(readyFile, `${JSON.stringify(devnet.manifest, null, '\t')}\n`);
	return -1;
}

const code = await main();
if (code >= 0) process.exit(code);
