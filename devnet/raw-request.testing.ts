// Test support for the devnet's gateway tests: one HTTP(S) request with the path sent exactly as
// given (no client-side normalisation), so traversal spellings reach the server as a stranger would
// send them.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

export interface Answer {
	status: number;
	headers: http.IncomingHttpHeaders;
	body: string;
}

export interface RawInit {
	method?: string;
	headers?: Record<string, string>;
	body?: string | Buffer;
}

/** `ca`: the devnet's certificate, trusted for an https base. */
export function rawRequest(
	base: string,
	rawPath: string,
	init: RawInit,
	ca: string | undefined
): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const url = new URL(base);
		const client = url.protocol === 'https:' ? https : http;
		const req = client.request(
			{
				host: url.hostname,
				port: url.port,
				path: rawPath,
				method: init.method ?? 'GET',
				headers: init.headers,
				ca,
				agent: false,
				// A forged Host header is also what Node checks the certificate against: check the real address instead.
				checkServerIdentity: (_host: string, cert: Parameters<typeof tls.checkServerIdentity>[1]) =>
					tls.checkServerIdentity(url.hostname, cert)
			},
			(res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (c: string) => (body += c));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
			}
		);
		req.setTimeout(20_000, () => req.destroy(new Error(`no answer to ${rawPath} within 20 s`)));
		req.on('error', reject);
		req.end(init.body);
	});
}
