import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
	invoicesSwagger,
	lightningSwagger,
	routerSwagger
} from '../src/lib/lightning/lnd-swagger.testing.js';
import {
	decodeBolt11,
	base64ToHex,
	hexToBase64,
	hexToBase64Url
} from '../src/lib/lightning/index.js';
import { startLightningSimnet, type LightningSimnet } from './lightning.js';
import {
	checkRequest,
	checkSwagger,
	requestSchema,
	responseSchema,
	type SwaggerDoc
} from './swagger-check.js';

const docs = {
	lightning: lightningSwagger as unknown as SwaggerDoc,
	router: routerSwagger as unknown as SwaggerDoc,
	invoices: invoicesSwagger as unknown as SwaggerDoc
};
type DocName = keyof typeof docs;

let sim: LightningSimnet;
let dir: string;
const covered = new Set<string>();

function nodeOf(name: string) {
	const n = sim.nodes.find((x) => x.name === name);
	if (!n) throw new Error(name);
	return n;
}

/** Calls an endpoint as a node and checks the answer against LND's swagger. */
async function call(
	doc: DocName,
	swaggerPath: string,
	method: 'GET' | 'POST',
	node: string,
	path: string,
	body?: unknown
) {
	const n = nodeOf(node);
	if (body !== undefined)
		expect(checkSwagger(docs[doc], requestSchema(docs[doc], swaggerPath, method), body)).toEqual(
			[]
		);
	const res = await fetch(n.restUrl + path, {
		method,
		headers: { 'Grpc-Metadata-macaroon': n.macaroonHex, 'Content-Type': 'application/json' },
		...(body !== undefined ? { body: JSON.stringify(body) } : {})
	});
	expect(res.headers.get('access-control-allow-origin')).toBe('*');
	const schema = responseSchema(docs[doc], swaggerPath, method);
	const text = await res.text();
	const isStream =
		(res.status === 200 && /\n/.test(text.trim())) || text.trim().startsWith('{"result"');
	const values: unknown[] = isStream
		? text
				.trim()
				.split('\n')
				.map((l) => JSON.parse(l))
		: [JSON.parse(text)];
	if (res.ok) {
		covered.add(`${method} ${swaggerPath}`);
		for (const v of values) expect(checkSwagger(docs[doc], schema, v)).toEqual([]);
	} else {
		for (const v of values) {
			const err = (v as { error?: unknown }).error ?? v;
			expect(checkSwagger(docs.lightning, { $ref: '#/definitions/rpcStatus' }, err)).toEqual([]);
		}
	}
	return { status: res.status, values: values as Record<string, any>[] };
}

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'ln-simnet-'));
	sim = await startLightningSimnet({
		port: 0,
		stateFile: join(dir, 'state.json'),
		channelSat: 1_000_000n,
		settleDelayMs: 10
	});
});
afterAll(async () => {
	await sim?.stop();
	await rm(dir, { recursive: true, force: true });
});

describe('Lightning simnet REST server', () => {
	it('serves the default nodes with distinct macaroons and pubkeys', () => {
		expect(sim.nodes.map((n) => n.name)).toEqual(['hub', 'station-1', 'vehicle-1']);
		expect(new Set(sim.nodes.map((n) => n.macaroonHex)).size).toBe(3);
		expect(nodeOf('station-1').restUrl).toBe(`${sim.url}/nodes/station-1`);
		expect(nodeOf('hub').pubkey).toMatch(/^0[23][0-9a-f]{64}$/);
	});

	it('answers a person opening a base URL with directions, and no secrets', async () => {
		for (const url of [sim.url, `${sim.url}/nodes/hub`]) {
			const res = await fetch(url);
			expect(res.status).toBe(200);
			const body = (await res.json()) as { nodes: string[]; usage: string };
			expect(body.nodes).toEqual(expect.arrayContaining(['hub', 'station-1', 'vehicle-1']));
			expect(JSON.stringify(body)).not.toContain(nodeOf('hub').macaroonHex);
		}
		expect((await fetch(`${sim.url}/nodes/nobody`)).status).toBe(404);
	});

	it('rejects a missing or wrong macaroon with LND error JSON (as real LND: HTTP 500, code 2)', async () => {
		const url = nodeOf('vehicle-1').restUrl + '/v1/getinfo';
		const none = await fetch(url);
		expect(none.status).toBe(500);
		expect(await none.json()).toEqual({
			code: 2,
			message: 'expected 1 macaroon, got 0',
			details: []
		});
		const empty = await fetch(url, { headers: { 'Grpc-Metadata-macaroon': '' } });
		expect(await empty.json()).toEqual({ code: 2, message: 'empty macaroon data', details: [] });
		const wrong = await fetch(url, {
			headers: { 'Grpc-Metadata-macaroon': nodeOf('hub').macaroonHex }
		});
		expect(wrong.status).toBe(500);
		expect(((await wrong.json()) as { message: string }).message).toMatch(/verification failed/);
	});

	it('answers CORS preflights', async () => {
		const res = await fetch(nodeOf('vehicle-1').restUrl + '/v2/router/send', {
			method: 'OPTIONS',
			headers: {
				Origin: 'https://wallet.example',
				'Access-Control-Request-Headers': 'grpc-metadata-macaroon,content-type'
			}
		});
		expect(res.status).toBe(204);
		expect(res.headers.get('access-control-allow-origin')).toBe('*');
		expect(res.headers.get('access-control-allow-headers')).toMatch(/Grpc-Metadata-macaroon/);
	});

	it('walks every endpoint the backends use, all answers valid against LND swagger', async () => {
		const info = await call('lightning', '/v1/getinfo', 'GET', 'station-1', '/v1/getinfo');
		expect(info.values[0]).toMatchObject({
			identity_pubkey: nodeOf('station-1').pubkey,
			chains: [{ chain: 'bitcoin', network: 'regtest' }]
		});
		const bal = await call(
			'lightning',
			'/v1/balance/channels',
			'GET',
			'vehicle-1',
			'/v1/balance/channels'
		);
		expect(bal.values[0]!.local_balance).toEqual({ sat: '500000', msat: '500000000' });
		const chans = await call('lightning', '/v1/channels', 'GET', 'vehicle-1', '/v1/channels');
		expect(chans.values[0]!.channels).toHaveLength(1);
		expect(chans.values[0]!.channels[0]).toMatchObject({
			capacity: '1000000',
			local_chan_reserve_sat: '10000',
			active: true
		});

		// open a channel (pending until mined)
		await fetch(`${sim.url}/admin/nodes/vehicle-1/fund`, {
			method: 'POST',
			body: JSON.stringify({ sat: '300000' })
		});
		const opened = await call('lightning', '/v1/channels', 'POST', 'vehicle-1', '/v1/channels', {
			node_pubkey: hexToBase64(nodeOf('station-1').pubkey),
			local_funding_amount: '200000',
			push_sat: '0'
		});
		expect(opened.status).toBe(200);
		const pending = await call(
			'lightning',
			'/v1/channels/pending',
			'GET',
			'vehicle-1',
			'/v1/channels/pending'
		);
		expect(pending.values[0]!.pending_open_channels).toHaveLength(1);
		const internalTxid = base64ToHex(opened.values[0]!.funding_txid_bytes);
		expect(pending.values[0]!.pending_open_channels[0].channel.channel_point).toBe(
			`${internalTxid.match(/../g)!.reverse().join('')}:0`
		);
		const mined = (await (
			await fetch(`${sim.url}/admin/mine`, { method: 'POST', body: JSON.stringify({ blocks: 3 }) })
		).json()) as { block_height: number };
		expect(mined.block_height).toBeGreaterThan(100);
		expect(
			(await call('lightning', '/v1/channels/pending', 'GET', 'vehicle-1', '/v1/channels/pending'))
				.values[0]!.pending_open_channels
		).toHaveLength(0);

		// invoice with description hash
		const recordHash = bytesToHex(sha256(new TextEncoder().encode('{"seq":1}')));
		const added = await call('lightning', '/v1/invoices', 'POST', 'station-1', '/v1/invoices', {
			value_msat: '21000000',
			description_hash: hexToBase64(recordHash),
			expiry: '600',
			memo: 'kWh'
		});
		const pr: string = added.values[0]!.payment_request;
		const hashHex = base64ToHex(added.values[0]!.r_hash);
		expect(decodeBolt11(pr)).toMatchObject({
			network: 'regtest',
			descriptionHash: recordHash,
			amountMsat: 21_000_000n,
			payee: nodeOf('station-1').pubkey
		});

		const payreq = await call(
			'lightning',
			'/v1/payreq/{pay_req}',
			'GET',
			'vehicle-1',
			`/v1/payreq/${pr}`
		);
		expect(payreq.values[0]).toMatchObject({
			destination: nodeOf('station-1').pubkey,
			payment_hash: hashHex,
			num_msat: '21000000',
			description_hash: recordHash
		});

		const lookedUp = await call(
			'invoices',
			'/v2/invoices/lookup',
			'GET',
			'station-1',
			`/v2/invoices/lookup?payment_hash=${encodeURIComponent(hexToBase64(hashHex))}`
		);
		expect(lookedUp.values[0]).toMatchObject({ state: 'OPEN', value_msat: '21000000' });
		const v1 = await call(
			'lightning',
			'/v1/invoice/{r_hash_str}',
			'GET',
			'station-1',
			`/v1/invoice/${hashHex}`
		);
		expect(v1.values[0]!.r_hash).toBe(hexToBase64(hashHex));

		// subscribe, then pay: the subscription sees OPEN then SETTLED and ends
		const subscription = call(
			'invoices',
			'/v2/invoices/subscribe/{r_hash}',
			'GET',
			'station-1',
			`/v2/invoices/subscribe/${hexToBase64Url(hashHex)}`
		);
		await new Promise((r) => setTimeout(r, 30));
		const sent = await call('router', '/v2/router/send', 'POST', 'vehicle-1', '/v2/router/send', {
			payment_request: pr,
			timeout_seconds: 30,
			fee_limit_msat: '5000'
		});
		expect(sent.values.map((v) => v.result.status)).toEqual(['IN_FLIGHT', 'SUCCEEDED']);
		const final = sent.values[1]!.result;
		expect(final).toMatchObject({
			payment_hash: hashHex,
			value_msat: '21000000',
			fee_msat: '0',
			failure_reason: 'FAILURE_REASON_NONE'
		});
		expect(bytesToHex(sha256(Uint8Array.from(Buffer.from(final.payment_preimage, 'hex'))))).toBe(
			hashHex
		);
		const sub = await subscription;
		expect(sub.values.map((v) => v.result.state)).toEqual(['OPEN', 'SETTLED']);

		const tracked = await call(
			'router',
			'/v2/router/track/{payment_hash}',
			'GET',
			'vehicle-1',
			`/v2/router/track/${hexToBase64Url(hashHex)}`
		);
		expect(tracked.values.map((v) => v.result.status)).toEqual(['SUCCEEDED']);

		// paying again is refused as a stream error
		const again = await call('router', '/v2/router/send', 'POST', 'vehicle-1', '/v2/router/send', {
			payment_request: pr,
			timeout_seconds: 30,
			fee_limit_msat: '5000'
		});
		expect(again.status).toBe(409);
		expect(again.values[0]).toMatchObject({
			error: { code: 6, message: 'invoice is already paid' }
		});

		// ListInvoices pages by add_index as LND does; pending_only leaves the settled one out.
		const second = await call('lightning', '/v1/invoices', 'POST', 'station-1', '/v1/invoices', {
			value_msat: '1000',
			expiry: '600'
		});
		const all = await call('lightning', '/v1/invoices', 'GET', 'station-1', '/v1/invoices');
		const hashes = all.values[0]!.invoices.map((i: { r_hash: string }) => base64ToHex(i.r_hash));
		expect(hashes.slice(-2)).toEqual([hashHex, base64ToHex(second.values[0]!.r_hash)]);
		expect(all.values[0]!.last_index_offset).toBe(second.values[0]!.add_index);
		const pendingOnly = await call(
			'lightning',
			'/v1/invoices',
			'GET',
			'station-1',
			'/v1/invoices?pending_only=true'
		);
		expect(pendingOnly.values[0]!.invoices.map((i: { state: string }) => i.state)).not.toContain(
			'SETTLED'
		);
		const lastOne = await call(
			'lightning',
			'/v1/invoices',
			'GET',
			'station-1',
			'/v1/invoices?reversed=true&num_max_invoices=1'
		);
		expect(lastOne.values[0]!.invoices).toHaveLength(1);
		expect(lastOne.values[0]!.first_index_offset).toBe(second.values[0]!.add_index);
		const after = await call(
			'lightning',
			'/v1/invoices',
			'GET',
			'station-1',
			`/v1/invoices?index_offset=${second.values[0]!.add_index}`
		);
		expect(after.values[0]).toMatchObject({
			invoices: [],
			first_index_offset: '0',
			last_index_offset: '0'
		});
		const badOffset = await call(
			'lightning',
			'/v1/invoices',
			'GET',
			'station-1',
			'/v1/invoices?index_offset=-1'
		);
		expect(badOffset.status).toBe(400);

		const missing = await call(
			'invoices',
			'/v2/invoices/lookup',
			'GET',
			'station-1',
			`/v2/invoices/lookup?payment_hash=${hexToBase64Url('00'.repeat(32))}`
		);
		expect(missing.status).toBe(404);

		expect([...covered].sort()).toEqual([
			'GET /v1/balance/channels',
			'GET /v1/channels',
			'GET /v1/channels/pending',
			'GET /v1/getinfo',
			'GET /v1/invoice/{r_hash_str}',
			'GET /v1/invoices',
			'GET /v1/payreq/{pay_req}',
			'GET /v2/invoices/lookup',
			'GET /v2/invoices/subscribe/{r_hash}',
			'GET /v2/router/track/{payment_hash}',
			'POST /v1/channels',
			'POST /v1/invoices',
			'POST /v2/router/send'
		]);
	});

	it('creates nodes through the admin API, connected to the hub', async () => {
		const res = await fetch(`${sim.url}/admin/nodes`, {
			method: 'POST',
			body: JSON.stringify({ name: 'station-2' })
		});
		const created = (await res.json()) as { restUrl: string; macaroonHex: string };
		expect(created).toMatchObject({ name: 'station-2', restUrl: `${sim.url}/nodes/station-2` });
		const info = await fetch(created.restUrl + '/v1/getinfo', {
			headers: { 'Grpc-Metadata-macaroon': created.macaroonHex }
		});
		expect(((await info.json()) as { num_active_channels: number }).num_active_channels).toBe(1);
		const dup = await fetch(`${sim.url}/admin/nodes`, {
			method: 'POST',
			body: JSON.stringify({ name: 'station-2' })
		});
		expect(dup.status).toBe(400);
		expect(((await dup.json()) as { message: string }).message).toMatch(/already exists/);
	});

	it('says which port is taken', async () => {
		const blocker = createServer();
		await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
		const port = (blocker.address() as { port: number }).port;
		await expect(startLightningSimnet({ port })).rejects.toThrow(
			new RegExp(`Port ${port} .* already in use`)
		);
		await new Promise<void>((r) => blocker.close(() => r()));
	});

	it('persists state and restores it on restart', async () => {
		const file = join(dir, 'restart.json');
		const first = await startLightningSimnet({ port: 0, stateFile: file, settleDelayMs: 1 });
		const inv = first.network.addInvoice('station-1', { valueMsat: 5_000n });
		const mac = first.nodes[1]!.macaroonHex;
		await first.stop();
		const saved = JSON.parse(await readFile(file, 'utf8'));
		expect(saved.version).toBe(1);
		const second = await startLightningSimnet({ port: 0, stateFile: file });
		try {
			expect(second.nodes[1]!.macaroonHex).toBe(mac);
			expect(second.nodes[1]!.pubkey).toBe(first.nodes[1]!.pubkey);
			expect(second.network.lookupInvoice('station-1', inv.paymentHash).paymentRequest).toBe(
				inv.paymentRequest
			);
		} finally {
			await second.stop();
		}
	});
});

describe('swagger checker', () => {
	it('flags unknown fields, numeric int64, bad base64 and bad enums', () => {
		const schema = { $ref: '#/definitions/lnrpcInvoice' };
		expect(
			checkSwagger(docs.lightning, schema, { value_msat: '1', state: 'OPEN', r_hash: 'AAEC' })
		).toEqual([]);
		expect(checkSwagger(docs.lightning, schema, { valueMsat: '1' })).toEqual([
			'$.valueMsat: not a field of this message'
		]);
		expect(checkSwagger(docs.lightning, schema, { value_msat: 1 })[0]).toMatch(/expected a string/);
		expect(checkSwagger(docs.lightning, schema, { r_hash: 'zz-_' })[0]).toMatch(/base64/);
		expect(checkSwagger(docs.lightning, schema, { state: 'PAID' })[0]).toMatch(/not one of/);
	});

	it('flags a required field or parameter that is missing', () => {
		const doc: SwaggerDoc = {
			definitions: {
				Thing: {
					type: 'object',
					required: ['id'],
					properties: { id: { type: 'string' }, note: { type: 'string' } }
				}
			},
			paths: {}
		};
		expect(checkSwagger(doc, { $ref: '#/definitions/Thing' }, { id: 'a' })).toEqual([]);
		expect(checkSwagger(doc, { $ref: '#/definitions/Thing' }, { note: 'b' })).toEqual([
			'$.id: required, but missing'
		]);
		// LND marks path parameters required; a request that leaves one out matches no path at all.
		expect(
			checkRequest(docs.lightning, 'GET', '/v1/invoice/', undefined).problems.length
		).toBeGreaterThan(0);
		expect(
			checkRequest(docs.lightning, 'GET', '/v1/invoices?pending_only=true', undefined).problems
		).toEqual([]);
	});
});
