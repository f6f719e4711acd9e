// The differential script: the same LND REST calls against the simnet and against real LND, each
// answer reduced to what our code can observe (field names, JSON types, enum values, error
// status/code/message), so a test can compare the two. Node only.
import { hexToBase64, hexToBase64Url } from '../../src/lib/lightning/index.js';

export interface Target {
	/** REST base URL per node name. */
	restUrl(name: string): string;
	/** The app's macaroon per node name. */
	macaroon(name: string): string;
	fetch: typeof fetch;
}

export interface Observed {
	step: string;
	status: number;
	/** One shape per JSON value (a stream gives one per line). */
	shapes: Shape[];
}

export type Shape = string | { [key: string]: Shape } | Shape[];

/** Fields whose values (not only types) our code branches on. */
const ENUM_FIELDS = new Set(['state', 'status', 'failure_reason', 'network', 'chain', 'code']);

/** Reduces a JSON value to field names and types; enums keep their value; error messages their text. */
export function shapeOf(value: unknown, key = ''): Shape {
	if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0], key)];
	if (value === null) return 'null';
	// Feature bits are a map our code never reads; which bits a node sets is its own business.
	if (key === 'features' && typeof value === 'object') return 'feature map';
	if (typeof value === 'object') {
		const out: Record<string, Shape> = {};
		for (const k of Object.keys(value as object).sort())
			out[k] = shapeOf((value as Record<string, unknown>)[k], k);
		return out;
	}
	if (ENUM_FIELDS.has(key)) return `${typeof value}:${String(value)}`;
	if (typeof value === 'string' && /^-?\d+$/.test(value) && value.length < 25) return 'string(int)';
	return typeof value;
}

/** Every place two shapes differ, as readable paths. */
export function shapeDiff(a: Shape, b: Shape, path = '$'): string[] {
	if (typeof a === 'string' || typeof b === 'string') {
		if (a === b) return [];
		// '0' style ints and plain strings are the same JSON type when a value happens to be numeric.
		if ((a === 'string(int)' && b === 'string') || (a === 'string' && b === 'string(int)'))
			return [];
		return [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
	}
	if (Array.isArray(a) || Array.isArray(b)) {
		if (!Array.isArray(a) || !Array.isArray(b)) return [`${path}: array vs not`];
		if (a.length === 0 || b.length === 0) return [];
		return shapeDiff(a[0]!, b[0]!, `${path}[]`);
	}
	const out: string[] = [];
	for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
		if (!(k in a)) out.push(`${path}.${k}: missing in the first`);
		else if (!(k in b)) out.push(`${path}.${k}: missing in the second`);
		else out.push(...shapeDiff(a[k]!, b[k]!, `${path}.${k}`));
	}
	return out;
}

async function call(
	t: Target,
	step: string,
	name: string,
	method: string,
	path: string,
	body?: unknown,
	macaroon = t.macaroon(name)
): Promise<{ observed: Observed; values: Record<string, any>[] }> {
	const res = await t.fetch(t.restUrl(name) + path, {
		method,
		headers: { 'Grpc-Metadata-macaroon': macaroon, 'content-type': 'application/json' },
		signal: AbortSignal.timeout(30_000),
		...(body !== undefined ? { body: JSON.stringify(body) } : {})
	});
	const text = await res.text();
	const values = text
		.trim()
		.split('\n')
		.filter((l) => l.trim() !== '')
		.map((l) => JSON.parse(l) as Record<string, any>);
	const shapes = values.map((v) => {
		const err = (v.error ?? (res.ok ? undefined : v)) as
			{ code?: number; message?: string } | undefined;
		// An error's message is observable (we show it and match on it): keep its text.
		if (err && typeof err.message === 'string')
			return shapeOf({ error: { code: err.code, message: `string:${err.message}` } });
		return shapeOf(v);
	});
	return { observed: { step, status: res.status, shapes }, values };
}

/**
 * The script: read, invoice with a description hash, decode, look up, subscribe + pay, track,
 * pay again (already paid), list invoices, look up a missing invoice, a wrong macaroon.
 */
export async function runScript(t: Target): Promise<Observed[]> {
	const out: Observed[] = [];
	const step = async (...args: Parameters<typeof call>) => {
		const r = await call(...args);
		out.push(r.observed);
		return r.values;
	};
	await step(t, 'getinfo', 'vehicle-1', 'GET', '/v1/getinfo');
	await step(t, 'channel balance', 'vehicle-1', 'GET', '/v1/balance/channels');
	await step(t, 'channels', 'vehicle-1', 'GET', '/v1/channels');
	await step(t, 'pending channels', 'vehicle-1', 'GET', '/v1/channels/pending');
	const recordHash = '5f'.repeat(32);
	const [added] = await step(t, 'add invoice', 'station-1', 'POST', '/v1/invoices', {
		value_msat: '25000',
		description_hash: hexToBase64(recordHash),
		expiry: '600'
	});
	const pr = added!.payment_request as string;
	const hashB64 = added!.r_hash as string;
	const hashHex = Buffer.from(hashB64, 'base64').toString('hex');
	await step(t, 'decode', 'vehicle-1', 'GET', `/v1/payreq/${pr}`);
	await step(
		t,
		'lookup open',
		'station-1',
		'GET',
		`/v2/invoices/lookup?payment_hash=${encodeURIComponent(hexToBase64Url(hashHex))}`
	);
	const subscribed = step(
		t,
		'subscribe',
		'station-1',
		'GET',
		`/v2/invoices/subscribe/${hexToBase64Url(hashHex)}`
	);
	await new Promise((r) => setTimeout(r, 300));
	await step(t, 'pay', 'vehicle-1', 'POST', '/v2/router/send', {
		payment_request: pr,
		timeout_seconds: 30,
		fee_limit_msat: '10000',
		no_inflight_updates: true
	});
	await subscribed;
	await step(
		t,
		'track',
		'vehicle-1',
		'GET',
		`/v2/router/track/${hexToBase64Url(hashHex)}?no_inflight_updates=true`
	);
	await step(t, 'pay again', 'vehicle-1', 'POST', '/v2/router/send', {
		payment_request: pr,
		timeout_seconds: 30,
		fee_limit_msat: '10000'
	});
	await step(
		t,
		'lookup settled',
		'station-1',
		'GET',
		`/v2/invoices/lookup?payment_hash=${encodeURIComponent(hexToBase64Url(hashHex))}`
	);
	await step(
		t,
		'list invoices',
		'station-1',
		'GET',
		'/v1/invoices?reversed=true&num_max_invoices=1'
	);
	await step(
		t,
		'lookup missing',
		'station-1',
		'GET',
		`/v2/invoices/lookup?payment_hash=${encodeURIComponent(hexToBase64Url('00'.repeat(32)))}`
	);
	await step(
		t,
		'wrong macaroon',
		'vehicle-1',
		'GET',
		'/v1/getinfo',
		undefined,
		t.macaroon('station-1')
	);
	return out;
}
