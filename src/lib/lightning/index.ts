// Lightning: the LightningNode port (port.ts) and its LND REST backend (lnd-rest.ts); BOLT #11
// decoding and the wallet's invoice check (encoding is the simnet's: lightning/simnet); LND's REST
// JSON dialect (lnd-json.ts), which the simnet serves too. Two sub-areas are contracts of their
// own: `lightning/simnet` (the simulated network) and `lightning/lnc` (the Lightning Node Connect
// backend: browser-only, loaded with import() when used). Everything here runs in Node and the browser.
export * from './port';
export { Bolt11Error, MAX_INVOICE_LENGTH, decodeBolt11 } from './bolt11';
export type {
	Bolt11ErrorCode,
	Bolt11Fields,
	DecodedBolt11,
	FallbackAddress,
	RouteHintHop
} from './bolt11';
export * from './invoice-check';
export { LndRestNode, errorFromStatus, type LndRestOptions } from './lnd-rest';
export * from './lnd-json';
export { waitUntilReady, type WaitReadyOptions } from './wait-ready';
