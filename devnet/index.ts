// `npm start` (after both apps are built): the devnet CLI. See `--help` (devnet/cli.ts).
import { writeFileSync } from 'node:fs';
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
	if (readyFile) writeFileSync(readyFile, `${JSON.stringify(devnet.manifest, null, '\t')}\n`);
	return -1;
}

const code = await main();
if (code >= 0) process.exit(code);
