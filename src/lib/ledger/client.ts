// Typed ethers v6 client for StationRegistry, Reservations and SessionLedger. Runs in browsers
// and Node. Every transaction carries gasPrice 0 (QBFT networks are gas-free, and ethers would
// otherwise price a zero-base-fee chain at eth_gasPrice); one signer's transactions are submitted
// one at a time through a NonceManager.
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
import { anchorsDigest, foldSessionEvents, foldStationEvents, type SessionEvent, type SessionHistory, type StationEvent, type StationHistory } from './history';
import { Reservations, SessionLedger, StationRegistry } from './generated/contracts';
import {
	driverRefToBytes32,
	isBytes32Hex,
	sessionIdToBytes32,
	sessionKeyOf,
	stationIdToBytes32,
	vehicleRefToBytes32,
	type Hex32
} from './ids';
import { readingHash } from './merkle';
import type {
	AnchorRecord,
	LedgerAddresses,
	ReservationRecord,
	ReservationStatus,
	SessionRecord,
	StationRecord,
	StationRegistration,
	TxResult
} from './types';

export interface ConnectLedgerOptions {
	rpcUrl: string;
	addresses: LedgerAddresses;
	/** Refuse to connect to any other chain. */
	expectedChainId?: number;
	/** Private key (0x hex) of the account that writes; omit for a read-only ledger. */
	signerKey?: string;
	/** First block to scan for event logs (the deployment block). Default 0. */
	fromBlock?: number;
	/** Timeout of the initial chain id probe. Default 5000 ms. */
	connectTimeoutMs?: number;
	/** How often to poll for new blocks while waiting for receipts. Default 250 ms. */
	pollingIntervalMs?: number;
	/** Contracts this caller will not use, so their code is not checked (e.g. a wallet that only reads the registry). */
	skipCodeCheck?: (keyof LedgerAddresses)[];
	/**
	 * Block span of one eth_getLogs request when the node refuses a query over the whole chain
	 * (Besu's --rpc-max-logs-range defaults to 5000). Default 5000.
	 */
	logsBlockRange?: number;
}

export interface Ledger {
	readonly chainId: number;
	readonly rpcUrl: string;
	readonly addresses: LedgerAddresses;
	/** Checksummed address of the signer, or null when read-only. */
	readonly signerAddress: string | null;
	readonly provider: JsonRpcProvider;

	// StationRegistry
	getOperator(): Promise<string>;
	transferOperator(newOperator: string): Promise<TxResult>;
	registerStation(station: StationRegistration): Promise<TxResult>;
	updateStation(station: StationRegistration): Promise<TxResult>;
	setTariffRef(stationId: string, tariffRef: string): Promise<TxResult>;
	setLightningPubkey(stationId: string, lightningPubkey: string): Promise<TxResult>;
	retireStation(stationId: string): Promise<TxResult>;
	reactivateStation(stationId: string): Promise<TxResult>;
	getStation(stationId: string): Promise<StationRecord | null>;
	listStationIds(): Promise<Hex32[]>;

	// SessionLedger: a session is named by its station and its id (ids are unique only per station).
	openSession(args: { stationId: string; sessionId: string; driverRef: string }): Promise<TxResult>;
	anchorReadings(args: {
		stationId: string;
		sessionId: string;
		root: string;
		fromReading: number;
		toReading: number;
		energyWh: number;
	}): Promise<TxResult & { anchorIndex: number }>;
	closeSession(args: {
		stationId: string;
		sessionId: string;
		energyWh: number;
		amountMsat: bigint | string;
		paymentsRoot: string;
	}): Promise<TxResult>;
	getSession(stationId: string, sessionId: string): Promise<SessionRecord | null>;
	getAnchors(stationId: string, sessionId: string): Promise<AnchorRecord[]>;
	/** A station's state rebuilt from the registry's event logs alone (null: never registered). */
	rebuildStation(stationId: string): Promise<StationHistory | null>;
	/** A session's state and anchors rebuilt from the SessionLedger's event logs alone (null: never opened). */
	rebuildSession(stationId: string, sessionId: string): Promise<SessionHistory | null>;
	/** On-chain check (a free `view` call) of a reading's Merkle proof against stored anchor `anchorIndex`. */
	verifyReadingOnChain(stationId: string, sessionId: string, anchorIndex: number, ocmf: string, proof: readonly string[]): Promise<boolean>;

	// Reservations
	reserve(args: {
		stationId: string;
		vehicleRef: string;
		/** Unix seconds. */
		eta: number;
		/** Unix seconds; must be after the chain's current time and not before eta. */
		expiresAt: number;
	}): Promise<TxResult & { reservationId: number }>;
	cancelReservation(reservationId: number): Promise<TxResult>;
	expireReservation(reservationId: number): Promise<TxResult>;
	fulfilReservation(reservationId: number): Promise<TxResult>;
	getReservation(reservationId: number): Promise<ReservationRecord | null>;
	/**
	 * A station's queue: active, unexpired reservations, earliest ETA first — of the first `limit`
	 * queued (default 200), read a page at a time: a queue a stranger made long is never read whole.
	 */
	listReservations(stationId: string, limit?: number): Promise<ReservationRecord[]>;
	/** How many reservations a station's queue holds (including lapsed ones nobody has cleared yet). */
	queuedReservations(stationId: string): Promise<number>;

	// Chain
	/** Timestamp of the latest block, Unix seconds (what expiries are compared with). */
	getChainTime(): Promise<number>;
	/** QBFT validators (Besu qbft_ or GoQuorum istanbul_ API), or null when the node offers neither. */
	getValidators(): Promise<string[] | null>;
	/** Stops polling and releases the provider. */
	close(): void;
}

const CONTRACT_LABELS: Record<keyof LedgerAddresses, string> = {
	registry: 'StationRegistry',
	reservations: 'Reservations',
	sessions: 'SessionLedger'
};
const RESERVATION_STATUSES: (ReservationStatus | 'none')[] = ['none', 'active', 'cancelled', 'expired', 'fulfilled'];
const UINT128_MAX = 2n ** 128n - 1n;
/** An anchor uses ~37,000 gas (a solidity-coverage build several times that); no block limit is near this. */
const ANCHOR_GAS_LIMIT = 500_000n;

/** The address a Contract was made with (always a checksummed address here, never an ENS name). */
function contractAddress(contract: Contract): string {
	return contract.target as string;
}

function invalid(message: string): LedgerError {
	return new LedgerError('invalid-input', message);
}

function uint64(value: number, what: string): bigint {
	if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be a non-negative integer, got ${value}`);
	return BigInt(value);
}

function bytes32(value: string, what: string): Hex32 {
	if (!isBytes32Hex(value)) throw invalid(`${what} must be 0x followed by 64 hex characters, got "${value}"`);
	return value.toLowerCase() as Hex32;
}

function pubkeyHex(value: string): string {
	const hex = value.startsWith('0x') ? value.slice(2) : value;
	if (!/^(02|03)[0-9a-fA-F]{64}$/.test(hex)) {
		throw invalid(`a Lightning node pubkey must be 66 hex characters starting 02 or 03, got "${value}"`);
	}
	return hex.toLowerCase();
}

function address(value: string, what: string): string {
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
		throw new LedgerError('unreachable', `cannot reach the ledger node at ${rpcUrl}`, undefined, { cause: error });
	}
	let body: { result?: unknown; error?: { message?: string } };
	try {
		body = (await response.json()) as typeof body;
	} catch (error) {
		throw new LedgerError('rpc-error', `${rpcUrl} answered HTTP ${response.status} without JSON-RPC`, undefined, { cause: error });
	}
	if (typeof body.result !== 'string' || !/^0x[0-9a-f]+$/i.test(body.result)) {
		throw new LedgerError('rpc-error', `${rpcUrl} did not report a chain id (${body.error?.message ?? 'no result'})`);
	}
	return Number(BigInt(body.result));
}

export async function connectLedger(opts: ConnectLedgerOptions): Promise<Ledger> {
	const { rpcUrl } = opts;
	const addresses: LedgerAddresses = {
		registry: address(opts.addresses.registry, 'registry address'),
		reservations: address(opts.addresses.reservations, 'reservations address'),
		sessions: address(opts.addresses.sessions, 'sessions address')
	};
	const chainId = await probeChainId(rpcUrl, opts.connectTimeoutMs ?? 5000);
	if (opts.expectedChainId !== undefined && chainId !== opts.expectedChainId) {
		throw new LedgerError('wrong-chain', `${rpcUrl} is chain ${chainId}, but chain ${opts.expectedChainId} was expected`);
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
				throw new LedgerError('no-contract', `no ${CONTRACT_LABELS[key]} contract at ${addresses[key]} on chain ${chainId}`);
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
			throw new LedgerError('invalid-input', 'signerKey is not a valid private key (0x + 64 hex)', undefined, { cause: error });
		}
	}
	const signerAddress = signer ? await signer.getAddress() : null;
	const runner = signer ?? provider;
	const registry = new Contract(addresses.registry, StationRegistry.abi, runner);
	const reservations = new Contract(addresses.reservations, Reservations.abi, runner);
	const sessions = new Contract(addresses.sessions, SessionLedger.abi, runner);
	const fromBlock = opts.fromBlock ?? 0;
	const logsBlockRange = opts.logsBlockRange ?? 5000;
	if (!Number.isSafeInteger(logsBlockRange) || logsBlockRange < 1) throw invalid(`logsBlockRange must be a positive integer, got ${logsBlockRange}`);

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
			logs.push(...(await read(`${action} (blocks ${start}..${end})`, () => provider.getLogs({ ...filter, fromBlock: start, toBlock: end }))));
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
			if (!block) throw new LedgerError('rpc-error', `${action} failed: the node has no block ${blockNumber}`);
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
				events.push({ ...position(log), type: 'SessionOpened', stationId: a.stationId, sessionId: a.sessionId, driverRef: a.driverRef, signer: a.signer, timestamp });
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
		const log = logs.find((l) => l.topics[0] === event.topic && l.address.toLowerCase() === address.toLowerCase());
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
		if (!signer) throw new LedgerError('no-signer', `${action} needs a signer: connect the ledger with signerKey`);
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
				const unsigned = Transaction.from({ type: 0, chainId, to: contractAddress(contract), data: encodeCall(contract, method, args), nonce, gasLimit, gasPrice: 0n });
				unsigned.signature = activeWallet.signingKey.sign(unsigned.unsignedHash);
				const raw = unsigned.serialized;
				// Sent as is, not through provider.broadcastTransaction: that also asks for the block
				// number and recovers the sender's public key from the signature (an elliptic-curve
				// recovery, costlier than signing) only to build a TransactionResponse we do not use.
				const hash = keccak256(raw);
				const accepted: unknown = await provider.send('eth_sendRawTransaction', [raw]);
				if (typeof accepted === 'string' && accepted.toLowerCase() !== hash) {
					throw new LedgerError('rpc-error', `${action}: the node reports transaction ${accepted}, but ${hash} was sent`);
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
			if (receipt.status !== 1) throw new LedgerError('reverted', `${action} failed: transaction ${txHash} reverted`);
			return { txHash: receipt.hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, logs: receipt.logs };
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
		const receipt = pending ? await pending.replaceableTransaction(Math.max(0, startBlock - 1)).wait() : await provider.getTransactionReceipt(txHash);
		if (!receipt) throw new LedgerError('rpc-error', `${action}: transaction ${txHash} was dropped by the node`);
		return receipt;
	}

	async function read<T>(action: string, call: () => Promise<T>): Promise<T> {
		try {
			return await call();
		} catch (error) {
			throw toLedgerError(error, action, rpcUrl);
		}
	}

	const txOnly = ({ txHash, blockNumber, gasUsed }: TxResult): TxResult => ({ txHash, blockNumber, gasUsed });

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

	const ledger: Ledger = {
		chainId,
		rpcUrl,
		addresses,
		signerAddress,
		provider,

		getOperator: () => read('reading the registry operator', () => registry.getFunction('operator')() as Promise<string>),

		async transferOperator(newOperator) {
			return txOnly(await write(registry, 'transferOperator', [address(newOperator, 'new operator')], 'transferOperator'));
		},

		async registerStation(station) {
			const action = `registerStation("${station.stationId}")`;
			return txOnly(await write(registry, 'registerStation', stationArgs(station), action));
		},

		async updateStation(station) {
			const action = `updateStation("${station.stationId}")`;
			return txOnly(await write(registry, 'updateStation', stationArgs(station), action));
		},

		async setTariffRef(stationId, tariffRef) {
			const args = [stationIdToBytes32(stationId), bytes32(tariffRef, 'tariffRef')];
			return txOnly(await write(registry, 'setTariffRef', args, `setTariffRef("${stationId}")`));
		},

		async setLightningPubkey(stationId, lightningPubkey) {
			const args = [stationIdToBytes32(stationId), `0x${pubkeyHex(lightningPubkey)}`];
			return txOnly(await write(registry, 'setLightningPubkey', args, `setLightningPubkey("${stationId}")`));
		},

		async retireStation(stationId) {
			return txOnly(await write(registry, 'retireStation', [stationIdToBytes32(stationId)], `retireStation("${stationId}")`));
		},

		async reactivateStation(stationId) {
			const args = [stationIdToBytes32(stationId)];
			return txOnly(await write(registry, 'reactivateStation', args, `reactivateStation("${stationId}")`));
		},

		async getStation(stationId) {
			const id = stationIdToBytes32(stationId);
			const s = await read(`getStation("${stationId}")`, () => registry.getFunction('getStation')(id));
			if (!s.registered) return null;
			return {
				stationId: id,
				signer: s.signer as string,
				lightningPubkey: (s.lightningPubkey as string).slice(2),
				tariffRef: s.tariffRef as Hex32,
				location: s.location as string,
				active: s.active as boolean
			};
		},

		async listStationIds() {
			return read('listing stations', async () => {
				const count = Number(await registry.getFunction('stationCount')());
				const at = registry.getFunction('stationIdAt');
				return Promise.all(Array.from({ length: count }, (_, i) => at(i) as Promise<Hex32>));
			});
		},

		async openSession({ stationId, sessionId, driverRef }) {
			const args = [stationIdToBytes32(stationId), sessionIdToBytes32(sessionId), driverRefToBytes32(driverRef)];
			return txOnly(await write(sessions, 'open', args, `openSession("${sessionId}")`));
		},

		async anchorReadings({ stationId, sessionId, root, fromReading, toReading, energyWh }) {
			const args = [
				stationIdToBytes32(stationId),
				sessionIdToBytes32(sessionId),
				bytes32(root, 'Merkle root'),
				uint64(fromReading, 'fromReading'),
				uint64(toReading, 'toReading'),
				uint64(energyWh, 'energyWh')
			];
			// The hot path (every station, every minute): a fixed gas limit instead of an estimate saves a
			// round trip; a rejected anchor is then mined as reverted and decoded by replaying it.
			const action = `anchorReadings("${sessionId}", #${fromReading}..#${toReading})`;
			const result = await write(sessions, 'anchor', args, action, ANCHOR_GAS_LIMIT);
			const event = findEvent(sessions, 'ReadingsAnchored', result.logs);
			if (!event) throw new LedgerError('rpc-error', `anchor transaction ${result.txHash} emitted no ReadingsAnchored event`);
			return { ...txOnly(result), anchorIndex: Number(event.anchorIndex) };
		},

		async closeSession({ stationId, sessionId, energyWh, amountMsat, paymentsRoot }) {
			let amount: bigint;
			try {
				amount = BigInt(amountMsat);
			} catch {
				throw invalid(`amountMsat must be an integer, got "${amountMsat}"`);
			}
			if (amount < 0n || amount > UINT128_MAX) throw invalid(`amountMsat ${amount} is out of range`);
			const args = [stationIdToBytes32(stationId), sessionIdToBytes32(sessionId), uint64(energyWh, 'energyWh'), amount, bytes32(paymentsRoot, 'paymentsRoot')];
			return txOnly(await write(sessions, 'close', args, `closeSession("${sessionId}")`));
		},

		async getSession(stationId, sessionId) {
			let s;
			try {
				s = await sessions.getFunction('getSession')(stationIdToBytes32(stationId), sessionIdToBytes32(sessionId));
			} catch (error) {
				const ledgerError = toLedgerError(error, `getSession("${sessionId}")`, rpcUrl);
				if (ledgerError.revert?.name === 'UnknownSession') return null;
				throw ledgerError;
			}
			const closed = s.closed as boolean;
			return {
				sessionKey: sessionKeyOf(stationId, sessionId),
				sessionId: s.sessionId as Hex32,
				stationId: s.stationId as Hex32,
				signer: s.signer as string,
				driverRef: s.driverRef as Hex32,
				state: closed ? 'closed' : 'open',
				openedAt: Number(s.openedAt),
				closedAt: closed ? Number(s.closedAt) : null,
				lastReading: Number(s.lastReading),
				energyWh: Number(s.energyWh),
				amountMsat: s.amountMsat as bigint,
				anchorCount: Number(s.anchorCount),
				paymentsRoot: closed ? (s.paymentsRoot as Hex32) : null
			};
		},

		async getAnchors(stationId, sessionId) {
			const events = await sessionEvents(sessionKeyOf(stationId, sessionId), `getAnchors("${stationId}", "${sessionId}")`);
			return events
				.flatMap((e) =>
					e.type === 'ReadingsAnchored'
						? [{ anchorIndex: e.anchorIndex, root: e.root, fromReading: e.fromReading, toReading: e.toReading, energyWh: e.energyWh, txHash: e.txHash, blockNumber: e.blockNumber }]
						: []
				)
				.sort((a, b) => a.anchorIndex - b.anchorIndex);
		},

		async rebuildSession(stationId, sessionId) {
			const id = sessionKeyOf(stationId, sessionId);
			const action = `rebuildSession("${stationId}", "${sessionId}")`;
			const events = await sessionEvents(id, action);
			let rebuilt: SessionHistory | null;
			try {
				rebuilt = foldSessionEvents(id, events);
			} catch (error) {
				throw new LedgerError('rpc-error', `${action} failed: ${(error as Error).message}`, undefined, { cause: error });
			}
			if (!rebuilt) return null;
			// The stored hash chain proves the logs complete: a node that left an anchor out is caught here.
			const stored = await read(action, () => sessions.getFunction('getSession')(stationIdToBytes32(stationId), sessionIdToBytes32(sessionId)));
			const complete =
				anchorsDigest(id, rebuilt.anchors) === (stored.anchorsDigest as string).toLowerCase() &&
				(rebuilt.state === 'closed') === (stored.closed as boolean);
			if (!complete) {
				throw new LedgerError('rpc-error', `${action} failed: the node's event logs for this session are incomplete (they do not match the anchors digest on chain)`);
			}
			return rebuilt;
		},

		async rebuildStation(stationId) {
			const id = stationIdToBytes32(stationId);
			const action = `rebuildStation("${stationId}")`;
			const events: StationEvent[] = [];
			for (const log of await logsByFirstTopic(registry, id, action)) {
				const parsed = registry.interface.parseLog(log);
				if (!parsed) continue;
				const a = parsed.args;
				const pos = position(log);
				switch (parsed.name) {
					case 'StationRegistered':
					case 'StationUpdated':
						events.push({
							...pos,
							type: parsed.name,
							signer: a.signer,
							lightningPubkey: (a.lightningPubkey as string).slice(2),
							tariffRef: a.tariffRef,
							location: a.location
						});
						break;
					case 'TariffRefChanged':
						events.push({ ...pos, type: 'TariffRefChanged', tariffRef: a.tariffRef, by: a.by });
						break;
					case 'LightningPubkeyChanged':
						events.push({ ...pos, type: 'LightningPubkeyChanged', lightningPubkey: (a.lightningPubkey as string).slice(2), by: a.by });
						break;
					case 'StationRetired':
					case 'StationReactivated':
						events.push({ ...pos, type: parsed.name });
						break;
				}
			}
			try {
				return foldStationEvents(id, events);
			} catch (error) {
				throw new LedgerError('rpc-error', `${action} failed: ${(error as Error).message}`, undefined, { cause: error });
			}
		},

		async verifyReadingOnChain(stationId, sessionId, anchorIndex, ocmf, proof) {
			// The contract checks the anchors (from the event logs) against its stored digest.
			const anchors = (await ledger.getAnchors(stationId, sessionId)).map((a) => ({
				root: a.root,
				fromReading: BigInt(a.fromReading),
				toReading: BigInt(a.toReading),
				energyWh: BigInt(a.energyWh)
			}));
			const args = [
				stationIdToBytes32(stationId),
				sessionIdToBytes32(sessionId),
				anchors,
				uint64(anchorIndex, 'anchorIndex'),
				readingHash(ocmf),
				proof.map((p, i) => bytes32(p, `proof element ${i}`))
			];
			return read(`verifyReadingOnChain("${sessionId}", #${anchorIndex})`, () =>
				sessions.getFunction('verifyReading')(...args) as Promise<boolean>
			);
		},

		async reserve({ stationId, vehicleRef, eta, expiresAt }) {
			const args = [
				stationIdToBytes32(stationId),
				vehicleRefToBytes32(vehicleRef),
				uint64(eta, 'eta'),
				uint64(expiresAt, 'expiresAt')
			];
			const result = await write(reservations, 'reserve', args, `reserve("${stationId}")`);
			const event = findEvent(reservations, 'ReservationCreated', result.logs);
			if (!event) throw new LedgerError('rpc-error', `reserve transaction ${result.txHash} emitted no ReservationCreated event`);
			return { ...txOnly(result), reservationId: Number(event.reservationId) };
		},

		async cancelReservation(reservationId) {
			const args = [uint64(reservationId, 'reservation id')];
			return txOnly(await write(reservations, 'cancel', args, `cancelReservation(#${reservationId})`));
		},

		async expireReservation(reservationId) {
			const args = [uint64(reservationId, 'reservation id')];
			return txOnly(await write(reservations, 'expire', args, `expireReservation(#${reservationId})`));
		},

		async fulfilReservation(reservationId) {
			const args = [uint64(reservationId, 'reservation id')];
			return txOnly(await write(reservations, 'fulfil', args, `fulfilReservation(#${reservationId})`));
		},

		async getReservation(reservationId) {
			const id = uint64(reservationId, 'reservation id');
			try {
				const r = await reservations.getFunction('getReservation')(id);
				return parseReservation(reservationId, r);
			} catch (error) {
				const ledgerError = toLedgerError(error, `getReservation(#${reservationId})`, rpcUrl);
				if (ledgerError.revert?.name === 'UnknownReservation') return null;
				throw ledgerError;
			}
		},

		async listReservations(stationId, limit = 200) {
			const id = stationIdToBytes32(stationId);
			const page = reservations.getFunction('reservationsPage');
			const out: ReservationRecord[] = [];
			const PAGE = 50;
			for (let offset = 0; offset < limit; offset += PAGE) {
				const [ids, items, queued] = await read(`listReservations("${stationId}")`, () => page(id, offset, Math.min(PAGE, limit - offset)));
				out.push(...(ids as bigint[]).map((rid, i) => parseReservation(Number(rid), items[i])));
				if (offset + PAGE >= Number(queued)) break;
			}
			return out.sort((a, b) => a.eta - b.eta || a.reservationId - b.reservationId);
		},

		async queuedReservations(stationId) {
			const [, , queued] = await read(`queuedReservations("${stationId}")`, () => reservations.getFunction('reservationsPage')(stationIdToBytes32(stationId), 0, 0));
			return Number(queued);
		},

		async getChainTime() {
			const block = await read('reading the latest block', () => provider.getBlock('latest'));
			if (!block) throw new LedgerError('rpc-error', 'the node returned no latest block');
			return block.timestamp;
		},

		async getValidators() {
			for (const method of ['qbft_getValidatorsByBlockNumber', 'istanbul_getValidators']) {
				try {
					const result: unknown = await provider.send(method, ['latest']);
					if (Array.isArray(result) && result.every((v) => typeof v === 'string')) {
						return result.map((v: string) => getAddress(v));
					}
				} catch (error) {
					const ledgerError = toLedgerError(error, method, rpcUrl);
					if (ledgerError.code === 'unreachable') throw ledgerError;
					// Method not offered by this node: try the next dialect.
				}
			}
			return null;
		},

		close() {
			provider.destroy();
		}
	};
	return ledger;
}
