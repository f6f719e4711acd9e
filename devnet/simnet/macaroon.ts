// Macaroons as LND makes them, for the simnet: the v2 binary format (libmacaroons / go-macaroon),
// an identifier that carries the permissions (LND's MacaroonId protobuf: nonce, storage id, ops of
// entity + actions, version byte 3), an HMAC-SHA256 chain over the identifier and each first-party
// caveat, keyed per node by its own root key. So a macaroon names exactly what it may do (invoices,
// offchain, onchain, info, …; read/write), a macaroon baked for node A fails on node B the way it
// fails on real LND ("verification failed: signature mismatch after caveat verification"), and a
// call outside its permissions gets LND's "permission denied". Node only.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** One permission, as LND's bakery.Op: an entity and the actions allowed on it. */
export interface MacaroonOp {
	entity: string;
	actions: string[];
}

/** The entities and actions LND knows (rpcserver.go `validEntities`, `validActions`). */
export const ENTITIES = [
	'onchain',
	'offchain',
	'address',
	'message',
	'peers',
	'info',
	'invoices',
	'signer',
	'macaroon'
] as const;
export const ACTIONS = ['read', 'write', 'generate'] as const;

/** admin.macaroon: everything (LND's readPermissions + writePermissions). */
export const ADMIN_OPS: MacaroonOp[] = [
	...ENTITIES.filter((e) => e !== 'signer' && e !== 'macaroon').map((entity) => ({
		entity,
		actions: ['read', 'write']
	})),
	{ entity: 'signer', actions: ['generate', 'read'] },
	{ entity: 'macaroon', actions: ['generate', 'read', 'write'] }
];
/** What a station's kiosk needs: make and watch invoices, read the node's info (getinfo). */
export const STATION_OPS: MacaroonOp[] = [
	{ entity: 'invoices', actions: ['read', 'write'] },
	{ entity: 'info', actions: ['read'] }
];
/** What a driver's wallet needs: pay (offchain write), read payments, balances and decode (offchain read), getinfo. */
export const PAYER_OPS: MacaroonOp[] = [
	{ entity: 'offchain', actions: ['read', 'write'] },
	{ entity: 'info', actions: ['read'] }
];

/** A macaroon failure, with the sentence real LND (0.21) answers for it. */
export class MacaroonError extends Error {}

// ---- protobuf (just what MacaroonId needs) ----

function varint(n: number): Buffer {
	const out: number[] = [];
	let v = n;
	while (v >= 0x80) {
		out.push((v & 0x7f) | 0x80);
		v = Math.floor(v / 128);
	}
	out.push(v);
	return Buffer.from(out);
}

function readVarint(buf: Buffer, at: number): [number, number] {
	let value = 0;
	let scale = 1;
	for (let i = at; i < buf.length && i < at + 5; i++) {
		const b = buf[i]!;
		value += (b & 0x7f) * scale;
		scale *= 128;
		if ((b & 0x80) === 0) return [value, i + 1];
	}
	throw new MacaroonError('unmarshal v2: bad varint');
}

const pbField = (field: number, data: Buffer) =>
	Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);

/** Length-delimited fields of a protobuf message (the only wire type MacaroonId uses). */
function pbFields(buf: Buffer): { field: number; data: Buffer }[] {
	const out: { field: number; data: Buffer }[] = [];
	let at = 0;
	while (at < buf.length) {
		const [key, next] = readVarint(buf, at);
		if ((key & 7) !== 2) throw new MacaroonError('invalid macaroon identifier');
		const [len, start] = readVarint(buf, next);
		if (start + len > buf.length) throw new MacaroonError('invalid macaroon identifier');
		out.push({ field: key >> 3, data: buf.subarray(start, start + len) });
		at = start + len;
	}
	return out;
}

/** LND's identifier: version byte 3, then MacaroonId{nonce=1, storageId=2, ops=3{entity=1, actions=2}}. */
export function encodeIdentifier(
	nonce: Buffer,
	storageId: string,
	ops: readonly MacaroonOp[]
): Buffer {
	const opBufs = ops.map((op) =>
		pbField(
			3,
			Buffer.concat([
				pbField(1, Buffer.from(op.entity)),
				...op.actions.map((a) => pbField(2, Buffer.from(a)))
			])
		)
	);
	return Buffer.concat([
		Buffer.from([3]),
		pbField(1, nonce),
		pbField(2, Buffer.from(storageId)),
		...opBufs
	]);
}

export function decodeIdentifier(id: Buffer): { storageId: string; ops: MacaroonOp[] } {
	if (id[0] !== 3) throw new MacaroonError('invalid macaroon identifier version');
	let storageId = '';
	const ops: MacaroonOp[] = [];
	for (const f of pbFields(id.subarray(1))) {
		if (f.field === 2) storageId = f.data.toString('utf8');
		if (f.field === 3) {
			const op: MacaroonOp = { entity: '', actions: [] };
			for (const g of pbFields(f.data)) {
				if (g.field === 1) op.entity = g.data.toString('utf8');
				if (g.field === 2) op.actions.push(g.data.toString('utf8'));
			}
			ops.push(op);
		}
	}
	return { storageId, ops };
}

// ---- v2 binary serialisation ----

const FIELD = { EOS: 0, LOCATION: 1, IDENTIFIER: 2, VID: 4, SIGNATURE: 6 } as const;

export interface Macaroon {
	location: string;
	identifier: Buffer;
	caveats: Buffer[];
	signature: Buffer;
}

function field(type: number, data: Buffer): Buffer {
	return Buffer.concat([varint(type), varint(data.length), data]);
}

export function serialize(m: Macaroon): Buffer {
	const parts: Buffer[] = [Buffer.from([2])];
	if (m.location) parts.push(field(FIELD.LOCATION, Buffer.from(m.location)));
	parts.push(field(FIELD.IDENTIFIER, m.identifier), Buffer.from([FIELD.EOS]));
	for (const c of m.caveats) parts.push(field(FIELD.IDENTIFIER, c), Buffer.from([FIELD.EOS]));
	parts.push(Buffer.from([FIELD.EOS]), field(FIELD.SIGNATURE, m.signature));
	return Buffer.concat(parts);
}

/** Parses a v2 macaroon, with go-macaroon's sentences for broken input (what LND answers). */
export function deserialize(buf: Buffer): Macaroon {
	if (buf.length === 0) throw new MacaroonError('empty macaroon data');
	if (buf[0] !== 2)
		throw new MacaroonError('cannot determine data format of binary-encoded macaroon');
	let at = 1;
	const next = (): { type: number; data: Buffer } | { type: 0 } => {
		if (at >= buf.length)
			throw new MacaroonError('unmarshal v2: section extends past end of buffer');
		const [type, afterType] = readVarint(buf, at);
		if (type === FIELD.EOS) {
			at = afterType;
			return { type: 0 };
		}
		const [len, start] = readVarint(buf, afterType);
		if (start + len > buf.length)
			throw new MacaroonError('unmarshal v2: field data extends past end of buffer');
		at = start + len;
		return { type, data: buf.subarray(start, start + len) };
	};
	let location = '';
	let f = next();
	if (f.type === FIELD.LOCATION) {
		location = (f as { data: Buffer }).data.toString('utf8');
		f = next();
	}
	if (f.type !== FIELD.IDENTIFIER) throw new MacaroonError('unmarshal v2: identifier not found');
	const identifier = (f as { data: Buffer }).data;
	if (next().type !== FIELD.EOS)
		throw new MacaroonError('unmarshal v2: no end of section after identifier');
	const caveats: Buffer[] = [];
	for (;;) {
		f = next();
		if (f.type === FIELD.EOS) break;
		if (f.type === FIELD.LOCATION) f = next();
		if (f.type !== FIELD.IDENTIFIER)
			throw new MacaroonError('unmarshal v2: caveat identifier not found');
		caveats.push((f as { data: Buffer }).data);
		f = next();
		if (f.type === FIELD.VID) throw new MacaroonError('third-party caveats are not supported');
		if (f.type !== FIELD.EOS) throw new MacaroonError('unmarshal v2: no end of caveat section');
		if (caveats.length > 32) throw new MacaroonError('too many caveats');
	}
	f = next();
	if (f.type !== FIELD.SIGNATURE) throw new MacaroonError('unmarshal v2: signature not found');
	const signature = (f as { data: Buffer }).data;
	if (signature.length !== 32)
		throw new MacaroonError('unmarshal v2: signature has unexpected length');
	if (at !== buf.length) throw new MacaroonError('unmarshal v2: trailing data after macaroon');
	return { location, identifier, caveats, signature };
}

// ---- minting and verifying ----

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
/** go-macaroon derives the HMAC key from the root key (so a short root key is never used raw). */
const derivedKey = (rootKey: Buffer) => hmac(Buffer.from('macaroons-key-generator'), rootKey);

function chain(rootKey: Buffer, identifier: Buffer, caveats: Buffer[]): Buffer {
	let sig = hmac(derivedKey(rootKey), identifier);
	for (const c of caveats) sig = hmac(sig, c);
	return sig;
}

/** Bakes a macaroon for `ops`, keyed by this node's root key; hex, as LND's REST header takes it. */
export function bake(rootKey: Buffer, ops: readonly MacaroonOp[], caveats: string[] = []): string {
	for (const op of ops) {
		if (!(ENTITIES as readonly string[]).includes(op.entity))
			throw new Error(`unknown permission entity "${op.entity}"`);
		for (const a of op.actions)
			if (!(ACTIONS as readonly string[]).includes(a))
				throw new Error(`unknown permission action "${a}"`);
	}
	const identifier = encodeIdentifier(randomBytes(32), '0', ops);
	const cav = caveats.map((c) => Buffer.from(c));
	return serialize({
		location: 'lnd',
		identifier,
		caveats: cav,
		signature: chain(rootKey, identifier, cav)
	}).toString('hex');
}

/**
 * Checks `hex` against this node's root key and returns its permissions; throws a MacaroonError with
 * LND's sentence otherwise. First-party caveats other than `time-before` are refused (none are baked here).
 */
export function verify(rootKey: Buffer, hex: string, now = new Date()): MacaroonOp[] {
	if (hex === '') throw new MacaroonError('empty macaroon data');
	if (!/^([0-9a-f]{2})+$/i.test(hex))
		throw new MacaroonError('unable to decode macaroon: encoding/hex: invalid byte');
	const m = deserialize(Buffer.from(hex, 'hex'));
	const expected = chain(rootKey, m.identifier, m.caveats);
	if (!timingSafeEqual(expected, m.signature))
		throw new MacaroonError('verification failed: signature mismatch after caveat verification');
	for (const c of m.caveats) {
		const text = c.toString('utf8');
		const before = /^time-before (.+)$/.exec(text);
		if (before && Date.parse(before[1]!) > now.getTime()) continue;
		throw new MacaroonError(before ? 'macaroon has expired' : `caveat "${text}" not satisfied`);
	}
	return decodeIdentifier(m.identifier).ops;
}

/** True when `have` grants every op of `need` (LND: all of a URI's permissions are required). */
export function allows(
	have: readonly MacaroonOp[],
	need: readonly { entity: string; action: string }[]
): boolean {
	return need.every((n) => have.some((h) => h.entity === n.entity && h.actions.includes(n.action)));
}
