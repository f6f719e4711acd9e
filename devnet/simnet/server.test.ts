import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLightningSimnet, type LightningSimnet } from './server.js';

let sim: LightningSimnet;

beforeAll(async () => {
	sim = await startLightningSimnet({ port: 0, nodes: ['hub', 'station-1'] });
});
afterAll(async () => {
	await sim.stop();
});

interface Answer {
	status: number;
	keepAlive: string | string[] | undefined;
	body: string;
	socket: Socket;
	reusedSocket: boolean;
}

function get(agent: Agent, path: string): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const req = request(new URL(path, sim.url), { agent }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (body += chunk));
			res.on('end', () =>
				resolve({
					status: res.statusCode ?? 0,
					keepAlive: res.headers['keep-alive'],
					body,
					socket: req.socket as Socket,
					reusedSocket: req.reusedSocket
				})
			);
		});
		req.on('error', reject);
		req.end();
	});
}

describe('simnet HTTP server keep-alive', () => {
	it('keeps an idle kept-alive connection usable past Node’s default 5 s', async () => {
		const agent = new Agent({ keepAlive: true, maxSockets: 1 });
		try {
			const first = await get(agent, '/');
			expect(first.status).toBe(200);
			expect(first.keepAlive).toBe('timeout=65');
			let closed = false;
			first.socket.once('close', () => (closed = true));
			// Real idle time: with Node's default keepAliveTimeout (5 s, plus the 1 s grace Node 20 adds)
			// the server has closed the socket by now.
			await sleep(7_000);
			expect(closed).toBe(false);
			const second = await get(agent, '/nodes/hub');
			expect(second.status).toBe(200);
			expect(second.body).toContain('"node":"hub"');
			expect(second.reusedSocket).toBe(true);
			expect(second.socket).toBe(first.socket);
		} finally {
			agent.destroy();
		}
	}, 15_000);
});
