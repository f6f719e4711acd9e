// The LND REST backend of the LightningNode port (browser + Node, fetch-based). Works against a
// real LND (REST port, macaroon in hex) and against the devnet's simnet, which speaks the same dialect.

import {
	LightningError,
	type Balances,
	type Channel,
	type CreateInvoiceRequest,
	type CreatedInvoice,
	type DecodedPaymentRequest,
	type InvoiceStatus,
	type LightningErrorCode,
	type LightningNode,
	type NodeInfo,
	type OpenChannelRequest,
	type PaymentUpdate,
	type PayRequest,
	type Subscription
} from './port';
import {
	base64ToHex,
	big,
	failureReasonOf,
	paymentStatusOf,
	preimageOrUndefined,
	hexToBase64,
	hexToBase64Url,
	INVOICE_STATES,
	failedBeforeSending,
	networkOfNode,
	networkOfPaymentRequest,
	lndErrorKind,
	refusalReason,
	txidFromFundingBytes,
	type LndAddInvoiceResponse,
	type LndChannelBalanceResponse,
	type LndChannelPoint,
	type LndGetInfoResponse,
	type LndInvoice,
	type LndListChannelsResponse,
	type LndPayment,
	type LndPayReq,
	type LndPendingChannelsResponse,
	type LndRpcStatus
} from './lnd-json';

export interface LndRestOptions {
	/** Base URL of LND's REST listener, e.g. `https://10.0.0.5:8080` (no trailing path). */
	restUrl: string;
	/** An admin (or suitably scoped) macaroon, hex. */
	macaroonHex: string;
	/** Per call; a stream's limit applies to reaching its first line. Default 15 s. */
	timeoutMs?: number;
	fetch?: typeof fetch;
}

/** A fetch failure caused by the server's certificate (Node's TLS codes; browsers do not say why). */
function isCertificateError(e: unknown): boolean {
	let cur: unknown = e;
	for (let i = 0; i < 4 && cur; i++) {
		const c = cur as { code?: unknown; name?: unknown };
		if (c.name === 'CertificateMismatchError') return true;
		if (typeof c.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(c.code))
			return true;
		cur = (cur as { cause?: unknown }).cause;
	}
	return false;
}

function isRpcStatus(value: unknown): value is LndRpcStatus {
	return typeof value === 'object' && value !== null && 'message' in value && 'code' in value;
}

/** Turns an LND error answer into a port error with a sentence a person can act on. */
export function errorFromStatus(httpStatus: number, body: unknown, what: string): LightningError {
	const rpc = isRpcStatus(body) ? body : undefined;
	const message = rpc?.message ?? (typeof body === 'string' && body ? body : `HTTP ${httpStatus}`);
	const kind = lndErrorKind(message);
	let code: LightningErrorCode = 'backend';
	if (kind === 'permission_denied') {
		return new LightningError(
			'unauthorized',
			`The Lightning node's macaroon does not allow this app to ${what} (LND said "${message}"). Bake one with the permissions this app needs (docs/lightning.md).`,
			body
		);
	}
	if (httpStatus === 401 || httpStatus === 403 || rpc?.code === 16 || kind === 'bad_macaroon') {
		return new LightningError(
			'unauthorized',
			`The Lightning node refused the macaroon while trying to ${what} (${message}). Check that the macaroon belongs to this node.`,
			body
		);
	}
	if (rpc?.code === 14 || kind === 'starting') {
		return new LightningError(
			'starting',
			`The Lightning node is still starting and cannot ${what} yet (${message}); waiting for it.`,
			body
		);
	}
	if (httpStatus === 404 || rpc?.code === 5 || kind === 'not_found') code = 'not_found';
	else if (httpStatus === 400 || rpc?.code === 3) code = 'invalid_request';
	else if (kind === 'insufficient_balance') code = 'insufficient_balance';
	return new LightningError(code, `The Lightning node could not ${what}: ${message}`, body);
}

function invoiceStatus(invoice: LndInvoice): InvoiceStatus {
	const status: InvoiceStatus = {
		paymentHash: base64ToHex(invoice.r_hash),
		state: INVOICE_STATES[invoice.state] ?? 'open',
		valueMsat: big(invoice.value_msat),
		amountPaidMsat: big(invoice.amt_paid_msat)
	};
	if (invoice.state === 'SETTLED') {
		status.settledAt = Number(invoice.settle_date) * 1000;
		status.preimage = base64ToHex(invoice.r_preimage);
	}
	return status;
}

function paymentUpdate(payment: LndPayment): PaymentUpdate {
	const update: PaymentUpdate = {
		paymentHash: payment.payment_hash,
		status: paymentStatusOf(payment.status),
		valueMsat: big(payment.value_msat),
		feeMsat: big(payment.fee_msat)
	};
	const preimage = preimageOrUndefined(payment.payment_preimage);
	if (preimage) update.preimage = preimage;
	const reason = failureReasonOf(payment.failure_reason);
	if (payment.status === 'FAILED' && reason) update.failureReason = reason;
	return update;
}

export class LndRestNode implements LightningNode {
	readonly kind = 'lnd-rest' as const;
	private readonly baseUrl: string;
	private readonly macaroonHex: string;
	private readonly timeoutMs: number;
	private readonly fetchFn: typeof fetch;

	constructor(options: LndRestOptions) {
		if (!/^https?:\/\//.test(options.restUrl)) {
			throw new LightningError(
				'invalid_request',
				`The LND REST URL "${options.restUrl}" must start with http:// or https://.`
			);
		}
		if (!/^[0-9a-f]+$/i.test(options.macaroonHex) || options.macaroonHex.length % 2 !== 0) {
			throw new LightningError('invalid_request', 'The macaroon must be given in hex.');
		}
		this.baseUrl = options.restUrl.replace(/\/+$/, '');
		this.macaroonHex = options.macaroonHex;
		this.timeoutMs = options.timeoutMs ?? 15_000;
		this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
	}

	/** Starts a request with a timeout; the signal stays usable for reading a stream's body. */
	private async request(
		method: 'GET' | 'POST',
		path: string,
		what: string,
		body?: unknown,
		outer?: AbortSignal
	): Promise<{ response: Response; controller: AbortController; clearTimer: () => void }> {
		const controller = new AbortController();
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			controller.abort();
		}, this.timeoutMs);
		const onOuterAbort = () => controller.abort();
		outer?.addEventListener('abort', onOuterAbort);
		const clearTimer = () => {
			clearTimeout(timer);
			outer?.removeEventListener('abort', onOuterAbort);
		};
		const headers: Record<string, string> = { 'Grpc-Metadata-macaroon': this.macaroonHex };
		if (body !== undefined) headers['Content-Type'] = 'application/json';
		let response: Response;
		try {
			response = await this.fetchFn(this.baseUrl + path, {
				method,
				headers,
				signal: controller.signal,
				...(body !== undefined ? { body: JSON.stringify(body) } : {})
			});
		} catch (e) {
			clearTimer();
			if (timedOut) {
				throw new LightningError(
					'timeout',
					`The Lightning node did not answer within ${this.timeoutMs / 1000} s while trying to ${what}.`,
					e
				);
			}
			if (isCertificateError(e)) {
				throw new LightningError(
					'unreachable',
					`The Lightning node at ${this.baseUrl} shows a TLS certificate that is not the one configured for it, so nothing was sent to ${what}. Check that the certificate (tls.cert) belongs to this node.`,
					e
				);
			}
			throw new LightningError(
				'unreachable',
				`The Lightning node at ${this.baseUrl} cannot be reached to ${what}. Check the address, that the node runs, and (in a browser) its TLS certificate and CORS settings.`,
				e
			);
		}
		return { response, controller, clearTimer };
	}

	private async call<T>(
		method: 'GET' | 'POST',
		path: string,
		what: string,
		body?: unknown
	): Promise<T> {
		const { response, clearTimer } = await this.request(method, path, what, body);
		try {
			const text = await response.text();
			let parsed: unknown = text;
			try {
				parsed = text === '' ? {} : JSON.parse(text);
			} catch {
				// not JSON: keep the text for the error message
			}
			if (!response.ok) throw errorFromStatus(response.status, parsed, what);
			if (typeof parsed !== 'object' || parsed === null) {
				throw new LightningError(
					'backend',
					`The Lightning node answered something that is not JSON while trying to ${what}.`
				);
			}
			return parsed as T;
		} catch (e) {
			if (e instanceof LightningError) throw e;
			throw new LightningError(
				'timeout',
				`The Lightning node stopped answering while trying to ${what}.`,
				e
			);
		} finally {
			clearTimer();
		}
	}

	/**
	 * Reads an NDJSON stream of `{result}` / `{error}` lines. `onLine` returns true to stop.
	 * The timeout covers reaching the response; the stream itself may stay open for longer.
	 */
	private async stream<T>(
		method: 'GET' | 'POST',
		path: string,
		what: string,
		body: unknown,
		onLine: (result: T) => boolean,
		outer?: AbortSignal
	): Promise<void> {
		const { response, controller, clearTimer } = await this.request(
			method,
			path,
			what,
			body,
			outer
		);
		clearTimer();
		if (!response.body)
			throw new LightningError(
				'backend',
				`The Lightning node sent no stream while trying to ${what}.`
			);
		// Bytes decoded by hand: a TextDecoderStream would add a whole transform stream per call.
		const reader = response.body.getReader();
		const decoder = new TextDecoder();
		let buffer = '';
		const handle = (line: string): boolean => {
			if (line.trim() === '') return false;
			let parsed: unknown;
			try {
				parsed = JSON.parse(line);
			} catch {
				throw new LightningError(
					'backend',
					`The Lightning node sent a malformed stream line while trying to ${what}.`
				);
			}
			const obj = parsed as { result?: T; error?: LndRpcStatus };
			if (obj.error) throw errorFromStatus(response.ok ? 500 : response.status, obj.error, what);
			if (!response.ok) throw errorFromStatus(response.status, parsed, what);
			if (obj.result === undefined) return false;
			return onLine(obj.result);
		};
		try {
			for (;;) {
				const { value, done } = await reader.read();
				if (done) {
					buffer += decoder.decode();
					break;
				}
				buffer += decoder.decode(value, { stream: true });
				let newline: number;
				while ((newline = buffer.indexOf('\n')) >= 0) {
					const line = buffer.slice(0, newline);
					buffer = buffer.slice(newline + 1);
					if (handle(line)) return;
				}
			}
			if (handle(buffer)) return;
		} catch (e) {
			if (e instanceof LightningError) throw e;
			if (outer?.aborted) return;
			throw new LightningError(
				'unreachable',
				`The connection to the Lightning node dropped while trying to ${what}.`,
				e
			);
		} finally {
			controller.abort();
			reader.releaseLock();
		}
	}

	async getInfo(): Promise<NodeInfo> {
		const info = await this.call<LndGetInfoResponse>('GET', '/v1/getinfo', 'read its info');
		const network = networkOfNode(info, 'The Lightning node');
		return {
			pubkey: info.identity_pubkey,
			alias: info.alias,
			network,
			blockHeight: Number(info.block_height),
			syncedToChain: info.synced_to_chain === true
		};
	}

	async getBalances(): Promise<Balances> {
		const b = await this.call<LndChannelBalanceResponse>(
			'GET',
			'/v1/balance/channels',
			'read its channel balance'
		);
		return {
			localMsat: big(b.local_balance?.msat),
			remoteMsat: big(b.remote_balance?.msat),
			pendingOpenLocalMsat: big(b.pending_open_local_balance?.msat)
		};
	}

	async listChannels(): Promise<Channel[]> {
		const [open, pending] = await Promise.all([
			this.call<LndListChannelsResponse>('GET', '/v1/channels', 'list its channels'),
			this.call<LndPendingChannelsResponse>(
				'GET',
				'/v1/channels/pending',
				'list its pending channels'
			)
		]);
		const channels: Channel[] = (open.channels ?? []).map((c) => ({
			channelPoint: c.channel_point,
			remotePubkey: c.remote_pubkey,
			capacitySat: big(c.capacity),
			localMsat: big(c.local_balance) * 1000n,
			remoteMsat: big(c.remote_balance) * 1000n,
			reserveSat: big(c.local_chan_reserve_sat),
			active: c.active === true,
			pending: false
		}));
		for (const p of pending.pending_open_channels ?? []) {
			channels.push({
				channelPoint: p.channel.channel_point,
				remotePubkey: p.channel.remote_node_pub,
				capacitySat: big(p.channel.capacity),
				localMsat: big(p.channel.local_balance) * 1000n,
				remoteMsat: big(p.channel.remote_balance) * 1000n,
				reserveSat: big(p.channel.local_chan_reserve_sat),
				active: false,
				pending: true
			});
		}
		return channels;
	}

	async openChannel(req: OpenChannelRequest): Promise<{ channelPoint: string }> {
		const point = await this.call<LndChannelPoint>('POST', '/v1/channels', 'open a channel', {
			node_pubkey: hexToBase64(req.remotePubkey),
			local_funding_amount: req.localFundingSat.toString(),
			push_sat: (req.pushSat ?? 0n).toString()
		});
		const txid = txidFromFundingBytes(base64ToHex(point.funding_txid_bytes));
		return { channelPoint: `${txid}:${point.output_index ?? 0}` };
	}

	async createInvoice(req: CreateInvoiceRequest): Promise<CreatedInvoice> {
		const body: Record<string, string> = {
			value_msat: req.amountMsat.toString(),
			expiry: String(req.expirySeconds)
		};
		if (req.memo !== undefined) body.memo = req.memo;
		if (req.descriptionHash !== undefined) body.description_hash = hexToBase64(req.descriptionHash);
		const added = await this.call<LndAddInvoiceResponse>(
			'POST',
			'/v1/invoices',
			'create an invoice',
			body
		);
		return { paymentRequest: added.payment_request, paymentHash: base64ToHex(added.r_hash) };
	}

	async lookupInvoice(paymentHash: string): Promise<InvoiceStatus> {
		const query = encodeURIComponent(hexToBase64Url(paymentHash));
		return invoiceStatus(
			await this.call<LndInvoice>(
				'GET',
				`/v2/invoices/lookup?payment_hash=${query}`,
				'look up the invoice'
			)
		);
	}

	watchInvoice(
		paymentHash: string,
		onUpdate: (s: InvoiceStatus) => void,
		onError?: (e: LightningError) => void
	): Subscription {
		const abort = new AbortController();
		let final = false;
		this.stream<LndInvoice>(
			'GET',
			`/v2/invoices/subscribe/${hexToBase64Url(paymentHash)}`,
			'watch the invoice',
			undefined,
			(invoice) => {
				if (abort.signal.aborted) return true;
				const status = invoiceStatus(invoice);
				onUpdate(status);
				final = status.state === 'settled' || status.state === 'canceled';
				return final;
			},
			abort.signal
		)
			.then(() => {
				// A node shutting down (e.g. restarting) ends its streams cleanly: that is not the invoice's end.
				if (!final && !abort.signal.aborted) {
					throw new LightningError(
						'unreachable',
						'The Lightning node ended the invoice watch before the invoice was settled or canceled (it may be restarting).'
					);
				}
			})
			.catch((e: unknown) => {
				if (!abort.signal.aborted)
					onError?.(e instanceof LightningError ? e : new LightningError('backend', String(e), e));
			});
		return { close: () => abort.abort() };
	}

	pay(req: PayRequest, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate> {
		return this.followPayment(
			'POST',
			'/v2/router/send',
			'send the payment',
			{
				payment_request: req.paymentRequest,
				timeout_seconds: req.timeoutSeconds,
				fee_limit_msat: req.feeLimitMsat.toString()
			},
			onUpdate,
			req.paymentRequest
		);
	}

	trackPayment(paymentHash: string, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate> {
		return this.followPayment(
			'GET',
			`/v2/router/track/${hexToBase64Url(paymentHash)}`,
			'track the payment',
			undefined,
			onUpdate
		);
	}

	private async followPayment(
		method: 'GET' | 'POST',
		path: string,
		what: string,
		body: unknown,
		onUpdate?: (u: PaymentUpdate) => void,
		paymentRequest?: string
	): Promise<PaymentUpdate> {
		let last: PaymentUpdate | undefined;
		// LND gives up on its own after timeout_seconds; this guards against a stream that never ends.
		const deadline = new AbortController();
		const limitMs =
			(paymentRequest ? (body as { timeout_seconds: number }).timeout_seconds * 1000 : 0) +
			2 * this.timeoutMs;
		const timer = setTimeout(() => deadline.abort(), limitMs);
		try {
			await this.stream<LndPayment>(
				method,
				path,
				what,
				body,
				(payment) => {
					last = paymentUpdate(payment);
					onUpdate?.(last);
					return last.status !== 'in_flight';
				},
				deadline.signal
			);
			if (deadline.signal.aborted) {
				throw new LightningError(
					'timeout',
					`The payment did not finish within ${Math.round(limitMs / 1000)} s; it may still complete, so track it before paying again.`
				);
			}
		} catch (e) {
			const reason =
				e instanceof LightningError && paymentRequest ? refusalReason(e.message) : undefined;
			if (!reason || !(e instanceof LightningError)) throw e;
			let hash = '';
			try {
				hash = (await this.decodePaymentRequest(paymentRequest!)).paymentHash;
			} catch {
				// the refusal message is what matters
			}
			return failedBeforeSending(hash, reason, e.message, onUpdate);
		} finally {
			clearTimeout(timer);
		}
		if (!last || last.status === 'in_flight') {
			throw new LightningError(
				'backend',
				`The Lightning node closed the stream before the payment finished while trying to ${what}.`
			);
		}
		return last;
	}

	async decodePaymentRequest(paymentRequest: string): Promise<DecodedPaymentRequest> {
		const d = await this.call<LndPayReq>(
			'GET',
			`/v1/payreq/${encodeURIComponent(paymentRequest)}`,
			'decode the invoice'
		);
		const network = networkOfPaymentRequest(paymentRequest);
		const amountMsat = big(d.num_msat);
		const decoded: DecodedPaymentRequest = {
			network,
			payee: d.destination,
			paymentHash: d.payment_hash,
			amountMsat: amountMsat === 0n ? null : amountMsat,
			timestamp: Number(d.timestamp),
			expirySeconds: Number(d.expiry),
			minFinalCltvExpiry: Number(d.cltv_expiry)
		};
		if (d.description_hash) decoded.descriptionHash = d.description_hash;
		if (d.description) decoded.description = d.description;
		if (d.payment_addr) decoded.paymentSecret = base64ToHex(d.payment_addr);
		return decoded;
	}
}
