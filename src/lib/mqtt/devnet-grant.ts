// A devnet's secured broker (`--secure-broker`) gives each phone its own login, which reads a
// session's topics (and writes its driver topic) only once the phone has shown the devnet that it
// holds the session's join secret. It shows the session's station MAC key, derived from the secret
// (protocol/authentication.ts): the devnet checks it against the tag on the station's own retained
// status for that session. The join secret itself and the driver's MAC key never leave the phone.
// Sent only to the origin that served this page (the devnet), never to a broker or a link's host.
import { bytesToHex, sessionKeys } from '../protocol';

export const DEVNET_GRANT_PATH = '/devnet/broker/grant';

/** Asks the devnet that served this page to open one session's topics to this phone's broker login. */
export async function requestSessionTopics(
	link: { stationId: string; sessionId: string; secret: string },
	fetchImpl: typeof fetch = fetch
): Promise<void> {
	const stationMac = bytesToHex(sessionKeys(link.secret, link.stationId, link.sessionId).station);
	let res: Response;
	try {
		res = await fetchImpl(DEVNET_GRANT_PATH, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ stationId: link.stationId, sessionId: link.sessionId, stationMac }),
			credentials: 'same-origin'
		});
	} catch {
		throw new Error(
			'The devnet could not be asked to open this session’s messages to this phone: is it running, or are you offline?'
		);
	}
	if (res.ok) return;
	let why = '';
	try {
		const body = (await res.json()) as { message?: unknown };
		if (typeof body.message === 'string') why = body.message.slice(0, 300);
	} catch {
		// no sentence from the devnet
	}
	throw new Error(
		`The devnet did not open this session’s messages to this phone (${res.status}${why ? `: ${why}` : ''}).`
	);
}
