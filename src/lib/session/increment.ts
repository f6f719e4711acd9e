// How much energy a station bills per invoice (the tariff's incrementWh), chosen from the price
// and the route's fee so the driver's fee overhead stays under a target (1 %) with the least
// energy at risk (the station gives at most one increment, plus grace, on credit).
//
// One Lightning payment of A msat through a hub costs base + ppm·A/10⁶ msat (BOLT #7
// fee_base_msat, fee_proportional_millionths; LND's default policy is 1 sat + 1 ppm). Its share
// of the payment is base/A + ppm/10⁶, so the share stays under `target` when
//     A > base / (target − ppm/10⁶),   i.e.   incrementWh > base·1000 / (price·(target − ppm/10⁶))
// with price in msat per kWh. A second floor comes from the payment round trip: a station that
// invoices faster than one payment per `minIntervalS` suspends a fast car (docs/sim.md, economics:
// at 150 kW with a 2.5 s settle small increments suspend), so incrementWh ≥ maxPowerW·minIntervalS/3600.
// The station's limits (minWh/maxWh) are applied last; the result says if they push the share over.

export interface FeePolicy {
	/** BOLT #7 fee_base_msat. */
	baseMsat: number;
	/** BOLT #7 fee_proportional_millionths. */
	ppm: number;
}

/** LND's default routing policy (lnd.conf bitcoin.basefee=1000, bitcoin.feerate=1). */
export const LND_DEFAULT_FEE: FeePolicy = { baseMsat: 1000, ppm: 1 };

/** The routing fee of one payment of `amountMsat`, in msat, rounded down as LND does. */
export function routingFeeMsat(amountMsat: number, policy: FeePolicy): number {
	return policy.baseMsat + Math.floor((amountMsat * policy.ppm) / 1_000_000);
}

/** The fee share (0.01 = 1 %) of paying an increment of `incrementWh` at `pricePerKwhMsat`. */
export function feeOverhead(
	incrementWh: number,
	pricePerKwhMsat: number,
	policy: FeePolicy
): number {
	const amount = (incrementWh * pricePerKwhMsat) / 1000;
	return amount > 0 ? routingFeeMsat(amount, policy) / amount : Infinity;
}

export interface IncrementInput {
	pricePerKwhMsat: number;
	policy?: FeePolicy;
	/** The most the connector delivers, W. */
	maxPowerW: number;
	/** Largest fee share accepted; default 1 %. */
	targetShare?: number;
	/** The shortest time between two invoices a payment round trip sustains; default 3 s. */
	minIntervalS?: number;
	/** The station's limits on the increment. */
	minWh?: number;
	maxWh?: number;
	/** Round up to a multiple of this; default 10 Wh. */
	stepWh?: number;
}

export interface IncrementChoice {
	incrementWh: number;
	/** The fee share at that increment (0.0098 = 0.98 %). */
	feeShare: number;
	/** Which bound decided it. */
	bound: 'fee' | 'payment-rate' | 'station-min' | 'station-max';
	/** True when the station's maximum keeps the share above the target. */
	overTarget: boolean;
}

export class IncrementError extends Error {}

/** The least increment keeping the fee share under the target and the payment rate sustainable. */
export function chooseIncrement(input: IncrementInput): IncrementChoice {
	const policy = input.policy ?? LND_DEFAULT_FEE;
	const target = input.targetShare ?? 0.01;
	const step = input.stepWh ?? 10;
	const minInterval = input.minIntervalS ?? 3;
	const { pricePerKwhMsat: price, maxPowerW } = input;
	if (!(price > 0) || !Number.isFinite(price))
		throw new IncrementError('The price per kWh must be a positive number to choose an increment.');
	if (!(maxPowerW > 0) || !Number.isFinite(maxPowerW))
		throw new IncrementError("The connector's maximum power must be a positive number of watts.");
	if (!(policy.baseMsat >= 0) || !(policy.ppm >= 0))
		throw new IncrementError('A routing fee policy cannot be negative.');
	if (!(target > 0 && target < 1))
		throw new IncrementError('The fee target is a share between 0 and 1 (0.01 = 1 %).');
	if (!(step >= 1) || !Number.isInteger(step))
		throw new IncrementError('The increment step is a whole number of Wh, at least 1.');
	if (input.minWh !== undefined && input.maxWh !== undefined && input.minWh > input.maxWh)
		throw new IncrementError("The station's smallest increment is above its largest.");
	const headroom = target - policy.ppm / 1_000_000;
	if (!(headroom > 0))
		throw new IncrementError(
			`A ${policy.ppm} ppm proportional fee alone is over the ${target * 100} % target: no increment can meet it.`
		);
	const up = (wh: number) => Math.max(step, Math.ceil(wh / step) * step);

	let byFee = up((policy.baseMsat * 1000) / (price * headroom));
	// Strictly under the target, after LND's rounding.
	while (feeOverhead(byFee, price, policy) >= target) byFee += step;
	const byRate = up((maxPowerW * minInterval) / 3600);
	let incrementWh = Math.max(byFee, byRate);
	let bound: IncrementChoice['bound'] = byFee >= byRate ? 'fee' : 'payment-rate';
	if (input.minWh !== undefined && incrementWh < input.minWh) {
		incrementWh = input.minWh;
		bound = 'station-min';
	}
	if (input.maxWh !== undefined && incrementWh > input.maxWh) {
		incrementWh = input.maxWh;
		bound = 'station-max';
	}
	const feeShare = feeOverhead(incrementWh, price, policy);
	return { incrementWh, feeShare, bound, overTarget: feeShare >= target };
}
