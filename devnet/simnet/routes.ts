// The LND REST routes the simnet serves (one node per request, already authenticated).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
	channelReserveSat,
	type Simnet,
	type SimInvoice,
	type SimPayment
} from '../../src/lib/lightning/simnet/index.js';
import {
	base64ToHex,
	featureMap,
	hexToBase64,
	int64,
	type LndAddInvoiceResponse,
	type LndChannelBalanceResponse,
	type LndChannelPoint,
	type LndGetInfoResponse,
	type LndListChannelsResponse,
	type LndPayReq,
	type LndPendingChannelsResponse
} from '../../src/lib/lightning/index.js';
import { GRPC, HttpError, hashParam, readJson, type Streams } from './http.js';
import { amount, channelJson, invoiceJson, paymentJson } from './views.js';

export type Handler = (ctx: {
	node: string;
	req: IncomingMessage;
	res: ServerResponse;
	url: URL;
	params: string[];
}) => Promise<unknown> | unknown;

export interface Route {
	method: string;
	pattern: RegExp;
	handler: Handler;
	/** Streaming handlers write the response themselves. */
	stream?: boolean;
	/** The permissions LND requires for this call (rpcserver.go MainRPCServerPermissions, the sub-servers' tables). */
	perms: { entity: string; action: string }[];
}

/** `host` only appears in getinfo's uris. */
export function simnetRoutes(network: Simnet, host: string, streams: Streams): Route[] {
	/** Streams a payment's updates until it is final, then ends the response (as LND does). */
	const streamPayment = (res: ServerResponse, payment: SimPayment, noInflight: boolean) => {
		streams.start(res);
		const send = (p: SimPayment) => {
			if (p.status === 'IN_FLIGHT' && noInflight) return;
			streams.writeLine(res, paymentJson(p));
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

	return [
		{
			method: 'GET',
			pattern: /^\/v1\/getinfo$/,
			// LND: GetInfo
			perms: [{ entity: 'info', action: 'read' }],
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
					block_hash:
						bytesToHex(new Uint8Array(32)).slice(0, 56) +
						network.blockHeight.toString(16).padStart(8, '0'),
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
			// LND: ChannelBalance
			perms: [{ entity: 'offchain', action: 'read' }],
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
			// LND: ListChannels
			perms: [{ entity: 'offchain', action: 'read' }],
			handler: ({ node, url }): LndListChannelsResponse => {
				const inactiveOnly = url.searchParams.get('inactive_only') === 'true';
				const channels = network.channelsOf(node).filter((c) => !network.isPending(c));
				return { channels: inactiveOnly ? [] : channels.map((c) => channelJson(network, node, c)) };
			}
		},
		{
			method: 'GET',
			pattern: /^\/v1\/channels\/pending$/,
			// LND: PendingChannels
			perms: [{ entity: 'offchain', action: 'read' }],
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
						confirmations_until_active:
							c.openedAtHeight + c.confirmationsNeeded - network.blockHeight,
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
			// LND: OpenChannelSync
			perms: [
				{ entity: 'onchain', action: 'write' },
				{ entity: 'offchain', action: 'write' }
			],
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
			// LND: AddInvoice
			perms: [{ entity: 'invoices', action: 'write' }],
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
			// ListInvoices, as LND pages it: add_index after index_offset (before it, reversed), at most
			// num_max_invoices (default 100), oldest first within the page.
			method: 'GET',
			pattern: /^\/v1\/invoices$/,
			// LND: ListInvoices
			perms: [{ entity: 'invoices', action: 'read' }],
			handler: ({ node, url }) => {
				const q = url.searchParams;
				const flag = (name: string) => q.get(name) === 'true' || q.get(name) === '1';
				const uint = (name: string): bigint => {
					const raw = q.get(name);
					if (raw === null || raw === '') return 0n;
					if (!/^\d+$/.test(raw))
						throw new HttpError(
							GRPC.INVALID_ARGUMENT,
							`bad request: ${name} "${raw}" is not an unsigned integer`
						);
					return BigInt(raw);
				};
				const offset = uint('index_offset');
				const max = uint('num_max_invoices') || 100n;
				const start = uint('creation_date_start');
				const end = uint('creation_date_end');
				if (start !== 0n && end !== 0n && start >= end) {
					throw new HttpError(GRPC.UNKNOWN, `start date(${start}) must be before end date(${end})`);
				}
				let list = network
					.listInvoices(node)
					.filter(
						(i) =>
							(!flag('pending_only') || i.state === 'OPEN' || i.state === 'ACCEPTED') &&
							(start === 0n || BigInt(i.creationDate) >= start) &&
							(end === 0n || BigInt(i.creationDate) <= end)
					);
				if (flag('reversed')) {
					if (offset !== 0n) list = list.filter((i) => BigInt(i.addIndex) < offset);
					list = list.slice(Math.max(0, list.length - Number(max)));
				} else {
					list = list.filter((i) => BigInt(i.addIndex) > offset).slice(0, Number(max));
				}
				return {
					invoices: list.map(invoiceJson),
					last_index_offset: String(list.at(-1)?.addIndex ?? 0),
					first_index_offset: String(list[0]?.addIndex ?? 0)
				};
			}
		},
		{
			method: 'GET',
			pattern: /^\/v1\/invoice\/([^/]+)$/,
			// LND: LookupInvoice
			perms: [{ entity: 'invoices', action: 'read' }],
			handler: ({ node, params }) =>
				invoiceJson(network.lookupInvoice(node, hashParam(params[0], 'r_hash_str')))
		},
		{
			method: 'GET',
			pattern: /^\/v2\/invoices\/lookup$/,
			// LND: invoicesrpc LookupInvoiceV2
			perms: [{ entity: 'invoices', action: 'read' }],
			handler: ({ node, url }) =>
				invoiceJson(
					network.lookupInvoice(
						node,
						hashParam(url.searchParams.get('payment_hash'), 'payment_hash')
					)
				)
		},
		{
			// SubscribeSingleInvoice: current state first, then every change, ending once final.
			method: 'GET',
			pattern: /^\/v2\/invoices\/subscribe\/([^/]+)$/,
			// LND: invoicesrpc SubscribeSingleInvoice
			perms: [{ entity: 'invoices', action: 'read' }],
			stream: true,
			handler: ({ node, res, params }) => {
				const hash = hashParam(params[0], 'r_hash');
				const invoice = network.lookupInvoice(node, hash);
				streams.start(res);
				const send = (i: SimInvoice) => {
					streams.writeLine(res, invoiceJson(i));
					if (i.state === 'SETTLED' || i.state === 'CANCELED') {
						unsubscribe();
						res.end();
					}
				};
				const unsubscribe = network.subscribe((e) => {
					if (e.type === 'invoice' && e.invoice.node === node && e.invoice.paymentHash === hash)
						send(e.invoice);
				});
				res.on('close', unsubscribe);
				send(invoice);
			}
		},
		{
			// SendPaymentV2
			method: 'POST',
			pattern: /^\/v2\/router\/send$/,
			// LND: routerrpc SendPaymentV2
			perms: [{ entity: 'offchain', action: 'write' }],
			stream: true,
			handler: async ({ node, req, res }) => {
				const body = await readJson(req);
				if (typeof body.payment_request !== 'string' || body.payment_request === '') {
					throw new HttpError(
						GRPC.INVALID_ARGUMENT,
						'payment_request is required (keysend is not supported by the simnet)'
					);
				}
				const feeLimitMsat =
					body.fee_limit_msat !== undefined &&
					body.fee_limit_msat !== '0' &&
					body.fee_limit_msat !== 0
						? int64(body.fee_limit_msat, 'fee_limit_msat')
						: int64(body.fee_limit_sat, 'fee_limit_sat') * 1000n;
				const amtMsat =
					body.amt_msat !== undefined
						? int64(body.amt_msat, 'amt_msat')
						: int64(body.amt, 'amt') * 1000n;
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
			// LND: routerrpc TrackPaymentV2
			perms: [{ entity: 'offchain', action: 'read' }],
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
			// LND: DecodePayReq
			perms: [{ entity: 'offchain', action: 'read' }],
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
}
