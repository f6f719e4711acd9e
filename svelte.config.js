// One repository, two static PWAs sharing src/lib. APP=wallet (default) or APP=kiosk picks the routes and assets.
import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

const app = process.env.APP === 'kiosk' ? 'kiosk' : 'wallet';
const dirs = {
	wallet: { routes: 'src/routes', assets: 'static' },
	kiosk: { routes: 'kiosk/routes', assets: 'kiosk/static' }
}[app];

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// precompress: .br and .gz beside every file, which the devnet (and any static host that looks for
		// them) serves to browsers that accept them: a phone on slow 4G fetches a third of the bytes.
		adapter: adapter({ pages: `build/${app}`, assets: `build/${app}`, fallback: '200.html', strict: true, precompress: true }),
		files: { routes: dirs.routes, assets: dirs.assets },
		// Both builds register the one service worker in src/service-worker.ts themselves (see +layout).
		serviceWorker: { register: false },
		version: { pollInterval: 0 },
	}
};
export default config;
