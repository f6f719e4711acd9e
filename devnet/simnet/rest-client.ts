// A few LND REST calls, plain (for the devnet's own tests and tools: the apps use src/lib/lightning).
// Errors keep LND's answer: `LndCallError.status` and `.message` (e.g. "permission denied").

export class LndCallError extends Error {
	constructor(
		readonly status: number,
		message: string
	) {
		super(message);
	}
}

export interface LndCallOptions {
	restUrl: string;
	macaroonHex: string;
	fetch?: typeof fetch;
}

const base64ToHex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

export class LndCalls {
	private readonly f: typeof fetch;
	constructor(private readonly o: LndCallOptions) {
		this.f = o.fetch ?? ((i, init) => globalThis.fetch(i, init));
	}

	private async call(method: string, path: string, body?: unknown): Promise<string> {
		const res = await this.f(`${this.o.restUrl}${path}`, {
			method,
			headers: { 'Grpc-Metadata-macaroon': this.o.macaroonHex, 'Content-Type': 'application/json' },
			...(body === undefined ? {} : { body: JSON.stringify(body) })
		});
		const text = await res.text();
		if (!res.ok) {
			let message = text;
			try {
				message = (JSON.parse(text) as { message?: string }).message ?? text;
			} catch {
				/* not JSON */
			}
			throw new LndCallError(res.status, message);
		}
		return text;
	}

	async getInfo(): Promise<{ pubkey: string }> {
		return {
			pubkey: (JSON.parse(await this.call('GET', '/v1/getinfo')) as { identity_pubkey: string })
				.identity_pubkey
		};
	}

	async createInvoice(req: {
		amountMsat: bigint;
		memo?: string;
		expirySeconds: number;
	}): Promise<{ paymentRequest: string; paymentHash: string }> {
		const r = JSON.parse(
			await this.call('POST', '/v1/invoices', {
				value_msat: req.amountMsat.toString(),
				memo: req.memo ?? '',
				expiry: String(req.expirySeconds)
			})
		) as { payment_request: string; r_hash: string };
		return { paymentRequest: r.payment_request, paymentHash: base64ToHex(r.r_hash) };
	}

	async lookupInvoice(paymentHash: string): Promise<{ state: string }> {
		return {
			state: (
				JSON.parse(await this.call('GET', `/v1/invoice/${paymentHash}`)) as { state: string }
			).state.toLowerCase()
		};
	}

	/** SendPaymentV2 to its end; the final status ('succeeded' or 'failed'). A stream's error line throws. */
	async pay(req: {
		paymentRequest: string;
		feeLimitMsat: bigint;
		timeoutSeconds: number;
	}): Promise<{ status: string }> {
		const text = await this.call('POST', '/v2/router/send', {
			payment_request: req.paymentRequest,
			fee_limit_msat: req.feeLimitMsat.toString(),
			timeout_seconds: req.timeoutSeconds,
			no_inflight_updates: true
		});
		const lines = text
			.trim()
			.split('\n')
			.map(
				(l) =>
					JSON.parse(l) as {
						result?: { status: string };
						error?: { code: number; message: string };
					}
			);
		const last = lines.at(-1);
		if (last?.error) throw new LndCallError(500, last.error.message);
		return { status: (last?.result?.status ?? 'UNKNOWN').toLowerCase() };
	}
}
