// bench:ledger's signed OCMF records, made before anything is timed: one hour of 1 Hz readings per
// session, each signed by the session's station key with OpenSSL (node:crypto) and stored as the
// kiosk stores it (OCMF|payload|signature, low-S DER). Signing is spread over worker threads, one
// share of the sessions each (this file is also the worker); the records come back in order.
import { createPrivateKey, sign as signWithOpenSsl, type KeyObject } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { buildOcmfPayloadText, GATEWAY_VERSION } from '../src/lib/protocol/index.js';

export interface SignSpec {
	stationId: string;
	sessionId: string;
	/** The station's secp256k1 key, 0x-hex. */
	key: string;
	/** Time of the first reading. */
	startMs: number;
	readings: number;
	powerW: number;
}

export interface BenchSession {
	stationId: string;
	sessionId: string;
	key: string;
	records: string[];
	energyWh: number[];
}

const CURVE_ORDER = secp256k1.Point.CURVE().n;

/** OpenSSL signs high-S half the time; OCMF verifiers (and noble) want low-S, so mirror s. */
function lowSDer(der: Buffer): string {
	// SEQUENCE { INTEGER r, INTEGER s } with short lengths (secp256k1 signatures are < 128 bytes).
	const rLength = der[3]!;
	const r = der.subarray(4, 4 + rLength);
	const sLength = der[5 + rLength]!;
	let s = BigInt(`0x${der.subarray(6 + rLength, 6 + rLength + sLength).toString('hex')}`);
	if (s > CURVE_ORDER / 2n) s = CURVE_ORDER - s;
	let sHex = s.toString(16);
	if (sHex.length % 2) sHex = `0${sHex}`;
	if (parseInt(sHex.slice(0, 2), 16) >= 0x80) sHex = `00${sHex}`;
	const rHex = r.toString('hex');
	const body = `02${(rHex.length / 2).toString(16).padStart(2, '0')}${rHex}02${(sHex.length / 2).toString(16).padStart(2, '0')}${sHex}`;
	return `30${(body.length / 2).toString(16).padStart(2, '0')}${body}`.toUpperCase();
}

function openSslKey(privateKeyHex: string): KeyObject {
	const d = Buffer.from(privateKeyHex.replace(/^0x/, ''), 'hex');
	const point = secp256k1.getPublicKey(d, false);
	const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
	return createPrivateKey({
		key: {
			kty: 'EC',
			crv: 'secp256k1',
			d: b64(d),
			x: b64(point.subarray(1, 33)),
			y: b64(point.subarray(33))
		},
		format: 'jwk'
	});
}

export function signSessionRecords(spec: SignSpec): BenchSession {
	const { stationId, sessionId, key, startMs, readings, powerW } = spec;
	const keyObject = openSslKey(key);
	const records: string[] = [];
	const energyWh: number[] = [];
	for (let n = 1; n <= readings; n++) {
		const wh = Math.round((n - 1) * (powerW / 3600));
		const payload = buildOcmfPayloadText({
			stationId,
			gatewayVersion: GATEWAY_VERSION,
			pagination: n,
			meter: { vendor: 'Lightcharge', model: 'bench-meter', serial: `BM-${stationId}` },
			identification: { type: 'CENTRAL', data: sessionId },
			reading: {
				at: startMs + (n - 1) * 1000,
				tx: n === 1 ? 'B' : n === readings ? 'E' : 'T',
				energyWh: wh
			}
		});
		const der = signWithOpenSsl('sha256', Buffer.from(payload, 'utf8'), {
			key: keyObject,
			dsaEncoding: 'der'
		});
		records.push(
			`OCMF|${payload}|${JSON.stringify({ SA: 'ECDSA-secp256k1-SHA256', SD: lowSDer(der) })}`
		);
		energyWh.push(wh);
	}
	return { stationId, sessionId, key, records, energyWh };
}

/** Signs every spec's records on up to `threads` worker threads; the sessions in the specs' order. */
export async function signInThreads(specs: SignSpec[], threads: number): Promise<BenchSession[]> {
	const n = Math.max(1, Math.min(threads, specs.length));
	const shares = Array.from({ length: n }, (_, t) => specs.filter((_, i) => i % n === t));
	const signed = await Promise.all(
		shares.map(
			(share) =>
				new Promise<BenchSession[]>((resolve, reject) => {
					// A worker does not inherit tsx's loader: it registers it before loading this module.
					const worker = new Worker(
						`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`,
						{
							eval: true,
							workerData: { signSpecs: share }
						}
					);
					worker.once('message', (m: BenchSession[] | { error: string }) =>
						'error' in m ? reject(new Error(`a signing thread failed: ${m.error}`)) : resolve(m)
					);
					worker.once('error', reject);
					worker.once(
						'exit',
						(code) => code !== 0 && reject(new Error(`a signing thread exited with ${code}`))
					);
				})
		)
	);
	// Back into the specs' order (share t holds specs t, t + n, t + 2n, …).
	return specs.map((_, i) => signed[i % n]![Math.floor(i / n)]!);
}

if (!isMainThread && (workerData as { signSpecs?: SignSpec[] } | null)?.signSpecs) {
	try {
		parentPort!.postMessage(
			(workerData as { signSpecs: SignSpec[] }).signSpecs.map(signSessionRecords)
		);
	} catch (e) {
		parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
	}
}
