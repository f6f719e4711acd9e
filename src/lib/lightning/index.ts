// Lightning: the LightningNode port (port.ts) and its backends, LND REST (lnd-rest.ts) and
// Lightning Node Connect (lnc.ts, which loads lnc-web only when used); BOLT #11 decoding and the
// wallet's invoice check (encoding is the simnet's: lightning/simnet); LND's REST JSON dialect (lnd-json.ts), which the simnet serves too. The
// simulated network is its own contract, `lightning/simnet`.
export * from './port';
export { Bolt11Error, MAX_INVOICE_LENGTH, decodeBolt11 } from './bolt11';
export type { Bolt11ErrorCode, Bolt11Fields, DecodedBolt11, FallbackAddress, RouteHintHop } from './bolt11';
export * from './invoice-check';
export { LndRestNode, errorFromStatus, type LndRestOptions } from './lnd-rest';
export * from './lnd-json';
export * from './lnc';
export { waitUntilReady, type WaitReadyOptions } from './wait-ready';
