import { describe, expect, it } from 'vitest';
import { decryptKey, encryptKey } from './wallet-db';

describe('ledger key encryption', () => {
	it('round-trips under the passphrase and refuses another', async () => {
		const secret = crypto.getRandomValues(new Uint8Array(32));
		const enc = await encryptKey(secret, 'correct horse', 1000);
		expect(enc.data).not.toContain(btoa(String.fromCharCode(...secret)).slice(0, 10));
		expect(await decryptKey(enc, 'correct horse')).toEqual(secret);
		await expect(decryptKey(enc, 'wrong horse!')).rejects.toThrow('That passphrase does not unlock your ledger key.');
	});
	it('refuses a short passphrase', async () => {
		await expect(encryptKey(new Uint8Array(32), 'short')).rejects.toThrow(/at least 8 characters/);
	});
});
