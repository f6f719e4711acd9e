// Hardhat 2 configuration for the devnet's in-process chain (devnet/chain.ts). Hardhat is used
// only as a JSON-RPC node here; contracts are compiled by contracts/compile.ts with solc-js.
// Mirrors a QBFT network: chainId 1337, london EVM (GoQuorum is pre-Shanghai), zero base fee and
// gas price, blocks on an interval like a QBFT block period (changed at run time by chain.ts).
/** @type {import('hardhat/config').HardhatUserConfig} */
module.exports = {
	networks: {
		hardhat: {
			chainId: 1337,
			hardfork: 'london',
			initialBaseFeePerGas: 0,
			gasPrice: 0,
			mining: { auto: false, interval: 1000 },
			accounts: {
				mnemonic: 'test test test test test test test test test test test junk',
				count: 10,
				accountsBalance: '10000000000000000000000'
			},
			loggingEnabled: false
		}
	},
	paths: {
		// Hardhat never compiles here; keep anything it might write out of the source tree.
		cache: './.devnet/hardhat-cache',
		artifacts: './.devnet/hardhat-artifacts'
	}
};
