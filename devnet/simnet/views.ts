// LND REST JSON views of the simnet's objects (the shapes LND's gateway writes).
import {
	channelReserveSat,
	type Simnet,
	type SimChannel,
	type SimInvoice,
	type SimPayment
} from '../../src/lib/lightning/simnet/index.js';
import {
	hexToBase64,
	type LndAmount,
	type LndChannel,
	type LndInvoice,
	type LndPayment
} from '../../src/lib/lightning/index.js';

export function amount(msat: bigint): LndAmount {
	return { sat: (msat / 1000n).toString(), msat: msat.toString() };
}

export function invoiceJson(invoice: SimInvoice): LndInvoice {
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

export function paymentJson(payment: SimPayment): LndPayment {
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

export function channelJson(network: Simnet, name: string, c: SimChannel): LndChannel {
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
		total_satoshis_sent: (c.initiator === name
			? c.totalSatoshisSent
			: c.totalSatoshisReceived
		).toString(),
		total_satoshis_received: (c.initiator === name
			? c.totalSatoshisReceived
			: c.totalSatoshisSent
		).toString(),
		num_updates: String(c.numUpdates),
		private: false,
		initiator: c.initiator === name,
		local_chan_reserve_sat: reserve,
		remote_chan_reserve_sat: reserve,
		push_amount_sat: '0',
		memo: ''
	};
}
