export * from './network.js';
export * from './node.js';
export * from './random.js';
export * from './topology.js';
