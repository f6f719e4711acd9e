// Bundled (esbuild) into the page by bench/wallet.ts: stores receipts through the wallet's own
// storage code (src/lib/storage/wallet-db.ts), in the wallet's own IndexedDB, on the wallet's origin.
import type { DriverSnapshot } from '../src/lib/session/index';
import { openWalletDb, saveReceipt, type ReceiptRecord } from '../src/lib/storage/index';

declare global {
	interface Window {
		benchSeedReceipts(template: ReceiptRecord<DriverSnapshot>, count: number): Promise<number>;
	}
}

window.benchSeedReceipts = async (template, count) => {
	const db = await openWalletDb();
	try {
		for (let i = 0; i < count; i++) {
			const sessionId = `${template.sessionId}-${i + 1}`;
			const day = 86_400_000 * (count - i);
			await saveReceipt(db, {
				...template,
				sessionId,
				startedAt: template.startedAt - day,
				updatedAt: template.updatedAt - day,
				link: { ...template.link, sessionId },
				snapshot: template.snapshot && {
					...template.snapshot,
					status: { ...template.snapshot.status, sessionId }
				}
			});
		}
		return count;
	} finally {
		db.close();
	}
};
