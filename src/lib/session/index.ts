// The charging session, station side and driver side: the pure reducers (station.ts, driver.ts),
// the runtimes that carry out their effects, the receipt, and the ports the session needs of the
// world (ports.ts), which the adapters in ledger/, storage/ and mqtt/ implement.
export type * from './ports';
export * from './station';
export {
	StationRuntime,
	type AlarmCause,
	loadStationSnapshot,
	randomSessionId,
	type StationRuntimeOptions,
	type StationSnapshot,
	type StationView
} from './station-runtime';
export {
	offlineStatusPayload,
	stationStatus,
	type StationIdentity,
	type StatusFacts
} from './status';
export { Outbox, type OutboxMessage, type OutboxOptions } from './outbox';
export {
	decideInvoice,
	type InvoiceContext,
	type InvoiceDecision,
	type RefusalReason
} from './driver';
export { DriverChannel, type DriverKey } from './driver-channel';
export {
	DriverRuntime,
	KEPT_REFUSALS,
	MemoryJournal,
	paymentFailureSentence,
	toSnapshot,
	type DriverPhase,
	type DriverRuntimeOptions,
	type DriverSnapshot,
	type DriverView,
	type InvoiceView
} from './driver-runtime';
export { judgeAgainstRegistry, pinMismatch, pinOf } from './identity';
export { checkStationIdentity, type IdentityCheckOptions } from './registry-identity';
export * from './receipt';
export {
	DEFAULT_TARIFF,
	createSimulatedStation,
	DEFAULT_MAX_POWER_W,
	stationTariff,
	type HeadlessStation,
	type HeadlessStationOptions
} from './headless-station';
export * from './increment';
