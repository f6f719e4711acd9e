// Runs the contracts and the client against a real Hardhat chain (automine) from devnet/chain.ts.
import { createServer, type Server } from 'node:http';
import { AbiCoder, Contract, NonceManager, Wallet, ZeroHash, keccak256, toBeHex } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileContracts } from '../../../contracts/compile';
import { startChain, type RunningChain } from '../../../devnet/chain';
import type { Ledger as LedgerType } from './client';
import type { LedgerAddresses } from './types';

// The generated ABIs must exist before the client modules load, so they are imported after compiling.
await compileContracts();
const { connectLedger } = await import('./client');
const { deployLedger } = await import('./deploy');
const { LedgerError, retryWithBackoff, toLedgerError } = await import('./errors');
const generated = await import('./generated/contracts');
const { buildReadingsTree } = await import('./merkle');
const { driverRefToBytes32, sessionIdToBytes32, sessionKeyOf, stationIdToBytes32 } =
	await import('./ids');

const LN_PUBKEY = '02' + 'ab'.repeat(32);
const LN_PUBKEY_2 = '03' + 'cd'.repeat(32);
const TARIFF = '0x' + '11'.repeat(32);
const TARIFF_2 = '0x' + '22'.repeat(32);
const ROOT = '0x' + '33'.repeat(32);

let chain: RunningChain;
let addresses: LedgerAddresses;
let operator: LedgerType;
let station: LedgerType; // signer of ST-1
let otherStation: LedgerType; // signer of ST-2
let driver: LedgerType;
let stranger: LedgerType;

async function expectRevert(promise: Promise<unknown>, name: string, sentence?: string | RegExp) {
	const error = await promise.then(
		() => {
			throw new Error(`expected revert ${name}, but the call succeeded`);
		},
		(e: unknown) => e
	);
	expect(error).toBeInstanceOf(LedgerError);
	const ledgerError = error as InstanceType<typeof LedgerError>;
	expect(ledgerError.code, ledgerError.message).toBe('reverted');
	expect(ledgerError.revert?.name).toBe(name);
	if (sentence) expect(ledgerError.message).toMatch(sentence);
}

/** Calls a contract function directly (bypassing the client's own input checks) and maps errors like the client does. */
async function rawCall(
	key: string,
	contract: 'registry' | 'reservations' | 'sessions',
	method: string,
	...args: unknown[]
) {
	const abi = {
		registry: generated.StationRegistry.abi,
		reservations: generated.Reservations.abi,
		sessions: generated.SessionLedger.abi
	}[contract];
	const signer = new NonceManager(new Wallet(key, operator.provider));
	const fn = new Contract(addresses[contract], abi, signer).getFunction(method);
	try {
		if (fn.fragment.constant) return await fn.staticCall(...args);
		const tx = await fn.send(...args, { gasPrice: 0n });
		return await tx.wait();
	} catch (error) {
		throw toLedgerError(error, method);
	}
}

/**
 * A JSON-RPC proxy in front of the chain that behaves like a Besu or GoQuorum node where Hardhat
 * differs: it refuses eth_getLogs over more than `maxLogsRange` blocks (Besu's
 * --rpc-max-logs-range) and answers the QBFT validator methods when given validators.
 */
async function startQuorumLikeProxy(
	target: string,
	opts: {
		maxLogsRange: number;
		qbftValidators?: string[];
		istanbulValidators?: string[];
		dropLastLog?: boolean;
	}
) {
	const seen: string[] = [];
	const server: Server = createServer(async (req, res) => {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
		const answer = async (request: { id: unknown; method: string; params?: unknown[] }) => {
			seen.push(request.method);
			const reply = (result: unknown) => ({ jsonrpc: '2.0', id: request.id, result });
			const fail = (code: number, message: string) => ({
				jsonrpc: '2.0',
				id: request.id,
				error: { code, message }
			});
			if (request.method === 'qbft_getValidatorsByBlockNumber')
				return opts.qbftValidators ? reply(opts.qbftValidators) : fail(-32601, 'Method not found');
			if (request.method === 'istanbul_getValidators')
				return opts.istanbulValidators
					? reply(opts.istanbulValidators)
					: fail(-32601, 'Method not found');
			if (request.method === 'eth_getLogs') {
				const filter = (request.params?.[0] ?? {}) as { fromBlock?: string; toBlock?: string };
				const from = Number(filter.fromBlock ?? 0);
				const to = Number(filter.toBlock ?? 0);
				if (to - from + 1 > opts.maxLogsRange)
					return fail(-32005, 'Requested range exceeds maximum RPC range limit');
			}
			const forwarded = await fetch(target, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(request)
			});
			const answered = (await forwarded.json()) as { result?: unknown };
			// A dishonest or pruned node: leave the newest log out.
			if (opts.dropLastLog && request.method === 'eth_getLogs' && Array.isArray(answered.result))
				answered.result = answered.result.slice(0, -1);
			return answered;
		};
		const result = Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body);
		res.setHeader('content-type', 'application/json');
		res.end(JSON.stringify(result));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	return {
		url: `http://127.0.0.1:${port}`,
		seen,
		close: () => new Promise<void>((resolve) => server.close(() => resolve()))
	};
}

async function advanceChainTime(seconds: number) {
	await operator.provider.send('evm_increaseTime', [seconds]);
	await operator.provider.send('evm_mine', []);
}

beforeAll(async () => {
	chain = await startChain({ port: 0, blockIntervalMs: 0 });
	const [op, st1, st2, drv, other] = chain.accounts;
	addresses = await deployLedger(chain.rpcUrl, op!.privateKey);
	const connect = (key: string) =>
		connectLedger({ rpcUrl: chain.rpcUrl, addresses, expectedChainId: 1337, signerKey: key });
	[operator, station, otherStation, driver, stranger] = await Promise.all([
		connect(op!.privateKey),
		connect(st1!.privateKey),
		connect(st2!.privateKey),
		connect(drv!.privateKey),
		connect(other!.privateKey)
	]);
	await operator.registerStation({
		stationId: 'ST-1',
		signer: st1!.address,
		lightningPubkey: LN_PUBKEY,
		tariffRef: TARIFF,
		location: 'Bahnhofstrasse 1, Zürich'
	});
	await operator.registerStation({
		stationId: 'ST-2',
		signer: st2!.address,
		lightningPubkey: LN_PUBKEY_2,
		tariffRef: TARIFF,
		location: 'Depot 2'
	});
});

afterAll(async () => {
	for (const l of [operator, station, otherStation, driver, stranger]) l?.close();
	await chain?.stop();
});

describe('StationRegistry', () => {
	it('registers stations and reads them back', async () => {
		expect(await operator.getOperator()).toBe(chain.accounts[0]!.address);
		expect(await driver.getStation('ST-1')).toEqual({
			stationId: stationIdToBytes32('ST-1'),
			signer: chain.accounts[1]!.address,
			lightningPubkey: LN_PUBKEY,
			tariffRef: TARIFF,
			location: 'Bahnhofstrasse 1, Zürich',
			active: true
		});
		expect(await driver.getStation('nope')).toBeNull();
		expect(await driver.listStationIds()).toEqual([
			stationIdToBytes32('ST-1'),
			stationIdToBytes32('ST-2')
		]);
	});

	it('lets only the operator register, and never twice', async () => {
		const entry = {
			stationId: 'ST-X',
			signer: chain.accounts[4]!.address,
			lightningPubkey: LN_PUBKEY,
			tariffRef: TARIFF,
			location: 'x'
		};
		await expectRevert(
			station.registerStation(entry),
			'NotOperator',
			/is not the registry operator/
		);
		await expectRevert(
			operator.registerStation({ ...entry, stationId: 'ST-1' }),
			'StationAlreadyRegistered'
		);
		await expectRevert(
			operator.registerStation({ ...entry, signer: '0x0000000000000000000000000000000000000000' }),
			'ZeroAddress'
		);
		await expect(
			operator.registerStation({ ...entry, lightningPubkey: 'abcd' })
		).rejects.toMatchObject({
			code: 'invalid-input'
		});
		await expect(operator.registerStation({ ...entry, tariffRef: '0x12' })).rejects.toThrow(
			/tariffRef must be 0x/
		);
	});

	it("lets the station's signer change its tariff and pubkey, nobody else", async () => {
		await station.setTariffRef('ST-1', TARIFF_2);
		await station.setLightningPubkey('ST-1', '0x' + LN_PUBKEY_2);
		const st = await driver.getStation('ST-1');
		expect(st?.tariffRef).toBe(TARIFF_2);
		expect(st?.lightningPubkey).toBe(LN_PUBKEY_2);
		await expectRevert(
			otherStation.setTariffRef('ST-1', TARIFF),
			'NotStationSigner',
			/is not the registered signer/
		);
		await expectRevert(stranger.setLightningPubkey('ST-1', LN_PUBKEY), 'NotStationSigner');
		await expectRevert(
			station.setTariffRef('ST-404', TARIFF),
			'UnknownStation',
			/is not registered/
		);
		await station.setLightningPubkey('ST-1', LN_PUBKEY);
	});

	it('lets the operator update, retire and reactivate a station and transfer the operator role', async () => {
		const st3 = chain.accounts[5]!;
		await operator.registerStation({
			stationId: 'ST-3',
			signer: st3.address,
			lightningPubkey: LN_PUBKEY,
			tariffRef: TARIFF,
			location: 'a'
		});
		await operator.updateStation({
			stationId: 'ST-3',
			signer: st3.address,
			lightningPubkey: LN_PUBKEY_2,
			tariffRef: TARIFF_2,
			location: 'b'
		});
		expect(await driver.getStation('ST-3')).toMatchObject({
			lightningPubkey: LN_PUBKEY_2,
			tariffRef: TARIFF_2,
			location: 'b'
		});
		await expectRevert(
			station.updateStation({
				stationId: 'ST-3',
				signer: st3.address,
				lightningPubkey: LN_PUBKEY,
				tariffRef: TARIFF,
				location: 'c'
			}),
			'NotOperator'
		);
		await expectRevert(
			operator.updateStation({
				stationId: 'ST-404',
				signer: st3.address,
				lightningPubkey: LN_PUBKEY,
				tariffRef: TARIFF,
				location: 'c'
			}),
			'UnknownStation'
		);

		await expectRevert(station.retireStation('ST-3'), 'NotOperator');
		await operator.retireStation('ST-3');
		expect((await driver.getStation('ST-3'))?.active).toBe(false);
		await expectRevert(operator.retireStation('ST-3'), 'StationInactive');
		const st3Ledger = await connectLedger({
			rpcUrl: chain.rpcUrl,
			addresses,
			signerKey: st3.privateKey
		});
		await expectRevert(st3Ledger.setTariffRef('ST-3', TARIFF), 'StationInactive', /retired/);
		await expectRevert(
			st3Ledger.openSession({ stationId: 'ST-3', sessionId: 'retired-session', driverRef: 'd' }),
			'StationInactive'
		);
		await operator.reactivateStation('ST-3');
		await expectRevert(operator.reactivateStation('ST-3'), 'StationAlreadyActive');
		await st3Ledger.setTariffRef('ST-3', TARIFF);
		st3Ledger.close();

		// Hand the operator role to account 6 and back.
		const newOperator = await connectLedger({
			rpcUrl: chain.rpcUrl,
			addresses,
			signerKey: chain.accounts[6]!.privateKey
		});
		await operator.transferOperator(newOperator.signerAddress!);
		expect(await driver.getOperator()).toBe(newOperator.signerAddress);
		await expectRevert(operator.retireStation('ST-3'), 'NotOperator');
		await newOperator.transferOperator(operator.signerAddress!);
		expect(await driver.getOperator()).toBe(operator.signerAddress);
		newOperator.close();
	});
});

describe('SessionLedger', () => {
	const readings = Array.from(
		{ length: 10 },
		(_, i) => `OCMF|{"PG":"T${i + 1}","RV":${i * 0.1}}|{"SD":"30${i}"}`
	);
	const firstBatch = buildReadingsTree(readings.slice(0, 6)); // readings #1..#6
	const secondBatch = buildReadingsTree(readings.slice(6)); // readings #7..#10

	it('opens, anchors contiguous batches and closes a session; state and logs agree', async () => {
		const opened = await station.openSession({
			stationId: 'ST-1',
			sessionId: 'sess-1',
			driverRef: 'driver-42'
		});
		expect(opened.txHash).toMatch(/^0x[0-9a-f]{64}$/);
		let session = await driver.getSession('ST-1', 'sess-1');
		expect(session).toMatchObject({
			sessionKey: sessionKeyOf('ST-1', 'sess-1'),
			sessionId: sessionIdToBytes32('sess-1'),
			stationId: stationIdToBytes32('ST-1'),
			signer: station.signerAddress,
			state: 'open',
			lastReading: 0,
			energyWh: 0,
			anchorCount: 0,
			closedAt: null,
			paymentsRoot: null,
			amountMsat: 0n
		});

		const a0 = await station.anchorReadings({
			stationId: 'ST-1',
			sessionId: 'sess-1',
			root: firstBatch.root,
			fromReading: 1,
			toReading: 6,
			energyWh: 500
		});
		const a1 = await station.anchorReadings({
			stationId: 'ST-1',
			sessionId: 'sess-1',
			root: secondBatch.root,
			fromReading: 7,
			toReading: 10,
			energyWh: 500
		});
		expect([a0.anchorIndex, a1.anchorIndex]).toEqual([0, 1]);
		session = await driver.getSession('ST-1', 'sess-1');
		expect(session).toMatchObject({
			state: 'open',
			lastReading: 10,
			energyWh: 500,
			anchorCount: 2
		});

		const anchors = await driver.getAnchors('ST-1', 'sess-1');
		expect(anchors).toEqual([
			{
				anchorIndex: 0,
				root: firstBatch.root,
				fromReading: 1,
				toReading: 6,
				energyWh: 500,
				txHash: a0.txHash,
				blockNumber: a0.blockNumber
			},
			{
				anchorIndex: 1,
				root: secondBatch.root,
				fromReading: 7,
				toReading: 10,
				energyWh: 500,
				txHash: a1.txHash,
				blockNumber: a1.blockNumber
			}
		]);

		const paymentsRoot = '0x' + '44'.repeat(32);
		await station.closeSession({
			stationId: 'ST-1',
			sessionId: 'sess-1',
			energyWh: 912,
			amountMsat: '123456789012',
			paymentsRoot
		});
		session = await driver.getSession('ST-1', 'sess-1');
		expect(session).toMatchObject({
			state: 'closed',
			energyWh: 912,
			amountMsat: 123456789012n,
			paymentsRoot,
			anchorCount: 2
		});
		expect(session!.closedAt).toBeGreaterThanOrEqual(session!.openedAt);
		expect(await driver.getSession('ST-1', 'never-opened')).toBeNull();
		expect(await driver.getAnchors('ST-1', 'never-opened')).toEqual([]);
	});

	it('checks Merkle proofs on chain exactly like off chain', async () => {
		for (let i = 0; i < 6; i++) {
			expect(
				await driver.verifyReadingOnChain('ST-1', 'sess-1', 0, readings[i]!, firstBatch.proof(i))
			).toBe(true);
		}
		expect(
			await driver.verifyReadingOnChain('ST-1', 'sess-1', 1, readings[8]!, secondBatch.proof(2))
		).toBe(true);
		// Tampered reading, proof against the wrong anchor, truncated proof.
		expect(
			await driver.verifyReadingOnChain(
				'ST-1',
				'sess-1',
				0,
				readings[2]!.replace('0.2', '0.3'),
				firstBatch.proof(2)
			)
		).toBe(false);
		expect(
			await driver.verifyReadingOnChain('ST-1', 'sess-1', 1, readings[2]!, firstBatch.proof(2))
		).toBe(false);
		expect(
			await driver.verifyReadingOnChain(
				'ST-1',
				'sess-1',
				0,
				readings[2]!,
				firstBatch.proof(2).slice(1)
			)
		).toBe(false);
		await expectRevert(
			driver.verifyReadingOnChain('ST-1', 'sess-1', 2, readings[0]!, []),
			'UnknownAnchor',
			/has no anchor #2/
		);
	});

	it('rejects writes by anyone but the station signer, and unknown stations', async () => {
		await expectRevert(
			otherStation.openSession({ stationId: 'ST-1', sessionId: 'sess-x', driverRef: 'd' }),
			'NotStationSigner',
			/is not the registered signer/
		);
		await expectRevert(
			stranger.openSession({ stationId: 'ST-404', sessionId: 'sess-x', driverRef: 'd' }),
			'UnknownStation'
		);
		await station.openSession({ stationId: 'ST-1', sessionId: 'sess-2', driverRef: 'd' });
		await expectRevert(
			station.openSession({ stationId: 'ST-1', sessionId: 'sess-2', driverRef: 'd' }),
			'SessionAlreadyExists'
		);
		await expectRevert(
			otherStation.anchorReadings({
				stationId: 'ST-1',
				sessionId: 'sess-2',
				root: ROOT,
				fromReading: 1,
				toReading: 2,
				energyWh: 1
			}),
			'NotStationSigner'
		);
		await expectRevert(
			otherStation.closeSession({
				stationId: 'ST-1',
				sessionId: 'sess-2',
				energyWh: 1,
				amountMsat: 1n,
				paymentsRoot: ROOT
			}),
			'NotStationSigner'
		);
	});

	it("scopes session ids by station: another station's session with the same id is its own and touches nothing of ours", async () => {
		// ST-2 saw ST-1 offer "sess-4" on the broker and opens, anchors and closes a session of that id first.
		await otherStation.openSession({
			stationId: 'ST-2',
			sessionId: 'sess-4',
			driverRef: 'squatter'
		});
		await otherStation.anchorReadings({
			stationId: 'ST-2',
			sessionId: 'sess-4',
			root: ROOT,
			fromReading: 1,
			toReading: 99,
			energyWh: 9999
		});
		await otherStation.closeSession({
			stationId: 'ST-2',
			sessionId: 'sess-4',
			energyWh: 9999,
			amountMsat: 1n,
			paymentsRoot: ROOT
		});
		expect(await driver.getSession('ST-1', 'sess-4')).toBeNull();
		await station.openSession({ stationId: 'ST-1', sessionId: 'sess-4', driverRef: 'driver-7' });
		await station.anchorReadings({
			stationId: 'ST-1',
			sessionId: 'sess-4',
			root: firstBatch.root,
			fromReading: 1,
			toReading: 6,
			energyWh: 60
		});
		expect(await driver.getSession('ST-1', 'sess-4')).toMatchObject({
			state: 'open',
			signer: station.signerAddress,
			energyWh: 60,
			anchorCount: 1,
			driverRef: driverRefToBytes32('driver-7')
		});
		expect(await driver.getSession('ST-2', 'sess-4')).toMatchObject({
			state: 'closed',
			signer: otherStation.signerAddress,
			energyWh: 9999
		});
		expect((await driver.getAnchors('ST-1', 'sess-4')).map((a) => a.root)).toEqual([
			firstBatch.root
		]);
		await station.closeSession({
			stationId: 'ST-1',
			sessionId: 'sess-4',
			energyWh: 60,
			amountMsat: 15_000n,
			paymentsRoot: ROOT
		});
	});

	it('rejects anchors on unknown or closed sessions and a second close', async () => {
		await expectRevert(
			station.anchorReadings({
				stationId: 'ST-1',
				sessionId: 'ghost',
				root: ROOT,
				fromReading: 1,
				toReading: 2,
				energyWh: 1
			}),
			'UnknownSession',
			/was never opened/
		);
		await expectRevert(
			station.closeSession({
				stationId: 'ST-1',
				sessionId: 'ghost',
				energyWh: 1,
				amountMsat: 1n,
				paymentsRoot: ROOT
			}),
			'UnknownSession'
		);
		await expectRevert(
			station.anchorReadings({
				stationId: 'ST-1',
				sessionId: 'sess-1',
				root: ROOT,
				fromReading: 11,
				toReading: 12,
				energyWh: 1000
			}),
			'SessionNotOpen',
			/is closed/
		);
		await expectRevert(
			station.closeSession({
				stationId: 'ST-1',
				sessionId: 'sess-1',
				energyWh: 912,
				amountMsat: 1n,
				paymentsRoot: ROOT
			}),
			'SessionAlreadyClosed',
			/already closed/
		);
	});

	it('rejects gaps, overlaps, backwards ranges, falling energy and empty roots', async () => {
		await station.openSession({ stationId: 'ST-1', sessionId: 'sess-3', driverRef: 'd' });
		const anchor = (fromReading: number, toReading: number, energyWh: number, root = ROOT) =>
			station.anchorReadings({
				stationId: 'ST-1',
				sessionId: 'sess-3',
				root,
				fromReading,
				toReading,
				energyWh
			});
		await expectRevert(
			anchor(0, 3, 10),
			'ReadingRangeOutOfOrder',
			/continue from #1, but this batch starts at #0/
		);
		await expectRevert(anchor(5, 3, 10), 'InvalidReadingRange', /runs backwards/);
		await expectRevert(anchor(1, 3, 10, '0x' + '00'.repeat(32)), 'EmptyMerkleRoot');
		await anchor(3, 5, 100); // a first batch may start later than #1 (readings lost before the first anchor)
		await expectRevert(
			anchor(5, 8, 120),
			'ReadingRangeOutOfOrder',
			/continue from #6, but this batch starts at #5/
		); // overlap
		await expectRevert(anchor(7, 8, 120), 'ReadingRangeOutOfOrder'); // gap
		await expectRevert(anchor(6, 8, 99), 'EnergyDecreased', /99 Wh is below the 100 Wh/);
		await anchor(6, 6, 100); // a single reading with unchanged energy is fine
		await expectRevert(
			station.closeSession({
				stationId: 'ST-1',
				sessionId: 'sess-3',
				energyWh: 50,
				amountMsat: 0n,
				paymentsRoot: ROOT
			}),
			'EnergyDecreased'
		);
		await expect(anchor(-1, 2, 3)).rejects.toMatchObject({ code: 'invalid-input' });
		await expect(
			station.closeSession({
				stationId: 'ST-1',
				sessionId: 'sess-3',
				energyWh: 1,
				amountMsat: 'lots',
				paymentsRoot: ROOT
			})
		).rejects.toThrow('amountMsat must be an integer');
	});

	it('serialises back-to-back transactions from one signer (NonceManager)', async () => {
		const ids = Array.from({ length: 6 }, (_, i) => `burst-${i}`);
		const results = await Promise.all(
			ids.map((sessionId) => station.openSession({ stationId: 'ST-1', sessionId, driverRef: 'd' }))
		);
		expect(new Set(results.map((r) => r.txHash)).size).toBe(6);
		// A rejected transaction in the middle must not leave a nonce gap behind it.
		await expectRevert(
			station.openSession({ stationId: 'ST-1', sessionId: 'burst-0', driverRef: 'd' }),
			'SessionAlreadyExists'
		);
		await station.openSession({
			stationId: 'ST-1',
			sessionId: 'burst-after-revert',
			driverRef: 'd'
		});
		expect((await driver.getSession('ST-1', 'burst-after-revert'))?.state).toBe('open');
	});
});

describe('Reservations', () => {
	it('reserves, lists the queue by ETA, cancels only for the reserver', async () => {
		const now = await driver.getChainTime();
		const late = await driver.reserve({
			stationId: 'ST-2',
			vehicleRef: 'car-1',
			eta: now + 900,
			expiresAt: now + 1800
		});
		const early = await stranger.reserve({
			stationId: 'ST-2',
			vehicleRef: 'car-2',
			eta: now + 300,
			expiresAt: now + 1200
		});
		expect(early.reservationId).toBe(late.reservationId + 1);
		const queue = await operator.listReservations('ST-2');
		expect(queue.map((r) => r.reservationId)).toEqual([early.reservationId, late.reservationId]);
		expect(queue[1]).toMatchObject({
			stationId: stationIdToBytes32('ST-2'),
			reserver: driver.signerAddress,
			eta: now + 900,
			expiresAt: now + 1800,
			status: 'active'
		});
		expect(await operator.listReservations('ST-1')).toEqual([]);

		await expectRevert(
			stranger.cancelReservation(late.reservationId),
			'NotReserver',
			/did not make reservation/
		);
		await driver.cancelReservation(late.reservationId);
		expect((await operator.getReservation(late.reservationId))?.status).toBe('cancelled');
		expect((await operator.listReservations('ST-2')).map((r) => r.reservationId)).toEqual([
			early.reservationId
		]);
		await expectRevert(
			driver.cancelReservation(late.reservationId),
			'ReservationNotActive',
			/no longer active \(cancelled\)/
		);
		await expectRevert(driver.cancelReservation(99_999), 'UnknownReservation');
		expect(await operator.getReservation(99_999)).toBeNull();

		// The station marks the early one as used when the car plugs in; nobody else can.
		await expectRevert(driver.fulfilReservation(early.reservationId), 'NotStationSigner');
		await otherStation.fulfilReservation(early.reservationId);
		expect((await operator.getReservation(early.reservationId))?.status).toBe('fulfilled');
		expect(await operator.listReservations('ST-2')).toEqual([]);
	});

	it('rejects bad reservations', async () => {
		const now = await driver.getChainTime();
		await expectRevert(
			driver.reserve({ stationId: 'ST-404', vehicleRef: 'v', eta: now + 10, expiresAt: now + 20 }),
			'UnknownStation'
		);
		await expectRevert(
			driver.reserve({ stationId: 'ST-2', vehicleRef: 'v', eta: now, expiresAt: now - 5 }),
			'ExpiryInPast'
		);
		await expectRevert(
			driver.reserve({ stationId: 'ST-2', vehicleRef: 'v', eta: now + 50, expiresAt: now + 20 }),
			'EtaAfterExpiry'
		);
		await expectRevert(
			driver.reserve({
				stationId: 'ST-2',
				vehicleRef: 'v',
				eta: now + 50,
				expiresAt: now + 24 * 3600 + 60
			}),
			'ExpiryTooFar',
			/lasts at most 24 hours/
		);
	});

	it('holds one account to four active reservations, and pages a long queue', async () => {
		const now = await driver.getChainTime();
		const mine = [];
		for (let i = 0; i < 4; i++)
			mine.push(
				(
					await driver.reserve({
						stationId: 'ST-2',
						vehicleRef: `car-${i}`,
						eta: now + 60 + i,
						expiresAt: now + 3600
					})
				).reservationId
			);
		await expectRevert(
			driver.reserve({
				stationId: 'ST-1',
				vehicleRef: 'car-5',
				eta: now + 60,
				expiresAt: now + 3600
			}),
			'TooManyReservations',
			/already holds 4 active reservations/
		);
		expect(
			await rawCall(
				chain.accounts[0]!.privateKey,
				'reservations',
				'activeCount',
				driver.signerAddress
			)
		).toBe(4n);
		// Another account still may; pages of two give the same queue as one read.
		const theirs = (
			await stranger.reserve({
				stationId: 'ST-2',
				vehicleRef: 'car-x',
				eta: now + 30,
				expiresAt: now + 3600
			})
		).reservationId;
		expect(await operator.queuedReservations('ST-2')).toBe(5);
		expect((await operator.listReservations('ST-2', 3)).length).toBe(3);
		expect((await operator.listReservations('ST-2')).map((r) => r.reservationId)).toEqual([
			theirs,
			...mine
		]);
		const [, , queued] = (await rawCall(
			chain.accounts[0]!.privateKey,
			'reservations',
			'reservationsPage',
			stationIdToBytes32('ST-2'),
			10n,
			5n
		)) as [bigint[], unknown[], bigint];
		expect(queued).toBe(5n); // past the end: an empty page
		// Cancelling frees a place.
		await driver.cancelReservation(mine[0]!);
		const again = (
			await driver.reserve({
				stationId: 'ST-2',
				vehicleRef: 'car-5',
				eta: now + 60,
				expiresAt: now + 3600
			})
		).reservationId;
		for (const id of [...mine.slice(1), again]) await driver.cancelReservation(id);
		await stranger.cancelReservation(theirs);
		expect(
			await rawCall(
				chain.accounts[0]!.privateKey,
				'reservations',
				'activeCount',
				driver.signerAddress
			)
		).toBe(0n);
	});

	it('expires: anyone may clear an expired reservation, which can then not be used or cancelled', async () => {
		const now = await driver.getChainTime();
		const { reservationId } = await driver.reserve({
			stationId: 'ST-2',
			vehicleRef: 'car-3',
			eta: now + 30,
			expiresAt: now + 60
		});
		await expectRevert(
			stranger.expireReservation(reservationId),
			'ReservationNotExpired',
			/cannot be expired yet/
		);
		await advanceChainTime(120);
		expect(await operator.listReservations('ST-2')).toEqual([]); // past expiry: no longer in the queue
		await expectRevert(
			otherStation.fulfilReservation(reservationId),
			'ReservationExpired',
			/expired at/
		);
		await expectRevert(driver.cancelReservation(reservationId), 'ReservationExpired');
		await stranger.expireReservation(reservationId);
		expect((await operator.getReservation(reservationId))?.status).toBe('expired');
		await expectRevert(
			otherStation.fulfilReservation(reservationId),
			'ReservationNotActive',
			/\(expired\)/
		);
	});
});

describe('contract guards the client never reaches', () => {
	// The client validates these before sending; the contracts must still refuse them from anyone else.
	const op = () => chain.accounts[0]!.privateKey;
	const st1 = () => chain.accounts[1]!.privateKey;
	const pubkey = '0x' + LN_PUBKEY;

	it('refuses a zero station id, a malformed Lightning pubkey and a zero operator', async () => {
		const signer = chain.accounts[4]!.address;
		await expectRevert(
			rawCall(op(), 'registry', 'registerStation', ZeroHash, signer, pubkey, TARIFF, 'x'),
			'InvalidStationId',
			/must not be zero/
		);
		const id = stationIdToBytes32('ST-RAW');
		await expectRevert(
			rawCall(op(), 'registry', 'registerStation', id, signer, '0x1234', TARIFF, 'x'),
			'InvalidLightningPubkey',
			/33 bytes, got 2/
		);
		await expectRevert(
			rawCall(
				op(),
				'registry',
				'updateStation',
				stationIdToBytes32('ST-1'),
				signer,
				'0x' + '02'.repeat(34),
				TARIFF,
				'x'
			),
			'InvalidLightningPubkey'
		);
		await expectRevert(
			rawCall(st1(), 'registry', 'setLightningPubkey', stationIdToBytes32('ST-1'), '0x02'),
			'InvalidLightningPubkey',
			/got 1/
		);
		await expectRevert(
			operator.transferOperator('0x0000000000000000000000000000000000000000'),
			'ZeroAddress',
			/zero address/
		);
		await expectRevert(stranger.transferOperator(stranger.signerAddress!), 'NotOperator');
		await expectRevert(station.reactivateStation('ST-1'), 'NotOperator');
		expect(await rawCall(op(), 'registry', 'stationIdAt', 1n)).toBe(stationIdToBytes32('ST-2'));
	});

	it('refuses a zero session id, values too large to store, and a session with the most anchors', async () => {
		await expectRevert(
			rawCall(st1(), 'sessions', 'open', stationIdToBytes32('ST-1'), ZeroHash, ZeroHash),
			'InvalidSessionId',
			/must not be zero/
		);
		await station.openSession({ stationId: 'ST-1', sessionId: 'sess-big', driverRef: 'd' });
		const anchor = (fromReading: number, toReading: number, energyWh: number) =>
			station.anchorReadings({
				stationId: 'ST-1',
				sessionId: 'sess-big',
				root: ROOT,
				fromReading,
				toReading,
				energyWh
			});
		await expectRevert(
			anchor(1, 2 ** 32, 1),
			'ValueTooLarge',
			/4294967296 is larger than the ledger stores \(at most 4294967295\)/
		);
		await expectRevert(anchor(1, 2, 2 ** 40), 'ValueTooLarge');
		await expectRevert(
			station.closeSession({
				stationId: 'ST-1',
				sessionId: 'sess-big',
				energyWh: 2 ** 40,
				amountMsat: 0n,
				paymentsRoot: ROOT
			}),
			'ValueTooLarge'
		);
		await anchor(1, 2, 10);

		// 65,535 anchors would take an hour to send: set the stored anchor count (the head slot's
		// bits 232..247, after signer 160 + lastReading 32 + energyWh 40) to its maximum instead.
		const headSlot = keccak256(
			AbiCoder.defaultAbiCoder().encode(
				['bytes32', 'uint256'],
				[sessionKeyOf('ST-1', 'sess-big'), 0]
			)
		);
		const head = BigInt(
			await operator.provider.send('eth_getStorageAt', [addresses.sessions, headSlot, 'latest'])
		);
		expect(head & ((1n << 160n) - 1n)).toBe(BigInt(chain.accounts[1]!.address)); // the layout is what we think
		expect((head >> 232n) & 0xffffn).toBe(1n);
		const full = head | (0xffffn << 232n);
		await operator.provider.send('hardhat_setStorageAt', [
			addresses.sessions,
			headSlot,
			toBeHex(full, 32)
		]);
		await operator.provider.send('evm_mine', []);
		await expectRevert(anchor(3, 4, 10), 'TooManyAnchors', /close it and open a new one/);
		await station.closeSession({
			stationId: 'ST-1',
			sessionId: 'sess-big',
			energyWh: 10,
			amountMsat: 0n,
			paymentsRoot: ROOT
		});
	});

	it('checks the anchors a verifier brings against the stored digest', async () => {
		const anchors = (await driver.getAnchors('ST-1', 'sess-1')).map((a) => [
			a.root,
			a.fromReading,
			a.toReading,
			a.energyWh
		]);
		const readings = Array.from(
			{ length: 6 },
			(_, i) => `OCMF|{"PG":"T${i + 1}","RV":${i * 0.1}}|{"SD":"30${i}"}`
		);
		const tree = buildReadingsTree(readings);
		const hash = tree.readingHashes[3]!;
		const st = stationIdToBytes32('ST-1');
		const sess = sessionIdToBytes32('sess-1');
		expect(
			await rawCall(st1(), 'sessions', 'verifyReading', st, sess, anchors, 0n, hash, tree.proof(3))
		).toBe(true);
		await expectRevert(
			rawCall(
				st1(),
				'sessions',
				'verifyReading',
				st,
				sess,
				anchors.slice(0, 1),
				0n,
				hash,
				tree.proof(3)
			),
			'AnchorsDoNotMatch',
			/incomplete, reordered or altered/
		);
		const altered = anchors.map((a, i) => (i === 1 ? [a[0], a[1], a[2], 499] : a));
		await expectRevert(
			rawCall(st1(), 'sessions', 'verifyReading', st, sess, altered, 0n, hash, tree.proof(3)),
			'AnchorsDoNotMatch'
		);
		await expectRevert(
			rawCall(
				st1(),
				'sessions',
				'verifyReading',
				st,
				sessionIdToBytes32('ghost'),
				[],
				0n,
				hash,
				[]
			),
			'UnknownSession'
		);
		// The same session id under another station is another session.
		await expectRevert(
			rawCall(
				st1(),
				'sessions',
				'verifyReading',
				stationIdToBytes32('ST-2'),
				sess,
				anchors,
				0n,
				hash,
				tree.proof(3)
			),
			'UnknownSession'
		);
	});

	it('refuses reservations at a retired station and lists every queued id', async () => {
		const now = await driver.getChainTime();
		const { reservationId } = await driver.reserve({
			stationId: 'ST-3',
			vehicleRef: 'car-9',
			eta: now + 60,
			expiresAt: now + 600
		});
		const queued = (await rawCall(
			op(),
			'reservations',
			'queuedReservationIds',
			stationIdToBytes32('ST-3')
		)) as bigint[];
		expect(queued.map(Number)).toEqual([reservationId]);
		await operator.retireStation('ST-3');
		await expectRevert(
			driver.reserve({
				stationId: 'ST-3',
				vehicleRef: 'car-9',
				eta: now + 60,
				expiresAt: now + 600
			}),
			'StationInactive',
			/retired/
		);
		// The operator may still correct a retired station's tariff and Lightning node.
		await operator.setTariffRef('ST-3', TARIFF_2);
		await operator.setLightningPubkey('ST-3', LN_PUBKEY);
		expect(await driver.getStation('ST-3')).toMatchObject({
			active: false,
			tariffRef: TARIFF_2,
			lightningPubkey: LN_PUBKEY
		});
		await operator.reactivateStation('ST-3');
		await driver.cancelReservation(reservationId);
		expect(
			await rawCall(op(), 'reservations', 'queuedReservationIds', stationIdToBytes32('ST-3'))
		).toEqual([]);
	});
});

describe('rebuilding state from event logs', () => {
	it("rebuilds every station exactly as the registry's view functions report it", async () => {
		for (const id of ['ST-1', 'ST-2', 'ST-3']) {
			const rebuilt = await driver.rebuildStation(id);
			const { events, ...state } = rebuilt!;
			expect(state, id).toEqual(await driver.getStation(id));
			expect(events[0]?.type).toBe('StationRegistered');
		}
		// ST-3 went through update, retire, reactivate, tariff change (and again in the guard tests).
		const st3 = await driver.rebuildStation('ST-3');
		expect(st3!.events.map((e) => e.type)).toEqual([
			'StationRegistered',
			'StationUpdated',
			'StationRetired',
			'StationReactivated',
			'TariffRefChanged',
			'StationRetired',
			'TariffRefChanged',
			'LightningPubkeyChanged',
			'StationReactivated'
		]);
		expect(await driver.rebuildStation('ST-404')).toBeNull();
	});

	it('rebuilds sessions (open, anchored, closed) exactly as the ledger reports them', async () => {
		// (Not sess-big: a test forged its stored anchor count.)
		for (const id of ['sess-1', 'sess-2', 'sess-3']) {
			const rebuilt = await driver.rebuildSession('ST-1', id);
			const { events, anchors, ...state } = rebuilt!;
			expect(state, id).toEqual(await driver.getSession('ST-1', id));
			expect(anchors).toEqual(await driver.getAnchors('ST-1', id));
			expect(events.length).toBe(1 + anchors.length + (state.state === 'closed' ? 1 : 0));
		}
		const closed = await driver.rebuildSession('ST-1', 'sess-1');
		expect(closed).toMatchObject({
			state: 'closed',
			anchorCount: 2,
			energyWh: 912,
			amountMsat: 123456789012n
		});
		expect(closed!.events.map((e) => e.type)).toEqual([
			'SessionOpened',
			'ReadingsAnchored',
			'ReadingsAnchored',
			'SessionClosed'
		]);
		expect(await driver.rebuildSession('ST-1', 'never-opened')).toBeNull();
	});

	it('notices a node that withholds the last anchor of a session', async () => {
		const proxy = await startQuorumLikeProxy(chain.rpcUrl, {
			maxLogsRange: 100_000,
			dropLastLog: true
		});
		const lying = await connectLedger({ rpcUrl: proxy.url, addresses, expectedChainId: 1337 });
		try {
			await expect(lying.rebuildSession('ST-1', 'sess-1')).rejects.toMatchObject({
				code: 'rpc-error',
				message: expect.stringMatching(/event logs for this session are incomplete/)
			});
		} finally {
			lying.close();
			await proxy.close();
		}
	});

	it('walks the chain in slices when the node limits eth_getLogs ranges (Besu --rpc-max-logs-range)', async () => {
		const proxy = await startQuorumLikeProxy(chain.rpcUrl, { maxLogsRange: 7 });
		const limited = await connectLedger({
			rpcUrl: proxy.url,
			addresses,
			expectedChainId: 1337,
			logsBlockRange: 7
		});
		try {
			const rebuilt = await limited.rebuildSession('ST-1', 'sess-1');
			expect(rebuilt).toEqual(await driver.rebuildSession('ST-1', 'sess-1'));
			const latest = await limited.provider.getBlockNumber();
			// One refused whole-chain query, then ceil((latest + 1) / 7) slices.
			expect(proxy.seen.filter((m) => m === 'eth_getLogs').length).toBe(
				1 + Math.ceil((latest + 1) / 7)
			);
		} finally {
			limited.close();
			await proxy.close();
		}
	});
});

describe('a station retired while charging', () => {
	it('finishes its running session but opens no new one', async () => {
		const st3 = chain.accounts[5]!;
		const st3Ledger = await connectLedger({
			rpcUrl: chain.rpcUrl,
			addresses,
			signerKey: st3.privateKey
		});
		try {
			await st3Ledger.openSession({
				stationId: 'ST-3',
				sessionId: 'sess-retiring',
				driverRef: 'd'
			});
			await operator.retireStation('ST-3');
			await st3Ledger.anchorReadings({
				stationId: 'ST-3',
				sessionId: 'sess-retiring',
				root: ROOT,
				fromReading: 1,
				toReading: 60,
				energyWh: 180
			});
			await st3Ledger.closeSession({
				stationId: 'ST-3',
				sessionId: 'sess-retiring',
				energyWh: 200,
				amountMsat: 1000n,
				paymentsRoot: ROOT
			});
			expect(await driver.getSession('ST-3', 'sess-retiring')).toMatchObject({
				state: 'closed',
				energyWh: 200,
				anchorCount: 1
			});
			await expectRevert(
				st3Ledger.openSession({ stationId: 'ST-3', sessionId: 'sess-after', driverRef: 'd' }),
				'StationInactive'
			);
		} finally {
			await operator.reactivateStation('ST-3');
			st3Ledger.close();
		}
	});
});

describe('connecting', () => {
	it('refuses a different chain id', async () => {
		await expect(
			connectLedger({ rpcUrl: chain.rpcUrl, addresses, expectedChainId: 10 })
		).rejects.toMatchObject({
			code: 'wrong-chain',
			message: `${chain.rpcUrl} is chain 1337, but chain 10 was expected`
		});
	});

	it('names the contract missing at an address', async () => {
		const empty = '0x000000000000000000000000000000000000dEaD';
		await expect(
			connectLedger({ rpcUrl: chain.rpcUrl, addresses: { ...addresses, sessions: empty } })
		).rejects.toMatchObject({
			code: 'no-contract',
			message: `no SessionLedger contract at ${empty} on chain 1337`
		});
		await expect(
			connectLedger({ rpcUrl: chain.rpcUrl, addresses: { ...addresses, registry: 'nope' } })
		).rejects.toThrow('registry address must be an Ethereum address');
	});

	it('refuses writes without a signer', async () => {
		const readOnly = await connectLedger({ rpcUrl: chain.rpcUrl, addresses });
		expect(readOnly.signerAddress).toBeNull();
		expect((await readOnly.getStation('ST-1'))?.active).toBe(true);
		await expect(readOnly.retireStation('ST-1')).rejects.toMatchObject({ code: 'no-signer' });
		readOnly.close();
	});

	it('reports no QBFT validators on Hardhat, and the validators of a Besu or GoQuorum node', async () => {
		expect(await driver.getValidators()).toBeNull();
		const validators = [
			chain.accounts[7]!.address.toLowerCase(),
			chain.accounts[8]!.address.toLowerCase()
		];
		for (const dialect of [{ qbftValidators: validators }, { istanbulValidators: validators }]) {
			const proxy = await startQuorumLikeProxy(chain.rpcUrl, { maxLogsRange: 5000, ...dialect });
			const ledger = await connectLedger({ rpcUrl: proxy.url, addresses, expectedChainId: 1337 });
			expect(await ledger.getValidators()).toEqual([
				chain.accounts[7]!.address,
				chain.accounts[8]!.address
			]);
			ledger.close();
			await proxy.close();
		}
	});

	it('reports an unreachable node as code "unreachable", and retries with backoff', async () => {
		const deadUrl = 'http://127.0.0.1:9'; // discard port: connection refused
		await expect(connectLedger({ rpcUrl: deadUrl, addresses })).rejects.toMatchObject({
			code: 'unreachable'
		});

		let attempts = 0;
		const retried: number[] = [];
		await expect(
			retryWithBackoff(
				() => {
					attempts++;
					return connectLedger({ rpcUrl: deadUrl, addresses });
				},
				{ attempts: 3, initialDelayMs: 10, onRetry: (_e, n) => retried.push(n) }
			)
		).rejects.toMatchObject({ code: 'unreachable' });
		expect(attempts).toBe(3);
		expect(retried).toEqual([1, 2]);

		// Reverts are not retried.
		attempts = 0;
		await expect(
			retryWithBackoff(() => {
				attempts++;
				return station.openSession({ stationId: 'ST-1', sessionId: 'sess-1', driverRef: 'd' });
			})
		).rejects.toMatchObject({ code: 'reverted' });
		expect(attempts).toBe(1);
	});

	it('reports a node that goes away after connecting as unreachable', async () => {
		const second = await startChain({ port: 0, blockIntervalMs: 0 });
		const secondAddresses = await deployLedger(second.rpcUrl, second.accounts[0]!.privateKey);
		const ledger = await connectLedger({
			rpcUrl: second.rpcUrl,
			addresses: secondAddresses,
			signerKey: second.accounts[0]!.privateKey
		});
		expect(await ledger.getStation('ST-1')).toBeNull(); // a fresh chain: nothing registered
		await second.stop();
		await expect(ledger.getStation('ST-1')).rejects.toMatchObject({ code: 'unreachable' });
		await expect(ledger.retireStation('ST-1')).rejects.toMatchObject({ code: 'unreachable' });
		ledger.close();
	});
});
