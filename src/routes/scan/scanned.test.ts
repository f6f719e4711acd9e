import { describe, expect, it } from 'vitest';
import { routeScanned } from './scanned';

describe('routeScanned', () => {
	it('opens a session link on the session screen, whatever host it names', () => {
		expect(routeScanned(' https://wallet.example/#join=eyJ2IjoxfQ ')).toBe(
			'/session#join=eyJ2IjoxfQ'
		);
		expect(routeScanned('http://192.168.1.5:5173/?x=1#join=abc&y')).toBe('/session#join=abc&y');
		expect(routeScanned('https://w.example/#c=1a2b3c4d/st-1/s-1/AbCdEfGhIjKlMnOpQrStUv')).toBe(
			'/session#c=1a2b3c4d/st-1/s-1/AbCdEfGhIjKlMnOpQrStUv'
		);
	});
	it('opens invoices, with or without the lightning: scheme, on the pay screen', () => {
		expect(routeScanned('lnbcrt2500n1pjqqqqq')).toBe('/pay#lnbcrt2500n1pjqqqqq');
		expect(routeScanned('LIGHTNING:LNBC1PJQQQQQ')).toBe('/pay#lnbc1pjqqqqq');
	});
	it('refuses anything else', () => {
		expect(routeScanned('https://example.com/')).toBeNull();
		expect(routeScanned('hello')).toBeNull();
		expect(routeScanned('lnurl1dp68gurn8ghj7')).toBeNull();
	});
});
