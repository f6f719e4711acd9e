// ESLint for the whole tree (issue 13): typescript-eslint's recommended rules, its promise rules
// (a promise is awaited, returned, or voided on purpose; no promise where a callback's result is
// ignored), and eslint-plugin-svelte's recommended rules for the two apps. Formatting is
// Prettier's (.prettierrc), not ESLint's.
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

export default ts.config(
	{
		ignores: [
			'**/node_modules/',
			'build/',
			'.svelte-kit/',
			'.devnet/',
			'coverage/',
			'out/',
			'infra/',
			'static/',
			'kiosk/static/',
			'src/lib/ledger/generated/',
			'contracts/out/',
			'test-results/',
			'playwright-report/'
		]
	},
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{
		languageOptions: {
			globals: { ...globals.browser, ...globals.node },
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				tsconfigRootDir: import.meta.dirname
			}
		}
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
		languageOptions: { parserOptions: { parser: ts.parser, svelteConfig } }
	},
	{
		files: ['**/*.ts', '**/*.svelte'],
		rules: {
			'@typescript-eslint/no-floating-promises': 'error',
			'@typescript-eslint/no-misused-promises': 'error',
			'@typescript-eslint/await-thenable': 'error',
			'@typescript-eslint/return-await': ['error', 'in-try-catch'],
			// `_name` marks a value kept for its shape or a parameter a callback must accept.
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }
			]
		}
	},
	{
		// Both apps are static builds served at the origin's root (no kit paths.base), so resolve()
		// would add nothing to a link or a goto().
		rules: {
			'svelte/no-navigation-without-resolve': 'off',
			// `{' '}` keeps a space that the markup's line breaks would otherwise drop.
			'svelte/no-useless-mustaches': 'off',
			'no-var': 'error'
		}
	},
	{
		// The kiosk shows its QR codes as SVG markup our own encoder (qrcode) drew from our own text.
		files: ['kiosk/routes/+page.svelte'],
		rules: { 'svelte/no-at-html-tags': 'off' }
	},
	{
		// A test's server or fake may take an async handler where a callback is expected: a rejection
		// there fails the test anyway. Production code may not.
		files: ['**/*.test.ts', '**/*.testing.ts', 'tests/**/*.ts', 'devnet/lnd/differential.ts'],
		rules: {
			'@typescript-eslint/no-misused-promises': [
				'error',
				{ checksVoidReturn: { arguments: false } }
			],
			// Tests and the differential tester read foreign JSON loosely on purpose.
			'@typescript-eslint/no-explicit-any': 'off'
		}
	},
	{
		// The kiosk's routes are in tsconfig.kiosk.json; .svelte-kit/tsconfig.json lists only the app
		// synced last (check syncs both in turn).
		files: ['kiosk/**/*.ts', 'kiosk/**/*.svelte'],
		languageOptions: {
			parserOptions: {
				projectService: false,
				project: './tsconfig.kiosk.json',
				tsconfigRootDir: import.meta.dirname
			}
		}
	},
	{
		// The service worker has its own tsconfig (the webworker lib), which the project service would not find.
		files: ['src/service-worker.ts'],
		languageOptions: {
			parserOptions: {
				projectService: false,
				project: './tsconfig.sw.json',
				tsconfigRootDir: import.meta.dirname
			}
		}
	},
	{
		// Plain JS config files have no type information for the promise rules.
		files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
		...ts.configs.disableTypeChecked
	}
);
