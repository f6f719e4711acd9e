// Deploys StationRegistry, then Reservations and SessionLedger pointing at it. Browser + Node
// (the devnet and `npm run deploy` both call it). The deployer becomes the registry's operator.
import { ContractFactory, JsonRpcProvider, Network, NonceManager, Wallet } from 'ethers';
import { probeChainId } from './client';
import { LedgerError, toLedgerError } from './errors';
import { Reservations, SessionLedger, StationRegistry } from './generated/contracts';
import type { LedgerAddresses } from './types';

export interface DeployOptions {
	/** Refuse to deploy to any other chain. */
	expectedChainId?: number;
	/** Timeout of the first chain id probe. Default 5000 ms. */
	connectTimeoutMs?: number;
}

export interface LedgerDeployment extends LedgerAddresses {
	chainId: number;
	/** The deployer's address: the registry's operator, the only account that registers stations. */
	operator: string;
	/** Block of the StationRegistry deployment: where log scans (ConnectLedgerOptions.fromBlock) can start. */
	blockNumber: number;
}

export async function deployLedger(
	rpcUrl: string,
	deployerKey: string,
	opts: DeployOptions = {}
): Promise<LedgerDeployment> {
	let wallet: Wallet;
	try {
		wallet = new Wallet(deployerKey);
	} catch (error) {
		throw new LedgerError(
			'invalid-input',
			'deployer key is not a valid private key (0x + 64 hex)',
			undefined,
			{ cause: error }
		);
	}
	const chainId = await probeChainId(rpcUrl, opts.connectTimeoutMs ?? 5000);
	if (opts.expectedChainId !== undefined && chainId !== opts.expectedChainId) {
		throw new LedgerError(
			'wrong-chain',
			`${rpcUrl} is chain ${chainId}, but chain ${opts.expectedChainId} was expected`
		);
	}
	// staticNetwork: never re-detect (ethers would otherwise retry forever when the node goes away).
	const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), {
		staticNetwork: true,
		cacheTimeout: -1,
		batchStallTime: 0,
		pollingInterval: 250
	});
	try {
		const deployer = new NonceManager(wallet.connect(provider));
		const overrides = { gasPrice: 0n };
		const registry = await new ContractFactory(
			StationRegistry.abi,
			StationRegistry.bytecode,
			deployer
		).deploy(overrides);
		const registryAddress = await registry.getAddress();
		// The constructors only store the registry's address, so all three can be in one block.
		const reservations = await new ContractFactory(
			Reservations.abi,
			Reservations.bytecode,
			deployer
		).deploy(registryAddress, overrides);
		const sessions = await new ContractFactory(
			SessionLedger.abi,
			SessionLedger.bytecode,
			deployer
		).deploy(registryAddress, overrides);
		await Promise.all([
			registry.waitForDeployment(),
			reservations.waitForDeployment(),
			sessions.waitForDeployment()
		]);
		const receipt = await registry.deploymentTransaction()?.wait();
		return {
			chainId,
			registry: registryAddress,
			reservations: await reservations.getAddress(),
			sessions: await sessions.getAddress(),
			operator: wallet.address,
			blockNumber: receipt?.blockNumber ?? 0
		};
	} catch (error) {
		throw toLedgerError(error, 'deploying the ledger contracts', rpcUrl);
	} finally {
		provider.destroy();
	}
}
