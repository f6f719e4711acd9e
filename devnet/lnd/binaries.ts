// Where scripts/build-lnd.sh puts the real nodes, and whether they are there. Node only.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LND_BIN_DIR = path.resolve(
	path.dirname(fileURLToPath(import.meta.url)),
	'../../infra/bin'
);
export const LND_BINARIES = ['lnd', 'lncli', 'btcd', 'btcctl'] as const;
export type LndBinary = (typeof LND_BINARIES)[number];

export function binaryPath(name: LndBinary, binDir = LND_BIN_DIR): string {
	return path.join(binDir, name);
}

/** The binaries missing from `binDir` (empty when all are built). */
export function missingBinaries(binDir = LND_BIN_DIR): LndBinary[] {
	return LND_BINARIES.filter((name) => {
		try {
			accessSync(binaryPath(name, binDir), constants.X_OK);
			return false;
		} catch {
			return true;
		}
	});
}

export function lndBinariesPresent(binDir = LND_BIN_DIR): boolean {
	return missingBinaries(binDir).length === 0;
}

/** Throws the sentence a person needs when the nodes were not built yet. */
export function requireBinaries(binDir = LND_BIN_DIR): void {
	const missing = missingBinaries(binDir);
	if (missing.length > 0) {
		throw new Error(
			`real LND needs ${missing.join(', ')} in ${binDir}, which are not built yet — run scripts/build-lnd.sh (Go >= 1.25 and the Go module proxy; about 10 minutes the first time)`
		);
	}
}
