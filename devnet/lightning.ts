// The devnet's Lightning network: a Simnet served over HTTP in LND's REST dialect, one base URL
// per node (`${url}/nodes/${name}`), so the LND REST backend (and any LND REST client) can talk to
// it unchanged. Node only.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
	buildHubTopology,
	channelReserveSat,
	Simnet,
	SimnetError,
	type SimChannel,
	type SimInvoice,
	type SimPayment,
	type SimnetState
} from '../src/lib/lightning/simnet/index.js';
import {
	base64ToHex,
	featureMap,
	hexToBase64,
	int64,
	type LndAddInvoiceResponse,
	type LndAmount,
	type LndChannel,
	type LndChannelBalanceResponse,
	type LndChannelPoint,
	type LndGetInfoResponse,
	type LndInvoice,
	type LndListChannelsResponse,
	type LndPayment,
	type LndPayReq,
	type LndPendingChannelsResponse,
	type LndRpcStatus
} from '../src/lib/lightning/lnd-json.js';

export interface LightningSimnetOptions {
	host?: string;
	port: number;
	stateFile?: string;
	/** Default ['hub', 'station-1', 'vehicle-1']; the first is the hub. */
	nodes?: string[];
	/** Size of each spoke's channel with the hub (default 2,000,000 sat). */
	channelSat?: bigint;
	/** How long a payment stays in flight (default 50 ms). */
	settleDelayMs?: number;
}

export interface LightningSimnetNodeInfo {
	name: string;
	restUrl: string;
	macaroonHex: string;
	pubkey: string;
}

export interface LightningSimnet {
	url: string;
	nodes: LightningSimnetNodeInfo[];
	network: Simnet;
	/** The macaroon of a node created later through the admin API. */
	macaroonFor(name: string): string;
	stop(): Promise<void>;
}

interface PersistedState {
	version: 1;
	simnet: SimnetState;
	macaroons: Record<string, string>;
}

/** gRPC status codes LND's gateway reports, with the HTTP status it maps them to. */
const GRPC = {
	UNKNOWN: [2, 500],
	INVALID_ARGUMENT: [3, 400],
	NOT_FOUND: [5, 404],
	ALREADY_EXISTS: [6, 409],
	UNAUTHENTICATED: [16, 401]
} as const;

class HttpError extends Error {
	constructor(
		readonly grpc: readonly [number, number],
		message: string
	) {
		super(message);
	}
}

function fromSimnetError(e: SimnetError): HttpError {
	switch (e.code) {
		case 'not_found':
			return new HttpError(GRPC.NOT_FOUND, e.message);
		case 'already_paid':
			return new HttpError(GRPC.ALREADY_EXISTS, e.message);
		case 'invalid_request':
			return new HttpError(GRPC.INVALID_ARGUMENT, e.message);
		default:
			return new HttpError(GRPC.UNKNOWN, e.message);
	}
}

function toHttpError(e: unknown): HttpError {
	if (e instanceof HttpError) return e;
	if (e instanceof SimnetError) return fromSimnetError(e);
	if (e instanceof TypeError || e instanceof SyntaxError) return new HttpError(GRPC.INVALID_ARGUMENT, e.message);
	return new HttpError(GRPC.UNKNOWN, e instanceof Error ? e.message : String(e));
}

function status(e: HttpError): LndRpcStatus {
	return { code: e.grpc[0], message: e.message, details: [] };
}

const CORS_HEADERS = {
	'Access-Control-Allow-Origin': '*',
	'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
	'Access-Control-Allow-Headers': 'Grpc-Metadata-macaroon, Content-Type',
	'Access-Control-Max-Age': '600'
};

function amount(msat: bigint): LndAmount {
	return { sat: (msat / 1000n).toString(), msat: msat.toString() };
}

/** Reads a bytes parameter given as base64 (std or url-safe) or, for convenience, hex. */
function hashParam(value: string | null | undefined, field: string): string {
	if (!value) throw new HttpError(GRPC.INVALID_ARGUMENT, `${field} is required`);
	// URLSearchParams turns a '+' of standard base64 into a space.
	const cleaned = value.replace(/ /g, '+');
	if (/^[0-9a-f]{64}$/i.test(cleaned)) return cleaned.toLowerCase();
	let hex: string;
	try {
		hex = base64ToHex(cleaned);
	} catch {
		throw new HttpError(GRPC.INVALID_ARGUMENT, `${field} is not valid base64`);
	}
	if (hex.length !== 64) throw new HttpError(GRPC.INVALID_ARGUMENT, `${field} must be 32 bytes`);
	return hex;
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > 1_000_000) {
				reject(new HttpError(GRPC.INVALID_ARGUMENT, 'request body too large'));
				req.destroy();
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => {
			const text = Buffer.concat(chunks).toString('utf8').trim();
			if (text === '') return resolve({});
			try {
				const parsed: unknown = JSON.parse(text);
				if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
					reject(new HttpError(GRPC.INVALID_ARGUMENT, 'request body must be a JSON object'));
				} else resolve(parsed as Record<string, unknown>);
			} catch {
				reject(new HttpError(GRPC.INVALID_ARGUMENT, 'request body is not valid JSON'));
			}
		});
		req.on('error', reject);
	});
}

// ---------- LND JSON views of simnet objects ----------

function invoiceJson(invoice: SimInvoice): LndInvoice {
	const settled = invoice.state === 'SETTLED';
	return {
		memo: invoice.memo,
		r_preimage: hexToBase64(invoice.preimage),
		r_hash: hexToBase64(invoice.paymentHash),
		value: (invoice.valueMsat / 1000n).toString(),
		value_msat: invoice.valueMsat.toString(),
		settled,
		creation_date: String(invoice.creationDate),
		settle_date: String(invoice.settleDate),
		payment_request: invoice.paymentRequest,
		description_hash: invoice.descriptionHash ? hexToBase64(invoice.descriptionHash) : '',
		expiry: String(invoice.expiry),
		cltv_expiry: String(invoice.cltvExpiry),
		private: false,
		add_index: String(invoice.addIndex),
		settle_index: String(invoice.settleIndex),
		amt_paid: invoice.amtPaidMsat.toString(),
		amt_paid_sat: (invoice.amtPaidMsat / 1000n).toString(),
		amt_paid_msat: invoice.amtPaidMsat.toString(),
		state: invoice.state,
		is_keysend: false,
		payment_addr: hexToBase64(invoice.paymentAddr),
		is_amp: false
	};
}

function paymentJson(payment: SimPayment): LndPayment {
	return {
		payment_hash: payment.paymentHash,
		value: (payment.valueMsat / 1000n).toString(),
		creation_date: (payment.creationTimeNs / 1_000_000_000n).toString(),
		fee: (payment.feeMsat / 1000n).toString(),
		payment_preimage: payment.preimage || '0'.repeat(64),
		value_sat: (payment.valueMsat / 1000n).toString(),
		value_msat: payment.valueMsat.toString(),
		payment_request: payment.paymentRequest,
		status: payment.status,
		fee_sat: (payment.feeMsat / 1000n).toString(),
		fee_msat: payment.feeMsat.toString(),
		creation_time_ns: payment.creationTimeNs.toString(),
		htlcs: [],
		payment_index: String(payment.paymentIndex),
		failure_reason: payment.failureReason
	};
}

// ---------- server ----------

type Handler = (ctx: {
	node: string;
	req: IncomingMessage;
	res: ServerResponse;
	url: URL;
	params: string[];
}) => Promise<unknown> | unknown;

interface Route {
	method: string;
	pattern: RegExp;
	handler: Handler;
	/** Streaming handlers write the response themselves. */
	stream?: boolean;
}

export async function startLightningSimnet(options: LightningSimnetOptions): Promise<LightningSimnet> {
	const host = options.host ?? '127.0.0.1';
	const nodeNames = options.nodes ?? ['hub', 'station-1', 'vehicle-1'];
	const hubName = nodeNames[0] ?? 'hub';
	const simnetOptions = { settleDelayMs: options.settleDelayMs ?? 50 };

	let network: Simnet;
	const macaroons = new Map<string, string>();
	const saved = options.stateFile ? await loadState(options.stateFile) : undefined;
	if (saved) {
		network = Simnet.fromJSON(saved.simnet, simnetOptions);
		for (const [name, mac] of Object.entries(saved.macaroons)) macaroons.set(name, mac);
	} else {
		network = new Simnet(simnetOptions);
	}
	buildHubTopology(
		network,
		nodeNames.filter((n) => n !== hubName),
		{ hub: hubName, ...(options.channelSat !== undefined ? { channelSat: options.channelSat } : {}) }
	);
	const macaroonFor = (name: string): string => {
		network.node(name);
		let mac = macaroons.get(name);
		if (!mac) {
			// Shaped like a serialized macaroon (version byte 0x02), random so it authenticates this node only.
			mac = '0201' + bytesToHex(randomBytes(62));
			macaroons.set(name, mac);
		}
		return mac;
	};
	for (const n of network.listNodes()) macaroonFor(n.name);

	// ---- persistence (debounced) ----
	let saveTimer: NodeJS.Timeout | undefined;
	let saving: Promise<void> = Promise.resolve();
	const saveNow = async () => {
		if (!options.stateFile) return;
		const file = options.stateFile;
		const state: PersistedState = { version: 1, simnet: network.toJSON(), macaroons: Object.fromEntries(macaroons) };
		await mkdir(dirname(file), { recursive: true });
		const tmp = `${file}.tmp`;
		await writeFile(tmp, JSON.stringify(state, null, 1));
		await rename(tmp, file);
	};
	const scheduleSave = () => {
		if (!options.stateFile || saveTimer) return;
		saveTimer = setTimeout(() => {
			saveTimer = undefined;
			saving = saving.then(saveNow).catch((e: unknown) => {
				console.error(`Lightning simnet: could not save state to ${options.stateFile}: ${String(e)}`);
			});
		}, 100);
	};
	const unsubscribeSave = network.subscribe(scheduleSave);
	scheduleSave();

	// ---- routes ----
	const openStreams = new Set<ServerResponse>();

	const startStream = (res: ServerResponse) => {
		res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
		res.flushHeaders();
		openStreams.add(res);
		res.on('close', () => openStreams.delete(res));
	};
	const writeLine = (res: ServerResponse, result: unknown) => {
		if (!res.writableEnded) res.write(JSON.stringify({ result }) + '\n');
	};

	const channelJson = (name: string, c: SimChannel): LndChannel => {
		const reserve = channelReserveSat(c.capacitySat).toString();
		return {
			active: true,
			remote_pubkey: network.node(network.otherEnd(c, name)).pubkey,
			channel_point: c.channelPoint,
			chan_id: c.chanId,
			capacity: c.capacitySat.toString(),
			local_balance: (network.localMsat(c, name) / 1000n).toString(),
			remote_balance: (network.remoteMsat(c, name) / 1000n).toString(),
			commit_fee: '0',
			unsettled_balance: '0',
			total_satoshis_sent: (c.initiator === name ? c.totalSatoshisSent : c.totalSatoshisReceived).toString(),
			total_satoshis_received: (c.initiator === name ? c.totalSatoshisReceived : c.totalSatoshisSent).toString(),
			num_updates: String(c.numUpdates),
			private: false,
			initiator: c.initiator === name,
			local_chan_reserve_sat: reserve,
			remote_chan_reserve_sat: reserve,
			push_amount_sat: '0'
		};
	};

	/** Streams a payment's updates until it is final, then ends the response (as LND does). */
	const streamPayment = (res: ServerResponse, payment: SimPayment, noInflight: boolean) => {
		startStream(res);
		const send = (p: SimPayment) => {
			if (p.status === 'IN_FLIGHT' && noInflight) return;
			writeLine(res, paymentJson(p));
			if (p.status !== 'IN_FLIGHT') {
				unsubscribe();
				res.end();
			}
		};
		const unsubscribe = network.subscribe((e) => {
			if (e.type === 'payment' && e.payment === payment) send(e.payment);
		});
		res.on('close', unsubscribe);
		send(payment);
	};

	const routes: Route[] = [
		{
			method: 'GET',
			pattern: /^\/v1\/getinfo$/,
			handler: ({ node }): LndGetInfoResponse => {
				const n = network.node(node);
				const channels = network.channelsOf(node);
				const pending = channels.filter((c) => network.isPending(c)).length;
				const peers = new Set(channels.map((c) => network.otherEnd(c, node)));
				return {
					version: '0.21.0-beta.simnet',
					commit_hash: 'simnet',
					identity_pubkey: n.pubkey,
					alias: n.alias,
					color: '#3399ff',
					num_pending_channels: pending,
					num_active_channels: channels.length - pending,
					num_inactive_channels: 0,
					num_peers: peers.size,
					block_height: network.blockHeight,
					block_hash: bytesToHex(new Uint8Array(32)).slice(0, 56) + network.blockHeight.toString(16).padStart(8, '0'),
					best_header_timestamp: String(network.nowSeconds()),
					synced_to_chain: true,
					synced_to_graph: true,
					testnet: false,
					chains: [{ chain: 'bitcoin', network: 'regtest' }],
					uris: [`${n.pubkey}@${host}:9735`],
					features: featureMap([9, 15, 17])
				};
			}
		},
		{
			method: 'GET',
			pattern: /^\/v1\/balance\/channels$/,
			handler: ({ node }): LndChannelBalanceResponse => {
				const b = network.balances(node);
				return {
					balance: (b.localMsat / 1000n).toString(),
					pending_open_balance: (b.pendingLocalMsat / 1000n).toString(),
					local_balance: amount(b.localMsat),
					remote_balance: amount(b.remoteMsat),
					unsettled_local_balance: amount(0n),
					unsettled_remote_balance: amount(0n),
					pending_open_local_balance: amount(b.pendingLocalMsat),
					pending_open_remote_balance: amount(b.pendingRemoteMsat)
				};
			}
		},
		{
			method: 'GET',
			pattern: /^\/v1\/channels$/,
			handler: ({ node, url }): LndListChannelsResponse => {
				const inactiveOnly = url.searchParams.get('inactive_only') === 'true';
				const channels = network.channelsOf(node).filter((c) => !network.isPending(c));
				return { channels: inactiveOnly ? [] : channels.map((c) => channelJson(node, c)) };
			}
		},
		{
			method: 'GET',
			pattern: /^\/v1\/channels\/pending$/,
			handler: ({ node }): LndPendingChannelsResponse => ({
				total_limbo_balance: '0',
				pending_open_channels: network
					.channelsOf(node)
					.filter((c) => network.isPending(c))
					.map((c) => ({
						channel: {
							remote_node_pub: network.node(network.otherEnd(c, node)).pubkey,
							channel_point: c.channelPoint,
							capacity: c.capacitySat.toString(),
							local_balance: (network.localMsat(c, node) / 1000n).toString(),
							remote_balance: (network.remoteMsat(c, node) / 1000n).toString(),
							local_chan_reserve_sat: channelReserveSat(c.capacitySat).toString(),
							remote_chan_reserve_sat: channelReserveSat(c.capacitySat).toString(),
							initiator: c.initiator === node ? 'INITIATOR_LOCAL' : 'INITIATOR_REMOTE',
							private: false
						},
						commit_fee: '0',
						confirmations_until_active: c.openedAtHeight + c.confirmationsNeeded - network.blockHeight,
						confirmation_height: 0
					})),
				pending_closing_channels: [],
				pending_force_closing_channels: [],
				waiting_close_channels: []
			})
		},
		{
			// OpenChannelSync
			method: 'POST',
			pattern: /^\/v1\/channels$/,
			handler: async ({ node, req }): Promise<LndChannelPoint> => {
				const body = await readJson(req);
				let pubkey: string;
				if (typeof body.node_pubkey_string === 'string' && body.node_pubkey_string !== '') {
					pubkey = body.node_pubkey_string.toLowerCase();
				} else if (typeof body.node_pubkey === 'string' && body.node_pubkey !== '') {
					pubkey = base64ToHex(body.node_pubkey);
				} else {
					throw new HttpError(GRPC.INVALID_ARGUMENT, 'node_pubkey is required');
				}
				const peer = network.nodeByPubkey(pubkey);
				if (!peer) throw new HttpError(GRPC.UNKNOWN, `peer ${pubkey} is not online`);
				const channel = network.openChannel(
					node,
					peer.name,
					int64(body.local_funding_amount, 'local_funding_amount'),
					int64(body.push_sat, 'push_sat')
				);
				const [txid, index] = channel.channelPoint.split(':') as [string, string];
				// funding_txid_bytes is the txid in internal (reversed) byte order.
				const reversed = txid.match(/../g)!.reverse().join('');
				return { funding_txid_bytes: hexToBase64(reversed), output_index: Number(index) };
			}
		},
		{
			// AddInvoice
			method: 'POST',
			pattern: /^\/v1\/invoices$/,
			handler: async ({ node, req }): Promise<LndAddInvoiceResponse> => {
				const body = await readJson(req);
				const valueMsat =
					body.value_msat !== undefined && body.value_msat !== '' && body.value_msat !== '0'
						? int64(body.value_msat, 'value_msat')
						: int64(body.value, 'value') * 1000n;
				const descriptionHash =
					typeof body.description_hash === 'string' && body.description_hash !== ''
						? base64ToHex(body.description_hash)
						: undefined;
				if (descriptionHash !== undefined && descriptionHash.length !== 64) {
					throw new HttpError(GRPC.INVALID_ARGUMENT, 'description hash must be exactly 32 bytes');
				}
				const expiry = body.expiry === undefined ? undefined : Number(int64(body.expiry, 'expiry'));
				const invoice = network.addInvoice(node, {
					valueMsat,
					...(typeof body.memo === 'string' ? { memo: body.memo } : {}),
					...(descriptionHash !== undefined ? { descriptionHash } : {}),
					...(expiry !== undefined && expiry !== 0 ? { expiry } : {})
				});
				return {
					r_hash: hexToBase64(invoice.paymentHash),
					payment_request: invoice.paymentRequest,
					add_index: String(invoice.addIndex),
					payment_addr: hexToBase64(invoice.paymentAddr)
				};
			}
		},
		{
			method: 'GET',
			pattern: /^\/v1\/invoice\/([^/]+)$/,
			handler: ({ node, params }) => invoiceJson(network.lookupInvoice(node, hashParam(params[0], 'r_hash_str')))
		},
		{
			method: 'GET',
			pattern: /^\/v2\/invoices\/lookup$/,
			handler: ({ node, url }) =>
				invoiceJson(network.lookupInvoice(node, hashParam(url.searchParams.get('payment_hash'), 'payment_hash')))
		},
		{
			// SubscribeSingleInvoice: current state first, then every change, ending once final.
			method: 'GET',
			pattern: /^\/v2\/invoices\/subscribe\/([^/]+)$/,
			stream: true,
			handler: ({ node, res, params }) => {
				const hash = hashParam(params[0], 'r_hash');
				const invoice = network.lookupInvoice(node, hash);
				startStream(res);
				const send = (i: SimInvoice) => {
					writeLine(res, invoiceJson(i));
					if (i.state === 'SETTLED' || i.state === 'CANCELED') {
						unsubscribe();
						res.end();
					}
				};
				const unsubscribe = network.subscribe((e) => {
					if (e.type === 'invoice' && e.invoice.node === node && e.invoice.paymentHash === hash) send(e.invoice);
				});
				res.on('close', unsubscribe);
				send(invoice);
			}
		},
		{
			// SendPaymentV2
			method: 'POST',
			pattern: /^\/v2\/router\/send$/,
			stream: true,
			handler: async ({ node, req, res }) => {
				const body = await readJson(req);
				if (typeof body.payment_request !== 'string' || body.payment_request === '') {
					throw new HttpError(GRPC.INVALID_ARGUMENT, 'payment_request is required (keysend is not supported by the simnet)');
				}
				const feeLimitMsat =
					body.fee_limit_msat !== undefined && body.fee_limit_msat !== '0' && body.fee_limit_msat !== 0
						? int64(body.fee_limit_msat, 'fee_limit_msat')
						: int64(body.fee_limit_sat, 'fee_limit_sat') * 1000n;
				const amtMsat =
					body.amt_msat !== undefined ? int64(body.amt_msat, 'amt_msat') : int64(body.amt, 'amt') * 1000n;
				const payment = network.sendPayment(node, {
					paymentRequest: body.payment_request,
					feeLimitMsat,
					timeoutSeconds: Number(int64(body.timeout_seconds, 'timeout_seconds')),
					...(amtMsat > 0n ? { amtMsat } : {})
				});
				streamPayment(res, payment, body.no_inflight_updates === true);
			}
		},
		{
			// TrackPaymentV2
			method: 'GET',
			pattern: /^\/v2\/router\/track\/([^/]+)$/,
			stream: true,
			handler: ({ node, res, params, url }) => {
				const payment = network.getPayment(node, hashParam(params[0], 'payment_hash'));
				streamPayment(res, payment, url.searchParams.get('no_inflight_updates') === 'true');
			}
		},
		{
			// DecodePayReq
			method: 'GET',
			pattern: /^\/v1\/payreq\/([^/]+)$/,
			handler: ({ params }): LndPayReq => {
				const d = network.decode(decodeURIComponent(params[0] ?? ''));
				return {
					destination: d.payee,
					payment_hash: d.paymentHash,
					num_satoshis: ((d.amountMsat ?? 0n) / 1000n).toString(),
					timestamp: String(d.timestamp),
					expiry: String(d.expirySeconds),
					description: d.description ?? '',
					description_hash: d.descriptionHash ?? '',
					fallback_addr: '',
					cltv_expiry: String(d.minFinalCltvExpiry),
					route_hints: [],
					payment_addr: d.paymentSecret ? hexToBase64(d.paymentSecret) : '',
					num_msat: (d.amountMsat ?? 0n).toString(),
					features: featureMap(d.features)
				};
			}
		}
	];

	// ---- admin API (devnet only, no authentication: it binds to loopback by default) ----
	const nodeInfo = (name: string): LightningSimnetNodeInfo => ({
		name,
		restUrl: `${baseUrl}/nodes/${name}`,
		macaroonHex: macaroonFor(name),
		pubkey: network.node(name).pubkey
	});
	const adminState = () => ({
		block_height: network.blockHeight,
		nodes: network.listNodes().map((n) => {
			const b = network.balances(n.name);
			return {
				...nodeInfo(n.name),
				onchain_sat: n.onchainSat.toString(),
				local_msat: b.localMsat.toString(),
				remote_msat: b.remoteMsat.toString(),
				channels: network.channelsOf(n.name).length
			};
		})
	});
	const admin = async (method: string, path: string, req: IncomingMessage): Promise<unknown> => {
		if (method === 'GET' && path === '/admin/state') return adminState();
		const body = method === 'POST' ? await readJson(req) : {};
		if (method === 'POST' && path === '/admin/nodes') {
			if (typeof body.name !== 'string') throw new HttpError(GRPC.INVALID_ARGUMENT, 'name is required');
			network.createNode(body.name, {
				...(body.onchain_sat !== undefined ? { onchainSat: int64(body.onchain_sat, 'onchain_sat') } : {})
			});
			if (body.connect_to_hub !== false) {
				buildHubTopology(network, [body.name], {
					hub: hubName,
					...(body.channel_sat !== undefined ? { channelSat: int64(body.channel_sat, 'channel_sat') } : options.channelSat !== undefined ? { channelSat: options.channelSat } : {})
				});
			}
			return nodeInfo(body.name);
		}
		const fund = /^\/admin\/nodes\/([^/]+)\/fund$/.exec(path);
		if (method === 'POST' && fund) {
			const node = network.fund(fund[1] ?? '', int64(body.sat, 'sat'));
			return { name: node.name, onchain_sat: node.onchainSat.toString() };
		}
		if (method === 'POST' && path === '/admin/mine') {
			const blocks = body.blocks === undefined ? 1 : Number(int64(body.blocks, 'blocks'));
			return { block_height: network.mineBlocks(blocks) };
		}
		if (method === 'POST' && path === '/admin/channels') {
			if (typeof body.from !== 'string' || typeof body.to !== 'string') {
				throw new HttpError(GRPC.INVALID_ARGUMENT, 'from and to (node names) are required');
			}
			const channel = network.openChannel(
				body.from,
				body.to,
				int64(body.capacity_sat, 'capacity_sat'),
				int64(body.push_sat, 'push_sat')
			);
			return { channel_point: channel.channelPoint, pending: network.isPending(channel) };
		}
		throw new HttpError(GRPC.NOT_FOUND, `no admin endpoint ${method} ${path}`);
	};

	const sendError = (res: ServerResponse, e: HttpError, streaming: boolean) => {
		if (res.headersSent) {
			if (!res.writableEnded) res.end(JSON.stringify({ error: status(e) }) + '\n');
			return;
		}
		res.writeHead(e.grpc[1], { ...CORS_HEADERS, 'Content-Type': 'application/json' });
		// grpc-gateway wraps errors of streaming calls as a stream line.
		res.end(JSON.stringify(streaming ? { error: status(e) } : status(e)) + (streaming ? '\n' : ''));
	};

	const server = createServer((req, res) => {
		void (async () => {
			const url = new URL(req.url ?? '/', 'http://localhost');
			const method = req.method ?? 'GET';
			if (method === 'OPTIONS') {
				res.writeHead(204, CORS_HEADERS);
				res.end();
				return;
			}
			let streaming = false;
			try {
				if (url.pathname.startsWith('/admin/')) {
					const result = await admin(method, url.pathname, req);
					res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json' });
					res.end(JSON.stringify(result));
					return;
				}
				// A person opening a base URL in a browser gets directions, not a bare 404 (no secrets here).
				const bare = /^\/(?:nodes\/([^/]+)\/?)?$/.exec(url.pathname);
				if (method === 'GET' && bare && (!bare[1] || macaroons.has(decodeURIComponent(bare[1])))) {
					res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json' });
					res.end(
						JSON.stringify({
							service: 'Lightcharge Lightning simnet (LND REST dialect)',
							node: bare[1] ? decodeURIComponent(bare[1]) : undefined,
							nodes: [...macaroons.keys()],
							usage: 'GET /nodes/{name}/v1/getinfo with the header Grpc-Metadata-macaroon: <hex from devnet.json>'
						})
					);
					return;
				}
				const m = /^\/nodes\/([^/]+)(\/.*)$/.exec(url.pathname);
				if (!m) throw new HttpError(GRPC.NOT_FOUND, `Not Found: ${url.pathname} (node APIs live under /nodes/{name}/)`);
				const node = decodeURIComponent(m[1] ?? '');
				const path = m[2] ?? '';
				if (!macaroons.has(node)) throw new HttpError(GRPC.NOT_FOUND, `there is no node named "${node}"`);
				const route = routes.find((r) => r.method === method && r.pattern.test(path));
				if (!route) throw new HttpError(GRPC.NOT_FOUND, `Not Found: ${method} ${path}`);
				streaming = route.stream === true;
				const given = req.headers['grpc-metadata-macaroon'];
				if (typeof given !== 'string' || given === '') {
					throw new HttpError(GRPC.UNAUTHENTICATED, 'expected 1 macaroon, got 0');
				}
				if (given.toLowerCase() !== macaroons.get(node)) {
					throw new HttpError(GRPC.UNAUTHENTICATED, 'verification failed: signature mismatch after caveat verification');
				}
				const params = (route.pattern.exec(path) ?? []).slice(1);
				const result = await route.handler({ node, req, res, url, params });
				if (!route.stream) {
					res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': 'application/json' });
					res.end(JSON.stringify(result));
				}
			} catch (e) {
				sendError(res, toHttpError(e), streaming);
			}
		})();
	});

	await new Promise<void>((resolve, reject) => {
		const onError = (e: NodeJS.ErrnoException) => {
			reject(
				e.code === 'EADDRINUSE'
					? new Error(
							`Port ${options.port} on ${host} is already in use, so the Lightning simnet cannot start there. Stop the other program or choose another port.`
						)
					: new Error(`The Lightning simnet could not listen on ${host}:${options.port}: ${e.message}`)
			);
		};
		server.once('error', onError);
		server.listen(options.port, host, () => {
			server.off('error', onError);
			resolve();
		});
	});
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : options.port;
	const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

	return {
		url: baseUrl,
		nodes: nodeNames.map(nodeInfo),
		network,
		macaroonFor,
		async stop() {
			unsubscribeSave();
			for (const res of openStreams) res.end();
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
			if (saveTimer) {
				clearTimeout(saveTimer);
				saveTimer = undefined;
			}
			await saving;
			await saveNow();
		}
	};
}

async function loadState(file: string): Promise<PersistedState | undefined> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw new Error(`Cannot read the Lightning simnet state file ${file}: ${(e as Error).message}`);
	}
	try {
		const state = JSON.parse(text) as PersistedState;
		if (state.version !== 1 || !state.simnet) throw new Error('unknown format');
		return state;
	} catch (e) {
		throw new Error(
			`The Lightning simnet state file ${file} is not valid (${(e as Error).message}); delete it to start a fresh network.`
		);
	}
}
