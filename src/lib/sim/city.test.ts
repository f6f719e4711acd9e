import { describe, expect, it } from 'vitest';
import { buildCity } from './city';
import { EventQueue } from './event-queue';
import { Rng } from './random';

// The search every pair's figures came from before allPairs: Dijkstra on EventQueue, over the streets.
function reference(city: ReturnType<typeof buildCity>): { min: Float32Array; km: Float32Array } {
	const n = city.nodes.length;
	const adjacency: Array<Array<{ to: number; min: number; km: number }>> = city.nodes.map(() => []);
	for (const [a, b] of city.streets) {
		// buildCity's street times, recomputed from its own figures for the pair (a, b).
		const km = city.roadKm[a * n + b]!;
		const min = city.freeFlowMin[a * n + b]!;
		adjacency[a]!.push({ to: b, min, km });
		adjacency[b]!.push({ to: a, min, km });
	}
	const min = new Float32Array(n * n);
	const kms = new Float32Array(n * n);
	for (let source = 0; source < n; source++) {
		const dist = new Float64Array(n).fill(Infinity);
		const km = new Float64Array(n);
		dist[source] = 0;
		const queue = new EventQueue<number>();
		queue.push(0, source);
		for (let next = queue.pop(); next; next = queue.pop()) {
			const u = next.item;
			if (next.time > dist[u]!) continue;
			for (const e of adjacency[u]!) {
				const d = dist[u]! + e.min;
				if (d < dist[e.to]!) {
					dist[e.to] = d;
					km[e.to] = km[u]! + e.km;
					queue.push(d, e.to);
				}
			}
		}
		min.set(dist, source * n);
		kms.set(km, source * n);
	}
	return { min, km: kms };
}

describe('buildCity', () => {
	it('gives every pair the quickest path an EventQueue Dijkstra finds, and its kilometres', () => {
		for (const seed of [1, 2, 3]) {
			const city = buildCity(new Rng(seed), { gridSize: 9 });
			const n = city.nodes.length;
			// Neighbours along a street: the street itself is the quickest way (so reference() can rebuild it).
			const direct = city.streets.every(
				([a, b]) => city.freeFlowMin[a * n + b]! > 0 && city.roadKm[a * n + b]! > 0
			);
			expect(direct).toBe(true);
			const ref = reference(city);
			let worstMin = 0;
			let worstKm = 0;
			for (let i = 0; i < n * n; i++) {
				worstMin = Math.max(worstMin, Math.abs(ref.min[i]! - city.freeFlowMin[i]!));
				worstKm = Math.max(worstKm, Math.abs(ref.km[i]! - city.roadKm[i]!));
			}
			// Street figures pass through float32 in the reference: equal to float32 rounding.
			expect(worstMin).toBeLessThan(1e-3);
			expect(worstKm).toBeLessThan(1e-3);
			for (let i = 0; i < n; i++) expect(city.freeFlowMin[i * n + i]).toBe(0);
			for (let i = 0; i < n; i++)
				for (let j = 0; j < n; j++)
					expect(city.freeFlowMin[i * n + j]).toBeCloseTo(city.freeFlowMin[j * n + i]!, 3);
		}
	});
});
