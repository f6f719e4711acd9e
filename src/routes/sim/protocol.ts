// Messages between the live view and its simulation worker.
import type { FeedEvent, LiveView, Policy } from '$lib/sim';

export interface SimSetup {
	seed: number;
	vehicles: number;
	stations: number;
	hours: number;
	/** One policy, or two side by side on the same trips. */
	policies: Policy[];
}

export type ToWorker =
	| { type: 'start'; setup: SimSetup }
	| { type: 'play' }
	| { type: 'pause' }
	/** Simulated seconds per real second. */
	| { type: 'speed'; value: number };

export interface CityLayout {
	sizeKm: number;
	nodes: Float32Array;
	streets: Uint16Array;
	stations: Array<{ id: string; x: number; y: number; connectors: number; limitKw: number }>;
	endSeconds: number;
	startMs: number;
}

export interface PolicyFeedEvent extends FeedEvent {
	policy: Policy;
}

export interface Frame {
	t: number;
	/** One per policy, in the setup's order. */
	views: LiveView[];
	feed: PolicyFeedEvent[];
	finished: boolean;
}

export type FromWorker =
	| { type: 'layout'; layout: CityLayout }
	| { type: 'frame'; frame: Frame }
	| { type: 'error'; message: string };
