// One connection per pairing across tabs: one pairing can serve one tab at a time ("stream
// occupied"), so a Web Lock per namespace makes a second tab wait, or take over (the first tab is
// told and disconnects).
import { LightningError } from '../port';
import { messageOf } from './errors';

/** The part of the Web Locks API used here (`navigator.locks`). */
export type LockManagerLike = Pick<LockManager, 'request'>;

export interface HeldTabLock {
	release(): void;
	/** Resolves when another tab took the lock over; this tab must stop using the connection. */
	lost: Promise<void>;
}

export type TabPolicy = 'wait' | 'take_over';

/**
 * Holds the lock named for this pairing. `wait` queues behind the tab that has it (`onWaiting` is
 * told, so the UI can say so); `take_over` steals it, and the other tab's `lost` resolves.
 */
export function acquireTabLock(
	locks: LockManagerLike,
	name: string,
	policy: TabPolicy,
	options: { onWaiting?: () => void; signal?: AbortSignal } = {}
): Promise<HeldTabLock> {
	return new Promise<HeldTabLock>((resolveHeld, rejectHeld) => {
		let held = false;
		let release!: () => void;
		const released = new Promise<void>((r) => (release = r));
		let markLost!: () => void;
		const lost = new Promise<void>((r) => (markLost = r));
		const hold = async (lock: Lock | null): Promise<void> => {
			if (!lock) return;
			held = true;
			resolveHeld({ release, lost });
			await released;
		};
		const onRejected = (e: unknown) => {
			if (held) markLost();
			else
				rejectHeld(
					new LightningError(
						'unreachable',
						`Another tab is using this node connection: ${messageOf(e)}`,
						e
					)
				);
		};
		if (policy === 'take_over') {
			locks.request(name, { steal: true }, hold).catch(onRejected);
			return;
		}
		// First ask without queueing, to know whether to tell the user we are waiting.
		locks
			.request(name, { ifAvailable: true }, async (lock) => {
				if (lock) return hold(lock);
				options.onWaiting?.();
				const queued: LockOptions = options.signal ? { signal: options.signal } : {};
				locks.request(name, queued, hold).catch(onRejected);
			})
			.catch(onRejected);
	});
}
