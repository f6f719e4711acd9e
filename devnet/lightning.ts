// The devnet's Lightning network. The simnet (LND's REST dialect served by our own simulator,
// zero install) lives in ./simnet/; real LND on regtest in ./lnd/.
export {
	DEFAULT_SETTLE_DELAY_MS,
	startLightningSimnet,
	type LightningSimnet,
	type LightningSimnetNodeInfo,
	type LightningSimnetOptions
} from './simnet/server.js';
