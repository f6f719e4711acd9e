// The ledger client's connection: the JSON-RPC provider, the three contracts, one signer's
// submission queue (gas price 0, nonces in order), reads and writes with their errors mapped, the
// event log walk, and the argument checks every method uses. client.ts puts the methods on it.
import {
	AbiCoder,
	Contract,
	JsonRpcProvider,
	Network,
	NonceManager,
	Transaction,
	Wallet,
	concat,
	getAddress,
	isAddress,
	keccak256,
	type EventFragment,
	type FunctionFragment,
	type Log,
	type Result,
	type TransactionReceipt
} from 'ethers';
import { LedgerError, toLedgerError } from './errors';
import type { SessionEvent } from './history';
import { Reservations, SessionLedger, StationRegistry } from './generated/contracts';
import { isBytes32Hex, stationIdToBytes32, type Hex32 } from './ids';
import type {
	LedgerAddresses,
	ReservationRecord,
	ReservationStatus,
	StationRegistration,
	TxResult
} from './types';
import type { ConnectLedgerOptions } from './api';

export const CONTRACT_LABELS: Record<keyof LedgerAddresses, string> = {
	registry: 'StationRegistry',
	reservations: 'Reservations',
	sessions: 'SessionLedger'
};
export const RESERVATION_STATUSES: (ReservationStatus | 'none')[] = [
	'none',
	'active',
	'cancelled',
	'expired',
	'fulfilled'
];
export const UINT128_MAX = 2n ** 128n - 1n;
/** An anchor uses ~37,000 gas (a solidity-coverage build several times that); no block limit is near this. */
export const ANCHOR_GAS_LIMIT = 500_000n;

/** The address a Contract was made with (always a checksummed address here, never an ENS name). */
export function contractAddress(contract: Contract): string {
	return contract.target as string;
}

export function invalid(message: string): LedgerError {
	return new LedgerError('invalid-input', message);
}

export function uint64(value: number, what: string): bigint {
	if (!Number.isSafeInteger(value) || value < 0)
		throw invalid(`${what} must be a non-negative integer, got ${value}`);
	return BigInt(value);
}

export function bytes32(value: string, what: string): Hex32 {
	if (!isBytes32Hex(value))
		throw invalid(`${what} must be 0x followed by 64 hex characters, got "${value}"`);
	return value.toLowerCase() as Hex32;
}

export function pubkeyHex(value: string): string {
	const hex = value.startsWith('0x') ? value.slice(2) : value;
	if (!/^(02|03)[0-9a-fA-F]{64}$/.test(hex)) {
		throw invalid(
			`a Lightning node pubkey must be 66 hex characters starting 02 or 03, got "${value}"`
		);
	}
	return hex.toLowerCase();
}

export function address(value: string, what: string): string {
	if (!isAddress(value)) throw invalid(`${what} must be an Ethereum address, got "${value}"`);
	return getAddress(value);
}

/** Asks the node for its chain id; a LedgerError 'unreachable' or 'rpc-error' when it cannot say. */
export async function probeChainId(rpcUrl: string, timeoutMs = 5000): Promise<number> {
	let response: Response;
	try {
		response = await fetch(rpcUrl, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
			signal: AbortSignal.timeout(timeoutMs)
		});
	} catch (error) {
		throw new LedgerError('unreachable', `cannot reach the ledger node at ${rpcUrl}`, undefined, {
			cause: error
		});
	}
	let body: { result?: unknown; error?: { message?: string } };
	try {
		body = (await response.json()) as typeof body;
	} catch (error) {
		throw new LedgerError(
			'rpc-error',
			`${rpcUrl} answered HTTP ${response.status} without JSON-RPC`,
			undefined,
			{ cause: error }
		);
	}
	if (typeof body.result !== 'string' || !/^0x[0-9a-f]+$/i.test(body.result)) {
		throw new LedgerError(
			'rpc-error',
			`${rpcUrl} did not report a chain id (${body.error?.message ?? 'no result'})`
		);
	}
	return Number(BigInt(body.result));
}

/**
 * Connects to the node and checks the contracts are there; what every group of the client's
 * methods (stations.ts, sessions.ts, reservations.ts) shares: the contracts, the one submission
 * queue, and reads and writes that turn every failure into a LedgerError.
 */
export async function openConnection(opts: ConnectLedgerOptions) {
	const { rpcUrl } = opts;
	const addresses: LedgerAddresses = {
		registry: address(opts.addresses.registry, 'registry address'),
		reservations: address(opts.addresses.reservations, 'reservations address'),
		sessions: address(opts.addresses.sessions, 'sessions address')
	};
	const chainId = await probeChainId(rpcUrl, opts.connectTimeoutMs ?? 5000);
	if (opts.expectedChainId !== undefined && chainId !== opts.expectedChainId) {
		throw new LedgerError(
			'wrong-chain',
			`${rpcUrl} is chain ${chainId}, but chain ${opts.expectedChainId} was expected`
		);
	}
	// staticNetwork: never re-detect (ethers otherwise retries detection forever when the node is down).
	// cacheTimeout -1: ethers would otherwise answer a repeated identical request (a nonce lookup, a
	// gas estimate) from a 250 ms cache, i.e. from state before the transaction just mined.
	// batchStallTime 0: ethers otherwise holds every request 10 ms hoping to batch it with others.
	const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), {
		staticNetwork: true,
		cacheTimeout: -1,
		batchStallTime: 0,
		pollingInterval: opts.pollingIntervalMs ?? 250
	});
	try {
		for (const key of Object.keys(addresses) as (keyof LedgerAddresses)[]) {
			if (opts.skipCodeCheck?.includes(key)) continue;
			const code = await provider.getCode(addresses[key]);
			if (code === '0x') {
				throw new LedgerError(
					'no-contract',
					`no ${CONTRACT_LABELS[key]} contract at ${addresses[key]} on chain ${chainId}`
				);
			}
		}
	} catch (error) {
		provider.destroy();
		throw toLedgerError(error, 'connecting to the ledger', rpcUrl);
	}

	let signer: NonceManager | null = null;
	if (opts.signerKey !== undefined) {
		try {
			signer = new NonceManager(new Wallet(opts.signerKey, provider));
		} catch (error) {
			provider.destroy();
			throw new LedgerError(
				'invalid-input',
				'signerKey is not a valid private key (0x + 64 hex)',
				undefined,
				{ cause: error }
			);
		}
	}
	const signerAddress = signer ? await signer.getAddress() : null;
	const runner = signer ?? provider;
	const registry = new Contract(addresses.registry, StationRegistry.abi, runner);
	const reservations = new Contract(addresses.reservations, Reservations.abi, runner);
	const sessions = new Contract(addresses.sessions, SessionLedger.abi, runner);
	const fromBlock = opts.fromBlock ?? 0;
	const logsBlockRange = opts.logsBlockRange ?? 5000;
	if (!Number.isSafeInteger(logsBlockRange) || logsBlockRange < 1)
		throw invalid(`logsBlockRange must be a positive integer, got ${logsBlockRange}`);

	/** Logs of `contract` whose first indexed topic is `key`, oldest first; chunked when the node limits ranges. */
	async function logsByFirstTopic(contract: Contract, key: Hex32, action: string): Promise<Log[]> {
		const filter = { address: await contract.getAddress(), topics: [null, key] };
		const latest = await read(action, () => provider.getBlockNumber());
		try {
			return await provider.getLogs({ ...filter, fromBlock, toBlock: latest });
		} catch (error) {
			const ledgerError = toLedgerError(error, action, rpcUrl);
			if (ledgerError.code === 'unreachable') throw ledgerError;
			// Refused (range or result limit): walk the chain in slices instead.
		}
		const logs: Log[] = [];
		for (let start = fromBlock; start <= latest; start += logsBlockRange) {
			const end = Math.min(latest, start + logsBlockRange - 1);
			logs.push(
				...(await read(`${action} (blocks ${start}..${end})`, () =>
					provider.getLogs({ ...filter, fromBlock: start, toBlock: end })
				))
			);
		}
		return logs;
	}

	function position(log: Log) {
		return { blockNumber: log.blockNumber, logIndex: log.index, txHash: log.transactionHash };
	}

	const blockTimes = new Map<number, number>();
	async function blockTime(blockNumber: number, action: string): Promise<number> {
		let time = blockTimes.get(blockNumber);
		if (time === undefined) {
			const block = await read(action, () => provider.getBlock(blockNumber));
			if (!block)
				throw new LedgerError(
					'rpc-error',
					`${action} failed: the node has no block ${blockNumber}`
				);
			time = block.timestamp;
			blockTimes.set(blockNumber, time);
		}
		return time;
	}

	async function sessionEvents(id: Hex32, action: string): Promise<SessionEvent[]> {
		const events: SessionEvent[] = [];
		for (const log of await logsByFirstTopic(sessions, id, action)) {
			const parsed = sessions.interface.parseLog(log);
			if (!parsed) continue;
			const a = parsed.args;
			if (parsed.name === 'SessionOpened') {
				const timestamp = await blockTime(log.blockNumber, action);
				events.push({
					...position(log),
					type: 'SessionOpened',
					stationId: a.stationId,
					sessionId: a.sessionId,
					driverRef: a.driverRef,
					signer: a.signer,
					timestamp
				});
			} else if (parsed.name === 'ReadingsAnchored') {
				events.push({
					...position(log),
					type: 'ReadingsAnchored',
					anchorIndex: Number(a.anchorIndex),
					root: a.merkleRoot,
					fromReading: Number(a.fromReading),
					toReading: Number(a.toReading),
					energyWh: Number(a.energyWh)
				});
			} else if (parsed.name === 'SessionClosed') {
				const timestamp = await blockTime(log.blockNumber, action);
				events.push({
					...position(log),
					type: 'SessionClosed',
					energyWh: Number(a.energyWh),
					amountMsat: a.amountMsat as bigint,
					paymentsRoot: a.paymentsRoot,
					timestamp
				});
			}
		}
		return events;
	}

	// ethers recomputes a function's selector and an event's topic (a keccak256 of its signature)
	// on every encode and parseLog; the hot path (an anchor every minute per station) does it once.
	const callFragments = new Map<string, { fragment: FunctionFragment; selector: string }>();
	function encodeCall(contract: Contract, method: string, args: readonly unknown[]): string {
		const key = `${contractAddress(contract)}.${method}`;
		let call = callFragments.get(key);
		if (!call) {
			const fragment = contract.interface.getFunction(method);
			if (!fragment) throw new Error(`the contract ABI has no function ${method}`);
			call = { fragment, selector: fragment.selector };
			callFragments.set(key, call);
		}
		return concat([call.selector, AbiCoder.defaultAbiCoder().encode(call.fragment.inputs, args)]);
	}
	const eventTopics = new Map<string, { fragment: EventFragment; topic: string }>();
	/** Arguments of the first `name` event that `contract` emitted among `logs`, or null. */
	function findEvent(contract: Contract, name: string, logs: readonly Log[]): Result | null {
		const address = contractAddress(contract);
		const key = `${address}.${name}`;
		let event = eventTopics.get(key);
		if (!event) {
			const fragment = contract.interface.getEvent(name);
			if (!fragment) throw new Error(`the contract ABI has no event ${name}`);
			event = { fragment, topic: fragment.topicHash };
			eventTopics.set(key, event);
		}
		const log = logs.find(
			(l) => l.topics[0] === event.topic && l.address.toLowerCase() === address.toLowerCase()
		);
		return log ? contract.interface.decodeEventLog(event.fragment, log.data, log.topics) : null;
	}

	// Submissions go one after another so nonces stay in order; waiting for mining runs in parallel.
	let submissionQueue: Promise<unknown> = Promise.resolve();

	/**
	 * Sends one transaction and waits for its receipt. Estimates gas first unless `fixedGasLimit` is
	 * given (the estimate also surfaces a custom error before a nonce is used). Fields ethers would
	 * otherwise look up per transaction (fee data, nonce) are filled in: gas price 0 as a legacy
	 * transaction, the nonce from the NonceManager.
	 */
	async function write(
		contract: Contract,
		method: string,
		args: unknown[],
		action: string,
		fixedGasLimit?: bigint
	): Promise<TxResult & { logs: readonly Log[] }> {
		if (!signer)
			throw new LedgerError(
				'no-signer',
				`${action} needs a signer: connect the ledger with signerKey`
			);
		const activeSigner = signer;
		const activeWallet = activeSigner.signer as Wallet;
		const fn = contract.getFunction(method);
		const submit = submissionQueue.then(async (): Promise<string> => {
			let gasLimit = fixedGasLimit;
			if (gasLimit === undefined) {
				try {
					gasLimit = ((await fn.estimateGas(...args)) * 12n) / 10n + 10_000n;
				} catch (error) {
					throw toLedgerError(error, action, rpcUrl);
				}
			}
			try {
				// Signed here rather than by ethers' populateTransaction, which asks the node for fee
				// data on every legacy transaction even when the gas price is given.
				const nonce = await activeSigner.getNonce('pending');
				activeSigner.increment();
				const unsigned = Transaction.from({
					type: 0,
					chainId,
					to: contractAddress(contract),
					data: encodeCall(contract, method, args),
					nonce,
					gasLimit,
					gasPrice: 0n
				});
				unsigned.signature = activeWallet.signingKey.sign(unsigned.unsignedHash);
				const raw = unsigned.serialized;
				// Sent as is, not through provider.broadcastTransaction: that also asks for the block
				// number and recovers the sender's public key from the signature (an elliptic-curve
				// recovery, costlier than signing) only to build a TransactionResponse we do not use.
				const hash = keccak256(raw);
				const accepted: unknown = await provider.send('eth_sendRawTransaction', [raw]);
				if (typeof accepted === 'string' && accepted.toLowerCase() !== hash) {
					throw new LedgerError(
						'rpc-error',
						`${action}: the node reports transaction ${accepted}, but ${hash} was sent`
					);
				}
				return hash;
			} catch (error) {
				activeSigner.reset(); // the nonce was reserved but maybe never used: re-read it
				throw toLedgerError(error, action, rpcUrl);
			}
		});
		submissionQueue = submit.catch(() => undefined);
		const txHash = await submit;
		try {
			const receipt = await receiptOf(txHash, action);
			if (receipt.status !== 1)
				throw new LedgerError('reverted', `${action} failed: transaction ${txHash} reverted`);
			return {
				txHash: receipt.hash,
				blockNumber: receipt.blockNumber,
				gasUsed: receipt.gasUsed,
				logs: receipt.logs
			};
		} catch (error) {
			// Reverted when mined (state changed after estimation, or not estimated): replay to learn why.
			const replayed = await fn.staticCall(...args).then(
				() => null,
				(replayError: unknown) => replayError
			);
			throw toLedgerError(replayed ?? error, action, rpcUrl);
		}
	}

	/**
	 * The receipt of a sent transaction. On an automining or fast chain it is already there (one
	 * call); otherwise this waits for the block with ethers' wait(), which also notices another
	 * transaction taking the nonce (TRANSACTION_REPLACED) instead of waiting forever.
	 */
	async function receiptOf(txHash: string, action: string): Promise<TransactionReceipt> {
		const mined = await provider.getTransactionReceipt(txHash);
		if (mined) return mined;
		const startBlock = await provider.getBlockNumber();
		const pending = await provider.getTransaction(txHash);
		const receipt = pending
			? await pending.replaceableTransaction(Math.max(0, startBlock - 1)).wait()
			: await provider.getTransactionReceipt(txHash);
		if (!receipt)
			throw new LedgerError(
				'rpc-error',
				`${action}: transaction ${txHash} was dropped by the node`
			);
		return receipt;
	}

	async function read<T>(action: string, call: () => Promise<T>): Promise<T> {
		try {
			return await call();
		} catch (error) {
			throw toLedgerError(error, action, rpcUrl);
		}
	}

	const txOnly = ({ txHash, blockNumber, gasUsed }: TxResult): TxResult => ({
		txHash,
		blockNumber,
		gasUsed
	});

	function parseReservation(id: number, r: Record<string, unknown> & unknown[]): ReservationRecord {
		return {
			reservationId: id,
			stationId: r.stationId as Hex32,
			reserver: r.reserver as string,
			vehicleRef: r.vehicleRef as Hex32,
			eta: Number(r.eta),
			expiresAt: Number(r.expiresAt),
			createdAt: Number(r.createdAt),
			status: (RESERVATION_STATUSES[Number(r.status)] ?? 'active') as ReservationStatus
		};
	}

	const stationArgs = (s: StationRegistration) => [
		stationIdToBytes32(s.stationId),
		address(s.signer, 'station signer'),
		`0x${pubkeyHex(s.lightningPubkey)}`,
		bytes32(s.tariffRef, 'tariffRef'),
		s.location
	];

	return {
		rpcUrl,
		addresses,
		chainId,
		provider,
		signer,
		signerAddress,
		registry,
		reservations,
		sessions,
		fromBlock,
		logsByFirstTopic,
		position,
		blockTime,
		sessionEvents,
		encodeCall,
		findEvent,
		write,
		receiptOf,
		read,
		txOnly,
		parseReservation,
		stationArgs
	};
}

export type LedgerConnection = Awaited<ReturnType<typeof openConnection>>;
