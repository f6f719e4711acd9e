import { describe, expect, it } from 'vitest';
import { DevnetManifestError, parseDevnetManifest } from './devnet-manifest';
import { sampleManifest } from './devnet-manifest.fixture';

function mutated(change: (m: Record<string, any>) => void): unknown {
	const copy = JSON.parse(JSON.stringify(sampleManifest()));
	change(copy);
	return copy;
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('parseDevnetManifest', () => {
	it('reads a manifest without a Lightning backend (written before real LND) as the simnet', () => {
		expect(parseDevnetManifest(mutated((m) => delete m.lightning.backend)).lightning.backend).toBe(
			'simnet'
		);
	});

	it("keeps a real LND node's own URL, certificate and admin macaroon path", () => {
		const lnd = {
			restUrl: 'https://127.0.0.1:23107',
			tlsCertPem: PEM,
			adminMacaroonPath: '/tmp/admin.macaroon'
		};
		const parsed = parseDevnetManifest(
			mutated((m) => {
				m.lightning.backend = 'lnd';
				m.lightning.nodes['station-1'].lnd = lnd;
			})
		);
		expect(parsed.lightning.backend).toBe('lnd');
		expect(parsed.lightning.nodes['station-1']!.lnd).toEqual(lnd);
	});

	it("keeps the app's broker login (--secure-broker) and names a bad one", () => {
		const login = {
			username: 'driver-1a2b3c4d',
			password: '0123456789abcdef01234567',
			grants: true
		};
		expect(parseDevnetManifest(mutated((m) => (m.broker.login = login))).broker.login).toEqual(
			login
		);
		expect(() =>
			parseDevnetManifest(mutated((m) => (m.broker.login = { ...login, grants: 'yes' })))
		).toThrow('broker.login.grants must be true or false');
		expect(() =>
			parseDevnetManifest(mutated((m) => (m.broker.login = { ...login, password: '' })))
		).toThrow('broker.login.password must be a non-empty string');
		expect(parseDevnetManifest(sampleManifest()).broker.login).toBeUndefined();
	});

	it('keeps the LNC mailbox, pairing phrase and certificate fingerprint of a node (--lnc), and refuses malformed ones', () => {
		const lnc = {
			mailbox: '127.0.0.1:23120',
			pairingPhrase: 'abandon ability able about above absent absorb abstract absurd abuse',
			mailboxFingerprint256: 'AB:CD'
		};
		expect(
			parseDevnetManifest(mutated((m) => (m.lightning.nodes['station-1'].lnc = lnc))).lightning
				.nodes['station-1']!.lnc
		).toEqual(lnc);
		expect(() =>
			parseDevnetManifest(
				mutated((m) => (m.lightning.nodes['station-1'].lnc = { ...lnc, mailbox: 'wss://x' }))
			)
		).toThrow(/lnc.mailbox/);
		expect(() =>
			parseDevnetManifest(
				mutated(
					(m) => (m.lightning.nodes['station-1'].lnc = { ...lnc, pairingPhrase: 'two words' })
				)
			)
		).toThrow(/lnc.pairingPhrase/);
	});

	it('accepts a complete manifest, as an object or as JSON text', () => {
		expect(parseDevnetManifest(sampleManifest())).toEqual(sampleManifest());
		expect(parseDevnetManifest(JSON.stringify(sampleManifest()))).toEqual(sampleManifest());
	});

	it('drops unknown fields', () => {
		const parsed = parseDevnetManifest(mutated((m) => (m.extra = { secret: 1 })));
		expect('extra' in parsed).toBe(false);
	});

	it.each([
		['not JSON', '{"version":', /not JSON/],
		['an array', [], /manifest must be an object, got an array/],
		['a newer version', mutated((m) => (m.version = 2)), /version 2 is not supported/],
		['no chain', mutated((m) => delete m.chain), /chain must be an object, got undefined/],
		[
			'a chainId as text',
			mutated((m) => (m.chain.chainId = '1337')),
			/chain\.chainId must be an integer >= 1, got "1337"/
		],
		[
			'a short contract address',
			mutated((m) => (m.chain.contracts.sessions = '0x1234')),
			/chain\.contracts\.sessions must be an Ethereum address/
		],
		[
			'an http broker URL',
			mutated((m) => (m.broker.wsUrl = 'http://127.0.0.1:9001')),
			/broker\.wsUrl must be a URL with scheme ws: or wss:/
		],
		[
			'an unknown broker',
			mutated((m) => (m.broker.kind = 'emqx')),
			/broker\.kind must be one of "aedes", "mosquitto"/
		],
		[
			'MQTT level 3',
			mutated((m) => (m.broker.protocolVersion = 3)),
			/broker\.protocolVersion must be one of 4, 5/
		],
		[
			'a mainnet simnet',
			mutated((m) => (m.lightning.network = 'mainnet')),
			/lightning\.network must be one of "regtest"/
		],
		[
			'a bad node pubkey',
			mutated((m) => (m.lightning.nodes['station-1'].pubkey = 'zz')),
			/lightning\.nodes\.station-1\.pubkey must be a compressed public key/
		],
		[
			'an odd macaroon',
			mutated((m) => (m.lightning.nodes['station-1'].macaroonHex = 'abc')),
			/macaroonHex must be hex/
		],
		[
			'an http-only httpsUrl',
			mutated((m) => (m.wallet.httpsUrl = 'http://x/')),
			/wallet\.httpsUrl must be a URL with scheme https:/
		],
		['a garbage URL', mutated((m) => (m.kiosk.url = 'not a url')), /kiosk\.url must be a URL/],
		[
			'a short station key',
			mutated((m) => (m.stations[0].signingKeyHex = 'ab')),
			/stations\[0\]\.signingKeyHex must be a private key \(64 hex digits\)/
		],
		[
			'a station on an unknown node',
			mutated((m) => (m.stations[0].lightningNode = 'hub')),
			/stations\[0\]\.lightningNode "hub" is not one of lightning\.nodes \(station-1\)/
		],
		[
			'a duplicate station',
			mutated((m) => m.stations.push(m.stations[0])),
			/stations\[1\]\.stationId "station-1" appears twice/
		],
		[
			'a bad start time',
			mutated((m) => (m.startedAt = 'yesterday')),
			/startedAt must be an ISO 8601 date/
		],
		['no operator', mutated((m) => delete m.operator), /operator must be an object/],
		[
			'an unknown Lightning backend',
			mutated((m) => (m.lightning.backend = 'cln')),
			/lightning\.backend must be one of "simnet", "lnd"/
		],
		[
			'an LND node over plain http',
			mutated(
				(m) =>
					(m.lightning.nodes['station-1'].lnd = {
						restUrl: 'http://127.0.0.1:10009',
						tlsCertPem: PEM,
						adminMacaroonPath: '/x'
					})
			),
			/lnd\.restUrl must be a URL with scheme https:/
		],
		[
			'an LND node with no certificate',
			mutated(
				(m) =>
					(m.lightning.nodes['station-1'].lnd = {
						restUrl: 'https://127.0.0.1:10009',
						tlsCertPem: 'hello',
						adminMacaroonPath: '/x'
					})
			),
			/lnd\.tlsCertPem must be a PEM certificate/
		]
	])('rejects %s with a message naming the field', (_what, input, message) => {
		expect(() => parseDevnetManifest(input)).toThrow(DevnetManifestError);
		expect(() => parseDevnetManifest(input)).toThrow(message);
	});

	it('keeps a node named __proto__ as data', () => {
		const input = JSON.parse(
			JSON.stringify(sampleManifest())
				.replace('"station-1":{', '"__proto__":{')
				.replace(/"lightningNode":"station-1"/, '"lightningNode":"__proto__"')
		);
		const parsed = parseDevnetManifest(input);
		expect(Object.hasOwn(parsed.lightning.nodes, '__proto__')).toBe(true);
		expect(Object.getPrototypeOf(parsed.lightning.nodes)).toBe(Object.prototype);
	});
});
