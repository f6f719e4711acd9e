// Binary min-heap of timed events for the discrete-event engine. Ties break by insertion order, so
// two events at the same instant always run in the order they were scheduled (determinism).

interface Entry<T> {
	time: number;
	seq: number;
	item: T;
}

export class EventQueue<T> {
	private readonly heap: Entry<T>[] = [];
	private nextSeq = 0;

	get size(): number {
		return this.heap.length;
	}

	push(time: number, item: T): void {
		if (!Number.isFinite(time)) throw new RangeError(`event time must be finite, got ${time}`);
		const heap = this.heap;
		heap.push({ time, seq: this.nextSeq++, item });
		let i = heap.length - 1;
		while (i > 0) {
			const parent = (i - 1) >> 1;
			if (!before(heap[i]!, heap[parent]!)) break;
			[heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
			i = parent;
		}
	}

	peekTime(): number | undefined {
		return this.heap[0]?.time;
	}

	pop(): { time: number; item: T } | undefined {
		const heap = this.heap;
		const top = heap[0];
		if (!top) return undefined;
		const last = heap.pop()!;
		if (heap.length > 0) {
			heap[0] = last;
			let i = 0;
			for (;;) {
				const l = 2 * i + 1;
				const r = l + 1;
				let smallest = i;
				if (l < heap.length && before(heap[l]!, heap[smallest]!)) smallest = l;
				if (r < heap.length && before(heap[r]!, heap[smallest]!)) smallest = r;
				if (smallest === i) break;
				[heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
				i = smallest;
			}
		}
		return { time: top.time, item: top.item };
	}
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
	return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
