/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
// One service worker for both builds ($service-worker lists are per build). It precaches the app
// shell plus the SPA fallback page (adapter-static's 200.html is in none of kit's lists), serves
// navigations from the fallback when offline, and never caches live data (devnet.json, RPC, MQTT).
import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `lightcharge-${version}`;
const FALLBACK = '/200.html';
// The LNC wasm client (static/lnc/, ~50 MB, ~10 MB compressed, present only when scripts/build-lnc.sh
// built it) is not precached: every driver would download it at install, LNC or not. It is cached
// on first use instead, so a driver who paired once starts offline as well.
const LNC = '/lnc/';
const SHELL = [...build, ...files.filter((f) => !f.startsWith(LNC)), FALLBACK];

sw.addEventListener('install', (event) => {
	event.waitUntil(
		caches
			.open(CACHE)
			.then((cache) => cache.addAll(SHELL))
			.then(() => sw.skipWaiting())
	);
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		caches
			.keys()
			.then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
			.then(() => sw.clients.claim())
	);
});

sw.addEventListener('fetch', (event) => {
	const request = event.request;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.origin !== sw.location.origin) return;

	if (request.mode === 'navigate') {
		// Network first so a new deploy shows at once; the cached shell when the network is gone.
		event.respondWith(
			fetch(request).catch(async () => (await caches.match(FALLBACK)) ?? Response.error())
		);
		return;
	}
	if (url.pathname.startsWith(LNC)) {
		event.respondWith(
			caches.open(CACHE).then(async (cache) => {
				const hit = await cache.match(url.pathname);
				if (hit) return hit;
				const response = await fetch(request);
				if (response.ok) await cache.put(url.pathname, response.clone());
				return response;
			})
		);
		return;
	}
	if (SHELL.includes(url.pathname)) {
		event.respondWith(caches.match(url.pathname).then((hit) => hit ?? fetch(request)));
	}
});
