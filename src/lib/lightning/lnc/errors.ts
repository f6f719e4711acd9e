// How LNC's failures become the port's errors: lnc-web's and LND's messages mapped into
// LightningErrorCode (LND's wording is read once, by lndErrorKind in lnd-json.ts), and the timeout
// every LNC call gets, because a call made while the mailbox is down may never settle.
import { lndErrorKind } from '../lnd-json';
import { LightningError, type LightningErrorCode } from '../port';

export function messageOf(e: unknown): string {
	if (e instanceof Error) return e.message;
	if (typeof e === 'string') return e;
	return String(e);
}

/** Signs that the mailbox connection, not the request, is what failed. */
const CONNECTION_TROUBLE =
	/not connected|connection|disconnect|mailbox|closed|EOF|websocket|stream occupied|transport|unavailable/i;

/** Maps an error lnc-web or LND reported into the port's vocabulary, with a sentence. */
export function lncError(e: unknown, what: string): LightningError {
	if (e instanceof LightningError) return e;
	const message = messageOf(e);
	const kind = lndErrorKind(message);
	let code: LightningErrorCode = 'backend';
	if (kind === 'permission_denied' || kind === 'bad_macaroon') {
		return new LightningError(
			'unauthorized',
			`Your node refused to ${what} (${message}). The LNC session may not have the permission: create a session with the right rights in Lightning Terminal.`,
			e
		);
	}
	if (kind === 'starting')
		return new LightningError(
			'starting',
			`Your node is still starting and cannot ${what} yet (${message}); waiting for it.`,
			e
		);
	if (kind === 'not_found' || kind === 'insufficient_balance') code = kind;
	else if (CONNECTION_TROUBLE.test(message)) code = 'unreachable';
	const prefix =
		code === 'unreachable'
			? 'The connection to your node dropped while trying to'
			: 'Your node could not';
	return new LightningError(code, `${prefix} ${what}: ${message}`, e);
}

/** Rejects with a timeout error if `promise` has not settled in `ms`; the late result is ignored. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const timer = setTimeout(
			() =>
				reject(
					new LightningError(
						'timeout',
						`Your node did not answer within ${Math.round(ms / 100) / 10} s while trying to ${what}; the LNC connection may have dropped.`
					)
				),
			ms
		);
		promise.then(
			(v) => {
				clearTimeout(timer);
				resolve(v);
			},
			(e: unknown) => {
				clearTimeout(timer);
				reject(e);
			}
		);
	});
}
