// Both apps register the one service worker built from src/service-worker.ts.
export function registerServiceWorker(): void {
	if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
	navigator.serviceWorker
		.register('/service-worker.js')
		.catch((e) => console.warn('service worker:', e));
}
