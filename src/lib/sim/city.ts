// The city: a jittered street grid with faster arterial roads, all-pairs free-flow travel times and
// distances (Dijkstra from every node, done once per scenario), a time-of-day traffic factor, and
// demand hotspots that make some districts busier than others.
import type { Rng } from './random';

export interface CityNode {
	id: number;
	/** Kilometres from the south-west corner. */
	x: number;
	y: number;
	/** Relative demand weight (trip destinations and homes are drawn in proportion). */
	demand: number;
}

export interface City {
	sizeKm: number;
	nodes: CityNode[];
	/** Undirected street segments [a, b]. */
	streets: Array<[number, number]>;
	/** Free-flow minutes from i to j at index i * n + j. */
	freeFlowMin: Float32Array;
	/** Road kilometres from i to j at index i * n + j. */
	roadKm: Float32Array;
	/** Cumulative demand weights, for drawing nodes. */
	demandCdf: Float64Array;
}

export interface CityOptions {
	/** Nodes per side (default 20: a 400-node grid, 1 km blocks). */
	gridSize?: number;
	blockKm?: number;
}

const ARTERIAL_EVERY = 4;
const ARTERIAL_KMH = 50;
const STREET_KMH = 28;

export function buildCity(rng: Rng, options: CityOptions = {}): City {
	const g = options.gridSize ?? 20;
	const block = options.blockKm ?? 1;
	if (!Number.isInteger(g) || g < 3 || g > 60)
		throw new RangeError(`gridSize must be an integer 3..60, got ${g}`);
	const sizeKm = (g - 1) * block;
	// Three districts of demand: a dense centre and two secondary hubs.
	const hotspots = [
		{ x: sizeKm * 0.5, y: sizeKm * 0.5, sigma: sizeKm * 0.14, weight: 6 },
		{
			x: sizeKm * rng.range(0.15, 0.3),
			y: sizeKm * rng.range(0.6, 0.85),
			sigma: sizeKm * 0.1,
			weight: 3
		},
		{
			x: sizeKm * rng.range(0.65, 0.85),
			y: sizeKm * rng.range(0.15, 0.35),
			sigma: sizeKm * 0.1,
			weight: 3
		}
	];
	const nodes: CityNode[] = [];
	for (let row = 0; row < g; row++) {
		for (let col = 0; col < g; col++) {
			const x = col * block + (col > 0 && col < g - 1 ? rng.range(-0.2, 0.2) * block : 0);
			const y = row * block + (row > 0 && row < g - 1 ? rng.range(-0.2, 0.2) * block : 0);
			let demand = 0.25;
			for (const h of hotspots)
				demand += h.weight * Math.exp(-((x - h.x) ** 2 + (y - h.y) ** 2) / (2 * h.sigma ** 2));
			nodes.push({ id: row * g + col, x, y, demand });
		}
	}
	const streets: Array<[number, number]> = [];
	const adjacency: Array<Array<{ to: number; min: number; km: number }>> = nodes.map(() => []);
	const connect = (a: number, b: number, arterial: boolean) => {
		const na = nodes[a]!;
		const nb = nodes[b]!;
		const km = Math.hypot(na.x - nb.x, na.y - nb.y) * 1.15; // streets are not straight
		const min = (km / (arterial ? ARTERIAL_KMH : STREET_KMH)) * 60;
		streets.push([a, b]);
		adjacency[a]!.push({ to: b, min, km });
		adjacency[b]!.push({ to: a, min, km });
	};
	for (let row = 0; row < g; row++) {
		for (let col = 0; col < g; col++) {
			const id = row * g + col;
			if (col + 1 < g) connect(id, id + 1, row % ARTERIAL_EVERY === 0 || row === g - 1);
			if (row + 1 < g) connect(id, id + g, col % ARTERIAL_EVERY === 0 || col === g - 1);
		}
	}
	const n = nodes.length;
	const freeFlowMin = new Float32Array(n * n);
	const roadKm = new Float32Array(n * n);
	allPairs(adjacency, freeFlowMin, roadKm);
	const demandCdf = new Float64Array(n);
	let total = 0;
	for (let i = 0; i < n; i++) demandCdf[i] = total += nodes[i]!.demand;
	return { sizeKm, nodes, streets, freeFlowMin, roadKm, demandCdf };
}

/**
 * Dijkstra from every node: free-flow minutes and the road kilometres of the quickest path. The
 * adjacency is packed into flat arrays and the heap holds (minutes, push order, node) in typed
 * arrays: ties break by push order exactly as EventQueue breaks them, so the paths (and their
 * kilometres) are the ones an EventQueue-driven search finds (city.test.ts compares the two).
 */
function allPairs(
	adjacency: ReadonlyArray<ReadonlyArray<{ to: number; min: number; km: number }>>,
	freeFlowMin: Float32Array,
	roadKm: Float32Array
): void {
	const n = adjacency.length;
	const start = new Int32Array(n + 1);
	for (let u = 0; u < n; u++) start[u + 1] = start[u]! + adjacency[u]!.length;
	const to = new Int32Array(start[n]!);
	const edgeMin = new Float64Array(start[n]!);
	const edgeKm = new Float64Array(start[n]!);
	for (let u = 0; u < n; u++) {
		adjacency[u]!.forEach((e, k) => {
			to[start[u]! + k] = e.to;
			edgeMin[start[u]! + k] = e.min;
			edgeKm[start[u]! + k] = e.km;
		});
	}
	const dist = new Float64Array(n);
	const km = new Float64Array(n);
	// A node is pushed at most once per edge into it, plus the source.
	const capacity = start[n]! + 1;
	const heapTime = new Float64Array(capacity);
	const heapSeq = new Int32Array(capacity);
	const heapNode = new Int32Array(capacity);
	for (let source = 0; source < n; source++) {
		dist.fill(Infinity);
		dist[source] = 0;
		km[source] = 0;
		let size = 0;
		let seq = 0;
		const push = (time: number, node: number) => {
			const s = seq++;
			let i = size++;
			while (i > 0) {
				const parent = (i - 1) >> 1;
				const pt = heapTime[parent]!;
				if (pt < time || (pt === time && heapSeq[parent]! < s)) break;
				heapTime[i] = pt;
				heapSeq[i] = heapSeq[parent]!;
				heapNode[i] = heapNode[parent]!;
				i = parent;
			}
			heapTime[i] = time;
			heapSeq[i] = s;
			heapNode[i] = node;
		};
		push(0, source);
		while (size > 0) {
			const time0 = heapTime[0]!;
			const u = heapNode[0]!;
			// Pop: the last entry sifts down from the root.
			const last = --size;
			const time = heapTime[last]!;
			const s = heapSeq[last]!;
			const node = heapNode[last]!;
			let i = 0;
			for (;;) {
				const l = 2 * i + 1;
				if (l >= last) break;
				const r = l + 1;
				let c = l;
				if (
					r < last &&
					(heapTime[r]! < heapTime[l]! ||
						(heapTime[r] === heapTime[l] && heapSeq[r]! < heapSeq[l]!))
				)
					c = r;
				if (time < heapTime[c]! || (time === heapTime[c] && s < heapSeq[c]!)) break;
				heapTime[i] = heapTime[c]!;
				heapSeq[i] = heapSeq[c]!;
				heapNode[i] = heapNode[c]!;
				i = c;
			}
			if (last > 0) {
				heapTime[i] = time;
				heapSeq[i] = s;
				heapNode[i] = node;
			}
			if (time0 > dist[u]!) continue;
			for (let e = start[u]!; e < start[u + 1]!; e++) {
				const v = to[e]!;
				const d = dist[u]! + edgeMin[e]!;
				if (d < dist[v]!) {
					dist[v] = d;
					km[v] = km[u]! + edgeKm[e]!;
					push(d, v);
				}
			}
		}
		freeFlowMin.set(dist, source * n);
		roadKm.set(km, source * n);
	}
}

/** A node drawn in proportion to demand. */
export function drawDemandNode(city: City, rng: Rng): number {
	const cdf = city.demandCdf;
	const target = rng.next() * cdf[cdf.length - 1]!;
	let lo = 0;
	let hi = cdf.length - 1;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (cdf[mid]! > target) hi = mid;
		else lo = mid + 1;
	}
	return lo;
}

/**
 * Congestion multiplier on free-flow time by hour of day: morning and evening rush hours,
 * a busier daytime, free-flowing nights.
 */
export function trafficFactor(simSeconds: number): number {
	const h = (simSeconds / 3600) % 24;
	const day = h >= 7 && h < 20 ? 0.15 : 0;
	return (
		1 +
		day +
		0.8 * Math.exp(-(((h - 8.25) / 1.1) ** 2)) +
		0.9 * Math.exp(-(((h - 17.5) / 1.4) ** 2))
	);
}

/** Minutes from node a to node b leaving at `simSeconds`. */
export function travelMinutes(city: City, a: number, b: number, simSeconds: number): number {
	return city.freeFlowMin[a * city.nodes.length + b]! * trafficFactor(simSeconds);
}

export function roadKmBetween(city: City, a: number, b: number): number {
	return city.roadKm[a * city.nodes.length + b]!;
}
