export { connectLedger, type ConnectLedgerOptions, type Ledger } from './client.js';
export { deployLedger } from './deploy.js';
export { LedgerError, decodeRevert, retryWithBackoff, revertSentence, toLedgerError } from './errors.js';
export type { DecodedRevert, LedgerErrorCode, RetryOptions } from './errors.js';
export * from './ids.js';
export * from './merkle.js';
export type * from './types.js';
export { InconsistentLogError, compareEventPositions, foldSessionEvents, foldStationEvents } from './history.js';
export type { EventPosition, SessionEvent, SessionHistory, StationEvent, StationHistory } from './history.js';
