// `npm run deploy` and `npm run register-station` as a person runs them: child processes (tsx)
// against a fresh local node (devnet/chain.ts, blocks every 200 ms like a fast QBFT network).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChain, type RunningChain } from '../devnet/chain.js';
import { compileContracts } from './compile.js';

await compileContracts();
const { connectLedger } = await import('../src/lib/ledger/index.js');

const repoRoot = resolve(import.meta.dirname, '..');
const LN_PUBKEY = '02' + 'ab'.repeat(32);

interface Run {
	code: number;
	stdout: string;
	stderr: string;
}

function runScript(script: 'deploy' | 'register-station', args: string[]): Promise<Run> {
	return new Promise((resolvePromise) => {
		execFile(
			process.execPath,
			['--import', 'tsx', join(repoRoot, 'scripts', `${script}.ts`), ...args],
			{ cwd: repoRoot, timeout: 60_000 },
			(error, stdout, stderr) =>
				resolvePromise({
					code: error ? ((error as { code?: number }).code ?? 1) : 0,
					stdout,
					stderr
				})
		);
	});
}

const lastJsonLine = (stdout: string) =>
	JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

let chain: RunningChain;
let dir: string;
let operatorKeyFile: string;
let strangerKeyFile: string;
let deployedRegistry = '';

beforeAll(async () => {
	chain = await startChain({ port: 0, blockIntervalMs: 200 });
	dir = await mkdtemp(join(tmpdir(), 'lightcharge-deploy-'));
	operatorKeyFile = join(dir, 'operator.key');
	strangerKeyFile = join(dir, 'stranger.key');
	await writeFile(operatorKeyFile, `${chain.accounts[0]!.privateKey}\n`, { mode: 0o600 });
	// A key whose account holds no ether at all: gas price 0 must make that irrelevant.
	await writeFile(strangerKeyFile, 'aa'.repeat(32), { mode: 0o600 });
});

afterAll(async () => {
	await chain?.stop();
	if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run deploy + register-station', () => {
	it('deploys with an unfunded key, registers a station, and refuses a second registration', async () => {
		const deployed = await runScript('deploy', [
			'--rpc',
			chain.rpcUrl,
			'--key-file',
			strangerKeyFile,
			'--chain-id',
			'1337'
		]);
		expect(deployed.stderr).not.toMatch(/error/i);
		expect(deployed.code).toBe(0);
		expect(deployed.stdout).toMatch(
			/^Deployed the Lightcharge ledger to chain 1337 at http:\/\/127\.0\.0\.1:\d+ \(block \d+/
		);
		const deployment = lastJsonLine(deployed.stdout);
		expect(deployment).toMatchObject({ chainId: 1337, rpcUrl: chain.rpcUrl });
		expect(deployed.stdout).toContain(`StationRegistry  ${deployment.registry}`);
		const addresses = {
			registry: String(deployment.registry),
			reservations: String(deployment.reservations),
			sessions: String(deployment.sessions)
		};
		deployedRegistry = addresses.registry;
		const ledger = await connectLedger({ rpcUrl: chain.rpcUrl, addresses, expectedChainId: 1337 }); // checks code at all three
		expect(await ledger.getOperator()).toBe(deployment.operator);

		const registerArgs = [
			'--rpc',
			chain.rpcUrl,
			'--key-file',
			strangerKeyFile,
			'--registry',
			addresses.registry,
			'--station-id',
			'ST-0042',
			'--signer',
			chain.accounts[3]!.address,
			'--lightning-pubkey',
			LN_PUBKEY,
			'--location',
			'Bahnhofstrasse 1, Zürich'
		];
		const registered = await runScript('register-station', registerArgs);
		expect(registered.stderr).toBe('');
		expect(registered.code).toBe(0);
		expect(registered.stdout).toMatch(
			/^Registered station ST-0042 on chain 1337 \(tx 0x[0-9a-f]{64}, block \d+\)/
		);
		expect(lastJsonLine(registered.stdout)).toMatchObject({
			signer: chain.accounts[3]!.address,
			lightningPubkey: LN_PUBKEY,
			active: true
		});
		expect(await ledger.getStation('ST-0042')).toMatchObject({
			signer: chain.accounts[3]!.address,
			location: 'Bahnhofstrasse 1, Zürich'
		});

		const [again, notOperator] = await Promise.all([
			runScript('register-station', registerArgs),
			runScript('register-station', [
				'--rpc',
				chain.rpcUrl,
				'--key-file',
				operatorKeyFile, // account 0 deployed nothing here, so it is not this registry's operator
				'--registry',
				addresses.registry,
				'--station-id',
				'ST-7',
				'--signer',
				chain.accounts[3]!.address,
				'--lightning-pubkey',
				LN_PUBKEY
			])
		]);
		expect(again.code).toBe(1);
		expect(again.stderr).toMatch(
			/^error \(reverted\): registerStation\("ST-0042"\) failed: station 0x[0-9a-f]+…[0-9a-f]+ is already registered/
		);
		expect(notOperator.code).toBe(1);
		expect(notOperator.stderr).toContain(
			`${chain.accounts[0]!.address} is not the registry operator`
		);

		const updated = await runScript('register-station', [
			...registerArgs,
			'--update',
			'--location',
			'Depot 2',
			'--tariff-ref',
			'0x' + '11'.repeat(32)
		]);
		expect(updated.code).toBe(0);
		expect(await ledger.getStation('ST-0042')).toMatchObject({
			location: 'Depot 2',
			tariffRef: '0x' + '11'.repeat(32)
		});
		ledger.close();
	});

	it('explains a wrong chain, an unreachable node, a missing contract and bad arguments', async () => {
		const empty = '0x000000000000000000000000000000000000dEaD';
		const station = [
			'--station-id',
			'ST-1',
			'--signer',
			chain.accounts[3]!.address,
			'--lightning-pubkey',
			LN_PUBKEY
		];
		const [wrongChain, unreachable, noContract, missing, badKey, badPubkey] = await Promise.all([
			runScript('deploy', [
				'--rpc',
				chain.rpcUrl,
				'--key-file',
				operatorKeyFile,
				'--chain-id',
				'10'
			]),
			runScript('deploy', ['--rpc', 'http://127.0.0.1:9', '--key-file', operatorKeyFile]),
			runScript('register-station', [
				'--rpc',
				chain.rpcUrl,
				'--key-file',
				operatorKeyFile,
				'--registry',
				empty,
				...station
			]),
			runScript('deploy', ['--rpc', chain.rpcUrl]),
			runScript('deploy', ['--rpc', chain.rpcUrl, '--key-file', join(dir, 'nope.key')]),
			runScript('register-station', [
				'--rpc',
				chain.rpcUrl,
				'--key-file',
				strangerKeyFile,
				'--registry',
				deployedRegistry,
				...station.slice(0, 4),
				'--lightning-pubkey',
				'abc'
			])
		]);
		expect(wrongChain).toMatchObject({ code: 1, stdout: '' });
		expect(wrongChain.stderr).toBe(
			`error (wrong-chain): ${chain.rpcUrl} is chain 1337, but chain 10 was expected\n`
		);
		expect(unreachable.code).toBe(1);
		expect(unreachable.stderr).toBe(
			'error (unreachable): cannot reach the ledger node at http://127.0.0.1:9\n'
		);
		expect(noContract.code).toBe(1);
		expect(noContract.stderr).toBe(
			`error (no-contract): no StationRegistry contract at ${empty} on chain 1337\n`
		);
		expect(missing.code).toBe(1);
		expect(missing.stderr).toMatch(/^error: missing --key-file\n\nusage: npm run deploy/);
		expect(badKey.stderr).toContain(
			`cannot read the key file ${join(dir, 'nope.key')}: no such file`
		);
		expect(badPubkey.code).toBe(1);
		expect(badPubkey.stderr).toBe(
			'error (invalid-input): a Lightning node pubkey must be 66 hex characters starting 02 or 03, got "abc"\n'
		);
	});

	it('tells an operator whose node charges for gas to run it gas-free (Besu --min-gas-price=0)', async () => {
		// A Besu node started without --min-gas-price=0 refuses gas price 0 transactions like this.
		const besuLike: Server = createServer(async (req, res) => {
			const chunks: Buffer[] = [];
			for await (const chunk of req) chunks.push(chunk as Buffer);
			const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as
				{ id: unknown; method: string } | { id: unknown; method: string }[];
			const answer = async (request: { id: unknown; method: string }) =>
				request.method === 'eth_sendRawTransaction'
					? {
							jsonrpc: '2.0',
							id: request.id,
							error: { code: -32009, message: 'Gas price below configured minimum gas price' }
						}
					: (
							await fetch(chain.rpcUrl, {
								method: 'POST',
								headers: { 'content-type': 'application/json' },
								body: JSON.stringify(request)
							})
						).json();
			const body = Array.isArray(parsed)
				? await Promise.all(parsed.map(answer))
				: await answer(parsed);
			res.setHeader('content-type', 'application/json');
			res.end(JSON.stringify(body));
		});
		await new Promise<void>((r) => besuLike.listen(0, '127.0.0.1', r));
		const url = `http://127.0.0.1:${(besuLike.address() as { port: number }).port}`;
		try {
			const refused = await runScript('deploy', ['--rpc', url, '--key-file', strangerKeyFile]);
			expect(refused.code).toBe(1);
			expect(refused.stderr).toMatch(
				/^error \(gas-not-free\): deploying the ledger contracts failed: the ledger node wants gas paid for/
			);
			expect(refused.stderr).toContain('--min-gas-price=0');
			expect(refused.stderr).toContain('"zeroBaseFee": true');
		} finally {
			await new Promise((r) => besuLike.close(r));
		}
	});
});
