// Fleet simulator: public API.
export * from './random.js';
export * from './event-queue.js';
export * from './city.js';
export * from './charging.js';
export * from './scenario.js';
export * from './ledger-port.js';
export * from './policy.js';
export * from './engine.js';
export * from './report.js';
export * from './run.js';
export * from './chain-ledger.js';
