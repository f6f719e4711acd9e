import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
	DEFAULT_SETTINGS,
	decryptKey,
	loadSettings,
	openWalletDb,
	saveSettings,
	unlockIdentity
} from './wallet-db';
import {
	MIN_PASSPHRASE_LENGTH,
	VAULT_ITERATIONS,
	VaultError,
	needsReseal,
	openSecret,
	resealed,
	sealSecret,
	type SealedSecret
} from './vault';

const secret = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

/** What the wallet stored before the one vault, written the way that code wrote it (btoa, 210,000 iterations allowed any 8+ characters). */
async function legacyWalletKey(passphrase: string, iterations: number): Promise<SealedSecret> {
	const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
	const salt = crypto.getRandomValues(new Uint8Array(16));
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const material = await crypto.subtle.importKey(
		'raw',
		new TextEncoder().encode(passphrase),
		'PBKDF2',
		false,
		['deriveKey']
	);
	const key = await crypto.subtle.deriveKey(
		{ name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
		material,
		{ name: 'AES-GCM', length: 256 },
		false,
		['encrypt']
	);
	const data = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, secret));
	return { salt: b64(salt), iv: b64(iv), data: b64(data), iterations };
}

describe('the passphrase vault', () => {
	it('seals at today’s count by default and opens only with the passphrase', async () => {
		const sealed = await sealSecret(secret, 'a long passphrase', 1000);
		expect(await openSecret(sealed, 'a long passphrase')).toEqual(secret);
		await expect(openSecret(sealed, 'another passphrase')).rejects.toMatchObject({
			code: 'wrong_passphrase'
		});
		expect(VAULT_ITERATIONS).toBe(310_000);
	});

	it('one minimum length for every passphrase', async () => {
		expect(MIN_PASSPHRASE_LENGTH).toBe(10);
		await expect(sealSecret(secret, '123456789', 1000)).rejects.toMatchObject({
			code: 'short_passphrase'
		});
		expect(await openSecret(await sealSecret(secret, '1234567890', 1000), '1234567890')).toEqual(
			secret
		);
	});

	it('refuses a broken record with a code, not a crash', async () => {
		const sealed = await sealSecret(secret, 'a long passphrase', 1000);
		await expect(
			openSecret({ ...sealed, iterations: 10 }, 'a long passphrase')
		).rejects.toMatchObject({ code: 'unreadable' });
		await expect(
			openSecret({ ...sealed, salt: '***' }, 'a long passphrase')
		).rejects.toBeInstanceOf(VaultError);
		await expect(
			openSecret({ ...sealed, data: sealed.data.slice(4) }, 'a long passphrase')
		).rejects.toMatchObject({ code: 'wrong_passphrase' });
		await expect(
			openSecret(null as unknown as SealedSecret, 'a long passphrase')
		).rejects.toMatchObject({ code: 'unreadable' });
	});

	it('opens what the wallet stored before it (210,000 iterations, an 8-character passphrase) and reseals it at today’s count', async () => {
		const old = await legacyWalletKey('eight ch', 210_000);
		expect(needsReseal(old)).toBe(true);
		expect(await openSecret(old, 'eight ch')).toEqual(secret);
		const { secret: opened, sealed } = await resealed(old, 'eight ch');
		expect(opened).toEqual(secret);
		expect(sealed.iterations).toBe(VAULT_ITERATIONS);
		expect(needsReseal(sealed)).toBe(false);
		expect(await openSecret(sealed, 'eight ch')).toEqual(secret);
	});
});

describe('the wallet’s ledger identity across the move to the vault', () => {
	it('an identity stored by the older wallet still unlocks, and is stored again at today’s count', async () => {
		const db = await openWalletDb(`vault-migration-${Math.random()}`);
		try {
			const old = await legacyWalletKey('eight ch', 210_000);
			await saveSettings(db, {
				...DEFAULT_SETTINGS,
				identity: { address: '0x' + '11'.repeat(20), key: old }
			});
			await expect(unlockIdentity(db, 'wrong one!')).rejects.toThrow(
				'That passphrase does not unlock your ledger key.'
			);
			expect((await loadSettings(db)).identity?.key).toEqual(old); // a wrong passphrase changes nothing
			expect(await unlockIdentity(db, 'eight ch')).toEqual(secret);
			const now = (await loadSettings(db)).identity!;
			expect(now.address).toBe('0x' + '11'.repeat(20));
			expect(now.key.iterations).toBe(VAULT_ITERATIONS);
			expect(now.key.salt).not.toBe(old.salt);
			expect(await decryptKey(now.key, 'eight ch')).toEqual(secret);
			expect(await unlockIdentity(db, 'eight ch')).toEqual(secret); // the second time, nothing to reseal
		} finally {
			db.close();
		}
	}, 60_000);
});
