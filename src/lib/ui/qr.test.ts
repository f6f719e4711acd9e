// The kiosk's session QR code, read the way an old phone reads it: a 640×480 camera frame with the
// code at arm's length, slightly turned, blurred and noisy, decoded by jsqr.
import jsQR from 'jsqr';
import QRCode from 'qrcode';
import { describe, expect, test } from 'vitest';
import { encodeSessionLink } from '$lib/protocol';
import { randomSessionId } from '$lib/session';
import { QUIET_ZONE_MODULES, qrSvg, qrVersion } from './qr';

// What a kiosk on a LAN shows (the devnet's wallet over HTTPS on the LAN address, whose home page
// opens session links), with a session id as the station makes them.
const LAN_WALLET = 'https://192.168.178.20:20007/';
const link = (sessionId: string) =>
	encodeSessionLink(LAN_WALLET, {
		v: 2,
		network: '9f86d081',
		stationId: 'station-1',
		sessionId,
		secret: 'q5Tz0mYxW8vJr2LkNa3H_g'
	});
const LINK = link('PyqcQdB75hU');
/** The session id the stations made before (s- and 16 hex digits: the same 64 bits, 7 characters longer). */
const OLD_ID_LINK = link('s-3f2a9c41d07be615');

/** `n` session ids of each shape from a fixed seed (the same every run), for decode rates. */
function sampleIds(n: number): { now: string[]; before: string[] } {
	let x = 0x9e3779b9;
	const byte = () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
	const now: string[] = [],
		before: string[] = [];
	for (let i = 0; i < n; i++) {
		const b = Array.from({ length: 8 }, byte);
		now.push(
			btoa(String.fromCharCode(...b))
				.replace(/\+/g, '-')
				.replace(/\//g, '_')
				.replace(/=+$/, '')
		);
		before.push('s-' + b.map((v) => v.toString(16).padStart(2, '0')).join(''));
	}
	return { now, before };
}

// The first link format (kept only to explain old stickers): everything inside the code.
const LEGACY =
	'https://192.168.178.20:20007/session#join=' +
	Buffer.from(
		JSON.stringify({
			v: 1,
			stationId: 'station-1',
			sessionId: 's-3f2a9c41d07be615',
			secret: 'q5Tz0mYxW8vJr2LkNa3H_g',
			broker: 'wss://192.168.178.20:20003/mqtt',
			chainId: 1337,
			rpcUrl: 'https://192.168.178.20:20001',
			registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3'
		})
	).toString('base64url');

/** A 640×480 grey camera frame with `text`'s QR code `sizePx` wide (quiet zone included), turned by `deg`. */
function cameraFrame(text: string, sizePx: number, deg: number, seed = 1): Uint8ClampedArray {
	const q = QRCode.create(text, { errorCorrectionLevel: 'M' });
	const n = q.modules.size;
	const total = n + 2 * QUIET_ZONE_MODULES;
	const W = 640,
		H = 480;
	const lum = new Float32Array(W * H);
	const cx = W / 2 + 37,
		cy = H / 2 - 21; // not centred
	const cos = Math.cos((deg * Math.PI) / 180),
		sin = Math.sin((deg * Math.PI) / 180);
	const dark = 45,
		light = 205,
		wall = 120;
	const SS = 3; // supersampling: a camera pixel averages the light falling on it
	for (let y = 0; y < H; y++)
		for (let x = 0; x < W; x++) {
			let acc = 0;
			for (let sy = 0; sy < SS; sy++)
				for (let sx = 0; sx < SS; sx++) {
					const px = x + (sx + 0.5) / SS - cx,
						py = y + (sy + 0.5) / SS - cy;
					const u = ((cos * px + sin * py) / sizePx + 0.5) * total - QUIET_ZONE_MODULES;
					const v = ((-sin * px + cos * py) / sizePx + 0.5) * total - QUIET_ZONE_MODULES;
					const inCode =
						u >= -QUIET_ZONE_MODULES &&
						v >= -QUIET_ZONE_MODULES &&
						u < n + QUIET_ZONE_MODULES &&
						v < n + QUIET_ZONE_MODULES;
					const mu = Math.floor(u),
						mv = Math.floor(v);
					const isDark = mu >= 0 && mv >= 0 && mu < n && mv < n && q.modules.get(mv, mu) === 1;
					acc += !inCode ? wall : isDark ? dark : light;
				}
			lum[y * W + x] = acc / (SS * SS);
		}
	// A little defocus (3×3 box blur) and sensor noise (seeded, so the test is repeatable).
	let s = seed >>> 0;
	const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
	const rgba = new Uint8ClampedArray(W * H * 4);
	for (let y = 0; y < H; y++)
		for (let x = 0; x < W; x++) {
			let sum = 0,
				k = 0;
			for (let dy = -1; dy <= 1; dy++)
				for (let dx = -1; dx <= 1; dx++) {
					const yy = y + dy,
						xx = x + dx;
					if (yy >= 0 && yy < H && xx >= 0 && xx < W) {
						sum += lum[yy * W + xx]!;
						k++;
					}
				}
			const g = sum / k + (rand() - 0.5) * 12;
			const i = (y * W + x) * 4;
			rgba[i] = rgba[i + 1] = rgba[i + 2] = g;
			rgba[i + 3] = 255;
		}
	return rgba;
}

describe('the session QR code', () => {
	test('the link is short (85 characters on a LAN address) and its code version 5-M', () => {
		expect(LINK.length).toBe(85);
		expect(qrVersion(LINK, 'M')).toEqual({ version: 5, modules: 37 });
		// With the old session id the same link needed version 6 (41 modules).
		expect(OLD_ID_LINK.length).toBe(92);
		expect(qrVersion(OLD_ID_LINK, 'M')).toEqual({ version: 6, modules: 41 });
		// Every id the station makes is 11 characters a link carries as they are.
		for (let i = 0; i < 200; i++) expect(randomSessionId()).toMatch(/^[A-Za-z0-9_-]{11}$/);
		// The first format carried broker, chain and registry in the link: three times the modules.
		expect(qrVersion(LEGACY, 'M').version).toBeGreaterThanOrEqual(12);
	});
	test('the SVG carries a 4-module quiet zone', async () => {
		const svg = await qrSvg(LINK);
		const { modules } = qrVersion(LINK);
		expect(svg).toContain(
			`viewBox="0 0 ${modules + 2 * QUIET_ZONE_MODULES} ${modules + 2 * QUIET_ZONE_MODULES}"`
		);
	});
	// A kiosk's code about 12 cm wide (the 1280×800 screen's QR box), seen from 45 cm by a camera with
	// a 65° field of view: the frame spans ~57 cm, so the code is ~135 px of the 640.
	test.each([
		[130, 4],
		[150, -3],
		[180, 8]
	])(
		'jsqr decodes it from a 640×480 frame at %i px, turned %i°, blurred and noisy',
		(size, deg) => {
			const frame = cameraFrame(LINK, size, deg);
			const found = jsQR(frame, 640, 480);
			expect(found?.data).toBe(LINK);
		}
	);
	// 20 links of each shape (fixed seed, so the same every run): the shorter link is read more often
	// when the code is small in the frame. Here: 130 px 5-M 20/20, 6-M 18/20; 110 px 5-M 15/20, 6-M
	// 2/20 (with random ids instead: 130 px 19/20 vs 8–12/20, 110 px 11/20 vs 0–1/20).
	test('at 130 and 110 px the 5-M link is read more often than the old 6-M one', () => {
		const { now, before } = sampleIds(20);
		const rate = (ids: string[], size: number) =>
			ids.filter(
				(id, i) => jsQR(cameraFrame(link(id), size, 3, i + 1), 640, 480)?.data === link(id)
			).length;
		const at130 = { now: rate(now, 130), before: rate(before, 130) };
		const at110 = { now: rate(now, 110), before: rate(before, 110) };
		console.log(
			`[qr] read of 20 at 130 px: 5-M ${at130.now}, 6-M ${at130.before}; at 110 px: 5-M ${at110.now}, 6-M ${at110.before}`
		);
		expect(at130.now).toBeGreaterThanOrEqual(18);
		expect(at130.now).toBeGreaterThan(at130.before);
		expect(at110.now).toBeGreaterThan(at110.before);
	}, 180_000);
	test('the frame is hard enough to matter: the same code at 80 px, or the old long link at 130 px, is not read', () => {
		expect(jsQR(cameraFrame(LINK, 80, 4), 640, 480)).toBeNull();
		expect(jsQR(cameraFrame(LEGACY, 130, 4), 640, 480)).toBeNull();
	});
});
