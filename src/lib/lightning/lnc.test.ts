// LncNode and LNC pairing against a fake of lnc-web's client. The fake implements the lnc-core
// service interfaces (Lightning, Router, Invoices) with LND's camelCase / base64 / int64-string
// shapes, so the production mapping, timeouts, reconnects and stream handling run for real.
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import type { LndApi, invoicesrpc, lnrpc, routerrpc } from '@lightninglabs/lnc-web';
import { encodeBolt11, nodePubkey } from './simnet';
import {
	acquireTabLock,
	LncNode,
	lncError,
	lncStatusSentence,
	loginLnc,
	normaliseMailboxAddress,
	normalisePairingPhrase,
	pairLnc,
	resolveWasmClientCode,
	type LncPairingClient,
	type LockManagerLike
} from './lnc';
import { LightningError, type PaymentFailureReason, type PaymentUpdate } from './port';
import { errorFromStatus } from './lnd-rest';
import realErrors from './fixtures/lnd-real-errors.json' with { type: 'json' };

const b64 = (hex: string) =>
	base64.encode(Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16))));
const stationKey = bytesToHex(sha256(new TextEncoder().encode('lnc station key')));
const preimage = '5a'.repeat(32);
const paymentHash = bytesToHex(sha256(hexToBytes(preimage)));
const invoice = encodeBolt11(
	{
		network: 'regtest',
		amountMsat: 25_000n,
		timestamp: 1_800_000_000,
		paymentHash,
		paymentSecret: '11'.repeat(32),
		description: 'lnc test',
		expirySeconds: 600
	},
	stationKey
);

type Lightning = Pick<
	lnrpc.Lightning,
	| 'getInfo'
	| 'channelBalance'
	| 'listChannels'
	| 'pendingChannels'
	| 'openChannelSync'
	| 'addInvoice'
	| 'lookupInvoice'
	| 'decodePayReq'
>;
type Router = Pick<routerrpc.Router, 'sendPaymentV2' | 'trackPaymentV2'>;
type Invoices = Pick<invoicesrpc.Invoices, 'subscribeSingleInvoice'>;
type Stream<T> = { onMessage?: (m: T) => void; onError?: (e: Error) => void; request: unknown };

const never = <T>() => new Promise<T>(() => undefined);

function payment(
	status: string,
	extra: Partial<Record<keyof lnrpc.Payment, string>> = {}
): lnrpc.Payment {
	return {
		paymentHash,
		value: '25',
		creationDate: '1800000000',
		fee: '0',
		paymentPreimage: '0'.repeat(64),
		valueSat: '25',
		valueMsat: '25000',
		paymentRequest: invoice,
		status,
		feeSat: '1',
		feeMsat: '1025',
		creationTimeNs: '1800000000000000000',
		htlcs: [],
		paymentIndex: '1',
		failureReason: 'FAILURE_REASON_NONE',
		firstHopCustomRecords: {},
		...extra
	} as unknown as lnrpc.Payment;
}

function lndInvoice(state: string): lnrpc.Invoice {
	return {
		rHash: b64(paymentHash),
		rPreimage: state === 'SETTLED' ? b64(preimage) : '',
		valueMsat: '25000',
		amtPaidMsat: state === 'SETTLED' ? '25000' : '0',
		settleDate: state === 'SETTLED' ? '1800000100' : '0',
		state
	} as unknown as lnrpc.Invoice;
}

/** A stand-in for lnc-web's LightningNodeConnect: connection state plus scripted LND services. */
class FakeLnc implements LncPairingClient {
	isConnected = true;
	/** What lnc-web's `status` getter reports (the wasm client's wasmClientStatus). */
	status: string | undefined = undefined;
	connectCalls = 0;
	/** Each connect() call takes the next behaviour; "ok" when the list is empty. */
	connectScript: ('ok' | 'fail' | 'hang')[] = [];
	pairImpl: (phrase: string) => Promise<void> = async () => undefined;
	loginImpl: () => Promise<void> = async () => undefined;
	cleared = false;
	requests: { method: string; request: unknown }[] = [];
	sends: Stream<lnrpc.Payment>[] = [];
	tracks: Stream<lnrpc.Payment>[] = [];
	invoiceStreams: Stream<lnrpc.Invoice>[] = [];
	overrides: Partial<Record<keyof Lightning, (req: unknown) => Promise<unknown>>> = {};
	onSend: (s: Stream<lnrpc.Payment>) => void = () => undefined;
	onTrack: (s: Stream<lnrpc.Payment>) => void = () => undefined;
	invoiceState = 'OPEN';

	private answer<T>(method: keyof Lightning, request: unknown, value: T): Promise<T> {
		this.requests.push({ method, request });
		const o = this.overrides[method];
		return o ? (o(request) as Promise<T>) : Promise.resolve(value);
	}

	readonly lightning: Lightning = {
		getInfo: (r) =>
			this.answer('getInfo', r, {
				identityPubkey: nodePubkey(stationKey),
				alias: 'station',
				blockHeight: 812,
				syncedToChain: true,
				testnet: false,
				chains: [{ chain: 'bitcoin', network: 'regtest' }]
			} as unknown as lnrpc.GetInfoResponse),
		channelBalance: (r) =>
			this.answer('channelBalance', r, {
				localBalance: { sat: '400', msat: '400123' },
				remoteBalance: { sat: '600', msat: '600000' },
				pendingOpenLocalBalance: { sat: '5', msat: '5000' }
			} as unknown as lnrpc.ChannelBalanceResponse),
		listChannels: (r) =>
			this.answer('listChannels', r, {
				channels: [
					{
						active: true,
						remotePubkey: '02'.padEnd(66, 'a'),
						channelPoint: 'ab:0',
						capacity: '1000',
						localBalance: '400',
						remoteBalance: '600',
						localChanReserveSat: '10'
					}
				]
			} as unknown as lnrpc.ListChannelsResponse),
		pendingChannels: (r) =>
			this.answer('pendingChannels', r, {
				pendingOpenChannels: [
					{
						channel: {
							remoteNodePub: '03'.padEnd(66, 'b'),
							channelPoint: 'cd:1',
							capacity: '2000',
							localBalance: '2000',
							remoteBalance: '0',
							localChanReserveSat: '20'
						}
					}
				]
			} as unknown as lnrpc.PendingChannelsResponse),
		openChannelSync: (r) =>
			this.answer('openChannelSync', r, {
				fundingTxidBytes: b64('0102'.padEnd(64, '0')),
				outputIndex: 1
			} as unknown as lnrpc.ChannelPoint),
		addInvoice: (r) =>
			this.answer('addInvoice', r, {
				rHash: b64(paymentHash),
				paymentRequest: invoice,
				addIndex: '1',
				paymentAddr: ''
			} as lnrpc.AddInvoiceResponse),
		lookupInvoice: (r) => this.answer('lookupInvoice', r, lndInvoice(this.invoiceState)),
		decodePayReq: (r) =>
			this.answer('decodePayReq', r, {
				destination: nodePubkey(stationKey),
				paymentHash,
				numMsat: '25000',
				timestamp: '1800000000',
				expiry: '600',
				cltvExpiry: '18',
				descriptionHash: '',
				description: '',
				paymentAddr: b64('11'.repeat(32))
			} as unknown as lnrpc.PayReq)
	};
	readonly router: Router = {
		sendPaymentV2: (request, onMessage, onError) => {
			const s = { request, onMessage, onError };
			this.sends.push(s);
			this.onSend(s);
		},
		trackPaymentV2: (request, onMessage, onError) => {
			const s = { request, onMessage, onError };
			this.tracks.push(s);
			this.onTrack(s);
		}
	};
	readonly invoices: Invoices = {
		subscribeSingleInvoice: (request, onMessage, onError) => {
			this.invoiceStreams.push({ request, onMessage, onError });
		}
	};
	// Only these three services exist on the fake; LncNode touches no others.
	readonly lnd = {
		lightning: this.lightning,
		router: this.router,
		invoices: this.invoices
	} as unknown as LndApi;

	async connect(): Promise<void> {
		this.connectCalls++;
		const next = this.connectScript.shift() ?? 'ok';
		if (next === 'hang') return never();
		if (next === 'fail') throw new Error('Failed to connect the WASM client to the proxy server');
		this.isConnected = true;
	}
	disconnect(): void {
		this.isConnected = false;
	}
	pair(phrase: string): Promise<void> {
		return this.pairImpl(phrase);
	}
	login(): Promise<void> {
		return this.loginImpl();
	}
	clear(): void {
		this.cleared = true;
	}
}

const fast = {
	callTimeoutMs: 40,
	connectTimeoutMs: 40,
	reconnectDelayMs: 1,
	invoicePollMs: 10,
	trackTimeoutMs: 200
};

describe('LncNode mapping', () => {
	it('maps getInfo, balances and channels from lnc-core shapes', async () => {
		const lnc = new FakeLnc();
		const node = new LncNode(lnc, fast);
		expect(await node.getInfo()).toEqual({
			pubkey: nodePubkey(stationKey),
			alias: 'station',
			network: 'regtest',
			blockHeight: 812,
			syncedToChain: true
		});
		expect(await node.getBalances()).toEqual({
			localMsat: 400_123n,
			remoteMsat: 600_000n,
			pendingOpenLocalMsat: 5000n
		});
		const channels = await node.listChannels();
		expect(channels).toEqual([
			{
				channelPoint: 'ab:0',
				remotePubkey: '02'.padEnd(66, 'a'),
				capacitySat: 1000n,
				localMsat: 400_000n,
				remoteMsat: 600_000n,
				reserveSat: 10n,
				active: true,
				pending: false
			},
			{
				channelPoint: 'cd:1',
				remotePubkey: '03'.padEnd(66, 'b'),
				capacitySat: 2000n,
				localMsat: 2_000_000n,
				remoteMsat: 0n,
				reserveSat: 20n,
				active: false,
				pending: true
			}
		]);
		const opened = await node.openChannel({
			remotePubkey: nodePubkey(stationKey),
			localFundingSat: 50_000n
		});
		expect(opened.channelPoint).toBe('0'.repeat(60) + '0201:1');
		expect(lnc.requests.find((r) => r.method === 'openChannelSync')?.request).toEqual({
			nodePubkey: b64(nodePubkey(stationKey)),
			localFundingAmount: '50000',
			pushSat: '0'
		});
	});

	it('creates invoices with valueMsat, a base64 description hash and expiry, and decodes', async () => {
		const lnc = new FakeLnc();
		const node = new LncNode(lnc, fast);
		const descriptionHash = 'ab'.repeat(32);
		expect(
			await node.createInvoice({ amountMsat: 25_000n, descriptionHash, expirySeconds: 600 })
		).toEqual({ paymentRequest: invoice, paymentHash });
		expect(lnc.requests.at(-1)).toEqual({
			method: 'addInvoice',
			request: { valueMsat: '25000', expiry: '600', descriptionHash: b64(descriptionHash) }
		});
		lnc.invoiceState = 'SETTLED';
		expect(await node.lookupInvoice(paymentHash)).toEqual({
			paymentHash,
			state: 'settled',
			valueMsat: 25_000n,
			amountPaidMsat: 25_000n,
			settledAt: 1_800_000_100_000,
			preimage
		});
		expect(lnc.requests.at(-1)).toEqual({
			method: 'lookupInvoice',
			request: { rHash: b64(paymentHash) }
		});
		expect(await node.decodePaymentRequest(invoice)).toMatchObject({
			network: 'regtest',
			payee: nodePubkey(stationKey),
			amountMsat: 25_000n,
			paymentSecret: '11'.repeat(32)
		});
	});
});

describe('LncNode payments', () => {
	it('pays with router.sendPaymentV2: timeout, fee limit in msat, no amount, streamed updates', async () => {
		const lnc = new FakeLnc();
		lnc.onSend = (s) =>
			queueMicrotask(() => {
				s.onMessage?.(payment('IN_FLIGHT'));
				s.onMessage?.(payment('SUCCEEDED', { paymentPreimage: preimage }));
			});
		const updates: PaymentUpdate[] = [];
		const result = await new LncNode(lnc, fast).pay(
			{ paymentRequest: invoice, feeLimitMsat: 2000n, timeoutSeconds: 30 },
			(u) => updates.push(u)
		);
		expect(lnc.sends[0]?.request).toEqual({
			paymentRequest: invoice,
			timeoutSeconds: 30,
			feeLimitMsat: '2000'
		});
		expect(updates.map((u) => u.status)).toEqual(['in_flight', 'succeeded']);
		expect(result).toEqual({
			paymentHash,
			status: 'succeeded',
			valueMsat: 25_000n,
			feeMsat: 1025n,
			preimage
		});
	});

	it('reads every payment status: UNKNOWN, INITIATED and IN_FLIGHT are still in flight', async () => {
		const lnc = new FakeLnc();
		lnc.onSend = (s) =>
			queueMicrotask(() => {
				for (const st of ['INITIATED', 'UNKNOWN', 'IN_FLIGHT', 'FAILED'])
					s.onMessage?.(
						payment(st, st === 'FAILED' ? { failureReason: 'FAILURE_REASON_TIMEOUT' } : {})
					);
			});
		const updates: PaymentUpdate[] = [];
		const result = await new LncNode(lnc, fast).pay(
			{ paymentRequest: invoice, feeLimitMsat: 0n, timeoutSeconds: 5 },
			(u) => updates.push(u)
		);
		expect(updates.map((u) => u.status)).toEqual(['in_flight', 'in_flight', 'in_flight', 'failed']);
		expect(result).toMatchObject({ status: 'failed', failureReason: 'timeout' });
	});

	const reasons: [string, PaymentFailureReason][] = [
		['FAILURE_REASON_TIMEOUT', 'timeout'],
		['FAILURE_REASON_NO_ROUTE', 'no_route'],
		['FAILURE_REASON_ERROR', 'error'],
		['FAILURE_REASON_INCORRECT_PAYMENT_DETAILS', 'incorrect_payment_details'],
		['FAILURE_REASON_INSUFFICIENT_BALANCE', 'insufficient_balance'],
		['FAILURE_REASON_CANCELED', 'canceled'],
		['FAILURE_REASON_FROM_A_NEWER_LND', 'error']
	];
	for (const [lnd, port] of reasons) {
		it(`maps ${lnd} to ${port}`, async () => {
			const lnc = new FakeLnc();
			lnc.onSend = (s) =>
				queueMicrotask(() => s.onMessage?.(payment('FAILED', { failureReason: lnd })));
			expect(
				await new LncNode(lnc, fast).pay({
					paymentRequest: invoice,
					feeLimitMsat: 0n,
					timeoutSeconds: 5
				})
			).toMatchObject({
				status: 'failed',
				failureReason: port,
				paymentHash
			});
		});
	}

	it('reports refusals before sending (already paid, expired) as failed payments', async () => {
		for (const [message, reason] of [
			['invoice is already paid', 'already_paid'],
			['invoice expired. Valid until 12:00', 'invalid_request']
		] as const) {
			const lnc = new FakeLnc();
			lnc.onSend = (s) => queueMicrotask(() => s.onError?.(new Error(message)));
			const r = await new LncNode(lnc, fast).pay({
				paymentRequest: invoice,
				feeLimitMsat: 0n,
				timeoutSeconds: 5
			});
			expect(r).toMatchObject({ status: 'failed', failureReason: reason, message, paymentHash });
			expect(lnc.tracks).toHaveLength(0);
		}
	});

	it('refuses a malformed invoice without calling the node', async () => {
		const lnc = new FakeLnc();
		const r = await new LncNode(lnc, fast).pay({
			paymentRequest: invoice.slice(0, 40),
			feeLimitMsat: 0n,
			timeoutSeconds: 5
		});
		expect(r).toMatchObject({ status: 'failed', failureReason: 'invalid_request' });
		expect(lnc.sends).toHaveLength(0);
	});

	it('follows a payment whose stream dies mid-flight: reconnects and tracks it to the end', async () => {
		const lnc = new FakeLnc();
		lnc.onSend = (s) =>
			queueMicrotask(() => {
				s.onMessage?.(payment('IN_FLIGHT'));
				lnc.isConnected = false;
				s.onError?.(new Error('mailbox connection closed'));
				s.onMessage?.(payment('SUCCEEDED', { paymentPreimage: preimage })); // a late message on the dead stream is ignored
			});
		lnc.onTrack = (s) =>
			queueMicrotask(() => s.onMessage?.(payment('SUCCEEDED', { paymentPreimage: preimage })));
		const updates: PaymentUpdate[] = [];
		const r = await new LncNode(lnc, fast).pay(
			{ paymentRequest: invoice, feeLimitMsat: 0n, timeoutSeconds: 5 },
			(u) => updates.push(u)
		);
		expect(r).toMatchObject({ status: 'succeeded', preimage });
		expect(lnc.connectCalls).toBe(1);
		expect(lnc.tracks[0]?.request).toEqual({ paymentHash: b64(paymentHash) });
		expect(updates.map((u) => u.status)).toEqual(['in_flight', 'succeeded']);
	});

	it('a send that never answers is tracked; a payment LND never saw is reported as not sent', async () => {
		const lnc = new FakeLnc();
		lnc.onTrack = (s) => queueMicrotask(() => s.onError?.(new Error("payment isn't initiated")));
		const r = await new LncNode(lnc, fast).pay({
			paymentRequest: invoice,
			feeLimitMsat: 0n,
			timeoutSeconds: 5
		});
		expect(r).toMatchObject({
			status: 'failed',
			failureReason: 'error',
			message: expect.stringMatching(/not sent/)
		});
		expect(lnc.sends).toHaveLength(1);
	});

	it('trackPayment gives up with a sentence when the stream stays silent, without paying again', async () => {
		const lnc = new FakeLnc();
		const err = await new LncNode(lnc, fast).trackPayment(paymentHash).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(LightningError);
		expect(err).toMatchObject({
			code: 'timeout',
			message: expect.stringMatching(/may still complete/)
		});
		expect(lnc.tracks).toHaveLength(3);
		expect(lnc.sends).toHaveLength(0);
	});
});

describe('LncNode timeouts and reconnects', () => {
	it('times out a call that never answers, retries a read once on a fresh connection, then says so', async () => {
		const lnc = new FakeLnc();
		lnc.overrides.getInfo = () => never();
		const err = await new LncNode(lnc, fast).getInfo().catch((e: unknown) => e);
		expect(err).toMatchObject({
			code: 'timeout',
			message: expect.stringMatching(/did not answer within .* read its info/)
		});
		expect(lnc.requests.filter((r) => r.method === 'getInfo')).toHaveLength(2);
		expect(lnc.connectCalls).toBe(1);
	});

	it('never retries creating an invoice (a retry could leave a second one)', async () => {
		const lnc = new FakeLnc();
		lnc.overrides.addInvoice = () => never();
		await expect(
			new LncNode(lnc, fast).createInvoice({ amountMsat: 1n, expirySeconds: 60 })
		).rejects.toMatchObject({ code: 'timeout' });
		expect(lnc.requests.filter((r) => r.method === 'addInvoice')).toHaveLength(1);
	});

	it('reconnects with exponential backoff and gives up with a sentence', async () => {
		const lnc = new FakeLnc();
		lnc.isConnected = false;
		lnc.connectScript = ['fail', 'hang', 'ok'];
		const delays: number[] = [];
		const node = new LncNode(lnc, {
			...fast,
			reconnectDelayMs: 100,
			sleep: async (ms) => void delays.push(ms)
		});
		await expect(node.getInfo()).resolves.toMatchObject({ alias: 'station' });
		expect(delays).toEqual([100, 200]);
		expect(lnc.connectCalls).toBe(3);

		lnc.isConnected = false;
		lnc.connectScript = ['fail', 'fail', 'fail', 'fail', 'fail'];
		await expect(node.getBalances()).rejects.toMatchObject({
			code: 'unreachable',
			message: expect.stringMatching(
				/cannot be reached through Lightning Node Connect \(5 attempts\)/
			)
		});
	});

	it('maps LND errors: permission denied, not found, insufficient balance', async () => {
		const lnc = new FakeLnc();
		const node = new LncNode(lnc, fast);
		lnc.overrides.channelBalance = () => Promise.reject(new Error('permission denied'));
		await expect(node.getBalances()).rejects.toMatchObject({ code: 'unauthorized' });
		lnc.overrides.lookupInvoice = () => Promise.reject(new Error('unable to locate invoice'));
		await expect(node.lookupInvoice(paymentHash)).rejects.toMatchObject({ code: 'not_found' });
		lnc.overrides.openChannelSync = () =>
			Promise.reject(new Error('not enough witness outputs to create funding transaction'));
		await expect(
			node.openChannel({ remotePubkey: nodePubkey(stationKey), localFundingSat: 1n })
		).rejects.toMatchObject({ code: 'insufficient_balance' });
	});
});

describe('LncNode invoice watch', () => {
	it('streams state changes, stops at settled, and stays quiet after close', async () => {
		const lnc = new FakeLnc();
		const node = new LncNode(lnc, { ...fast, invoicePollMs: 10_000 });
		const seen: string[] = [];
		node.watchInvoice(paymentHash, (s) => seen.push(s.state));
		await Promise.resolve();
		const stream = lnc.invoiceStreams[0]!;
		expect(stream.request).toEqual({ rHash: b64(paymentHash) });
		stream.onMessage?.(lndInvoice('OPEN'));
		stream.onMessage?.(lndInvoice('OPEN'));
		stream.onMessage?.(lndInvoice('SETTLED'));
		stream.onMessage?.(lndInvoice('CANCELED'));
		expect(seen).toEqual(['open', 'settled']);

		const other: string[] = [];
		const sub = node.watchInvoice(paymentHash, (s) => other.push(s.state));
		await Promise.resolve();
		sub.close();
		lnc.invoiceStreams[1]!.onMessage?.(lndInvoice('SETTLED'));
		expect(other).toEqual([]);
	});

	it('falls back to lookupInvoice when the stream dies', async () => {
		const lnc = new FakeLnc();
		const node = new LncNode(lnc, fast);
		const settled = new Promise<string | undefined>((resolve) =>
			node.watchInvoice(paymentHash, (s) => s.state === 'settled' && resolve(s.preimage))
		);
		await Promise.resolve();
		lnc.invoiceStreams[0]!.onError?.(new Error('stream closed'));
		lnc.invoiceState = 'SETTLED';
		expect(await settled).toBe(preimage);
		expect(lnc.requests.some((r) => r.method === 'lookupInvoice')).toBe(true);
	});

	it('reports an error once the stream is dead and lookups keep failing', async () => {
		const lnc = new FakeLnc();
		lnc.overrides.lookupInvoice = () => Promise.reject(new Error('unable to locate invoice'));
		const node = new LncNode(lnc, fast);
		const failed = new Promise<LightningError>((resolve) =>
			node.watchInvoice(paymentHash, () => undefined, resolve)
		);
		await Promise.resolve();
		lnc.invoiceStreams[0]!.onError?.(new Error('stream closed'));
		expect(await failed).toMatchObject({ code: 'not_found' });
	});
});

describe('LNC pairing and login', () => {
	it('pairs with a normalised phrase and a password, then logs in without the phrase', async () => {
		const lnc = new FakeLnc();
		let phrase = '';
		lnc.pairImpl = async (p) => void (phrase = p);
		const c = await pairLnc(
			'  Alpha bravo   charlie delta echo foxtrot golf hotel india juliet ',
			{ method: 'password', password: 'correct horse' },
			{ createClient: () => lnc, locks: null }
		);
		expect(phrase).toBe('alpha bravo charlie delta echo foxtrot golf hotel india juliet');
		expect(await c.node.getInfo()).toMatchObject({ network: 'regtest' });
		c.close();
		await expect(c.node.getInfo()).rejects.toMatchObject({
			code: 'unreachable',
			message: expect.stringMatching(/no longer uses/)
		});

		const again = await loginLnc(
			{ method: 'password', password: 'correct horse' },
			{ createClient: () => new FakeLnc(), locks: null }
		);
		expect(await again.node.getBalances()).toMatchObject({ localMsat: 400_123n });
		again.forget();
	});

	it('refuses a bad phrase or a short password before touching the network', async () => {
		let created = 0;
		const createClient = () => (created++, new FakeLnc());
		await expect(
			pairLnc(
				'alpha, bravo!',
				{ method: 'password', password: 'correct horse' },
				{ createClient, locks: null }
			)
		).rejects.toThrow(/only words of letters/);
		await expect(
			pairLnc('', { method: 'password', password: 'correct horse' }, { createClient, locks: null })
		).rejects.toThrow(/Enter the pairing phrase/);
		await expect(
			pairLnc(
				'alpha bravo charlie delta echo foxtrot golf hotel india juliet',
				{ method: 'password', password: 'short' },
				{ createClient, locks: null }
			)
		).rejects.toThrow(/at least 8 characters/);
		expect(created).toBe(0);
	});

	it('explains pairing and login failures', async () => {
		const client = (f: (lnc: FakeLnc) => void) => () => {
			const lnc = new FakeLnc();
			f(lnc);
			return lnc;
		};
		const phrase = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet';
		const pw = { method: 'password', password: 'correct horse' } as const;
		await expect(
			pairLnc(phrase, pw, {
				locks: null,
				createClient: client(
					(l) =>
						(l.pairImpl = () =>
							Promise.reject(new Error('Failed to connect the WASM client to the proxy server')))
				)
			})
		).rejects.toMatchObject({
			code: 'unreachable',
			message: expect.stringMatching(/Pairing failed: .*works once and expires/)
		});
		await expect(
			pairLnc(phrase, pw, {
				locks: null,
				connectTimeoutMs: 30,
				createClient: client((l) => (l.pairImpl = () => never()))
			})
		).rejects.toMatchObject({
			code: 'timeout',
			message: expect.stringMatching(/Pairing took too long/)
		});
		await expect(
			loginLnc(pw, {
				locks: null,
				createClient: client(
					(l) =>
						(l.loginImpl = () => Promise.reject(new Error('The password provided is not valid')))
				)
			})
		).rejects.toMatchObject({
			code: 'unauthorized',
			message: 'The password is wrong: the stored pairing could not be unlocked.'
		});
		await expect(
			loginLnc(
				{ method: 'session' },
				{
					locks: null,
					createClient: client(
						(l) =>
							(l.loginImpl = () =>
								Promise.reject(
									new Error(
										'No pairing phrase or local key available. Call pair() or unlock() first.'
									)
								))
					)
				}
			)
		).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/pair again/) });
		await expect(
			loginLnc(
				{ method: 'passkey' },
				{
					locks: null,
					createClient: client(
						(l) =>
							(l.loginImpl = () =>
								Promise.reject(
									new Error('NotAllowedError: The operation either timed out or was not allowed')
								))
					)
				}
			)
		).rejects.toMatchObject({
			code: 'unauthorized',
			message: expect.stringMatching(/passkey was not accepted/)
		});
	});
});

/** The Web Locks behaviour acquireTabLock relies on: exclusive locks, a queue, ifAvailable, steal. */
class FakeLocks {
	private held = new Map<string, { reject: (e: unknown) => void }>();
	private queue = new Map<string, (() => void)[]>();

	request(
		name: string,
		options: LockOptions,
		callback: (lock: Lock | null) => Promise<unknown>
	): Promise<unknown> {
		return new Promise((resolve, reject) => {
			const grant = () => {
				const entry = { reject };
				this.held.set(name, entry);
				void callback({ name, mode: 'exclusive' } as Lock).then(
					(v) => {
						if (this.held.get(name) === entry) this.releaseLock(name);
						resolve(v);
					},
					(e: unknown) => {
						if (this.held.get(name) === entry) this.releaseLock(name);
						reject(e);
					}
				);
			};
			const current = this.held.get(name);
			if (!current) return grant();
			if (options.steal) {
				current.reject(new DOMException('The lock was stolen', 'AbortError'));
				return grant();
			}
			if (options.ifAvailable) return void callback(null).then(resolve, reject);
			const q = this.queue.get(name) ?? [];
			q.push(grant);
			this.queue.set(name, q);
		});
	}

	private releaseLock(name: string) {
		this.held.delete(name);
		this.queue.get(name)?.shift()?.();
	}
}

describe('one connection per pairing across tabs', () => {
	it('a second tab waits until the first lets go', async () => {
		const locks = new FakeLocks() as unknown as LockManagerLike;
		const first = await pairLnc(
			'alpha bravo charlie delta echo foxtrot golf hotel india juliet',
			{ method: 'password', password: 'correct horse' },
			{ locks, reuseInTab: false, createClient: () => new FakeLnc() }
		);
		let waiting = false;
		let secondReady = false;
		const second = loginLnc(
			{ method: 'session' },
			{
				locks,
				reuseInTab: false,
				createClient: () => new FakeLnc(),
				onWaitingForOtherTab: () => (waiting = true)
			}
		).then((c) => {
			secondReady = true;
			return c;
		});
		await new Promise((r) => setTimeout(r, 10));
		expect(waiting).toBe(true);
		expect(secondReady).toBe(false);
		first.close();
		const c = await second;
		expect(await c.node.getInfo()).toMatchObject({ alias: 'station' });
	});

	it('a second tab can take over; the first is told and stops using the connection', async () => {
		const locks = new FakeLocks() as unknown as LockManagerLike;
		const firstClient = new FakeLnc();
		let takenOver = false;
		const first = await loginLnc(
			{ method: 'session' },
			{
				locks,
				reuseInTab: false,
				createClient: () => firstClient,
				onTakenOver: () => (takenOver = true)
			}
		);
		const second = await loginLnc(
			{ method: 'session' },
			{ locks, reuseInTab: false, createClient: () => new FakeLnc(), tabPolicy: 'take_over' }
		);
		await new Promise((r) => setTimeout(r, 0));
		expect(takenOver).toBe(true);
		expect(firstClient.isConnected).toBe(false);
		await expect(first.node.getInfo()).rejects.toMatchObject({ code: 'unreachable' });
		expect(await second.node.getInfo()).toMatchObject({ alias: 'station' });
	});

	it('within one tab, a second login shares the open connection instead of queueing behind its own lock', async () => {
		const locks = new FakeLocks() as unknown as LockManagerLike;
		let created = 0;
		const createClient = () => (created++, new FakeLnc());
		const a = await loginLnc(
			{ method: 'session' },
			{ namespace: 'tab-share', locks, createClient }
		);
		const b = await loginLnc(
			{ method: 'session' },
			{ namespace: 'tab-share', locks, createClient }
		);
		expect(b).toBe(a);
		expect(created).toBe(1);
		a.close();
		// Closed: the next login opens a fresh connection (and gets the lock, since it was released).
		const c = await loginLnc(
			{ method: 'session' },
			{ namespace: 'tab-share', locks, createClient }
		);
		expect(c).not.toBe(a);
		expect(created).toBe(2);
		// A new pairing replaces the tab's connection.
		const d = await pairLnc(
			'alpha bravo charlie delta echo foxtrot golf hotel india juliet',
			{ method: 'password', password: 'correct horse' },
			{ namespace: 'tab-share', locks, createClient }
		);
		await expect(c.node.getInfo()).rejects.toMatchObject({ code: 'unreachable' });
		expect(await d.node.getInfo()).toMatchObject({ alias: 'station' });
		d.close();
	});

	it('acquireTabLock hands the lock on after release', async () => {
		const locks = new FakeLocks() as unknown as LockManagerLike;
		const a = await acquireTabLock(locks, 'x', 'wait');
		const b = acquireTabLock(locks, 'x', 'wait');
		a.release();
		await expect(b).resolves.toHaveProperty('release');
	});
});

describe('wasm client location', () => {
	const answer = (status: number, type: string) => async () =>
		new Response(null, { status, headers: { 'content-type': type } });
	it('prefers the configured URL, then the self-hosted copy, else the CDN default', async () => {
		expect(
			await resolveWasmClientCode({
				configured: 'https://cdn.example/wasm-client.wasm',
				fetch: answer(404, 'text/plain')
			})
		).toBe('https://cdn.example/wasm-client.wasm');
		expect(await resolveWasmClientCode({ fetch: answer(200, 'application/wasm') })).toBe(
			'/lnc/wasm-client.wasm'
		);
		// A SPA fallback answers 200 with HTML for a missing file: that is not the wasm.
		expect(
			await resolveWasmClientCode({ fetch: answer(200, 'text/html; charset=utf-8') })
		).toBeUndefined();
		expect(await resolveWasmClientCode({ fetch: answer(404, 'text/plain') })).toBeUndefined();
		// instantiateStreaming refuses a wasm served under another type: better the CDN than a broken page.
		expect(
			await resolveWasmClientCode({ fetch: answer(200, 'application/octet-stream') })
		).toBeUndefined();
		expect(
			await resolveWasmClientCode({ fetch: () => Promise.reject(new TypeError('offline')) })
		).toBeUndefined();
	});
});

describe('LncNode and LndRestNode read LND’s error text the same way', () => {
	// Over LNC an error is LND's text alone; over REST it comes with an HTTP status. Where real LND
	// gave gRPC code 2 (UNKNOWN), the text is all either backend has: both must decide alike.
	const recorded = (
		realErrors as {
			errors: Record<string, { httpStatus: number; body: { code: number; message: string } }>;
		}
	).errors;
	const textOnly = Object.entries(recorded).filter(([, r]) => r.body.code === 2);
	it('has text-only cases of every kind the port decides on', () => {
		expect(textOnly.map(([name]) => name)).toEqual(
			expect.arrayContaining([
				'permission_denied',
				'foreign_macaroon',
				'no_macaroon',
				'starting',
				'bad_payreq'
			])
		);
	});
	it.each(textOnly)('%s', (_name, { httpStatus, body }) => {
		expect(lncError(new Error(body.message), 'do it').code).toBe(
			errorFromStatus(httpStatus, body, 'do it').code
		);
	});
});

describe('LNC input: pairing phrase, mailbox address, the wasm client status', () => {
	it('takes ten words only, and says how many it got', () => {
		expect(
			normalisePairingPhrase(' Alpha  bravo charlie delta echo foxtrot golf hotel india JULIET ')
		).toBe('alpha bravo charlie delta echo foxtrot golf hotel india juliet');
		expect(() => normalisePairingPhrase('alpha bravo charlie')).toThrow(
			/has 10 words; this one has 3/
		);
		expect(() => normalisePairingPhrase('a '.repeat(11).trim())).toThrow(/this one has 11/);
		expect(() => normalisePairingPhrase('x'.repeat(401))).toThrow(/too long/);
	});

	it('takes a mailbox as host:port, also pasted as a wss:// or https:// URL', () => {
		expect(normaliseMailboxAddress('127.0.0.1:23120')).toBe('127.0.0.1:23120');
		expect(normaliseMailboxAddress(' wss://Mailbox.Terminal.Lightning.Today:443/ ')).toBe(
			'mailbox.terminal.lightning.today:443'
		);
		expect(normaliseMailboxAddress('https://[::1]:8443')).toBe('[::1]:8443');
		for (const bad of [
			'mailbox.example.org',
			'mailbox.example.org:0',
			'mailbox.example.org:65536',
			'http://x:1',
			'x:1/path',
			'a b:1',
			'',
			'x'.repeat(301)
		]) {
			expect(() => normaliseMailboxAddress(bad), bad).toThrow(LightningError);
		}
		expect(() => normaliseMailboxAddress('mailbox.example.org')).toThrow(/must be host:port/);
	});

	it("turns the wasm client's status into a sentence", () => {
		expect(lncStatusSentence('Session Not Found', undefined)).toMatch(
			/no session for this pairing phrase/
		);
		expect(lncStatusSentence('Session In Use', undefined)).toMatch(/Another device or tab/);
		expect(lncStatusSentence('Not Connected', '127.0.0.1:9')).toMatch(
			/mailbox at 127.0.0.1:9 cannot be reached/
		);
		expect(
			lncStatusSentence(
				'Error: word 3 of the pairing phrase ("zzz") is not a pairing-phrase word',
				undefined
			)
		).toBe('Word 3 of the pairing phrase ("zzz") is not a pairing-phrase word.');
		expect(lncStatusSentence('Connected', undefined)).toBeNull();
		expect(lncStatusSentence(undefined, undefined)).toBeNull();
	});

	it('a failed pairing says what the wasm client saw, and stops its attempt', async () => {
		const lnc = new FakeLnc();
		let disconnected = 0;
		lnc.disconnect = () => void disconnected++;
		lnc.status = 'Session Not Found';
		lnc.pairImpl = () =>
			Promise.reject(new Error('Failed to connect the WASM client to the proxy server'));
		await expect(
			pairLnc(
				'alpha bravo charlie delta echo foxtrot golf hotel india juliet',
				{ method: 'password', password: 'correct horse' },
				{ locks: null, createClient: () => lnc }
			)
		).rejects.toMatchObject({
			code: 'unreachable',
			message: expect.stringMatching(
				/^Pairing failed: The mailbox knows no session for this pairing phrase/
			)
		});
		expect(disconnected).toBe(1);
		// A wrong password stays a wrong password, whatever the status.
		const locked = new FakeLnc();
		locked.status = 'Not Connected';
		locked.loginImpl = () => Promise.reject(new Error('The password provided is not valid'));
		await expect(
			loginLnc(
				{ method: 'password', password: 'wrong one!' },
				{ locks: null, reuseInTab: false, createClient: () => locked }
			)
		).rejects.toMatchObject({
			code: 'unauthorized',
			message: 'The password is wrong: the stored pairing could not be unlocked.'
		});
	});
});
