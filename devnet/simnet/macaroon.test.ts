// Scoped macaroons in the simnet, as LND scopes them: per node (its own root key) and per
// permission (entity + action), checked on every REST call with LND's own sentences.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LndCalls } from './rest-client';
import { freePort } from '../ports';
import { startLightningSimnet, type LightningSimnet } from './server';
import {
	ADMIN_OPS,
	allows,
	bake,
	decodeIdentifier,
	deserialize,
	MacaroonError,
	PAYER_OPS,
	serialize,
	STATION_OPS,
	verify
} from './macaroon';

const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);

describe('macaroon format', () => {
	it('round-trips the v2 binary format and carries its permissions in LND’s identifier', () => {
		const hex = bake(KEY_A, STATION_OPS);
		const m = deserialize(Buffer.from(hex, 'hex'));
		expect(m.location).toBe('lnd');
		expect(serialize(m).toString('hex')).toBe(hex);
		expect(decodeIdentifier(m.identifier)).toEqual({ storageId: '0', ops: STATION_OPS });
		expect(verify(KEY_A, hex)).toEqual(STATION_OPS);
	});

	it('refuses a macaroon of another root key, a changed identifier and broken data, with LND’s sentences', () => {
		const hex = bake(KEY_A, PAYER_OPS);
		expect(() => verify(KEY_B, hex)).toThrow(
			'verification failed: signature mismatch after caveat verification'
		);
		// Widen the permissions in the identifier (offchain → onchain): the signature no longer matches.
		const m = deserialize(Buffer.from(hex, 'hex'));
		const forged = serialize({
			...m,
			identifier: Buffer.from(
				m.identifier.toString('latin1').replace('offchain', 'onchain_'),
				'latin1'
			)
		});
		expect(() => verify(KEY_A, forged.toString('hex'))).toThrow(/signature mismatch/);
		expect(() => verify(KEY_A, hex.slice(0, hex.length - 10))).toThrow(
			'unmarshal v2: field data extends past end of buffer'
		);
		expect(() => verify(KEY_A, '')).toThrow('empty macaroon data');
		expect(() => verify(KEY_A, 'zz')).toThrow(MacaroonError);
		expect(() => verify(KEY_A, '0201' + 'ab'.repeat(62))).toThrow(MacaroonError);
	});

	it('checks first-party caveats: an unknown one or an expired time-before refuses', () => {
		expect(() => verify(KEY_A, bake(KEY_A, ADMIN_OPS, ['ipaddr 10.0.0.1']))).toThrow(
			/not satisfied/
		);
		expect(() =>
			verify(KEY_A, bake(KEY_A, ADMIN_OPS, ['time-before 2020-01-01T00:00:00Z']))
		).toThrow('macaroon has expired');
		expect(verify(KEY_A, bake(KEY_A, ADMIN_OPS, ['time-before 2999-01-01T00:00:00Z']))).toEqual(
			ADMIN_OPS
		);
	});

	it('grants a call only when every permission it needs is there', () => {
		expect(allows(PAYER_OPS, [{ entity: 'offchain', action: 'write' }])).toBe(true);
		expect(allows(PAYER_OPS, [{ entity: 'invoices', action: 'write' }])).toBe(false);
		expect(
			allows(STATION_OPS, [
				{ entity: 'onchain', action: 'write' },
				{ entity: 'offchain', action: 'write' }
			])
		).toBe(false);
		expect(
			allows(ADMIN_OPS, [
				{ entity: 'onchain', action: 'write' },
				{ entity: 'offchain', action: 'write' }
			])
		).toBe(true);
		expect(() => bake(KEY_A, [{ entity: 'everything', actions: ['read'] }])).toThrow(
			/unknown permission entity/
		);
	});
});

describe('the simnet checks them per node and per permission', () => {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-macaroons-'));
	let sim: LightningSimnet;
	const node = (name: string) => sim.nodes.find((n) => n.name === name) ?? sim.addSpoke(name);

	beforeAll(async () => {
		sim = await startLightningSimnet({
			port: await freePort(),
			settleDelayMs: 5,
			nodes: ['hub', 'station-1', 'vehicle-1', 'vehicle-2'],
			stateFile: path.join(dir, 'ln.json')
		});
	});
	afterAll(async () => {
		await sim?.stop();
		rmSync(dir, { recursive: true, force: true });
	});

	it('a phone’s pay+read macaroon pays from its own node, and is refused on another phone’s node', async () => {
		const station = new LndCalls({
			restUrl: node('station-1').restUrl,
			macaroonHex: sim.bakeMacaroon('station-1', STATION_OPS)
		});
		const phoneMac = sim.bakeMacaroon('vehicle-1', PAYER_OPS);
		const invoice = await station.createInvoice({
			amountMsat: 5000n,
			memo: 'scoped',
			expirySeconds: 600
		});
		// The same macaroon against vehicle-2's node (the other phone): refused, nothing paid.
		const elsewhere = new LndCalls({ restUrl: node('vehicle-2').restUrl, macaroonHex: phoneMac });
		await expect(
			elsewhere.pay({
				paymentRequest: invoice.paymentRequest,
				feeLimitMsat: 1000n,
				timeoutSeconds: 5
			})
		).rejects.toThrow(/verification failed|permission denied/);
		const raw = await fetch(`${node('vehicle-2').restUrl}/v1/getinfo`, {
			headers: { 'Grpc-Metadata-macaroon': phoneMac }
		});
		expect(raw.status).toBe(500);
		expect(await raw.json()).toEqual({
			code: 2,
			message: 'verification failed: signature mismatch after caveat verification',
			details: []
		});
		expect((await station.lookupInvoice(invoice.paymentHash)).state).toBe('open');
		// On its own node it pays.
		const own = new LndCalls({ restUrl: node('vehicle-1').restUrl, macaroonHex: phoneMac });
		const paid = await own.pay({
			paymentRequest: invoice.paymentRequest,
			feeLimitMsat: 1000n,
			timeoutSeconds: 5
		});
		expect(paid.status).toBe('succeeded');
		expect((await station.lookupInvoice(invoice.paymentHash)).state).toBe('settled');
	});

	it('permission denied outside a macaroon’s scope: a kiosk cannot pay or open channels, a phone cannot make invoices', async () => {
		const kioskMac = sim.bakeMacaroon('station-1', STATION_OPS);
		const phoneMac = sim.bakeMacaroon('vehicle-1', PAYER_OPS);
		const call = (name: string, mac: string, p: string, body?: unknown) =>
			fetch(`${node(name).restUrl}${p}`, {
				method: body ? 'POST' : 'GET',
				headers: { 'Grpc-Metadata-macaroon': mac, 'Content-Type': 'application/json' },
				body: body ? JSON.stringify(body) : undefined
			});
		const denied = { code: 2, message: 'permission denied', details: [] };
		const pay = await call('station-1', kioskMac, '/v2/router/send', {
			payment_request: 'lnbcrt1',
			timeout_seconds: 5
		});
		expect(pay.status).toBe(500);
		expect(await pay.text()).toContain('permission denied');
		expect(
			await (
				await call('station-1', kioskMac, '/v1/channels', {
					node_pubkey_string: node('hub').pubkey,
					local_funding_amount: '100000'
				})
			).json()
		).toEqual(denied);
		expect(await (await call('station-1', kioskMac, '/v1/balance/channels')).json()).toEqual(
			denied
		);
		expect(
			await (await call('vehicle-1', phoneMac, '/v1/invoices', { value: '10' })).json()
		).toEqual(denied);
		expect(
			await (
				await call('vehicle-1', phoneMac, '/v1/channels', {
					node_pubkey_string: node('hub').pubkey,
					local_funding_amount: '100000'
				})
			).json()
		).toEqual(denied);
		// What each needs still works.
		expect((await call('station-1', kioskMac, '/v1/getinfo')).status).toBe(200);
		expect((await call('station-1', kioskMac, '/v1/invoices', { value: '10' })).status).toBe(200);
		expect((await call('vehicle-1', phoneMac, '/v1/balance/channels')).status).toBe(200);
	});

	it('keeps each node’s root key across a restart, so macaroons baked before still work', async () => {
		const mac = sim.bakeMacaroon('vehicle-1', PAYER_OPS);
		const admin = node('hub').macaroonHex;
		await sim.stop();
		sim = await startLightningSimnet({
			port: await freePort(),
			settleDelayMs: 5,
			nodes: ['hub', 'station-1', 'vehicle-1', 'vehicle-2'],
			stateFile: path.join(dir, 'ln.json')
		});
		expect(node('hub').macaroonHex).toBe(admin);
		expect(
			(
				await fetch(`${node('vehicle-1').restUrl}/v1/getinfo`, {
					headers: { 'Grpc-Metadata-macaroon': mac }
				})
			).status
		).toBe(200);
	});
});
