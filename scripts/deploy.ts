// npm run deploy -- --rpc URL --key-file FILE [--chain-id N]
// Deploys StationRegistry, Reservations and SessionLedger to any Ethereum JSON-RPC endpoint (a
// GoQuorum or Besu QBFT network, or the devnet chain) with gas price 0. The key's account becomes
// the registry operator. Prints the addresses, then one JSON line for scripts to read.
import { deployLedger } from '../src/lib/ledger/index.js';
import { chainIdArg, parseCli, readKeyFile, rpcUrlArg, runCli } from './ledger-cli.js';

const USAGE = `usage: npm run deploy -- --rpc URL --key-file FILE [--chain-id N]

  --rpc URL        JSON-RPC endpoint of a node, e.g. http://127.0.0.1:8545
  --key-file FILE  file holding the deployer's private key (hex); this account becomes the operator
  --chain-id N     refuse to deploy unless the node is chain N (quorum-dev-quickstart: 1337)`;

runCli(async () => {
	const { values } = parseCli(
		{ rpc: { type: 'string' }, 'key-file': { type: 'string' }, 'chain-id': { type: 'string' } },
		['rpc', 'key-file'],
		USAGE
	);
	const rpcUrl = rpcUrlArg(values.rpc as string);
	const expectedChainId = chainIdArg(values['chain-id'] as string | undefined);
	const key = await readKeyFile(values['key-file'] as string);
	const started = performance.now();
	const deployment = await deployLedger(rpcUrl, key, { expectedChainId });
	console.log(
		`Deployed the Lightcharge ledger to chain ${deployment.chainId} at ${rpcUrl} (block ${deployment.blockNumber}, ${((performance.now() - started) / 1000).toFixed(1)} s)`
	);
	console.log(`  StationRegistry  ${deployment.registry}`);
	console.log(`  Reservations     ${deployment.reservations}`);
	console.log(`  SessionLedger    ${deployment.sessions}`);
	console.log(
		`  operator         ${deployment.operator} (registers stations: npm run register-station -- --registry ${deployment.registry} ...)`
	);
	console.log(JSON.stringify({ rpcUrl, ...deployment }));
});
