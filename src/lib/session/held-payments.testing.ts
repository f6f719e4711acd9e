// Test support: a driver's Lightning node that counts the payments it sends and can hold them at
// a gate (a slow payer, or a payment in flight when the wallet crashes). Used by session tests only.
import type { LightningNode, PaymentUpdate, PayRequest } from '../lightning';

export class HeldPayments implements LightningNode {
	readonly kind = 'simnet' as const;
	sent = 0;
	/** Answer like a retried request would: the payment goes through, the answer says "already paid". */
	answerAlreadyPaid = false;
	/** The next this-many payments fail at once with "no route", and nothing leaves the node. */
	failNext = 0;
	private gate: Promise<void> | null = null;
	private open: () => void = () => undefined;
	constructor(private readonly inner: LightningNode) {}
	hold(): void {
		this.gate = new Promise((r) => (this.open = r));
	}
	release(): void {
		this.open();
		this.gate = null;
	}
	async pay(req: PayRequest, onUpdate?: (u: PaymentUpdate) => void): Promise<PaymentUpdate> {
		this.sent++;
		if (this.gate) await this.gate;
		if (this.failNext > 0) {
			this.failNext--;
			return {
				paymentHash: '',
				status: 'failed',
				valueMsat: 0n,
				feeMsat: 0n,
				failureReason: 'no_route',
				message: 'held back by the test'
			};
		}
		const u = await this.inner.pay(req, onUpdate);
		return this.answerAlreadyPaid
			? { ...u, status: 'failed', failureReason: 'already_paid', preimage: undefined }
			: u;
	}
	getInfo = () => this.inner.getInfo();
	getBalances = () => this.inner.getBalances();
	listChannels = () => this.inner.listChannels();
	openChannel: LightningNode['openChannel'] = (r) => this.inner.openChannel(r);
	createInvoice: LightningNode['createInvoice'] = (r) => this.inner.createInvoice(r);
	lookupInvoice: LightningNode['lookupInvoice'] = (h) => this.inner.lookupInvoice(h);
	watchInvoice: LightningNode['watchInvoice'] = (h, u, e) => this.inner.watchInvoice(h, u, e);
	trackPayment: LightningNode['trackPayment'] = (h, u) => this.inner.trackPayment(h, u);
	decodePaymentRequest: LightningNode['decodePaymentRequest'] = (p) =>
		this.inner.decodePaymentRequest(p);
}
