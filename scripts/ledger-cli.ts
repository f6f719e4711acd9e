// Shared by scripts/deploy.ts and scripts/register-station.ts: argument parsing, reading a key
// file, and turning failures into one readable line and exit code 1 (no stack traces for people).
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LedgerError } from '../src/lib/ledger/index.js';

export class UsageError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'UsageError';
	}
}

export function parseCli<T extends NonNullable<ParseArgsConfig['options']>>(
	options: T,
	required: (keyof T & string)[],
	usage: string
): { values: Record<keyof T & string, string | boolean | undefined> } {
	let values: Record<string, string | boolean | undefined>;
	try {
		const config: ParseArgsConfig = {
			options: { ...options, help: { type: 'boolean' } },
			allowPositionals: false,
			strict: true
		};
		values = parseArgs(config).values as Record<string, string | boolean | undefined>;
	} catch (error) {
		throw new UsageError(`${(error as Error).message}\n\n${usage}`);
	}
	if (values.help) {
		console.log(usage);
		process.exit(0);
	}
	const missing = required.filter((name) => values[name] === undefined);
	if (missing.length > 0)
		throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${usage}`);
	return { values: values as Record<keyof T & string, string | boolean | undefined> };
}

export function rpcUrlArg(value: string): string {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw new UsageError(
			`--rpc must be an http(s) URL such as http://127.0.0.1:8545, got "${value}"`
		);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:')
		throw new UsageError(`--rpc must be an http(s) URL, got "${value}"`);
	return value;
}

export function chainIdArg(value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
		throw new UsageError(`--chain-id must be a positive integer, got "${value}"`);
	return Number(value);
}

/** Reads a private key file: 64 hex characters, optionally 0x-prefixed, surrounding whitespace ignored. */
export async function readKeyFile(path: string): Promise<string> {
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new UsageError(
			`cannot read the key file ${path}${code === 'ENOENT' ? ': no such file' : `: ${(error as Error).message}`}`
		);
	}
	const key = text.trim();
	const hex = key.startsWith('0x') ? key.slice(2) : key;
	if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
		throw new UsageError(
			`the key file ${path} must hold one private key: 64 hex characters, optionally prefixed with 0x`
		);
	}
	return `0x${hex}`;
}

/** Runs a CLI's main function; prints errors as one readable message and exits 1. */
export function runCli(main: () => Promise<void>): void {
	main().then(
		() => process.exit(0),
		(error: unknown) => {
			if (error instanceof UsageError) console.error(`error: ${error.message}`);
			else if (error instanceof LedgerError)
				console.error(`error (${error.code}): ${error.message}`);
			else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
			process.exit(1);
		}
	);
}
