// A complete, valid devnet manifest for tests.
import type { DevnetManifest } from './devnet-manifest';

export function sampleManifest(): DevnetManifest {
	return {
		version: 1,
		startedAt: '2026-11-22T01:00:00.000Z',
		wallet: { url: 'http://127.0.0.1:5173/', httpsUrl: 'https://192.168.1.20:5443/' },
		kiosk: { url: 'http://127.0.0.1:5174/', httpsUrl: null },
		chain: {
			rpcUrl: 'http://127.0.0.1:8545',
			chainId: 1337,
			blockIntervalMs: 1000,
			contracts: {
				registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
				reservations: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
				sessions: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0'
			}
		},
		broker: {
			kind: 'aedes',
			wsUrl: 'ws://127.0.0.1:9001/mqtt',
			tcpUrl: 'mqtt://127.0.0.1:1883',
			protocolVersion: 4
		},
		lightning: {
			network: 'regtest',
			backend: 'simnet',
			url: 'http://127.0.0.1:8180',
			nodes: {
				'station-1': {
					restUrl: 'http://127.0.0.1:8180/nodes/station-1',
					macaroonHex: '0201036c6e64',
					pubkey: `02${'ab'.repeat(32)}`
				}
			}
		},
		stations: [
			{
				stationId: 'station-1',
				name: 'Devnet station 1',
				signingKeyHex: '11'.repeat(32),
				signerAddress: '0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A',
				lightningNode: 'station-1'
			}
		],
		operator: { address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' }
	};
}
