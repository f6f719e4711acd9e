// Draws the app icons (a lightning bolt on a disc) as PNGs with no image library: a tiny
// rasteriser + zlib. Run once with `npx tsx scripts/make-icons.ts`; the PNGs are committed.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

function crc32(buf: Uint8Array): number {
	let c = ~0;
	for (const b of buf) {
		c ^= b;
		for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
	}
	return ~c >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(td));
	return Buffer.concat([len, td, crc]);
}
function inPolygon(x: number, y: number, poly: [number, number][]): boolean {
	let inside = false;
	for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
		const [xi, yi] = poly[i]!;
		const [xj, yj] = poly[j]!;
		if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
	}
	return inside;
}
const BOLT: [number, number][] = [
	[0.58, 0.1],
	[0.28, 0.55],
	[0.47, 0.55],
	[0.4, 0.9],
	[0.72, 0.42],
	[0.53, 0.42],
	[0.62, 0.1]
];
function icon(size: number, bg: [number, number, number], maskable: boolean): Buffer {
	const raw = Buffer.alloc((size * 4 + 1) * size);
	const ss = 4; // supersampling for smooth edges
	for (let y = 0; y < size; y++) {
		raw[y * (size * 4 + 1)] = 0;
		for (let x = 0; x < size; x++) {
			let disc = 0,
				bolt = 0;
			for (let sy = 0; sy < ss; sy++)
				for (let sx = 0; sx < ss; sx++) {
					const u = (x + (sx + 0.5) / ss) / size,
						v = (y + (sy + 0.5) / ss) / size;
					const r = Math.hypot(u - 0.5, v - 0.5);
					if (maskable || r <= 0.5) disc++;
					const s = maskable ? 0.8 : 1; // keep the bolt inside the maskable safe zone
					if (inPolygon((u - 0.5) / s + 0.5, (v - 0.5) / s + 0.5, BOLT)) bolt++;
				}
			const n = ss * ss,
				a = disc / n,
				b = bolt / n;
			const o = y * (size * 4 + 1) + 1 + x * 4;
			raw[o] = Math.round(bg[0] * (1 - b) + 255 * b);
			raw[o + 1] = Math.round(bg[1] * (1 - b) + 214 * b);
			raw[o + 2] = Math.round(bg[2] * (1 - b) + 10 * b);
			raw[o + 3] = Math.round(255 * Math.max(a, b));
		}
	}
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(size, 0);
	ihdr.writeUInt32BE(size, 4);
	ihdr[8] = 8;
	ihdr[9] = 6;
	ihdr[10] = 0;
	ihdr[11] = 0;
	ihdr[12] = 0;
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr),
		chunk('IDAT', deflateSync(raw)),
		chunk('IEND', new Uint8Array())
	]);
}
const apps = {
	static: [11, 31, 42] as [number, number, number],
	'kiosk/static': [20, 60, 30] as [number, number, number]
};
for (const [dir, bg] of Object.entries(apps)) {
	writeFileSync(`${dir}/icon-192.png`, icon(192, bg, false));
	writeFileSync(`${dir}/icon-512.png`, icon(512, bg, false));
	writeFileSync(`${dir}/icon-maskable-512.png`, icon(512, bg, true));
}
console.log('icons written');
