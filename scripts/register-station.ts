// npm run register-station -- --rpc URL --key-file FILE --registry ADDR --station-id ID
//   --signer ADDR --lightning-pubkey HEX [--location TEXT] [--tariff-ref 0xHEX32] [--chain-id N] [--update]
// Registers a charging station in StationRegistry (or, with --update, replaces its entry). The key
// must be the registry operator's. Prints the registry entry as read back, then one JSON line.
import { connectLedger } from '../src/lib/ledger/index.js';
import { chainIdArg, parseCli, readKeyFile, rpcUrlArg, runCli } from './ledger-cli.js';

const USAGE = `usage: npm run register-station -- --rpc URL --key-file FILE --registry ADDR --station-id ID --signer ADDR --lightning-pubkey HEX [options]

  --rpc URL                JSON-RPC endpoint of a node, e.g. http://127.0.0.1:8545
  --key-file FILE          file holding the registry operator's private key (hex)
  --registry ADDR          StationRegistry address (printed by npm run deploy)
  --station-id ID          the station's id as the kiosk announces it, e.g. ST-0042
  --signer ADDR            Ethereum address of the station's OCMF signing key
  --lightning-pubkey HEX   the station's Lightning node pubkey (66 hex characters)
  --location TEXT          where the station is (default: empty)
  --tariff-ref 0xHEX       SHA-256 of the tariff's canonical JSON (default: zero, set later by the station)
  --chain-id N             refuse to write unless the node is chain N
  --update                 replace an existing station's entry instead of registering a new one`;

const NO_TARIFF_REF = `0x${'00'.repeat(32)}`;

runCli(async () => {
	const { values } = parseCli(
		{
			rpc: { type: 'string' },
			'key-file': { type: 'string' },
			registry: { type: 'string' },
			'station-id': { type: 'string' },
			signer: { type: 'string' },
			'lightning-pubkey': { type: 'string' },
			location: { type: 'string' },
			'tariff-ref': { type: 'string' },
			'chain-id': { type: 'string' },
			update: { type: 'boolean' }
		},
		['rpc', 'key-file', 'registry', 'station-id', 'signer', 'lightning-pubkey'],
		USAGE
	);
	const rpcUrl = rpcUrlArg(values.rpc as string);
	const expectedChainId = chainIdArg(values['chain-id'] as string | undefined);
	const key = await readKeyFile(values['key-file'] as string);
	const registry = values.registry as string;
	// Only the registry is used: the other addresses are not needed to register a station.
	const ledger = await connectLedger({
		rpcUrl,
		expectedChainId,
		signerKey: key,
		addresses: { registry, reservations: registry, sessions: registry },
		skipCodeCheck: ['reservations', 'sessions']
	});
	try {
		const entry = {
			stationId: values['station-id'] as string,
			signer: values.signer as string,
			lightningPubkey: values['lightning-pubkey'] as string,
			tariffRef: (values['tariff-ref'] as string | undefined) ?? NO_TARIFF_REF,
			location: (values.location as string | undefined) ?? ''
		};
		const result = values.update
			? await ledger.updateStation(entry)
			: await ledger.registerStation(entry);
		const station = await ledger.getStation(entry.stationId);
		if (!station)
			throw new Error(
				`station ${entry.stationId} is not in the registry after transaction ${result.txHash}`
			);
		console.log(
			`${values.update ? 'Updated' : 'Registered'} station ${entry.stationId} on chain ${ledger.chainId} (tx ${result.txHash}, block ${result.blockNumber})`
		);
		console.log(`  key (bytes32)     ${station.stationId}`);
		console.log(`  signer            ${station.signer}`);
		console.log(`  Lightning pubkey  ${station.lightningPubkey}`);
		console.log(`  tariff ref        ${station.tariffRef}`);
		console.log(`  location          ${station.location}`);
		console.log(
			JSON.stringify({
				...station,
				registry: ledger.addresses.registry,
				chainId: ledger.chainId,
				txHash: result.txHash,
				blockNumber: result.blockNumber
			})
		);
	} finally {
		ledger.close();
	}
});
