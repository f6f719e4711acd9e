// Seeded pseudo-random numbers for the fleet simulator: every run is a pure function of its seed.
// sfc32 (Chris Doty-Humphrey's small fast counter) seeded through splitmix32: fast, 128-bit state,
// and good enough statistically for a traffic model. Not for keys.

export class Rng {
	private a: number;
	private b: number;
	private c: number;
	private d: number;

	constructor(seed: number | string) {
		// splitmix32 steps s + 1·γ … s + 4·γ (no closure: an Rng is made for every trip and errand).
		const s = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
		this.a = splitmix32((s + 0x9e3779b9) >>> 0);
		this.b = splitmix32((s + 2 * 0x9e3779b9) >>> 0);
		this.c = splitmix32((s + 3 * 0x9e3779b9) >>> 0);
		this.d = splitmix32((s + 4 * 0x9e3779b9) >>> 0);
		for (let i = 0; i < 12; i++) this.nextUint32();
	}

	nextUint32(): number {
		const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
		this.d = (this.d + 1) >>> 0;
		this.a = this.b ^ (this.b >>> 9);
		this.b = (this.c + (this.c << 3)) >>> 0;
		this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
		this.c = (this.c + t) >>> 0;
		return t;
	}

	/** Uniform in [0, 1). */
	next(): number {
		return this.nextUint32() / 4294967296;
	}

	/** Uniform in [min, max). */
	range(min: number, max: number): number {
		return min + (max - min) * this.next();
	}

	/** Integer in [0, n). */
	int(n: number): number {
		return Math.floor(this.next() * n);
	}

	pick<T>(items: readonly T[]): T {
		if (items.length === 0) throw new RangeError('cannot pick from an empty list');
		return items[this.int(items.length)] as T;
	}

	/** Standard normal (Box–Muller). */
	normal(): number {
		const u = 1 - this.next();
		const v = this.next();
		return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
	}

	/** A new independent stream derived from this one (so adding draws in one part does not shift another). */
	fork(label: string): Rng {
		return new Rng((this.nextUint32() ^ hashString(label)) >>> 0);
	}
}

function splitmix32(state: number): number {
	let z = state;
	z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
	z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
	return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a of a string, 32-bit. */
export function hashString(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}
