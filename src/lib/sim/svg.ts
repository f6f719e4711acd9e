// Line plots as standalone SVG (no library: a report must open anywhere, a paper can include it).

export interface Series {
	name: string;
	colour: string;
	/** [x, y] pairs, x ascending. */
	points: ReadonlyArray<readonly [number, number]>;
	dashed?: boolean;
}

export interface PlotSpec {
	title: string;
	xLabel: string;
	yLabel: string;
	series: readonly Series[];
	xMax?: number;
	yMax?: number;
	width?: number;
	height?: number;
}

export const PALETTE = [
	'#1b6ca8',
	'#d1495b',
	'#edae49',
	'#00798c',
	'#6a4c93',
	'#30343f',
	'#66a182'
];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 1, 2 or 5 × 10^k: a step giving about `count` ticks up to `max`. */
function niceStep(max: number, count: number): number {
	const raw = max / count;
	const p = 10 ** Math.floor(Math.log10(raw));
	for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
	return 10 * p;
}

const fmt = (x: number) =>
	Math.abs(x) >= 1000
		? x.toLocaleString('en-US', { maximumFractionDigits: 0 })
		: String(Math.round(x * 1000) / 1000);

export function linePlot(spec: PlotSpec): string {
	const W = spec.width ?? 760;
	const H = spec.height ?? 420;
	const m = { left: 72, right: 170, top: 40, bottom: 52 };
	const pw = W - m.left - m.right;
	const ph = H - m.top - m.bottom;
	let xMax = spec.xMax ?? 0;
	let yMax = spec.yMax ?? 0;
	for (const s of spec.series) {
		for (const [x, y] of s.points) {
			if (spec.xMax === undefined && x > xMax) xMax = x;
			if (spec.yMax === undefined && y > yMax) yMax = y;
		}
	}
	xMax = xMax > 0 ? xMax : 1;
	yMax = yMax > 0 ? yMax * (spec.yMax === undefined ? 1.05 : 1) : 1;
	const X = (x: number) => m.left + (Math.min(x, xMax) / xMax) * pw;
	const Y = (y: number) => m.top + ph - (Math.min(y, yMax) / yMax) * ph;
	const out: string[] = [];
	out.push(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="Helvetica, Arial, sans-serif" font-size="13">`
	);
	out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
	out.push(`<text x="${m.left}" y="24" font-size="16" font-weight="700">${esc(spec.title)}</text>`);
	const xs = niceStep(xMax, 8);
	for (let t = 0; t <= xMax + 1e-9; t += xs) {
		out.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${m.top}" y2="${m.top + ph}" stroke="#e4e4e4"/>`);
		out.push(`<text x="${X(t)}" y="${m.top + ph + 18}" text-anchor="middle">${fmt(t)}</text>`);
	}
	const ys = niceStep(yMax, 6);
	for (let t = 0; t <= yMax + 1e-9; t += ys) {
		out.push(
			`<line x1="${m.left}" x2="${m.left + pw}" y1="${Y(t)}" y2="${Y(t)}" stroke="#e4e4e4"/>`
		);
		out.push(`<text x="${m.left - 8}" y="${Y(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
	}
	out.push(
		`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#555"/>`
	);
	out.push(
		`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(spec.xLabel)}</text>`
	);
	out.push(
		`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`
	);
	spec.series.forEach((s, i) => {
		if (s.points.length > 0) {
			const d = s.points
				.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${X(x).toFixed(1)} ${Y(y).toFixed(1)}`)
				.join('');
			out.push(
				`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="7 5"' : ''}/>`
			);
		}
		const ly = m.top + 10 + i * 20;
		out.push(
			`<line x1="${m.left + pw + 14}" x2="${m.left + pw + 40}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="3"${s.dashed ? ' stroke-dasharray="7 5"' : ''}/>`
		);
		out.push(`<text x="${m.left + pw + 46}" y="${ly + 4}">${esc(s.name)}</text>`);
	});
	out.push('</svg>');
	return out.join('\n') + '\n';
}

/** Empirical distribution function of `values` as a step line (at most `maxPoints` points). */
export function cdfPoints(values: readonly number[], maxPoints = 400): Array<[number, number]> {
	const sorted = Float64Array.from(values).sort();
	const n = sorted.length;
	if (n === 0) return [];
	const step = Math.max(1, Math.floor(n / maxPoints));
	const points: Array<[number, number]> = [[0, 0]];
	for (let i = 0; i < n; i += step) points.push([sorted[i]!, (i + 1) / n]);
	points.push([sorted[n - 1]!, 1]);
	return points;
}
