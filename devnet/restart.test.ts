// kill -9 of the whole devnet (the CLI, as `npm start` runs it) and a start again with the same
// state dir: nothing left running, the ports free, the chain intact (contracts, the station, an open
// session), and that session then closes on the ledger.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDevnetManifest, type DevnetManifest } from './manifest';
import { connectLedger } from '../src/lib/ledger/index';
import { freePort } from './ports';

const root = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-restart-'));
const running: ChildProcess[] = [];

afterAll(() => {
	for (const child of running)
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	rmSync(root, { recursive: true, force: true });
});

async function startCli(
	args: string[],
	readyFile: string
): Promise<{ child: ChildProcess; manifest: DevnetManifest; output: () => string }> {
	rmSync(readyFile, { force: true });
	const child = spawn(
		process.execPath,
		['--import', 'tsx', 'devnet/index.ts', ...args, '--ready-file', readyFile],
		{ stdio: ['pipe', 'pipe', 'pipe'] }
	);
	running.push(child);
	let output = '';
	child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
	child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
	const deadline = Date.now() + 60_000;
	while (!existsSync(readyFile)) {
		if (child.exitCode !== null)
			throw new Error(`the devnet exited (${child.exitCode}): ${output}`);
		if (Date.now() > deadline) throw new Error(`the devnet did not come up within 60 s: ${output}`);
		await new Promise((r) => setTimeout(r, 200));
	}
	await new Promise((r) => setTimeout(r, 100));
	return {
		child,
		manifest: parseDevnetManifest(JSON.parse(readFileSync(readyFile, 'utf8'))),
		output: () => output
	};
}

describe('kill -9 and a restart with the same state dir', () => {
	it('leaves nothing running, keeps the chain, and the open session closes on the ledger', async () => {
		const stateDir = path.join(root, 'state');
		const buildDir = path.join(root, 'build');
		for (const app of ['wallet', 'kiosk']) {
			mkdirSync(path.join(buildDir, app), { recursive: true });
			writeFileSync(path.join(buildDir, app, '200.html'), `<!doctype html><title>${app}</title>`);
		}
		const ports = [
			'--chain-port',
			'--mqtt-port',
			'--ws-port',
			'--ln-port',
			'--wallet-port',
			'--kiosk-port'
		];
		const args = [
			'--state-dir',
			stateDir,
			'--build-dir',
			buildDir,
			'--no-https',
			'--no-qr',
			'--block-interval-ms',
			'200'
		];
		for (const flag of ports) args.push(flag, String(await freePort()));
		const readyFile = path.join(root, 'ready.json');

		const first = await startCli(args, readyFile);
		const m = first.manifest;
		const station = m.stations[0]!;
		const ledger = await connectLedger({
			rpcUrl: m.chain.rpcUrl,
			addresses: m.chain.contracts,
			expectedChainId: m.chain.chainId,
			signerKey: `0x${station.signingKeyHex}`
		});
		await ledger.openSession({
			stationId: station.stationId,
			sessionId: 'restart-1',
			driverRef: 'driver-1'
		});
		ledger.close();

		first.child.kill('SIGKILL');
		await new Promise<void>((r) => first.child.once('exit', () => r()));
		// The second start checks every port before it starts anything: it comes up only if nothing of the first still holds one.
		const second = await startCli(args, readyFile);
		try {
			expect(second.output()).toMatch(/chain +kept: \d+ transactions replayed/);
			// Same chain: same contracts, the station still registered, the session still open.
			expect(second.manifest.chain.contracts).toEqual(m.chain.contracts);
			const again = await connectLedger({
				rpcUrl: second.manifest.chain.rpcUrl,
				addresses: m.chain.contracts,
				expectedChainId: m.chain.chainId,
				signerKey: `0x${station.signingKeyHex}`
			});
			try {
				expect((await again.getStation(station.stationId))?.signer).toBe(station.signerAddress);
				const open = await again.getSession(station.stationId, 'restart-1');
				expect(open?.state).toBe('open');
				await again.closeSession({
					stationId: station.stationId,
					sessionId: 'restart-1',
					energyWh: 1200,
					amountMsat: 300_000n,
					paymentsRoot: `0x${'ab'.repeat(32)}`
				});
				expect((await again.getSession(station.stationId, 'restart-1'))?.state).toBe('closed');
			} finally {
				again.close();
			}
		} finally {
			second.child.kill('SIGTERM');
			await new Promise<void>((r) => second.child.once('exit', () => r()));
		}
	}, 150_000);
});
