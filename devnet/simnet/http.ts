// The HTTP side of the simnet's LND REST dialect: gRPC status codes as LND's gateway maps them,
// request parsing, error answers and NDJSON streams. Node only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimnetError } from '../../src/lib/lightning/simnet/index.js';
import { base64ToHex, type LndRpcStatus } from '../../src/lib/lightning/index.js';

/** gRPC status codes LND's gateway reports, with the HTTP status it maps them to. */
export const GRPC = {
	UNKNOWN: [2, 500],
	INVALID_ARGUMENT: [3, 400],
	NOT_FOUND: [5, 404],
	ALREADY_EXISTS: [6, 409],
	UNAUTHENTICATED: [16, 401]
} as const;

export class HttpError extends Error {
	constructor(
		readonly grpc: readonly [number, number],
		message: string
	) {
		super(message);
	}
}

function fromSimnetError(e: SimnetError): HttpError {
	switch (e.code) {
		case 'not_found':
			return new HttpError(GRPC.NOT_FOUND, e.message);
		case 'already_paid':
			return new HttpError(GRPC.ALREADY_EXISTS, e.message);
		case 'invalid_request':
			return new HttpError(GRPC.INVALID_ARGUMENT, e.message);
		default:
			return new HttpError(GRPC.UNKNOWN, e.message);
	}
}

export function toHttpError(e: unknown): HttpError {
	if (e instanceof HttpError) return e;
	if (e instanceof SimnetError) return fromSimnetError(e);
	if (e instanceof TypeError || e instanceof SyntaxError)
		return new HttpError(GRPC.INVALID_ARGUMENT, e.message);
	return new HttpError(GRPC.UNKNOWN, e instanceof Error ? e.message : String(e));
}

export function status(e: HttpError): LndRpcStatus {
	return { code: e.grpc[0], message: e.message, details: [] };
}

export const CORS_HEADERS = {
	'Access-Control-Allow-Origin': '*',
	'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
	'Access-Control-Allow-Headers': 'Grpc-Metadata-macaroon, Content-Type',
	'Access-Control-Max-Age': '600'
};

/** Reads a bytes parameter given as base64 (std or url-safe) or, for convenience, hex. */
export function hashParam(value: string | null | undefined, field: string): string {
	if (!value) throw new HttpError(GRPC.INVALID_ARGUMENT, `${field} is required`);
	// URLSearchParams turns a '+' of standard base64 into a space.
	const cleaned = value.replace(/ /g, '+');
	if (/^[0-9a-f]{64}$/i.test(cleaned)) return cleaned.toLowerCase();
	let hex: string;
	try {
		hex = base64ToHex(cleaned);
	} catch {
		throw new HttpError(GRPC.INVALID_ARGUMENT, `${field} is not valid base64`);
	}
	if (hex.length !== 64) throw new HttpError(GRPC.INVALID_ARGUMENT, `${field} must be 32 bytes`);
	return hex;
}

export function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > 1_000_000) {
				reject(new HttpError(GRPC.INVALID_ARGUMENT, 'request body too large'));
				req.destroy();
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => {
			const text = Buffer.concat(chunks).toString('utf8').trim();
			if (text === '') return resolve({});
			try {
				const parsed: unknown = JSON.parse(text);
				if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
					reject(new HttpError(GRPC.INVALID_ARGUMENT, 'request body must be a JSON object'));
				} else resolve(parsed as Record<string, unknown>);
			} catch {
				reject(new HttpError(GRPC.INVALID_ARGUMENT, 'request body is not valid JSON'));
			}
		});
		req.on('error', reject);
	});
}

/** Answers with LND's error shape; a stream already started gets the error as its last line. */
export function sendError(res: ServerResponse, e: HttpError, streaming: boolean): void {
	if (res.headersSent) {
		if (!res.writableEnded) res.end(JSON.stringify({ error: status(e) }) + '\n');
		return;
	}
	res.writeHead(e.grpc[1], { ...CORS_HEADERS, 'Content-Type': 'application/json' });
	// grpc-gateway wraps errors of streaming calls as a stream line.
	res.end(JSON.stringify(streaming ? { error: status(e) } : status(e)) + (streaming ? '\n' : ''));
}

/** The open NDJSON streams, so stopping the server can end them. */
export class Streams {
	private readonly open = new Set<ServerResponse>();

	start(res: ServerResponse): void {
		res.writeHead(200, {
			...CORS_HEADERS,
			'Content-Type': 'application/json',
			'Cache-Control': 'no-cache'
		});
		res.flushHeaders();
		this.open.add(res);
		res.on('close', () => this.open.delete(res));
	}

	writeLine(res: ServerResponse, result: unknown): void {
		if (!res.writableEnded) res.write(JSON.stringify({ result }) + '\n');
	}

	endAll(): void {
		for (const res of this.open) res.end();
	}
}
