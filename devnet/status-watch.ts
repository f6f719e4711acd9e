// The devnet's own view of every station's retained status on its secured broker, read with its
// observer login (stations' status only). A phone's grant request is checked against it: the status
// a station publishes while it offers or runs a session names that session and carries the tag
// under the session's station MAC key, which only the station and a holder of its join secret know.
import { connectBus, type MessageBus } from '../src/lib/mqtt';
import { ALL_STATUS_TOPICS, parseTopic } from '../src/lib/protocol';

export interface StatusWatch {
	statusOf(stationId: string): Record<string, unknown> | null;
	close(): Promise<void>;
}

/** Most stations remembered (the devnet has a handful; a flood of made-up ids cannot grow it beyond). */
const MAX_STATIONS = 10_000;

export async function watchStationStatus(
	url: string,
	login: { username: string; password: string }
): Promise<StatusWatch> {
	const bus: MessageBus = await connectBus(url, {
		protocolVersion: 5,
		username: login.username,
		password: login.password,
		clientId: `devnet-observer-${process.pid}`
	});
	const statuses = new Map<string, Record<string, unknown>>();
	await bus.subscribe(ALL_STATUS_TOPICS, (topic, payload) => {
		const parsed = parseTopic(topic);
		if (parsed?.kind !== 'status') return;
		if (payload.length === 0) {
			statuses.delete(parsed.stationId);
			return;
		}
		let message: unknown;
		try {
			message = JSON.parse(Buffer.from(payload).toString('utf8'));
		} catch {
			return;
		}
		if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
		const m = message as Record<string, unknown>;
		if (m.type !== 'status' || m.stationId !== parsed.stationId) return;
		if (!statuses.has(parsed.stationId) && statuses.size >= MAX_STATIONS) return;
		statuses.set(parsed.stationId, m);
	});
	return {
		statusOf: (stationId) => statuses.get(stationId) ?? null,
		close: () => bus.close()
	};
}
