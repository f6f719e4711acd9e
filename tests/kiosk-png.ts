// A small PNG decoder (8-bit RGB/RGBA, non-interlaced: what Chromium's screenshots are) so a test
// can hand a screenshot's pixels to jsqr without another dependency.
import { inflateSync } from 'node:zlib';

export interface RgbaImage {
	width: number;
	height: number;
	data: Uint8ClampedArray;
}

export function decodePng(png: Buffer): RgbaImage {
	if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
	let pos = 8;
	let width = 0,
		height = 0,
		colorType = 0,
		bitDepth = 0,
		interlace = 0;
	const idat: Buffer[] = [];
	while (pos < png.length) {
		const len = png.readUInt32BE(pos);
		const type = png.toString('ascii', pos + 4, pos + 8);
		const body = png.subarray(pos + 8, pos + 8 + len);
		if (type === 'IHDR') {
			width = body.readUInt32BE(0);
			height = body.readUInt32BE(4);
			bitDepth = body[8]!;
			colorType = body[9]!;
			interlace = body[12]!;
		} else if (type === 'IDAT') idat.push(body);
		else if (type === 'IEND') break;
		pos += 12 + len;
	}
	if (bitDepth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0)
		throw new Error(
			`unsupported PNG (depth ${bitDepth}, colour ${colorType}, interlace ${interlace})`
		);
	const bpp = colorType === 6 ? 4 : 3;
	const raw = inflateSync(Buffer.concat(idat));
	const stride = width * bpp;
	const out = new Uint8ClampedArray(width * height * 4);
	let prev = new Uint8Array(stride);
	for (let y = 0; y < height; y++) {
		const filter = raw[y * (stride + 1)]!;
		const line = new Uint8Array(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
		for (let i = 0; i < stride; i++) {
			const a = i >= bpp ? line[i - bpp]! : 0;
			const b = prev[i]!;
			const c = i >= bpp ? prev[i - bpp]! : 0;
			let add = 0;
			if (filter === 1) add = a;
			else if (filter === 2) add = b;
			else if (filter === 3) add = (a + b) >> 1;
			else if (filter === 4) {
				const p = a + b - c,
					pa = Math.abs(p - a),
					pb = Math.abs(p - b),
					pc = Math.abs(p - c);
				add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
			}
			line[i] = (line[i]! + add) & 0xff;
		}
		for (let x = 0; x < width; x++) {
			const o = (y * width + x) * 4;
			out[o] = line[x * bpp]!;
			out[o + 1] = line[x * bpp + 1]!;
			out[o + 2] = line[x * bpp + 2]!;
			out[o + 3] = bpp === 4 ? line[x * bpp + 3]! : 255;
		}
		prev = line;
	}
	return { width, height, data: out };
}
