// Compiles contracts/*.sol with solc-js (wasm) for the london EVM (GoQuorum is pre-Shanghai, so
// no PUSH0) and writes src/lib/ledger/generated/contracts.ts with each contract's ABI (`as const`)
// and creation bytecode. Skips the compiler when the sources, compiler version and settings hash
// to the value already recorded in the generated file.
//
// Run: npx tsx contracts/compile.ts [--force]
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const contractsDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(contractsDir, '..');
export const generatedFile = join(repoRoot, 'src/lib/ledger/generated/contracts.ts');

/** Contracts exported to TypeScript, in deployment order. */
export const CONTRACT_NAMES = ['StationRegistry', 'Reservations', 'SessionLedger'] as const;

const SOLC_VERSION = '0.8.30';
const compilerSettings = {
	evmVersion: 'london',
	optimizer: { enabled: true, runs: 200 },
	outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } }
};

export class SolidityCompileError extends Error {
	constructor(readonly diagnostics: string[]) {
		super(`Solidity compilation failed:\n\n${diagnostics.join('\n\n')}`);
		this.name = 'SolidityCompileError';
	}
}

interface SolcDiagnostic {
	severity: 'error' | 'warning' | 'info';
	formattedMessage?: string;
	message: string;
}
interface SolcOutput {
	errors?: SolcDiagnostic[];
	contracts?: Record<
		string,
		Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>
	>;
}

export async function readSources(): Promise<SolcSources> {
	const files = (await readdir(contractsDir)).filter((f) => f.endsWith('.sol')).sort();
	if (files.length === 0) throw new Error(`no .sol files in ${contractsDir}`);
	const sources: Record<string, { content: string }> = {};
	for (const file of files)
		sources[file] = { content: await readFile(join(contractsDir, file), 'utf8') };
	return sources;
}

function hashInputs(sources: Record<string, { content: string }>): string {
	const hash = createHash('sha256');
	hash.update(JSON.stringify({ solc: SOLC_VERSION, compilerSettings, generator: 2 }));
	for (const [name, { content }] of Object.entries(sources)) hash.update(`\0${name}\0${content}`);
	return hash.digest('hex');
}

async function recordedHash(): Promise<string | null> {
	try {
		const text = await readFile(generatedFile, 'utf8');
		return /export const sourceHash = '([0-9a-f]{64})'/.exec(text)?.[1] ?? null;
	} catch {
		return null;
	}
}

export interface CompileResult {
	skipped: boolean;
	ms: number;
	warnings: string[];
}

export type SolcSources = Record<string, { content: string }>;
/** Contract name → ABI and creation bytecode (hex, no 0x). */
export type CompiledContracts = Record<string, { abi: unknown[]; bytecode: string }>;

/**
 * Runs solc-js on `sources` (file name → content). Throws SolidityCompileError with the compiler's
 * messages on errors. Also used by scripts/contract-coverage.ts for the instrumented sources.
 */
export async function runSolc(
	sources: SolcSources,
	settings: Record<string, unknown>,
	names: readonly string[] = CONTRACT_NAMES
): Promise<{ contracts: CompiledContracts; warnings: string[]; version: string }> {
	const solc = (await import('solc')).default as {
		version(): string;
		compile(input: string): string;
	};
	if (!solc.version().startsWith(SOLC_VERSION)) {
		throw new Error(`expected solc ${SOLC_VERSION}, found ${solc.version()} in node_modules`);
	}
	const input = { language: 'Solidity', sources, settings };
	const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
	const diagnostics = output.errors ?? [];
	const format = (d: SolcDiagnostic) => (d.formattedMessage ?? d.message).trimEnd();
	const errors = diagnostics.filter((d) => d.severity === 'error').map(format);
	if (errors.length > 0) throw new SolidityCompileError(errors);
	const warnings = diagnostics.filter((d) => d.severity === 'warning').map(format);
	const contracts: CompiledContracts = {};
	for (const name of names) {
		const entry = output.contracts?.[`${name}.sol`]?.[name];
		if (!entry)
			throw new Error(
				`contract ${name} not found in compiler output (expected contracts/${name}.sol)`
			);
		const bytecode = entry.evm.bytecode.object;
		if (!/^[0-9a-f]+$/.test(bytecode))
			throw new Error(`contract ${name} has no bytecode (abstract?)`);
		contracts[name] = { abi: entry.abi, bytecode };
	}
	return { contracts, warnings, version: solc.version() };
}

/** Writes a TypeScript module exporting each contract's ABI (`as const`) and creation bytecode. */
export async function writeGeneratedModule(
	file: string,
	contracts: CompiledContracts,
	header: string[]
): Promise<void> {
	const parts = [...header];
	for (const [name, { abi, bytecode }] of Object.entries(contracts)) {
		parts.push(
			'',
			`export const ${name} = {`,
			`\tabi: ${JSON.stringify(abi, null, '\t').replace(/\n/g, '\n\t')} as const,`,
			`\tbytecode: '0x${bytecode}' as const`,
			'};'
		);
	}
	parts.push('');
	await mkdir(dirname(file), { recursive: true });
	// Write then rename, so a parallel reader (another test worker) never sees half a file.
	const temporary = `${file}.${process.pid}.tmp`;
	await writeFile(temporary, parts.join('\n'));
	await rename(temporary, file);
}

/** Compiles when needed; throws SolidityCompileError with the compiler's messages on errors. */
export async function compileContracts(opts: { force?: boolean } = {}): Promise<CompileResult> {
	const started = performance.now();
	const sources = await readSources();
	const sourceHash = hashInputs(sources);
	if (!opts.force && (await recordedHash()) === sourceHash) {
		return { skipped: true, ms: performance.now() - started, warnings: [] };
	}

	const { contracts, warnings, version } = await runSolc(sources, compilerSettings);
	await writeGeneratedModule(generatedFile, contracts, [
		'// GENERATED by contracts/compile.ts from contracts/*.sol — do not edit, do not commit.',
		`// solc ${version}, evmVersion london, optimizer 200 runs.`,
		'',
		`export const sourceHash = '${sourceHash}';`
	]);
	return { skipped: false, ms: performance.now() - started, warnings };
}

const isMain =
	process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
	try {
		const result = await compileContracts({ force: process.argv.includes('--force') });
		for (const warning of result.warnings) console.warn(warning + '\n');
		console.log(
			result.skipped
				? `contracts unchanged — ${generatedFile} is up to date`
				: `compiled ${CONTRACT_NAMES.join(', ')} in ${(result.ms / 1000).toFixed(1)} s → ${generatedFile}`
		);
	} catch (error) {
		console.error(error instanceof Error ? error.message : error);
		process.exit(1);
	}
}
