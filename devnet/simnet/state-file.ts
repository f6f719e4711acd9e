// The simnet's state file: loaded at start, saved (debounced) on every change and at stop.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Simnet, SimnetState } from '../../src/lib/lightning/simnet/index.js';

export interface PersistedState {
	version: 1;
	simnet: SimnetState;
	/** Each node's admin macaroon (hex), as handed out in the manifest. */
	macaroons: Record<string, string>;
	/** Each node's macaroon root key (hex); absent in state files from before scoped macaroons. */
	rootKeys?: Record<string, string>;
}

/** Saves `network`, its macaroons and root keys to `file` shortly after each change; `stop()` saves once more. */
export function autosave(
	network: Simnet,
	macaroons: Map<string, string>,
	rootKeys: Map<string, Buffer>,
	file: string
): { stop(): Promise<void> } {
	let saveTimer: NodeJS.Timeout | undefined;
	let saving: Promise<void> = Promise.resolve();
	const saveNow = async () => {
		const state: PersistedState = {
			version: 1,
			simnet: network.toJSON(),
			macaroons: Object.fromEntries(macaroons),
			rootKeys: Object.fromEntries([...rootKeys].map(([name, key]) => [name, key.toString('hex')]))
		};
		await mkdir(dirname(file), { recursive: true });
		const tmp = `${file}.tmp`;
		await writeFile(tmp, JSON.stringify(state, null, 1), { mode: 0o600 });
		await rename(tmp, file);
	};
	const scheduleSave = () => {
		if (saveTimer) return;
		saveTimer = setTimeout(() => {
			saveTimer = undefined;
			saving = saving.then(saveNow).catch((e: unknown) => {
				console.error(`Lightning simnet: could not save state to ${file}: ${String(e)}`);
			});
		}, 100);
	};
	const unsubscribe = network.subscribe(scheduleSave);
	scheduleSave();
	return {
		async stop() {
			unsubscribe();
			if (saveTimer) {
				clearTimeout(saveTimer);
				saveTimer = undefined;
			}
			await saving;
			await saveNow();
		}
	};
}

export async function loadState(file: string): Promise<PersistedState | undefined> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw new Error(`Cannot read the Lightning simnet state file ${file}: ${(e as Error).message}`);
	}
	try {
		const state = JSON.parse(text) as PersistedState;
		if (state.version !== 1 || !state.simnet) throw new Error('unknown format');
		return state;
	} catch (e) {
		throw new Error(
			`The Lightning simnet state file ${file} is not valid (${(e as Error).message}); delete it to start a fresh network.`
		);
	}
}
