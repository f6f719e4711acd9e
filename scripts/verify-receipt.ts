// Re-verifies a Lightcharge receipt exported by the wallet, trusting neither the wallet nor the
// station: signatures of the readings, billing records, invoice hashes, preimages, Merkle proofs,
// and the anchors on the ledger (at the RPC named in the receipt, or --rpc URL; --offline skips it).
//   npm run verify-receipt -- receipt.json [--rpc http://127.0.0.1:8545] [--offline]
// Exit code 0 when everything checked passes, 1 when something fails, 2 on bad usage or input.
import { readFile } from 'node:fs/promises';
import { connectLedger } from '../src/lib/ledger';
import { parseReceipt, verifyReceipt, type LedgerAnchor } from '../src/lib/session';

function usage(message: string): never {
	console.error(`${message}\nusage: npm run verify-receipt -- FILE [--rpc URL] [--offline]`);
	process.exit(2);
}

const args = process.argv.slice(2);
let file: string | undefined;
let rpcOverride: string | undefined;
let offline = false;
for (let i = 0; i < args.length; i++) {
	const a = args[i]!;
	if (a === '--rpc') rpcOverride = args[++i] ?? usage('--rpc needs a URL');
	else if (a === '--offline') offline = true;
	else if (a.startsWith('--')) usage(`unknown option ${a}`);
	else if (file) usage('give one receipt file');
	else file = a;
}
if (!file) usage('no receipt file given');

let receipt;
try {
	receipt = parseReceipt(JSON.parse(await readFile(file, 'utf8')));
} catch (e) {
	console.error(`${file}: ${(e as Error).message}`);
	process.exit(2);
}

let ledgerAnchors: LedgerAnchor[] | null = null;
if (!offline) {
	const ledgerInfo = receipt.ledger;
	const rpcUrl = rpcOverride ?? ledgerInfo?.rpcUrl;
	if (!ledgerInfo || !rpcUrl) {
		console.error('The receipt names no ledger: run with --offline to check everything else.');
		process.exit(2);
	}
	try {
		const ledger = await connectLedger({
			rpcUrl,
			expectedChainId: ledgerInfo.chainId,
			addresses: {
				registry: ledgerInfo.registry,
				reservations: ledgerInfo.registry,
				sessions: ledgerInfo.sessions
			},
			skipCodeCheck: ['reservations']
		});
		ledgerAnchors = await ledger.getAnchors(receipt.stationId, receipt.sessionId);
		ledger.close();
	} catch (e) {
		console.error(`The ledger at ${rpcUrl} could not be read: ${(e as Error).message}`);
		process.exit(1);
	}
}

const result = verifyReceipt(receipt, ledgerAnchors);
console.log(
	`Receipt ${receipt.sessionId} at ${receipt.stationName} (${receipt.stationId}): ${receipt.totals.energyWh} Wh, ${receipt.totals.paidMsat} msat paid`
);
for (const c of result.checks)
	console.log(
		`${c.status === 'pass' ? 'PASS' : c.status === 'fail' ? 'FAIL' : 'SKIP'}  ${c.what}: ${c.detail}`
	);
console.log(result.ok ? 'VERIFIED' : 'NOT VERIFIED');
process.exit(result.ok ? 0 : 1);
