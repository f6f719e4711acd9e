import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevnetManifest } from '../src/lib/config';
import { sampleManifest } from '../src/lib/config/devnet-manifest.fixture';
import { freePort } from './ports';
import {
	lanIPv4Addresses,
	loadOrCreateTls,
	startStaticServers,
	type RunningStatic
} from './static';

const root = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-static-'));
let manifest: DevnetManifest | null = null;
let servers: RunningStatic;

function fakeBuild(name: string): string {
	const dir = path.join(root, 'build', name);
	mkdirSync(path.join(dir, '_app', 'immutable'), { recursive: true });
	writeFileSync(path.join(dir, '200.html'), `<!doctype html><title>${name} fallback</title>`);
	writeFileSync(path.join(dir, 'index.html'), `<!doctype html><title>${name} index</title>`);
	writeFileSync(
		path.join(dir, 'service-worker.js'),
		`self.addEventListener('install', () => {}); // ${name}`
	);
	writeFileSync(path.join(dir, '_app', 'immutable', 'app.abc123.js'), 'export {};');
	// What the build (svelte.config.js) writes beside each script.
	writeFileSync(
		path.join(dir, '_app', 'immutable', 'app.abc123.js.br'),
		brotliCompressSync('export {};')
	);
	writeFileSync(path.join(dir, '_app', 'immutable', 'app.abc123.js.gz'), gzipSync('export {};'));
	return dir;
}

/** GET over HTTPS trusting only the devnet certificate (fetch in Node cannot take a CA per request). */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		https
			.get(url, { ca }, (res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (c: string) => (body += c));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
			})
			.on('error', reject);
	});
}

beforeAll(async () => {
	servers = await startStaticServers({
		apps: {
			wallet: { dir: fakeBuild('wallet'), port: await freePort(), httpsPort: await freePort() },
			kiosk: { dir: fakeBuild('kiosk'), port: await freePort(), httpsPort: null }
		},
		httpsHost: '127.0.0.1',
		tlsDir: path.join(root, 'tls'),
		getManifest: () => manifest
	});
});
afterAll(async () => {
	await servers?.stop();
	rmSync(root, { recursive: true, force: true });
});

/** GET over plain HTTP with the given Accept-Encoding; the body as sent (not decoded). */
function rawGet(
	url: string,
	acceptEncoding: string | null
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
	return new Promise((resolve, reject) => {
		http
			.get(
				url,
				{ headers: acceptEncoding === null ? {} : { 'Accept-Encoding': acceptEncoding } },
				(res) => {
					const chunks: Buffer[] = [];
					res.on('data', (c: Buffer) => chunks.push(c));
					res.on('end', () =>
						resolve({
							status: res.statusCode ?? 0,
							headers: res.headers,
							body: Buffer.concat(chunks)
						})
					);
				}
			)
			.on('error', reject);
	});
}

describe('static servers', () => {
	it('serves the precompressed file to a browser that accepts it, and the plain one to anyone else', async () => {
		const url = new URL('/_app/immutable/app.abc123.js', servers.kiosk.url).href;
		const br = await rawGet(url, 'gzip, deflate, br');
		expect(br.headers['content-encoding']).toBe('br');
		expect(br.headers.vary).toBe('Accept-Encoding');
		expect(br.headers['content-type']).toMatch(/javascript/);
		expect(br.headers['cache-control']).toContain('immutable');
		expect(brotliDecompressSync(br.body).toString()).toBe('export {};');
		const gz = await rawGet(url, 'gzip');
		expect(gz.headers['content-encoding']).toBe('gzip');
		expect(gunzipSync(gz.body).toString()).toBe('export {};');
		const plain = await rawGet(url, null);
		expect(plain.headers['content-encoding']).toBeUndefined();
		expect(plain.body.toString()).toBe('export {};');
	});

	it('serves each app on its own port, with the SPA fallback for unknown routes', async () => {
		const wallet = await fetch(new URL('/sessions/abc', servers.wallet.url));
		expect(wallet.status).toBe(200);
		expect(await wallet.text()).toContain('wallet fallback');
		const kiosk = await fetch(new URL('/', servers.kiosk.url));
		expect(await kiosk.text()).toContain('kiosk index');
	});

	it('answers 404 for a missing file rather than the fallback', async () => {
		const res = await fetch(new URL('/missing.js', servers.wallet.url));
		expect(res.status).toBe(404);
	});

	it('serves the service worker with Cache-Control: no-cache and immutable assets for a year', async () => {
		const sw = await fetch(new URL('/service-worker.js', servers.kiosk.url));
		expect(sw.status).toBe(200);
		expect(sw.headers.get('cache-control')).toBe('no-cache');
		expect(await sw.text()).toContain('// kiosk');
		const asset = await fetch(new URL('/_app/immutable/app.abc123.js', servers.wallet.url));
		expect(asset.headers.get('cache-control')).toContain('immutable');
	});

	it('serves /devnet.json live from memory, uncached, to its own origin only (no CORS)', async () => {
		manifest = null;
		const starting = await fetch(new URL('/devnet.json', servers.wallet.url));
		expect(starting.status).toBe(503);

		manifest = sampleManifest();
		const elsewhere = await fetch(new URL('/devnet.json', servers.kiosk.url), {
			headers: { Origin: 'http://elsewhere.test' }
		});
		expect(elsewhere.status).toBe(403);
		expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
		const otherApp = await fetch(new URL('/devnet.json', servers.kiosk.url), {
			headers: { Origin: servers.wallet.url.replace(/\/$/, '') }
		});
		expect(otherApp.status).toBe(403);
		const first = await fetch(new URL('/devnet.json', servers.kiosk.url), {
			headers: { Origin: servers.kiosk.url.replace(/\/$/, '') }
		});
		expect(first.status).toBe(200);
		expect(first.headers.get('cache-control')).toBe('no-store');
		expect(first.headers.get('access-control-allow-origin')).toBeNull();
		expect(await first.json()).toEqual(sampleManifest());

		manifest = { ...sampleManifest(), startedAt: '2027-01-01T00:00:00.000Z' };
		const second = await fetch(new URL('/devnet.json', servers.kiosk.url));
		expect(((await second.json()) as DevnetManifest).startedAt).toBe('2027-01-01T00:00:00.000Z');

		const preflight = await fetch(new URL('/devnet.json', servers.wallet.url), {
			method: 'OPTIONS'
		});
		expect(preflight.status).toBe(405);
		expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
	});

	it('serves HTTPS with a certificate for localhost and 127.0.0.1 only where asked', async () => {
		expect(servers.kiosk.httpsUrl).toBeNull();
		expect(servers.wallet.httpsLocalUrl).toMatch(/^https:\/\/localhost:\d+\/$/);
		const ca = (await loadOrCreateTls(path.join(root, 'tls'), lanIPv4Addresses())).cert;
		const res = await httpsGet(new URL('/devnet.json', servers.wallet.httpsLocalUrl!).href, ca);
		expect(res.status).toBe(200);
		const ip = await httpsGet(servers.wallet.httpsUrl!, ca);
		expect(ip.body).toContain('wallet index');
	});

	it('refuses to start without a build, saying what to run', async () => {
		await expect(
			startStaticServers({
				apps: {
					wallet: { dir: path.join(root, 'nope'), port: await freePort(), httpsPort: null },
					kiosk: { dir: path.join(root, 'build', 'kiosk'), port: await freePort(), httpsPort: null }
				},
				tlsDir: path.join(root, 'tls'),
				getManifest: () => null
			})
		).rejects.toThrow(/the wallet build is missing .*200\.html not found.*npm run build/);
	});

	it('names the taken port and its flag', async () => {
		const blocker = net.createServer();
		const port = await freePort();
		await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
		try {
			await expect(
				startStaticServers({
					apps: {
						wallet: {
							dir: path.join(root, 'build', 'wallet'),
							port: await freePort(),
							httpsPort: null
						},
						kiosk: { dir: path.join(root, 'build', 'kiosk'), port, httpsPort: null }
					},
					tlsDir: path.join(root, 'tls'),
					getManifest: () => null
				})
			).rejects.toThrow(
				`port ${port} (kiosk HTTP) is already in use — stop whatever uses it or pass --kiosk-port <port>`
			);
		} finally {
			await new Promise<void>((r) => blocker.close(() => r()));
		}
	});
});

describe('loadOrCreateTls', () => {
	it('reuses the cached certificate while it covers the addresses, and replaces it when a new address appears', async () => {
		const dir = path.join(root, 'tls-cache');
		const first = await loadOrCreateTls(dir, ['10.1.2.3']);
		expect(new X509Certificate(first.cert).subjectAltName).toBe(
			'DNS:localhost, IP Address:127.0.0.1, IP Address:10.1.2.3'
		);
		const again = await loadOrCreateTls(dir, ['10.1.2.3']);
		expect(again.fingerprint256).toBe(first.fingerprint256);
		const moved = await loadOrCreateTls(dir, ['10.9.9.9']);
		expect(moved.fingerprint256).not.toBe(first.fingerprint256);
		expect(new X509Certificate(moved.cert).subjectAltName).toContain('IP Address:10.9.9.9');
	});
});
