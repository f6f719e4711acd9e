// The M/D/c queue (Poisson arrivals, fixed service time, c servers, first come first served):
// the theory a single simulated station is checked against. With service time D, the number in
// the system at time t is Q(t) = max(Q(t − D) − c, 0) + A, A ~ Poisson(λD): everyone in service at
// t − D has left by t and nobody queued then has. So the chain at steps of D has the same
// stationary law as Q at any moment; solve it numerically, then Wq = E[max(Q − c, 0)] / λ
// (Little's law). Exact up to the truncation, which is checked.

export interface MdcResult {
	/** Mean wait in the queue, in the unit of the service time. */
	meanWait: number;
	/** Probability an arrival waits at all (P(Q ≥ c), arrivals see time averages: PASTA). */
	probabilityOfWaiting: number;
	utilisation: number;
}

/**
 * @param arrivalRate arrivals per unit of time
 * @param serviceTime the fixed service time, same unit
 * @param servers connectors
 */
export function mdcQueue(arrivalRate: number, serviceTime: number, servers: number): MdcResult {
	const rho = (arrivalRate * serviceTime) / servers;
	if (!(rho > 0 && rho < 1))
		throw new RangeError(`the queue is stable only for utilisation in (0, 1), got ${rho}`);
	const a = arrivalRate * serviceTime;
	// Truncate far enough out that the tail holds nothing measurable.
	const size = Math.ceil(servers + a + (60 * Math.sqrt(a + 1)) / (1 - rho)) + 50;
	const poisson = new Float64Array(size);
	poisson[0] = Math.exp(-a);
	for (let k = 1; k < size; k++) poisson[k] = (poisson[k - 1]! * a) / k;
	let p = new Float64Array(size);
	p[0] = 1;
	for (let iteration = 0; iteration < 100_000; iteration++) {
		const next = new Float64Array(size);
		for (let i = 0; i < size; i++) {
			const pi = p[i]!;
			if (pi === 0) continue;
			const base = Math.max(i - servers, 0);
			for (let k = 0; base + k < size; k++) next[base + k]! += pi * poisson[k]!;
		}
		let total = 0;
		for (const x of next) total += x;
		let change = 0;
		for (let i = 0; i < size; i++) {
			next[i] = next[i]! / total;
			change += Math.abs(next[i]! - p[i]!);
		}
		p = next;
		if (change < 1e-13) break;
	}
	if (p[size - 1]! > 1e-12) throw new Error('M/D/c truncation too short for this utilisation');
	let queued = 0;
	let waiting = 0;
	for (let j = 0; j < size; j++) {
		if (j >= servers) waiting += p[j]!;
		queued += Math.max(j - servers, 0) * p[j]!;
	}
	return { meanWait: queued / arrivalRate, probabilityOfWaiting: waiting, utilisation: rho };
}
