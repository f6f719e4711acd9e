// Vehicle phases, in the order a charging errand goes through them. Kept apart from the engine so
// a view can import them without pulling in the simulator.
export type Phase = 'idle' | 'calculating' | 'go' | 'waiting' | 'charging' | 'paying' | 'done';
export const PHASES: readonly Phase[] = [
	'idle',
	'calculating',
	'go',
	'waiting',
	'charging',
	'paying',
	'done'
];
