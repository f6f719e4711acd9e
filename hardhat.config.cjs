// Hardhat 2 configuration for the devnet's in-process chain (devnet/chain.ts). Hardhat is used
// only as a JSON-RPC node here; contracts are compiled by contracts/compile.ts with solc-js.
// Mirrors a QBFT network with Besu's zeroBaseFee: chainId 1337, zero gas price, blocks on an interval
// like a QBFT block period (changed at run time by chain.ts). The hardfork is berlin, before EIP-1559:
// there is no base fee for full blocks to raise, so a gas-price-0 write is never priced out (on
// london five 1 MB transactions lifted it from 0 to 1 wei for good). The contracts are compiled for
// london but use no london opcode (BASEFEE); devnet/chain.test.ts checks their bytecode.
/** @type {import('hardhat/config').HardhatUserConfig} */
module.exports = {
	networks: {
		hardhat: {
			chainId: 1337,
			hardfork: 'berlin',
			gasPrice: 0,
			minGasPrice: 0,
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
