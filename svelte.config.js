// One repository, two static PWAs sharing src/lib. APP=wallet (default) or APP=kiosk picks the routes and assets.
import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

const app = process.env.APP === 'kiosk' ? 'kiosk' : 'wallet';
const dirs = {
	wallet: { routes: 'src/routes', assets: 'static' },
	kiosk: { routes: 'kiosk/routes', assets: 'kiosk/static' }
}[app];

/**
 * A .br and a .gz beside each of the app's own scripts and styles (build/<app>/_app), which the
 * devnet (and any static host that looks for them) serves to browsers that accept them: a phone on
 * slow 4G fetches a third of the bytes. Not adapter-static's `precompress`, which compresses every
 * file at brotli's slowest setting, the 50 MB LNC wasm in static/lnc/ included (minutes per build).
 * @param {import('@sveltejs/kit').Adapter} base
 * @returns {import('@sveltejs/kit').Adapter}
 */
function precompressApp(base) {
	return {
		...base,
		async adapt(builder) {
			await base.adapt(builder);
			await builder.compress(`build/${app}/_app`);
		}
	};
}

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: precompressApp(
			adapter({ pages: `build/${app}`, assets: `build/${app}`, fallback: '200.html', strict: true })
		),
		files: { routes: dirs.routes, assets: dirs.assets },
		// Both builds register the one service worker in src/service-worker.ts themselves (see +layout).
		serviceWorker: { register: false },
		version: { pollInterval: 0 }
	}
};
export default config;
