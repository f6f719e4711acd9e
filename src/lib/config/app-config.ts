// Where the apps find their network: the devnet's manifest at /devnet.json when they are served
// by the devnet; settings for real deployments come from the same shape (see README).
import { parseDevnetManifest, type DevnetManifest } from './devnet-manifest';

export async function loadDevnetManifest(fetchImpl: typeof fetch = fetch): Promise<DevnetManifest> {
	let res: Response;
	// `cache` is the browser's (Node's fetch types lack it, and Node does not cache): always ask anew.
	const init: RequestInit & { cache?: 'no-store' } = { cache: 'no-store' };
	try {
		res = await fetchImpl('/devnet.json', init);
	} catch {
		throw new Error(
			'The network settings could not be loaded (/devnet.json): is the devnet running, or are you offline?'
		);
	}
	if (!res.ok) {
		// The devnet says why in a sentence (e.g. it has no car node left for this phone).
		const why = res.headers.get('content-type')?.startsWith('text/plain')
			? (await res.text().catch(() => '')).trim().slice(0, 300)
			: '';
		throw new Error(
			`The network settings could not be loaded (/devnet.json answered ${res.status}${why ? `: ${why}` : ''}).`
		);
	}
	return parseDevnetManifest(await res.json());
}

/** A positive number from the page's query string, for demo and test tuning (e.g. `?pollMs=250`). */
export function queryNumber(params: URLSearchParams, name: string, fallback: number): number {
	const raw = params.get(name);
	if (raw === null) return fallback;
	const n = Number(raw);
	return Number.isFinite(n) && n > 0 ? n : fallback;
}
