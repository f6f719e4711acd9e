// Messages between the live view and its simulation worker.
import type { FeedEvent } from '$lib/sim/engine';
import type { Phase } from '$lib/sim/phases';
import type { Policy } from '$lib/sim/scenario';

export interface SimSetup {
	seed: number;
	vehicles: number;
	stations: number;
	hours: number;
	policy: Policy;
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

export interface StationFrame {
	waiting: number;
	charging: number;
	loadKw: number;
}

export interface Frame {
	t: number;
	/** x, y (km) per vehicle. */
	positions: Float32Array;
	/** Index into PHASES per vehicle. */
	phases: Uint8Array;
	stations: StationFrame[];
	loadKw: number;
	limitKw: number;
	phaseCounts: Record<Phase, number>;
	sessions: number;
	paidSat: number;
	hubFeesSat: number;
	ledgerTx: number;
	ledgerGas: number;
	energyKwh: number;
	meanWaitMin: number;
	feed: FeedEvent[];
	finished: boolean;
}

export type FromWorker =
	| { type: 'layout'; layout: CityLayout }
	| { type: 'frame'; frame: Frame }
	| { type: 'error'; message: string };
