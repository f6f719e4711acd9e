// Lightning Node Connect: the LightningNode port over @lightninglabs/lnc-web (a Go wasm client
// talking to the driver's or operator's LND over an encrypted mailbox), pairing and logging in, one
// tab at a time. A contract of its own, apart from lightning/index.ts: it needs the browser (Web
// Locks, WebAssembly) and the wallet loads it with import() only when a node is paired this way.
export { LncNode, type LncClient, type LncNodeOptions, type LncPairingClient } from './node';
export { lncError } from './errors';
export { acquireTabLock, type HeldTabLock, type LockManagerLike, type TabPolicy } from './tab-lock';
export {
	lncStatusSentence,
	loginLnc,
	normaliseMailboxAddress,
	normalisePairingPhrase,
	PAIRING_PHRASE_WORDS,
	pairLnc,
	passkeysSupported,
	type LncConnection,
	type LncConnectOptions,
	type LncUnlock
} from './pairing';
export { SELF_HOSTED_WASM_PATH, resolveWasmClientCode } from './wasm';
