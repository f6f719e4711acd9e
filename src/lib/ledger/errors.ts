// Ledger failures as one error type with a machine code and a sentence a person understands.
import { Interface, type ErrorDescription } from 'ethers';
import { Reservations, SessionLedger, StationRegistry } from './generated/contracts';
import { retryWithBackoff as coreRetry, type RetryOptions as CoreRetryOptions } from '../core';

export type LedgerErrorCode =
	/** The JSON-RPC endpoint did not answer (down, refused, timed out). Worth retrying. */
	| 'unreachable'
	/** A contract rejected the call; `revert` holds the custom error's name and arguments. */
	| 'reverted'
	/** The endpoint is a different chain than expected. */
	| 'wrong-chain'
	/** No contract code at a configured address. */
	| 'no-contract'
	/** A write was attempted on a ledger connected without a signer key. */
	| 'no-signer'
	/** The node wants gas paid (minimum gas price, base fee, or an unfunded account); Lightcharge sends gasPrice 0. */
	| 'gas-not-free'
	/** Arguments rejected before anything was sent. */
	| 'invalid-input'
	/** Anything else the node reported. */
	| 'rpc-error';

export interface DecodedRevert {
	name: string;
	args: Record<string, unknown>;
}

export class LedgerError extends Error {
	constructor(
		readonly code: LedgerErrorCode,
		message: string,
		readonly revert?: DecodedRevert,
		options?: { cause?: unknown }
	) {
		super(message, options);
		this.name = 'LedgerError';
	}
}

const short = (hex: unknown) => {
	const s = String(hex);
	return s.length > 18 ? `${s.slice(0, 10)}…${s.slice(-6)}` : s;
};
const when = (seconds: unknown) => new Date(Number(seconds) * 1000).toISOString();
const RESERVATION_STATUS = ['none', 'active', 'cancelled', 'expired', 'fulfilled'];

/** One sentence per custom error of the three contracts. */
const SENTENCES: Record<string, (a: Record<string, unknown>) => string> = {
	NotOperator: (a) => `${a.caller} is not the registry operator`,
	ZeroAddress: () => 'the zero address is not allowed here',
	InvalidStationId: () => 'the station id must not be zero',
	UnknownStation: (a) => `station ${short(a.stationId)} is not registered`,
	StationAlreadyRegistered: (a) => `station ${short(a.stationId)} is already registered`,
	StationInactive: (a) => `station ${short(a.stationId)} is retired (inactive)`,
	StationAlreadyActive: (a) => `station ${short(a.stationId)} is already active`,
	NotStationSigner: (a) =>
		`${a.caller} is not the registered signer of station ${short(a.stationId)}`,
	InvalidLightningPubkey: (a) => `a Lightning node pubkey must be 33 bytes, got ${a.length}`,
	UnknownReservation: (a) => `reservation #${a.reservationId} does not exist`,
	NotReserver: (a) =>
		`${a.caller} did not make reservation #${a.reservationId}, so it cannot cancel it`,
	ReservationNotActive: (a) =>
		`reservation #${a.reservationId} is no longer active (${RESERVATION_STATUS[Number(a.status)] ?? a.status})`,
	ReservationExpired: (a) => `reservation #${a.reservationId} expired at ${when(a.expiresAt)}`,
	ReservationNotExpired: (a) =>
		`reservation #${a.reservationId} is valid until ${when(a.expiresAt)}; it cannot be expired yet`,
	ExpiryInPast: (a) =>
		`the reservation expiry ${when(a.expiresAt)} is not after the chain time ${when(a.currentTime)}`,
	EtaAfterExpiry: (a) =>
		`the ETA ${when(a.eta)} is after the reservation expiry ${when(a.expiresAt)}`,
	ExpiryTooFar: (a) =>
		`the reservation expiry ${when(a.expiresAt)} is too far ahead: a reservation lasts at most 24 hours (until ${when(a.latest)})`,
	TooManyReservations: (a) =>
		`account ${a.account} already holds ${a.limit} active reservations, the most one account may hold; cancel one first`,
	InvalidSessionId: () => 'the session id must not be zero',
	SessionAlreadyExists: (a) => `session ${short(a.sessionId)} of this station was already opened`,
	UnknownSession: (a) => `session ${short(a.sessionId)} was never opened`,
	SessionNotOpen: (a) => `session ${short(a.sessionId)} is closed; nothing more can be anchored`,
	SessionAlreadyClosed: (a) => `session ${short(a.sessionId)} is already closed`,
	EmptyMerkleRoot: () => 'the Merkle root must not be zero',
	ReadingRangeOutOfOrder: (a) =>
		`readings must continue from #${a.expectedFrom}, but this batch starts at #${a.fromReading} (gap or overlap)`,
	InvalidReadingRange: (a) => `reading range #${a.fromReading}..#${a.toReading} runs backwards`,
	EnergyDecreased: (a) =>
		`energy cannot go down: ${a.energyWh} Wh is below the ${a.previousWh} Wh already recorded`,
	UnknownAnchor: (a) => `session ${short(a.sessionId)} has no anchor #${a.anchorIndex}`,
	ValueTooLarge: (a) => `${a.value} is larger than the ledger stores (at most ${a.max})`,
	TooManyAnchors: (a) =>
		`session ${short(a.sessionId)} has the most anchors a session can hold; close it and open a new one`,
	AnchorsDoNotMatch: (a) =>
		`the anchors given for session ${short(a.sessionId)} are not the ones on the ledger (incomplete, reordered or altered)`
};

/** All custom errors of the three contracts (same-named errors share a selector). */
const errorsInterface = new Interface(
	[...StationRegistry.abi, ...Reservations.abi, ...SessionLedger.abi].filter(
		(f) => f.type === 'error'
	)
);

function describe(parsed: ErrorDescription): DecodedRevert {
	const args: Record<string, unknown> = {};
	parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.args[i]));
	return { name: parsed.name, args };
}

/** Finds revert data (0x + selector…) anywhere ethers or the node put it. */
function findRevertData(error: unknown, depth = 0): string | undefined {
	if (depth > 5 || error === null || typeof error !== 'object') return undefined;
	const e = error as Record<string, unknown>;
	if (typeof e.data === 'string' && /^0x[0-9a-fA-F]{8}/.test(e.data)) return e.data;
	for (const key of ['error', 'info', 'cause', 'data']) {
		const found = findRevertData(e[key], depth + 1);
		if (found) return found;
	}
	return undefined;
}

export function decodeRevert(data: string): DecodedRevert | null {
	try {
		const parsed = errorsInterface.parseError(data);
		return parsed ? describe(parsed) : null;
	} catch {
		return null;
	}
}

export function revertSentence(revert: DecodedRevert): string {
	const sentence = SENTENCES[revert.name];
	return sentence
		? sentence(revert.args)
		: `${revert.name}(${Object.values(revert.args).join(', ')})`;
}

// Besu: "Gas price below configured minimum gas price"; geth/GoQuorum: "transaction underpriced",
// "insufficient funds for gas * price + value", "max fee per gas less than block base fee".
const GAS_NOT_FREE_PATTERN =
	/insufficient funds|underpriced|below configured minimum gas price|less than block base fee|gas price too low/i;

/** True when `pattern` matches the message of the error or of anything it wraps. */
function mentions(error: unknown, pattern: RegExp, depth = 0): boolean {
	if (depth > 5 || error === null || typeof error !== 'object') return false;
	const e = error as Record<string, unknown>;
	if (typeof e.message === 'string' && pattern.test(e.message)) return true;
	return ['error', 'info', 'cause'].some((key) => mentions(e[key], pattern, depth + 1));
}

const UNREACHABLE_PATTERN =
	/ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|fetch failed|Failed to fetch|NetworkError|socket hang up|timed out/i;

function isUnreachable(error: unknown): boolean {
	const e = error as { code?: unknown; message?: unknown; cause?: unknown } | null;
	if (!e || typeof e !== 'object') return false;
	if (e.code === 'TIMEOUT' || e.code === 'NETWORK_ERROR') return true;
	if (e.code === 'SERVER_ERROR' && typeof e.message === 'string' && !/status=\d/.test(e.message))
		return true;
	if (typeof e.message === 'string' && UNREACHABLE_PATTERN.test(e.message)) return true;
	return e.cause !== undefined && e.cause !== error && isUnreachable(e.cause);
}

/** Folds a history read from the chain's events; a history that does not add up is the read's failure, named by `action`. */
export function foldHistory<T>(action: string, fold: () => T): T {
	try {
		return fold();
	} catch (error) {
		throw new LedgerError('rpc-error', `${action} failed: ${(error as Error).message}`, undefined, {
			cause: error
		});
	}
}

/** Turns whatever ethers / the node threw into a LedgerError whose message says what went wrong. */
export function toLedgerError(error: unknown, action: string, rpcUrl?: string): LedgerError {
	if (error instanceof LedgerError) return error;
	const data = findRevertData(error);
	const revert = data ? decodeRevert(data) : null;
	if (revert)
		return new LedgerError('reverted', `${action} failed: ${revertSentence(revert)}`, revert, {
			cause: error
		});
	if (isUnreachable(error)) {
		return new LedgerError(
			'unreachable',
			`${action} failed: the ledger node${rpcUrl ? ` at ${rpcUrl}` : ''} is unreachable`,
			undefined,
			{
				cause: error
			}
		);
	}
	const e = error as { code?: unknown; shortMessage?: unknown; message?: unknown };
	if (e?.code === 'INSUFFICIENT_FUNDS' || mentions(error, GAS_NOT_FREE_PATTERN)) {
		return new LedgerError(
			'gas-not-free',
			`${action} failed: the ledger node wants gas paid for, but Lightcharge sends every transaction with gas price 0 ` +
				'(QBFT networks run gas-free). Start Besu with --min-gas-price=0 and a genesis with "zeroBaseFee": true, ' +
				'or GoQuorum with gas price 0 — or fund the sending account.',
			undefined,
			{ cause: error }
		);
	}
	if (e?.code === 'CALL_EXCEPTION') {
		return new LedgerError(
			'reverted',
			`${action} failed: the transaction reverted without a reason`,
			undefined,
			{ cause: error }
		);
	}
	const detail = typeof e?.shortMessage === 'string' ? e.shortMessage : e?.message;
	return new LedgerError('rpc-error', `${action} failed: ${String(detail ?? error)}`, undefined, {
		cause: error
	});
}

export type RetryOptions = CoreRetryOptions;

const isUnreachableLedgerError = (error: unknown) =>
	error instanceof LedgerError && error.code === 'unreachable';

/**
 * Runs `operation`, retrying with exponential backoff (±20 % jitter) while the node is unreachable:
 * core's retryWithBackoff with the ledger's policy (a revert or any other answer is final).
 */
export function retryWithBackoff<T>(
	operation: () => Promise<T>,
	opts: RetryOptions = {}
): Promise<T> {
	return coreRetry(operation, { jitter: 0.2, shouldRetry: isUnreachableLedgerError, ...opts });
}
