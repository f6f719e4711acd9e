// Binary min-heap of timed events for the discrete-event engine. Ties break by insertion order, so
// two events at the same instant always run in the order they were scheduled (determinism).
// Times and sequence numbers live in typed arrays: a city run pushes millions of events, and an
// object per entry would be garbage to collect.

export class EventQueue<T> {
	private times = new Float64Array(1024);
	private seqs = new Float64Array(1024);
	private items: Array<T | undefined> = new Array(1024);
	private length = 0;
	private nextSeq = 0;

	get size(): number {
		return this.length;
	}

	push(time: number, item: T): void {
		if (!Number.isFinite(time)) throw new RangeError(`event time must be finite, got ${time}`);
		if (this.length === this.times.length) this.grow();
		const seq = this.nextSeq++;
		const { times, seqs, items } = this;
		let i = this.length++;
		while (i > 0) {
			const parent = (i - 1) >> 1;
			const pt = times[parent]!;
			if (pt < time || (pt === time && seqs[parent]! < seq)) break;
			times[i] = pt;
			seqs[i] = seqs[parent]!;
			items[i] = items[parent];
			i = parent;
		}
		times[i] = time;
		seqs[i] = seq;
		items[i] = item;
	}

	peekTime(): number | undefined {
		return this.length > 0 ? this.times[0] : undefined;
	}

	pop(): { time: number; item: T } | undefined {
		if (this.length === 0) return undefined;
		const { times, seqs, items } = this;
		const top = { time: times[0]!, item: items[0] as T };
		const n = --this.length;
		const time = times[n]!;
		const seq = seqs[n]!;
		const item = items[n];
		items[n] = undefined;
		let i = 0;
		for (;;) {
			const l = 2 * i + 1;
			if (l >= n) break;
			const r = l + 1;
			let c = l;
			if (r < n && (times[r]! < times[l]! || (times[r] === times[l] && seqs[r]! < seqs[l]!))) c = r;
			if (time < times[c]! || (time === times[c] && seq < seqs[c]!)) break;
			times[i] = times[c]!;
			seqs[i] = seqs[c]!;
			items[i] = items[c];
			i = c;
		}
		if (n > 0) {
			times[i] = time;
			seqs[i] = seq;
			items[i] = item;
		}
		return top;
	}

	private grow(): void {
		const size = this.times.length * 2;
		const times = new Float64Array(size);
		times.set(this.times);
		const seqs = new Float64Array(size);
		seqs.set(this.seqs);
		this.times = times;
		this.seqs = seqs;
		this.items.length = size;
	}
}
