// Fleet simulator: the contract other areas (the live view, the CLI, the benchmark) use.
export { Rng, hashString } from './random';
export { EventQueue } from './event-queue';
export {
	buildCity,
	trafficFactor,
	travelMinutes,
	roadKmBetween,
	type City,
	type CityNode
} from './city';
export { acceptedPowerKw, chargeMinutes } from './charging';
export {
	allocatePower,
	waterFill,
	type PowerDemand,
	type SessionDemand,
	type SiteDemand
} from './power';
export * from './options';
export {
	buildScenario,
	type Scenario,
	type StationSpec,
	type VehicleSpec,
	type FeederSpec
} from './scenario';
export {
	MemoryLedger,
	ChainSimLedger,
	ESTIMATED_GAS,
	type SimLedger,
	type SimTx,
	type LedgerMethod,
	type QueuedReservation
} from './ledger-port';
export { expectedWaitMinutes, type StationLoad } from './wait-estimate';
export { chooseStation, MAX_CANDIDATES, type StationChoice } from './policy';
export { FleetSim, type FleetSimOptions } from './engine';
export { PHASES, type Phase } from './phases';
export type {
	Vehicle,
	ChargingSession,
	StationState,
	FeederState,
	FeedEvent,
	FeedKind,
	AnchoredReading,
	SimReading
} from './model';
export { DECISION_SECONDS, PAYMENT_SETTLE_MS } from './model';
export type { ErrandRecord, SessionRecord } from './metrics';
export { summarise, buildReport, allErrands, type PolicyReport, type RunSummary } from './report';
export {
	percentile,
	distribution,
	meanInterval,
	pairedDifference,
	pairedReduction,
	t975,
	type Distribution,
	type Interval
} from './stats';
export { runPolicy, runPolicySim, memoryLedgerFor, lazyLedger, type RunOptions } from './run';
export { deploySimChain, vehicleKey, type SimChain } from './chain-ledger';
export {
	runExperiment,
	runHere,
	compare,
	formatComparison,
	formatInterval,
	table,
	type RunRequest,
	type RunResult,
	type Runner,
	type Comparison,
	type PolicySummary,
	type PairedComparison
} from './experiment';
export {
	simulateStreamingSession,
	leastIncrementUnderFeeShare,
	FEE_POLICIES,
	INCREMENTS_WH,
	type StreamingOptions,
	type StreamingResult
} from './economics';
export { mdcQueue, type MdcResult } from './mdc';
export { buildQueueScenario, type QueueScenarioOptions } from './queue-scenario';
export { reportFiles, sessionsCsv, errandsCsv, runsCsv, type ReportFile } from './report-files';
export { linePlot, cdfPoints, type Series, type PlotSpec } from './svg';
export { liveView, type LiveView, type LiveStation } from './live';
export {
	studyRequests,
	studyEffects,
	measurable,
	STUDY_METRICS,
	type Study,
	type StudyVariant,
	type StudyEffect,
	type StudyMetric
} from './studies';
