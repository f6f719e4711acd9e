// Deploys StationRegistry, then Reservations and SessionLedger pointing at it. Browser + Node
// (the devnet and the future `npm run deploy` both call it). The deployer becomes the registry's
// operator.
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet } from 'ethers';
import { LedgerError, toLedgerError } from './errors.js';
import { Reservations, SessionLedger, StationRegistry } from './generated/contracts.js';
import type { LedgerAddresses } from './types.js';

export async function deployLedger(rpcUrl: string, deployerKey: string): Promise<LedgerAddresses> {
	const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 250 });
	try {
		let wallet: Wallet;
		try {
			wallet = new Wallet(deployerKey, provider);
		} catch (error) {
			throw new LedgerError('invalid-input', 'deployer key is not a valid private key (0x + 64 hex)', undefined, { cause: error });
		}
		const deployer = new NonceManager(wallet);
		const overrides = { gasPrice: 0n };
		try {
			const registry = await new ContractFactory(StationRegistry.abi, StationRegistry.bytecode, deployer).deploy(overrides);
			const registryAddress = await registry.getAddress();
			// The constructors only store the registry's address, so all three can be in one block.
			const reservations = await new ContractFactory(Reservations.abi, Reservations.bytecode, deployer).deploy(
				registryAddress,
				overrides
			);
			const sessions = await new ContractFactory(SessionLedger.abi, SessionLedger.bytecode, deployer).deploy(
				registryAddress,
				overrides
			);
			await Promise.all([registry.waitForDeployment(), reservations.waitForDeployment(), sessions.waitForDeployment()]);
			return { registry: registryAddress, reservations: await reservations.getAddress(), sessions: await sessions.getAddress() };
		} catch (error) {
			throw toLedgerError(error, 'deploying the ledger contracts', rpcUrl);
		}
	} finally {
		provider.destroy();
	}
}
