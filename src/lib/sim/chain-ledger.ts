// Puts a simulation on a real chain: deploys fresh contracts (so each run starts with empty
// queues), registers every station with the simulator's key as its signer, gives each vehicle an
// account of its own for its reservations (derived from the deployment, so reruns differ), and
// returns the chain-backed SimLedger. Browser + Node; needs a funded key for the operator; the
// vehicles' accounts send at gas price 0, so the network must be gas-free (the devnet is).
import { keccak256, toUtf8Bytes, Wallet } from 'ethers';
import { connectLedger, type Ledger, deployLedger } from '../ledger';
import { ChainSimLedger } from './ledger-port';

export interface SimChain {
	ledger: ChainSimLedger;
	raw: Ledger;
	addresses: { registry: string; reservations: string; sessions: string };
	close(): void;
}

/** A vehicle's reservation key: deterministic per deployment and vehicle. Simulation only. */
export function vehicleKey(reservationsAddress: string, vehicleRef: string): string {
	return keccak256(
		toUtf8Bytes(`lightcharge-sim vehicle key ${reservationsAddress.toLowerCase()} ${vehicleRef}`)
	);
}

export async function deploySimChain(o: {
	rpcUrl: string;
	key: string;
	startMs: number;
	stationIds: string[];
	lightningPubkeys: string[];
	locations?: string[];
}): Promise<SimChain> {
	const addresses = await deployLedger(o.rpcUrl, o.key);
	const raw = await connectLedger({ rpcUrl: o.rpcUrl, addresses, signerKey: o.key });
	try {
		const signer = new Wallet(o.key).address;
		// Registrations are independent: submit them all, then wait (the client serialises nonces).
		await Promise.all(
			o.stationIds.map((stationId, i) =>
				raw.registerStation({
					stationId,
					signer,
					lightningPubkey: o.lightningPubkeys[i]!,
					tariffRef: `0x${'00'.repeat(32)}`,
					location: o.locations?.[i] ?? 'simulated city'
				})
			)
		);
		const chainNow = await raw.getChainTime();
		const offset = chainNow + 5 - Math.floor(o.startMs / 1000);
		const vehicles = new Map<string, Promise<Ledger>>();
		const vehicleLedger = (ref: string) => {
			let l = vehicles.get(ref);
			if (!l) {
				l = connectLedger({
					rpcUrl: o.rpcUrl,
					addresses,
					signerKey: vehicleKey(addresses.reservations, ref)
				});
				vehicles.set(ref, l);
			}
			return l;
		};
		const close = () => {
			raw.close();
			for (const l of vehicles.values())
				void l.then(
					(x) => x.close(),
					() => undefined
				);
		};
		return { ledger: new ChainSimLedger(raw, offset, vehicleLedger), raw, addresses, close };
	} catch (error) {
		raw.close();
		throw error;
	}
}
