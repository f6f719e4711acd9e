// The layering of src/lib, enforced by `npm run check` (npm run check:layers). The picture, from
// the bottom up (docs/architecture.md explains it):
//
//   core                          primitives: retry with backoff, the typed emitter; imports nothing
//   protocol                      the kiosk↔wallet contract; imports no other area
//   config                        settings and manifests, parsed at the boundary   → protocol
//   meter charger lightning       adapters: they implement the ports the session
//   mqtt ledger storage           needs, and name them only through session/ports.ts → protocol, config
//   session                       the charging session; owns its ports (ports.ts)  → the adapters
//   sim                           the fleet simulator                               → session, adapters
//   ui                            Svelte helpers for the two apps
//   apps: src/routes, kiosk, devnet, scripts, bench, tests                          → any area
//
// Another area is reached only through its contract, `index.ts` (a sub-area such as
// lightning/simnet has its own); session/ports.ts is the one other file an adapter may name, and
// only for types. No module reaches itself through others.
//
// Known violations (.dependency-cruiser-known-violations.json, `npm run check:layers:baseline`
// rewrites it) are deep imports that predate the rule in code other people were changing at the
// time; `npm run check` fails on any new one. The file should only ever shrink.
const LIB = '^src/lib/';
const ADAPTERS = '(meter|charger|lightning|mqtt|ledger|storage)';
/** The files one may import from outside an area: its contracts. */
const CONTRACTS = [
	'^src/lib/[^/]+/index\\.ts$',
	'^src/lib/lightning/(simnet|lnc)/index\\.ts$',
	'^src/lib/session/ports\\.ts$',
	'^src/lib/ui/'
];
const TESTS = '\\.(test|testing|fixture)\\.ts$';
/**
 * Entries the two apps load with `import()`, so that what they pull in (ethers for the ledger,
 * lnc-web's WASM client) stays out of the first page: a bundler cannot split an area's index.ts
 * that the page also imports statically. The apps reach them only by `import()` (rule
 * `lazy-entries-by-import`); their area's index.ts exports them too, for everyone else.
 */
const LAZY = [
	'^src/lib/ledger/client(\\.ts|/index\\.ts)$',
	'^src/lib/ledger/station-ledger\\.ts$',
	'^src/lib/lightning/lnc/index\\.ts$',
	'^src/lib/session/registry-identity\\.ts$'
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
	forbidden: [
		{
			name: 'lib-alias-resolves',
			severity: 'error',
			comment:
				'Every `$lib/…` import resolves to a file (tsconfig.depcruise.json gives the resolver the alias); one it cannot resolve would escape every rule below.',
			from: {},
			to: { path: '^\\$lib', couldNotResolve: true }
		},
		{
			name: 'no-cycle',
			severity: 'error',
			comment: 'No module reaches itself through others.',
			from: { path: '^(src|kiosk|devnet|scripts|bench)/' },
			to: { circular: true }
		},
		{
			name: 'core-at-the-bottom',
			severity: 'error',
			comment:
				'core/ holds small primitives every area may use (retry with backoff, the typed emitter); it imports no other area.',
			from: { path: '^src/lib/core/' },
			to: { path: LIB, pathNot: '^src/lib/core/' }
		},
		{
			name: 'protocol-at-the-bottom',
			severity: 'error',
			comment: 'protocol/ is the contract everybody shares; it imports no other area.',
			from: { path: '^src/lib/protocol/' },
			to: { path: LIB, pathNot: '^src/lib/protocol/' }
		},
		{
			name: 'config-on-protocol-only',
			severity: 'error',
			comment: 'config/ parses settings and manifests; below it is only protocol/.',
			from: { path: '^src/lib/config/', pathNot: TESTS },
			to: { path: LIB, pathNot: '^src/lib/(config|protocol)/' }
		},
		{
			name: 'adapters-below-the-session',
			severity: 'error',
			comment:
				'An adapter implements a port of the session and names it through session/ports.ts (types only); it never reaches into the session, the simulator or the UI.',
			from: { path: `^src/lib/${ADAPTERS}/`, pathNot: TESTS },
			to: { path: '^src/lib/(session|sim|ui)/', pathNot: '^src/lib/session/ports\\.ts$' }
		},
		{
			name: 'ports-by-type-only',
			severity: 'error',
			comment: 'An adapter names a port for its type; session/ports.ts has no code to import.',
			from: { path: `^src/lib/${ADAPTERS}/` },
			to: { path: '^src/lib/session/ports\\.ts$', dependencyTypesNot: ['type-only'] }
		},
		{
			name: 'ports-are-a-leaf',
			severity: 'error',
			comment:
				'session/ports.ts depends on protocol/ types only, so naming a port pulls in nothing else.',
			from: { path: '^src/lib/session/ports\\.ts$' },
			to: { path: LIB, pathNot: '^src/lib/protocol/' }
		},
		{
			name: 'adapters-side-by-side',
			severity: 'error',
			comment:
				'Adapters do not use each other (a charger may speak Modbus through meter/ or MQTT through mqtt/: see charger-uses).',
			from: { path: '^src/lib/(meter|lightning|mqtt|ledger|storage)/', pathNot: TESTS },
			to: { path: `^src/lib/${ADAPTERS}/`, pathNot: '^src/lib/$1/' }
		},
		{
			name: 'charger-uses',
			severity: 'error',
			comment:
				'A charger backend talks Modbus (meter/) or MQTT (mqtt/), nothing else of the adapters.',
			from: { path: '^src/lib/charger/', pathNot: TESTS },
			to: { path: '^src/lib/(lightning|ledger|storage)/' }
		},
		{
			name: 'session-below-sim-and-ui',
			severity: 'error',
			comment: 'The session knows nothing of the simulator or the UI.',
			from: { path: '^src/lib/session/' },
			to: { path: '^src/lib/(sim|ui)/' }
		},
		{
			name: 'sim-below-ui',
			severity: 'error',
			from: { path: '^src/lib/sim/' },
			to: { path: '^src/lib/ui/' }
		},
		{
			name: 'lib-below-the-apps',
			severity: 'error',
			comment:
				'Production code in src/lib does not import the apps, the devnet or the tools (unit tests may use the devnet’s broker and ports).',
			from: { path: LIB, pathNot: TESTS },
			to: { path: '^(src/routes|kiosk|devnet|scripts|bench|tests)/' }
		},
		{
			name: 'contracts-only',
			severity: 'error',
			comment:
				'Another area is reached only through its index.ts (or lightning/simnet/index.ts, or session/ports.ts for a port).',
			from: { path: '^src/lib/([^/]+)/', pathNot: TESTS },
			to: { path: LIB, pathNot: ['^src/lib/$1/', ...CONTRACTS] }
		},
		{
			name: 'tests-use-contracts',
			severity: 'error',
			comment:
				'A unit test reaches another area through its index.ts too, or through its test helpers (*.testing.ts).',
			from: { path: `^src/lib/([^/]+)/.*${TESTS}` },
			to: { path: LIB, pathNot: ['^src/lib/$1/', ...CONTRACTS, '\\.testing\\.ts$'] }
		},
		{
			name: 'no-test-helpers-in-production',
			severity: 'error',
			comment: 'Test helpers (*.testing.ts, *.fixture.ts) are for tests (and benchmarks) only.',
			from: { path: '^(src|kiosk|devnet|scripts)/', pathNot: TESTS },
			to: { path: '\\.(testing|fixture)\\.ts$' }
		},
		{
			name: 'apps-use-contracts',
			severity: 'error',
			comment:
				'The apps, the devnet and the tools reach src/lib only through each area’s index.ts (tests also through *.testing.ts helpers).',
			from: {
				path: '^(src/routes|src/service-worker|kiosk|devnet|scripts|bench|tests|contracts)/'
			},
			to: { path: LIB, pathNot: [...CONTRACTS, '\\.(testing|fixture)\\.ts$', ...LAZY] }
		},
		{
			name: 'lazy-entries-by-import',
			severity: 'error',
			comment:
				'A lazy entry (LAZY above) is reached from the wallet or the kiosk only by import(), and from the tools, tests and the devnet not at all: they use the index.ts.',
			from: { path: '^(src/routes|kiosk)/' },
			to: { path: LAZY, dependencyTypesNot: ['dynamic-import'] }
		},
		{
			name: 'lazy-entries-only-from-the-apps',
			severity: 'error',
			comment:
				'Only the two apps have a first page to keep small; everything else reaches these through their index.ts.',
			from: { path: '^(devnet|scripts|bench|tests|contracts)/' },
			to: { path: LAZY }
		}
	],
	allowed: undefined,
	options: {
		doNotFollow: { path: 'node_modules' },
		exclude: { path: '(^|/)(node_modules|\\.svelte-kit|build|generated)/' },
		// `$lib/…` stays in even unresolved, so `lib-alias-resolves` can catch an alias the resolver missed.
		includeOnly: '^((src|kiosk|devnet|scripts|bench|tests|contracts)/|\\$lib)',
		tsPreCompilationDeps: true,
		tsConfig: { fileName: 'tsconfig.depcruise.json' },
		enhancedResolveOptions: {
			exportsFields: ['exports'],
			conditionNames: ['import', 'require', 'node', 'default', 'types'],
			extensions: ['.ts', '.js', '.svelte', '.json'],
			mainFields: ['module', 'main', 'types']
		},
		moduleSystems: ['es6'],
		reporterOptions: { text: { highlightFocused: true } }
	}
};
