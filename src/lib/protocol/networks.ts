// The one network table: every Bitcoin/Lightning network Lightcharge knows, with what each
// foreign system calls it. The station's status message, BOLT #11 decoding and encoding, both LND
// backends and the wallet's invoice check all read it, so a network is added in one place.

/** A network's own name, as the protocol and the LightningNode port use it. */
export type Network = 'mainnet' | 'testnet' | 'signet' | 'regtest' | 'simnet';

export interface NetworkFacts {
	/** The human-readable prefix of a BOLT #11 invoice on it (BOLT #11, "Human-Readable Part"). */
	bolt11Prefix: string;
	/** What LND's getinfo calls it (`chains[].network`). */
	lndNames: readonly string[];
	/** How a sentence names it. */
	label: string;
}

export const NETWORK_TABLE: Readonly<Record<Network, NetworkFacts>> = {
	mainnet: { bolt11Prefix: 'lnbc', lndNames: ['mainnet'], label: 'Bitcoin mainnet' },
	testnet: {
		bolt11Prefix: 'lntb',
		lndNames: ['testnet', 'testnet3', 'testnet4'],
		label: 'testnet'
	},
	signet: { bolt11Prefix: 'lntbs', lndNames: ['signet'], label: 'signet' },
	regtest: {
		bolt11Prefix: 'lnbcrt',
		lndNames: ['regtest'],
		label: 'regtest (the local test network)'
	},
	simnet: { bolt11Prefix: 'lnsb', lndNames: ['simnet'], label: 'simnet' }
};

/** Every network, in the table's order. */
export const ALL_NETWORKS = Object.keys(NETWORK_TABLE) as readonly Network[];

/** The network a BOLT #11 human-readable prefix starts with, longest prefix first (`lnbcrt` is not `lnbc` + "rt"). */
export const BOLT11_PREFIXES: readonly (readonly [prefix: string, network: Network])[] =
	ALL_NETWORKS.map((n) => [NETWORK_TABLE[n].bolt11Prefix, n] as const).sort(
		(a, b) => b[0].length - a[0].length
	);
