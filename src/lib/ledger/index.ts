export { connectLedger, probeChainId, type ConnectLedgerOptions, type Ledger } from './client.js';
export { deployLedger, type DeployOptions, type LedgerDeployment } from './deploy.js';
export { LedgerError, decodeRevert, retryWithBackoff, revertSentence, toLedgerError } from './errors.js';
export type { DecodedRevert, LedgerErrorCode, RetryOptions } from './errors.js';
export * from './ids.js';
export * from './merkle.js';
export type * from './types.js';
export { InconsistentLogError, anchorsDigest, compareEventPositions, foldSessionEvents, foldStationEvents } from './history.js';
export type { EventPosition, SessionEvent, SessionHistory, StationEvent, StationHistory } from './history.js';
