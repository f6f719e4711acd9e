// What the driver sends to the station for one session, authenticated: the join proves the one-time
// secret from the kiosk's QR code (its MAC under the session's driver key) and registers a fresh
// per-session driver key; every later message is signed with that key, tagged, and numbered so a
// replayed one is refused. The wallet, the tests, the benchmark and the headless tools all use it.
import {
	type DriverMessage,
	driverTopic,
	encodeMessage,
	newDriverKey,
	sessionKeys,
	type SessionKeys,
	type SessionLink,
	signDriverMessage,
	tagMessage
} from '../protocol';

export interface DriverKey {
	privateKeyHex: string;
	publicKey: string;
}

export class DriverChannel {
	readonly keys: SessionKeys;
	readonly topic: string;

	constructor(
		readonly link: Pick<SessionLink, 'stationId' | 'sessionId' | 'secret'>,
		readonly driverKey: DriverKey = newDriverKey(),
		/** Messages signed so far after the join (restored after a reload). */
		private n = 0
	) {
		this.keys = sessionKeys(link.secret, link.stationId, link.sessionId);
		this.topic = driverTopic(link.stationId, link.sessionId);
	}

	get counter(): number {
		return this.n;
	}

	join(budgetMsat: bigint, driverRef: string, at: number): string {
		const m: DriverMessage = {
			v: 1,
			type: 'join',
			sessionId: this.link.sessionId,
			budgetMsat: budgetMsat.toString(),
			driverRef,
			at,
			driverKey: this.driverKey.publicKey
		};
		return encodeMessage(tagMessage(m, this.keys.driver));
	}

	budget(budgetMsat: bigint, at: number): string {
		return this.signed({
			v: 1,
			type: 'budget',
			sessionId: this.link.sessionId,
			budgetMsat: budgetMsat.toString(),
			at
		});
	}

	stop(at: number): string {
		return this.signed({ v: 1, type: 'stop', sessionId: this.link.sessionId, at });
	}

	reinvoice(seq: number, at: number): string {
		return this.signed({ v: 1, type: 'reinvoice', sessionId: this.link.sessionId, seq, at });
	}

	private signed(m: DriverMessage): string {
		const numbered = { ...m, n: ++this.n };
		return encodeMessage(
			signDriverMessage(
				numbered,
				this.link.stationId,
				this.driverKey.privateKeyHex,
				this.keys.driver
			)
		);
	}
}
