// Stations ordered by free-flow travel time from each street corner, built on first use per
// corner. Traffic scales every drive by the same factor, so this order holds at any hour; a choice
// scans stations nearest first and stops as soon as no farther one can win.
import type { City } from './city';

export class StationIndex {
	private readonly orders: Array<Uint32Array | undefined>;

	constructor(
		private readonly city: City,
		private readonly stationNodes: readonly number[]
	) {
		this.orders = new Array<Uint32Array | undefined>(city.nodes.length);
	}

	/** Station indices, least free-flow time from `node` first (ties by index). */
	byTime(node: number): Uint32Array {
		const known = this.orders[node];
		if (known) return known;
		const n = this.city.nodes.length;
		const count = this.stationNodes.length;
		const order = new Uint32Array(count);
		for (let i = 0; i < count; i++) order[i] = i;
		const minutes = new Float64Array(count);
		for (let i = 0; i < count; i++)
			minutes[i] = this.city.freeFlowMin[node * n + this.stationNodes[i]!]!;
		order.sort((a, b) => minutes[a]! - minutes[b]! || a - b);
		this.orders[node] = order;
		return order;
	}
}
