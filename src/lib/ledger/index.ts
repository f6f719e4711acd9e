export { connectLedger, probeChainId, type ConnectLedgerOptions, type Ledger } from './client';
export { deployLedger, type DeployOptions, type LedgerDeployment } from './deploy';
export {
	LedgerError,
	decodeRevert,
	retryWithBackoff,
	revertSentence,
	toLedgerError
} from './errors';
export type { DecodedRevert, LedgerErrorCode, RetryOptions } from './errors';
export * from './ids';
export * from './merkle';
export type * from './types';
export {
	InconsistentLogError,
	anchorsDigest,
	compareEventPositions,
	foldSessionEvents,
	foldStationEvents
} from './history';
export type {
	EventPosition,
	SessionEvent,
	SessionHistory,
	StationEvent,
	StationHistory
} from './history';
export { createStationLedger, type StationLedgerOptions } from './station-ledger';
