import { describe, expect, it } from 'vitest';
import { sampleManifest } from './devnet-manifest.fixture';
import {
	combineNetworks,
	findNetwork,
	formatFingerprint,
	matchLegacyLink,
	networkFingerprint,
	networkFromManifest,
	trustedNetwork,
	TrustedNetworkError
} from './trusted-networks';

const devnet = () => networkFromManifest(sampleManifest());
const other = () =>
	trustedNetwork(
		{
			name: 'Operator X',
			chainId: 2024,
			registry: '0x' + '12'.repeat(20),
			sessions: '0x' + '34'.repeat(20),
			reservations: '0x' + '56'.repeat(20),
			rpcUrl: 'https://rpc.example',
			brokers: ['wss://broker.example/mqtt']
		},
		'user'
	);

describe('trusted networks', () => {
	it('fingerprints the ledger (chain id + registry), in any letter case, and not the transport', () => {
		const m = sampleManifest();
		const a = networkFromManifest(m);
		expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
		expect(a.id).toBe(a.fingerprint.slice(0, 8));
		expect(networkFingerprint(1337, m.chain.contracts.registry.toLowerCase())).toBe(a.fingerprint);
		// Seen from a phone on the LAN, the same devnet has other URLs: still the same network.
		const lan = networkFromManifest({
			...m,
			chain: { ...m.chain, rpcUrl: 'https://192.168.1.20:5443/rpc' },
			broker: { ...m.broker, wsUrl: 'wss://192.168.1.20:5443/mqtt' }
		});
		expect(lan.id).toBe(a.id);
		expect(networkFingerprint(1338, m.chain.contracts.registry)).not.toBe(a.fingerprint);
		expect(networkFingerprint(1337, '0x' + '00'.repeat(20))).not.toBe(a.fingerprint);
		expect(formatFingerprint('1a2b3c4d5e6f7a8b')).toBe('1a2b 3c4d 5e6f 7a8b');
	});

	it('refuses an entry that does not check out', () => {
		const ok = { ...other(), brokers: ['wss://b/mqtt'] };
		expect(() => trustedNetwork({ ...ok, chainId: 0 }, 'user')).toThrow(TrustedNetworkError);
		expect(() => trustedNetwork({ ...ok, registry: '0x12' }, 'user')).toThrow(
			/registry must be a contract address/
		);
		expect(() => trustedNetwork({ ...ok, brokers: [] }, 'user')).toThrow(/1 to 8 brokers/);
		expect(() => trustedNetwork({ ...ok, brokers: ['http://b'] }, 'user')).toThrow(
			/broker 1 must start with ws:\/\/ or wss:\/\//
		);
		expect(() => trustedNetwork({ ...ok, rpcUrl: 'ftp://x' }, 'user')).toThrow(/ledger RPC/);
		expect(trustedNetwork({ ...ok, identity: 'anything' }, 'user').identity).toBe('ledger');
	});

	it('selects by id only among its own networks; a driver can mark one offline but not change it', () => {
		const all = combineNetworks([], devnet(), [
			other(),
			{
				...devnet(),
				name: 'renamed',
				rpcUrl: 'http://evil/',
				source: 'user',
				identity: 'first-use'
			}
		]);
		expect(all).toHaveLength(2);
		expect(all[0]!.rpcUrl).toBe(sampleManifest().chain.rpcUrl);
		expect(all[0]!.identity).toBe('first-use');
		expect(findNetwork(all, devnet().id)?.source).toBe('origin');
		expect(findNetwork(all, 'deadbeef')).toBeNull();
	});

	it('matches an old-style link only when chain, registry and broker all belong to one network', () => {
		const all = combineNetworks([], devnet(), []);
		const m = sampleManifest();
		const good = {
			chainId: 1337,
			registry: m.chain.contracts.registry.toLowerCase(),
			broker: m.broker.wsUrl
		};
		expect(matchLegacyLink(all, good)?.id).toBe(devnet().id);
		expect(matchLegacyLink(all, { ...good, chainId: 1338 })).toBeNull();
		expect(matchLegacyLink(all, { ...good, registry: '0x' + 'ee'.repeat(20) })).toBeNull();
		expect(matchLegacyLink(all, { ...good, broker: 'ws://evil.example/mqtt' })).toBeNull();
	});
});
