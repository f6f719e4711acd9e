import { describe, expect, it } from 'vitest';
import { MemoryKioskStore } from './kiosk-db';
import {
	createStationKey,
	decryptStationKey,
	encryptStationKey,
	exportStationKey,
	importStationKey,
	loadEncryptedStationKey,
	parseEncryptedStationKey
} from './keystore';
import { ocmfPublicKeyHex } from '../protocol';

const PASS = 'correct horse battery';

describe('station keystore', () => {
	it('creates a key, stores only the encrypted form, and opens it with the passphrase', async () => {
		const store = new MemoryKioskStore();
		const { privateKeyHex, encrypted } = await createStationKey(store, 'station-7', PASS);
		const stored = await loadEncryptedStationKey(store);
		expect(stored).toEqual(encrypted);
		expect(JSON.stringify(stored)).not.toContain(privateKeyHex);
		expect(stored!.publicKey).toBe(ocmfPublicKeyHex(privateKeyHex));
		expect(stored!.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
		expect(await decryptStationKey(stored!, PASS)).toBe(privateKeyHex);
	});

	it('refuses a wrong passphrase, a short one, a tampered backup and a file that is not a backup', async () => {
		const enc = await encryptStationKey('s', '1'.repeat(63) + '7', PASS, 2000);
		await expect(decryptStationKey(enc, 'wrong passphrase!')).rejects.toThrow(/Wrong passphrase/);
		await expect(encryptStationKey('s', '1'.repeat(64), 'short')).rejects.toThrow(/at least 10/);
		const data = Buffer.from(enc.cipher.data, 'base64');
		data[0]! ^= 1;
		await expect(
			decryptStationKey({ ...enc, cipher: { ...enc.cipher, data: data.toString('base64') } }, PASS)
		).rejects.toThrow(/Wrong passphrase|altered/);
		expect(() => parseEncryptedStationKey({ hello: 1 })).toThrow(
			/not a Lightcharge station key backup/
		);
		await expect(importStationKey(new MemoryKioskStore(), 'not json', PASS)).rejects.toThrow(
			/not JSON/
		);
	});

	it('exports a backup that imports on another kiosk only with the passphrase', async () => {
		const a = new MemoryKioskStore();
		const { privateKeyHex, encrypted } = await createStationKey(a, 'station-7', PASS);
		const file = exportStationKey(encrypted);
		const b = new MemoryKioskStore();
		await expect(importStationKey(b, file, 'not the passphrase')).rejects.toThrow(
			/Wrong passphrase/
		);
		expect(await loadEncryptedStationKey(b)).toBeNull();
		await importStationKey(b, file, PASS);
		expect(await decryptStationKey((await loadEncryptedStationKey(b))!, PASS)).toBe(privateKeyHex);
	});
});

describe('device-bound unlock', () => {
	it('unlocks after a restart without the passphrase until the operator forgets it', async () => {
		const { rememberOnDevice, unlockOnDevice, forgetOnDevice } = await import('./keystore');
		const store = new MemoryKioskStore();
		const key = '2'.repeat(63) + '9';
		expect(await unlockOnDevice(store)).toBeNull();
		await rememberOnDevice(store, key);
		expect(JSON.stringify(store.dump().settings)).not.toContain(key);
		expect(await unlockOnDevice(store)).toBe(key);
		await forgetOnDevice(store);
		expect(await unlockOnDevice(store)).toBeNull();
	});
});
