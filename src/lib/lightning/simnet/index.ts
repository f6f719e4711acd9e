export * from './bolt11-encode';
export * from './network';
export * from './node';
export * from './random';
export * from './topology';
export * from './types';
