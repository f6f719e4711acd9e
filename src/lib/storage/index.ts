// Durable state in IndexedDB (idb), with explicit upgrade steps: the kiosk's store (it implements
// the session's KioskStore and DurableQueue ports; in memory for Node), the wallet's database (its
// IdbJournal implements the PaymentJournal port) and the station's encrypted key.
export { IdbKioskStore, KIOSK_DB_NAME, MemoryKioskStore, type KioskDb } from './kiosk-db';
export * from './wallet-db';
export * from './keystore';
export {
	MIN_PASSPHRASE_LENGTH,
	VAULT_ITERATIONS,
	VaultError,
	type SealedSecret,
	type VaultErrorCode
} from './vault';
export { WalletSettingsError, parseWalletSettings, readWalletSettings } from './wallet-settings';
