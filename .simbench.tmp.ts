import { makeReading } from '../work/main/src/lib/protocol/index.ts';
import { buildReadingsTree } from '../work/main/src/lib/ledger/merkle.ts';
import { Simnet, buildHubTopology, seededRandomBytes } from '../work/main/src/lib/lightning/simnet/index.ts';
const key = '11'.repeat(32);
let t = performance.now();
const recs: string[] = [];
for (let i = 1; i <= 2000; i++) recs.push(makeReading({ seq: i, tx: 'T', energyWh: i * 10, at: 1_700_000_000_000 + i * 60000, meter: { vendor: 'x', model: 'y', serial: 's' }, stationId: 'ST-1', sessionId: 'S-1' }, key).ocmf);
console.log('makeReading ms each', (performance.now() - t) / 2000);
t = performance.now();
for (let i = 0; i < 2000; i++) buildReadingsTree([recs[i]!]);
console.log('tree1 ms each', (performance.now() - t) / 2000);
t = performance.now();
let now = 1_700_000_000_000; const q: (() => void)[] = [];
const net = new Simnet({ now: () => now, random: seededRandomBytes('x'), schedule: (r) => q.push(r) });
const names = Array.from({ length: 1050 }, (_, i) => `n${i}`);
buildHubTopology(net, names);
console.log('topology ms', performance.now() - t);
t = performance.now();
for (let i = 0; i < 300; i++) {
  const inv = net.addInvoice('n1', { valueMsat: 12_000_000n, descriptionHash: 'ab'.repeat(32), expiry: 3600 });
  net.sendPayment(`n${i + 100}`, { paymentRequest: inv.paymentRequest, feeLimitMsat: 1_000_000n, timeoutSeconds: 60 });
  q.shift()!();
}
console.log('payment ms each', (performance.now() - t) / 300);
