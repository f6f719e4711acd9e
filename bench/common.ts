// What every benchmark shares: one percentile definition (nearest rank, the simulator's), and the
// machine's load printed at start and end (figures from a shared machine mean little without it).
import { cpus, loadavg } from 'node:os';

export { percentile } from '../src/lib/sim/index.js';

export function loadLine(when: 'start' | 'end'): string {
	return `load average at ${when}: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min) on ${cpus().length} cores`;
}
