// Live view state: owns the simulation worker, keeps the latest frame, the grid-load series (one
// per policy) and the event feed. The page only reads from here and calls play/pause/speed/restart.
import type { Policy } from '$lib/sim';
import type { CityLayout, Frame, FromWorker, PolicyFeedEvent, SimSetup } from './protocol';

export const SPEEDS = [
	{ label: '1 min/s', value: 60 },
	{ label: '10 min/s', value: 600 },
	{ label: '30 min/s', value: 1800 },
	{ label: '1 h/s', value: 3600 }
] as const;

export const POLICY_LABELS: Record<Policy, string> = {
	optimal: 'Optimiser',
	lookahead: 'Look-ahead',
	reserve: 'Reservations',
	live: 'Live occupancy',
	nearest: 'Nearest station',
	random: 'Random station'
};

const FEED_LENGTH = 14;

export interface LoadSeries {
	hours: number[];
	/** kW drawn, one array per policy. */
	kw: number[][];
	limit: number[];
}

export class SimLive {
	layout = $state.raw<CityLayout | null>(null);
	frame = $state.raw<Frame | null>(null);
	feed = $state.raw<PolicyFeedEvent[]>([]);
	playing = $state(false);
	speed = $state(600);
	error = $state<string | null>(null);
	setup = $state<SimSetup>({
		seed: 1,
		vehicles: 1000,
		stations: 50,
		hours: 24,
		policies: ['optimal', 'live']
	});
	load = $state.raw<LoadSeries>({ hours: [], kw: [], limit: [] });

	/** Start playing as soon as the city is built. */
	playWhenReady = false;

	private worker: Worker | null = null;

	start(setup: SimSetup = this.setup): void {
		this.setup = setup;
		this.error = null;
		this.playing = false;
		this.layout = null;
		this.frame = null;
		this.feed = [];
		this.load = { hours: [], kw: setup.policies.map(() => []), limit: [] };
		this.worker?.terminate();
		// eslint-disable-next-line svelte/prefer-svelte-reactivity -- the worker's address, read once
		const worker = new Worker(new URL('./sim.worker.ts', import.meta.url), { type: 'module' });
		worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
		worker.onerror = (e) => {
			this.error = `The simulation stopped: ${e.message || 'worker error'}`;
			this.playing = false;
		};
		this.worker = worker;
		worker.postMessage({ type: 'start', setup: $state.snapshot(setup) });
		worker.postMessage({ type: 'speed', value: this.speed });
	}

	/** Show one policy, or two side by side (the second `null` for one). */
	choose(first: Policy, second: Policy | null): void {
		this.start({ ...this.setup, policies: second && second !== first ? [first, second] : [first] });
	}

	play(): void {
		if (!this.worker || this.frame?.finished) return;
		this.playing = true;
		this.worker.postMessage({ type: 'play' });
	}

	pause(): void {
		this.playing = false;
		this.worker?.postMessage({ type: 'pause' });
	}

	setSpeed(value: number): void {
		this.speed = value;
		this.worker?.postMessage({ type: 'speed', value });
	}

	stop(): void {
		this.worker?.terminate();
		this.worker = null;
	}

	private receive(m: FromWorker): void {
		if (m.type === 'layout') {
			this.layout = m.layout;
			if (this.playWhenReady) this.play();
		} else if (m.type === 'error') {
			this.error = m.message;
			this.playing = false;
		} else {
			const f = m.frame;
			this.frame = f;
			if (f.feed.length > 0)
				this.feed = [...f.feed.slice().reverse(), ...this.feed].slice(0, FEED_LENGTH);
			const { hours, kw, limit } = this.load;
			const h = f.t / 3600;
			if (hours.length === 0 || h - hours[hours.length - 1]! >= 1 / 60) {
				this.load = {
					hours: [...hours, h],
					kw: f.views.map((v, i) => [...(kw[i] ?? []), v.loadKw]),
					limit: [...limit, f.views[0]!.limitKw]
				};
			}
			if (f.finished) this.playing = false;
		}
	}
}
