import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ensurePortFree, freePort, waitForPort } from './ports';

function hold(port: number): Promise<net.Server> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => resolve(server));
	});
}

describe('ports', () => {
	it('freePort returns a port that can be listened on', async () => {
		const port = await freePort();
		expect(port).toBeGreaterThan(0);
		const server = await hold(port);
		server.close();
	});

	it('ensurePortFree passes for a free port and leaves it free', async () => {
		const port = await freePort();
		await ensurePortFree(port, '127.0.0.1', 'chain RPC', '--chain-port');
		(await hold(port)).close();
	});

	it('ensurePortFree names the port, its purpose and the flag when it is taken', async () => {
		const port = await freePort();
		const server = await hold(port);
		try {
			await expect(ensurePortFree(port, '127.0.0.1', 'chain RPC', '--chain-port')).rejects.toThrow(
				`port ${port} (chain RPC) is already in use — stop whatever uses it or pass --chain-port <port>`
			);
		} finally {
			server.close();
		}
	});

	it('ensurePortFree rejects a port number out of range', async () => {
		await expect(ensurePortFree(70000, '127.0.0.1', 'MQTT TCP', '--mqtt-port')).rejects.toThrow(
			/1 to 65535.*--mqtt-port/
		);
		await expect(
			ensurePortFree(Number.NaN, '127.0.0.1', 'MQTT TCP', '--mqtt-port')
		).rejects.toThrow(/integer/);
	});

	it('ensurePortFree explains a host that is not this machine', async () => {
		await expect(
			ensurePortFree(await freePort(), '192.0.2.123', 'wallet HTTP', '--wallet-port')
		).rejects.toThrow(/not an address of this machine/);
	});

	it('waitForPort resolves once something listens and times out otherwise', async () => {
		const port = await freePort();
		await expect(waitForPort(port, '127.0.0.1', 150)).rejects.toThrow(/within 150 ms/);
		const server = await hold(port);
		try {
			await waitForPort(port, '127.0.0.1', 1000);
		} finally {
			server.close();
		}
	});

	it('waitForPort stops early when the process behind it died', async () => {
		await expect(
			waitForPort(await freePort(), '127.0.0.1', 5000, () => 'mosquitto exited')
		).rejects.toThrow('mosquitto exited');
	});
});
