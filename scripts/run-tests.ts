// `npm test`: every test, in the order that fails fastest — type checks, unit and contract tests,
// contract coverage, the two app builds, then the browser flows against a devnet (aedes), the smoke flow again
// on Mosquitto, and the smoke and wallet payment flows on real LND (when scripts/build-lnd.sh has built it). Prints one closing line "Tests: N passed, N failed, N skipped". With
// LIGHTCHARGE_REQUIRE_ALL=1 (CI) a skipped test, or a missing Mosquitto, fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { lndBinariesPresent, missingBinaries } from '../devnet/lnd/binaries';

const requireAll = process.env.LIGHTCHARGE_REQUIRE_ALL === '1';
/** The flows that run a second time on real LND (the smoke flow, the wallet's bad input and its reload mid-payment, the kiosk's session with a broker outage and a reload), the station's LND restarting mid-session, and a kiosk and a wallet opened while their node restarts. */
const LND_SPECS = [
	'tests/smoke.spec.ts',
	'tests/wallet.spec.ts',
	'tests/lnd.spec.ts',
	'tests/kiosk.spec.ts',
	'--grep',
	"a session from scan to paid|bad readings and invoices|a reload while a payment is in flight|the station's LND restarts mid-session|a kiosk opened while the station's LND restarts|a wallet opened while its own LND restarts|a kiosk session: invoice QR"
];
const results = 'test-results';
const totals = { passed: 0, failed: 0, skipped: 0 };
const failedSteps: string[] = [];

function run(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): boolean {
	console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
	const started = Date.now();
	const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
	const ok = r.status === 0;
	console.log(
		`=== ${name}: ${ok ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`
	);
	if (!ok) failedSteps.push(name);
	return ok;
}

function countVitest(file: string): void {
	if (!existsSync(file)) return;
	const j = JSON.parse(readFileSync(file, 'utf8')) as {
		numPassedTests: number;
		numFailedTests: number;
		numPendingTests: number;
		numTodoTests: number;
	};
	totals.passed += j.numPassedTests;
	totals.failed += j.numFailedTests;
	totals.skipped += j.numPendingTests + j.numTodoTests;
}

function countPlaywright(file: string): void {
	if (!existsSync(file)) return;
	const j = JSON.parse(readFileSync(file, 'utf8')) as {
		stats: { expected: number; unexpected: number; skipped: number; flaky: number };
	};
	totals.passed += j.stats.expected + j.stats.flaky;
	totals.failed += j.stats.unexpected;
	totals.skipped += j.stats.skipped;
}

rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

const checked = run('type checks', 'npm', ['run', '--silent', 'check']);
run('unit and contract tests', 'npx', [
	'vitest',
	'run',
	'--reporter=default',
	'--reporter=json',
	`--outputFile.json=${results}/vitest.json`
]);
countVitest(`${results}/vitest.json`);
// The same contract tests again, on instrumented contracts: fails below 100 % of lines.
run('contract coverage', 'npx', ['tsx', 'scripts/contract-coverage.ts']);
const built = checked && run('build both apps', 'npm', ['run', '--silent', 'build']);
if (built) {
	run('browser flows (aedes)', 'npx', ['playwright', 'test', '--reporter=list,json'], {
		PLAYWRIGHT_JSON_OUTPUT_NAME: `${results}/playwright.json`
	});
	countPlaywright(`${results}/playwright.json`);
	const mosquitto = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].some(existsSync);
	if (mosquitto) {
		// Mosquitto as production runs it (--secure-broker): the kiosk and each phone with a login of its own.
		run(
			'smoke and LAN flows (mosquitto, --secure-broker)',
			'npx',
			[
				'playwright',
				'test',
				'tests/smoke.spec.ts',
				'tests/lan.spec.ts',
				'--reporter=list,json',
				`--output=${results}/mosquitto`
			],
			{
				PLAYWRIGHT_JSON_OUTPUT_NAME: `${results}/playwright-mosquitto.json`,
				LIGHTCHARGE_E2E_BROKER: 'mosquitto',
				LIGHTCHARGE_E2E_SECURE_BROKER: '1',
				LIGHTCHARGE_E2E_PORT_BASE: '20100'
			}
		);
		countPlaywright(`${results}/playwright-mosquitto.json`);
	} else {
		console.log(
			'\nMosquitto is not installed (apt-get install mosquitto): the Mosquitto (--secure-broker) smoke and LAN flows were skipped.'
		);
		totals.skipped += 1;
	}
	// The smoke flow and the wallet's payment flows again, on real LND (btcd + 3 LND on regtest).
	if (lndBinariesPresent()) {
		run(
			'browser flows (real LND)',
			'npx',
			['playwright', 'test', ...LND_SPECS, '--reporter=list,json', `--output=${results}/lnd`],
			{
				PLAYWRIGHT_JSON_OUTPUT_NAME: `${results}/playwright-lnd.json`,
				LIGHTCHARGE_E2E_LIGHTNING: 'lnd',
				LIGHTCHARGE_E2E_PORT_BASE: '20200'
			}
		);
		countPlaywright(`${results}/playwright-lnd.json`);
	} else {
		console.log(
			`\nReal LND is not built (${missingBinaries().join(', ')} missing; run scripts/build-lnd.sh): the real-LND browser flows were skipped.`
		);
		totals.skipped += 1;
	}
} else {
	failedSteps.push('browser flows (not run: the build or type checks failed)');
}

if (requireAll && totals.skipped > 0)
	failedSteps.push(`${totals.skipped} skipped test(s) while LIGHTCHARGE_REQUIRE_ALL=1`);
console.log('');
if (failedSteps.length) console.log(`Failed steps: ${failedSteps.join('; ')}`);
console.log(`Tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedSteps.length ? 1 : 0);
