// What the apps are configured with: the devnet manifest, the kiosk's settings and the wallet's
// trusted networks, each parsed (and refused with a sentence) at the boundary.
export { loadDevnetManifest, queryNumber } from './app-config';
export * from './devnet-manifest';
export * from './kiosk-settings';
export * from './trusted-networks';
export { firstSentence, issuePath } from './schema';
