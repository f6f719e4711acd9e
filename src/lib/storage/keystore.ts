// The station's signing key (secp256k1; it signs OCMF readings and the station's ledger
// transactions), kept encrypted under the operator's passphrase in the one vault (vault.ts:
// PBKDF2-SHA-256 into AES-256-GCM), in the station key file format below. The same encrypted
// JSON is what the operator downloads as a backup and can import on a replacement kiosk.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { ethereumAddressOf, ocmfPublicKeyHex } from '../protocol';
import type { KioskStore } from '../session/ports';
import {
	MIN_PASSPHRASE_LENGTH,
	VAULT_ITERATIONS,
	VaultError,
	openSecret,
	sealSecret
} from './vault';

export interface EncryptedStationKey {
	format: 'lightcharge-station-key';
	version: 1;
	stationId: string;
	/** Public parts, readable without the passphrase (shown on the setup screen, registered on the ledger). */
	publicKey: string;
	address: string;
	kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: string };
	cipher: { name: 'AES-GCM'; iv: string; data: string };
	createdAt: string;
}

export const STATION_KEY_SETTING = 'station-key';

export class KeystoreError extends Error {}

/** Encrypts a private key (hex) under a passphrase (`iterations` for tests only). */
export async function encryptStationKey(
	stationId: string,
	privateKeyHex: string,
	passphrase: string,
	iterations = VAULT_ITERATIONS
): Promise<EncryptedStationKey> {
	if (passphrase.length < MIN_PASSPHRASE_LENGTH)
		throw new KeystoreError(`The passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters.`);
	if (
		!/^[0-9a-f]{64}$/.test(privateKeyHex) ||
		!secp256k1.utils.isValidSecretKey(hexToBytes(privateKeyHex))
	) {
		throw new KeystoreError('That is not a valid secp256k1 private key (64 hex digits).');
	}
	const sealed = await sealSecret(hexToBytes(privateKeyHex), passphrase, iterations);
	const publicKey = ocmfPublicKeyHex(privateKeyHex);
	return {
		format: 'lightcharge-station-key',
		version: 1,
		stationId,
		publicKey,
		address: ethereumAddressOf(publicKey),
		kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: sealed.iterations, salt: sealed.salt },
		cipher: { name: 'AES-GCM', iv: sealed.iv, data: sealed.data },
		createdAt: new Date().toISOString()
	};
}

/** Checks the shape of an encrypted key (e.g. an imported backup file) before anything uses it. */
export function parseEncryptedStationKey(value: unknown): EncryptedStationKey {
	const v = value as Partial<EncryptedStationKey> | null;
	if (!v || typeof v !== 'object' || v.format !== 'lightcharge-station-key')
		throw new KeystoreError('This file is not a Lightcharge station key backup.');
	if (v.version !== 1)
		throw new KeystoreError(
			`This backup has version ${String(v.version)}; this kiosk reads version 1.`
		);
	if (
		typeof v.stationId !== 'string' ||
		typeof v.publicKey !== 'string' ||
		typeof v.address !== 'string'
	)
		throw new KeystoreError('The backup is missing the station id or public key.');
	const k = v.kdf,
		c = v.cipher;
	if (
		!k ||
		k.name !== 'PBKDF2' ||
		k.hash !== 'SHA-256' ||
		!Number.isInteger(k.iterations) ||
		k.iterations < 1000 ||
		typeof k.salt !== 'string'
	)
		throw new KeystoreError('The backup’s key derivation settings are not readable.');
	if (!c || c.name !== 'AES-GCM' || typeof c.iv !== 'string' || typeof c.data !== 'string')
		throw new KeystoreError('The backup’s encrypted key is not readable.');
	return v as EncryptedStationKey;
}

/** The private key (hex), or a KeystoreError saying the passphrase is wrong. */
export async function decryptStationKey(
	file: EncryptedStationKey,
	passphrase: string
): Promise<string> {
	const enc = parseEncryptedStationKey(file);
	let plain: Uint8Array;
	try {
		plain = await openSecret(
			{
				salt: enc.kdf.salt,
				iv: enc.cipher.iv,
				data: enc.cipher.data,
				iterations: enc.kdf.iterations
			},
			passphrase
		);
	} catch (e) {
		if (e instanceof VaultError && e.code === 'wrong_passphrase')
			throw new KeystoreError('Wrong passphrase (or the backup was altered).');
		if (e instanceof VaultError)
			throw new KeystoreError('The backup’s encrypted key is not readable.');
		throw e;
	}
	const hex = bytesToHex(plain);
	if (ocmfPublicKeyHex(hex) !== enc.publicKey)
		throw new KeystoreError('The decrypted key does not match the public key in the backup.');
	return hex;
}

/** Creates a fresh station key, stores it encrypted, and returns it. */
export async function createStationKey(
	store: KioskStore,
	stationId: string,
	passphrase: string
): Promise<{ privateKeyHex: string; encrypted: EncryptedStationKey }> {
	const privateKeyHex = bytesToHex(secp256k1.utils.randomSecretKey());
	const encrypted = await encryptStationKey(stationId, privateKeyHex, passphrase);
	await store.putSetting(STATION_KEY_SETTING, encrypted);
	return { privateKeyHex, encrypted };
}

export async function loadEncryptedStationKey(
	store: KioskStore
): Promise<EncryptedStationKey | null> {
	const v = await store.getSetting<unknown>(STATION_KEY_SETTING);
	return v === null ? null : parseEncryptedStationKey(v);
}

/** Imports a backup file's text after proving the passphrase opens it. */
export async function importStationKey(
	store: KioskStore,
	fileText: string,
	passphrase: string
): Promise<EncryptedStationKey> {
	let parsed: unknown;
	try {
		parsed = JSON.parse(fileText);
	} catch {
		throw new KeystoreError('The file is not JSON: choose the .json backup the kiosk exported.');
	}
	const enc = parseEncryptedStationKey(parsed);
	await decryptStationKey(enc, passphrase);
	await store.putSetting(STATION_KEY_SETTING, enc);
	return enc;
}

/** The backup file's text (the encrypted key as stored; the passphrase never leaves the operator). */
export function exportStationKey(enc: EncryptedStationKey): string {
	return `${JSON.stringify(enc, null, 2)}\n`;
}

// ---- Unattended restarts ----
// A kiosk must come back after a power cut without an operator typing the passphrase. With the
// operator's consent the key is also kept wrapped by a non-extractable AES key that lives only in
// this browser's IndexedDB (WebCrypto keys are stored as opaque handles): script on this origin can
// use it, but nobody can read it out or copy it to another device. The passphrase copy stays the
// backup and the way to move the station.
export const DEVICE_KEY_SETTING = 'station-key-device';

interface DeviceWrappedKey {
	wrappingKey: CryptoKey;
	iv: string;
	data: string;
	publicKey: string;
}

export async function rememberOnDevice(store: KioskStore, privateKeyHex: string): Promise<void> {
	const wrappingKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
		'encrypt',
		'decrypt'
	]);
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const data = new Uint8Array(
		await crypto.subtle.encrypt(
			{ name: 'AES-GCM', iv: iv as BufferSource },
			wrappingKey,
			hexToBytes(privateKeyHex) as BufferSource
		)
	);
	const value: DeviceWrappedKey = {
		wrappingKey,
		iv: base64.encode(iv),
		data: base64.encode(data),
		publicKey: ocmfPublicKeyHex(privateKeyHex)
	};
	await store.putSetting(DEVICE_KEY_SETTING, value);
}

/** The key unlocked on this device, or null when the operator must enter the passphrase. */
export async function unlockOnDevice(store: KioskStore): Promise<string | null> {
	const v = await store.getSetting<DeviceWrappedKey>(DEVICE_KEY_SETTING);
	if (!v) return null;
	try {
		const plain = new Uint8Array(
			await crypto.subtle.decrypt(
				{ name: 'AES-GCM', iv: base64.decode(v.iv) as BufferSource },
				v.wrappingKey,
				base64.decode(v.data) as BufferSource
			)
		);
		const hex = bytesToHex(plain);
		return ocmfPublicKeyHex(hex) === v.publicKey ? hex : null;
	} catch {
		return null;
	}
}

export async function forgetOnDevice(store: KioskStore): Promise<void> {
	await store.deleteSetting(DEVICE_KEY_SETTING);
}
