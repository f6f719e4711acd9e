// A `fetch` for Node that talks HTTPS to one LND and trusts exactly that node's self-signed TLS
// certificate (LND's tls.cert), nothing else: no system CAs, no NODE_TLS_REJECT_UNAUTHORIZED.
// Streams arrive as they come (the LND REST backend reads NDJSON line by line). Node only.
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { X509Certificate } from 'node:crypto';

/** TLS error codes Node reports for a certificate that is not the pinned one. */
const CERT_ERRORS = new Set([
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'CERT_SIGNATURE_FAILURE',
	'CERT_HAS_EXPIRED',
	'ERR_TLS_CERT_ALTNAME_INVALID'
]);

/** An error the pinned fetch raises when the node shows a certificate other than the pinned one. */
export class CertificateMismatchError extends Error {
	constructor(
		readonly url: string,
		readonly tlsCode: string
	) {
		super(`the TLS certificate of ${url} is not the one pinned for this node (${tlsCode})`);
		this.name = 'CertificateMismatchError';
	}
}

export function isCertificateError(e: unknown): boolean {
	let cur: unknown = e;
	for (let i = 0; i < 4 && cur; i++) {
		if (cur instanceof CertificateMismatchError) return true;
		const code = (cur as { code?: unknown }).code;
		if (typeof code === 'string' && CERT_ERRORS.has(code)) return true;
		cur = (cur as { cause?: unknown }).cause;
	}
	return false;
}

/** Throws a sentence when `pem` is not one PEM certificate (so a bad manifest fails at start). */
export function checkCertificatePem(pem: string, what: string): void {
	try {
		new X509Certificate(pem);
	} catch (e) {
		throw new Error(
			`${what} is not a PEM certificate (${e instanceof Error ? e.message : String(e)})`
		);
	}
}

export function pinnedFetch(certPem: string): typeof fetch {
	checkCertificatePem(certPem, 'the pinned LND certificate');
	const pinned: typeof fetch = (input, init) =>
		new Promise<Response>((resolve, reject) => {
			const url = new URL(input instanceof Request ? input.url : String(input));
			if (url.protocol !== 'https:') {
				reject(new TypeError(`pinnedFetch only speaks https (got ${url.protocol})`));
				return;
			}
			const headers: Record<string, string> = {};
			new Headers(init?.headers).forEach((value, key) => {
				headers[key] = value;
			});
			const body = init?.body;
			if (body !== undefined && body !== null && typeof body !== 'string') {
				reject(new TypeError('pinnedFetch sends string bodies only'));
				return;
			}
			if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
			const signal = init?.signal ?? undefined;
			if (signal?.aborted) {
				reject(signal.reason ?? new DOMException('This operation was aborted', 'AbortError'));
				return;
			}
			const req = httpsRequest(url, {
				method: init?.method ?? 'GET',
				headers,
				ca: certPem,
				// LND's certificate names localhost and the machine's addresses; the default identity check applies.
				rejectUnauthorized: true
			});
			const onAbort = () =>
				req.destroy(new DOMException('This operation was aborted', 'AbortError'));
			signal?.addEventListener('abort', onAbort, { once: true });
			req.on('response', (res) => {
				const responseHeaders = new Headers();
				for (const [k, v] of Object.entries(res.headers)) {
					if (typeof v === 'string') responseHeaders.set(k, v);
					else if (Array.isArray(v)) for (const item of v) responseHeaders.append(k, item);
				}
				res.on('close', () => signal?.removeEventListener('abort', onAbort));
				signal?.addEventListener('abort', () => res.destroy(), { once: true });
				const status = res.statusCode ?? 500;
				const nullBody = status === 204 || status === 304 || init?.method === 'HEAD';
				resolve(
					new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
						status,
						statusText: res.statusMessage ?? '',
						headers: responseHeaders
					})
				);
			});
			req.on('error', (err: NodeJS.ErrnoException) => {
				signal?.removeEventListener('abort', onAbort);
				if (typeof err.code === 'string' && CERT_ERRORS.has(err.code)) {
					reject(
						new TypeError('fetch failed', {
							cause: new CertificateMismatchError(url.origin, err.code)
						})
					);
				} else if (err.name === 'AbortError') {
					reject(err);
				} else {
					reject(new TypeError('fetch failed', { cause: err }));
				}
			});
			req.end(body ?? undefined);
		});
	return pinned;
}
