// Port checks for the devnet: fail early, naming the port, what wanted it and the flag that moves it.
import net from 'node:net';

export interface DevnetPorts {
	chain: number;
	mqtt: number;
	ws: number;
	lightning: number;
	wallet: number;
	kiosk: number;
	httpsWallet: number;
	httpsKiosk: number;
}

export const DEFAULT_PORTS: DevnetPorts = {
	chain: 8545,
	mqtt: 1883,
	ws: 9001,
	lightning: 8180,
	wallet: 5173,
	kiosk: 5174,
	httpsWallet: 5443,
	httpsKiosk: 5444
};

/** What each port is for and the CLI flag that moves it (used in every port error). */
export const PORT_LABELS: Record<keyof DevnetPorts, { what: string; flag: string }> = {
	chain: { what: 'chain RPC', flag: '--chain-port' },
	mqtt: { what: 'MQTT TCP', flag: '--mqtt-port' },
	ws: { what: 'MQTT WebSocket', flag: '--ws-port' },
	lightning: { what: 'Lightning simnet', flag: '--ln-port' },
	wallet: { what: 'wallet HTTP', flag: '--wallet-port' },
	kiosk: { what: 'kiosk HTTP', flag: '--kiosk-port' },
	httpsWallet: { what: 'wallet HTTPS', flag: '--https-wallet-port' },
	httpsKiosk: { what: 'kiosk HTTPS', flag: '--https-kiosk-port' }
};

/** A listen error turned into a sentence a person can act on. */
export function describeListenError(
	err: unknown,
	port: number,
	host: string,
	what: string,
	flag: string
): Error {
	const code = (err as NodeJS.ErrnoException | undefined)?.code;
	if (code === 'EADDRINUSE') {
		return new Error(
			`port ${port} (${what}) is already in use — stop whatever uses it or pass ${flag} <port>`
		);
	}
	if (code === 'EACCES') {
		return new Error(
			`port ${port} (${what}) needs privileges this process lacks — pass ${flag} <port> above 1023`
		);
	}
	if (code === 'EADDRNOTAVAIL') {
		return new Error(
			`cannot listen on ${host}:${port} (${what}): ${host} is not an address of this machine — check --host`
		);
	}
	const message = err instanceof Error ? err.message : String(err);
	return new Error(`cannot listen on ${host}:${port} (${what}): ${message}`);
}

function validatePort(port: number, what: string, flag: string): void {
	if (!Number.isInteger(port) || port < 1 || port > 65535) {
		throw new Error(
			`${what} port must be an integer from 1 to 65535 (got ${String(port)}) — check ${flag}`
		);
	}
}

/**
 * Throws a clear error when `host:port` cannot be listened on. It binds and releases the port,
 * so a later listener of ours gets it unless another process races in between.
 */
export async function ensurePortFree(
	port: number,
	host: string,
	what: string,
	flag: string
): Promise<void> {
	validatePort(port, what, flag);
	await new Promise<void>((resolve, reject) => {
		const probe = net.createServer();
		probe.once('error', (err) => reject(describeListenError(err, port, host, what, flag)));
		// exclusive: never share the port with a cluster primary's handle.
		probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
	});
}

/** A port the OS reports free right now on `host` (for tests; another process may still take it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
	return new Promise<number>((resolve, reject) => {
		const probe = net.createServer();
		probe.once('error', reject);
		probe.listen({ port: 0, host, exclusive: true }, () => {
			const address = probe.address();
			const port = typeof address === 'object' && address !== null ? address.port : 0;
			probe.close(() =>
				port > 0 ? resolve(port) : reject(new Error('the OS returned no free port'))
			);
		});
	});
}

/** Resolves once a TCP connection to `host:port` succeeds; rejects after `timeoutMs`. */
export async function waitForPort(
	port: number,
	host: string,
	timeoutMs: number,
	deathReason?: () => string | null
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	const connectHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
	for (;;) {
		const reason = deathReason?.() ?? null;
		if (reason !== null) throw new Error(reason);
		const connected = await new Promise<boolean>((resolve) => {
			const socket = net.connect({ port, host: connectHost });
			const done = (ok: boolean) => {
				socket.destroy();
				resolve(ok);
			};
			socket.once('connect', () => done(true));
			socket.once('error', () => done(false));
			socket.setTimeout(500, () => done(false));
		});
		if (connected) return;
		if (Date.now() >= deadline)
			throw new Error(
				`nothing accepted connections on ${connectHost}:${port} within ${timeoutMs} ms`
			);
		await new Promise((r) => setTimeout(r, 50));
	}
}

/** Listens exclusively on host:port; a taken port rejects with the sentence that names its flag. */
export function listen(
	server: net.Server,
	port: number,
	host: string,
	what: string,
	flag: string
): Promise<void> {
	return new Promise((resolve, reject) => {
		const onError = (err: Error) => reject(describeListenError(err, port, host, what, flag));
		server.once('error', onError);
		server.listen({ port, host, exclusive: true }, () => {
			server.off('error', onError);
			resolve();
		});
	});
}
