// Writes the devnet manifest to <state dir>/devnet.json (the static servers serve it from memory).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDevnetManifest, type DevnetManifest } from '../src/lib/config';

export type { DevnetManifest } from '../src/lib/config';
/** The apps' own parser, for the devnet's tests and tools (one link to src/lib/config here). */
export { parseDevnetManifest };

export const MANIFEST_FILE = 'devnet.json';

export function manifestPath(stateDir: string): string {
	return path.resolve(stateDir, MANIFEST_FILE);
}

/**
 * Validates `manifest` with the same parser the apps use (so the devnet never writes one they reject)
 * and writes it atomically; returns the file's path.
 */
export function writeManifest(stateDir: string, manifest: DevnetManifest): string {
	const checked = parseDevnetManifest(JSON.parse(JSON.stringify(manifest)));
	mkdirSync(stateDir, { recursive: true });
	const file = manifestPath(stateDir);
	const temp = `${file}.${process.pid}.tmp`;
	writeFileSync(temp, `${JSON.stringify(checked, null, '\t')}\n`, { mode: 0o600 });
	renameSync(temp, file);
	return file;
}
