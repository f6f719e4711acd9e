// Where lnc-web's wasm client comes from: the app's own copy when it serves one, else lnc-web's CDN.

/** Where the app serves its own copy of lnc-web's wasm client, when the operator put one in static/. */
export const SELF_HOSTED_WASM_PATH = '/lnc/wasm-client.wasm';

/**
 * Picks the wasm client URL: the configured one, else the self-hosted copy when it is really there
 * and served as `application/wasm` (lnc-web instantiates it with `WebAssembly.instantiateStreaming`,
 * which refuses any other type; a SPA fallback answering HTML does not count), else undefined
 * (lnc-web's default, its CDN).
 */
export async function resolveWasmClientCode(
	options: { configured?: string; selfHostedUrl?: string; fetch?: typeof fetch } = {}
): Promise<string | undefined> {
	if (options.configured) return options.configured;
	const url = options.selfHostedUrl ?? SELF_HOSTED_WASM_PATH;
	const fetchFn =
		options.fetch ??
		((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
	try {
		const response = await fetchFn(url, { method: 'HEAD' });
		const type = response.headers.get('content-type') ?? '';
		return response.ok && /^application\/wasm\b/i.test(type) ? url : undefined;
	} catch {
		return undefined;
	}
}
