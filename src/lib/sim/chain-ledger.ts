// Puts a simulation on a real chain: deploys fresh contracts (so each run starts with empty
// queues), registers every station with the simulator's key as its signer, and returns the
// chain-backed SimLedger. Browser + Node; needs a funded key (gas-free networks need none).
import { Wallet } from 'ethers';
import { connectLedger, type Ledger } from '../ledger/client.js';
import { deployLedger } from '../ledger/deploy.js';
import { ChainSimLedger } from './ledger-port.js';

export interface SimChain {
	ledger: ChainSimLedger;
	raw: Ledger;
	addresses: { registry: string; reservations: string; sessions: string };
	close(): void;
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
		return { ledger: new ChainSimLedger(raw, offset), raw, addresses, close: () => raw.close() };
	} catch (error) {
		raw.close();
		throw error;
	}
}
