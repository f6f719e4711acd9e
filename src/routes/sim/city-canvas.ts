// Draws the city and one simulation's vehicles and stations on a canvas: streets, stations (a
// square filled by the share of the site limit drawn, red +n for vehicles queued), every vehicle
// as a dot coloured by phase (vehicles at a station fan out around it so queues show).
import { PHASES, type LiveView, type Phase } from '$lib/sim';
import type { CityLayout } from './protocol';

export const PHASE_COLOURS: Record<Phase, string> = {
	idle: '#7d8f99',
	calculating: '#c77dff',
	go: '#4cc9f0',
	waiting: '#ff4d4d',
	charging: '#ffd60a',
	paying: '#2ec4b6',
	done: '#80ed99'
};

export function drawCity(el: HTMLCanvasElement, layout: CityLayout, view: LiveView | null): void {
	const ratio = window.devicePixelRatio || 1;
	const cw = Math.round(el.clientWidth * ratio);
	const ch = Math.round(el.clientHeight * ratio);
	if (el.width !== cw || el.height !== ch) {
		el.width = cw;
		el.height = ch;
	}
	const ctx = el.getContext('2d');
	if (!ctx) return;
	const w = el.width;
	const h = el.height;
	const pad = 14 * ratio;
	const scale = Math.min(w - 2 * pad, h - 2 * pad) / layout.sizeKm;
	const ox = (w - layout.sizeKm * scale) / 2;
	const oy = (h - layout.sizeKm * scale) / 2;
	const X = (x: number) => ox + x * scale;
	const Y = (y: number) => h - (oy + y * scale);
	ctx.fillStyle = '#0b1f2a';
	ctx.fillRect(0, 0, w, h);
	ctx.strokeStyle = '#23404d';
	ctx.lineWidth = 2 * ratio;
	ctx.beginPath();
	const n = layout.nodes;
	for (let i = 0; i < layout.streets.length; i += 2) {
		const a = layout.streets[i]!;
		const b = layout.streets[i + 1]!;
		ctx.moveTo(X(n[2 * a]!), Y(n[2 * a + 1]!));
		ctx.lineTo(X(n[2 * b]!), Y(n[2 * b + 1]!));
	}
	ctx.stroke();
	// Station squares shrink with the map so a small screen still shows the streets.
	const box = Math.max(9, Math.min(18, (layout.sizeKm * scale) / ratio / 45)) * ratio;
	layout.stations.forEach((st, i) => {
		const sf = view?.stations[i];
		const x = X(st.x);
		const y = Y(st.y);
		ctx.fillStyle = '#102a36';
		ctx.fillRect(x - box / 2, y - box / 2, box, box);
		const fill = sf ? Math.min(1, sf.loadKw / st.limitKw) : 0;
		ctx.fillStyle = '#ffd60a';
		ctx.fillRect(x - box / 2, y + box / 2 - box * fill, box, box * fill);
		ctx.strokeStyle = '#ffffff';
		ctx.lineWidth = 2 * ratio;
		ctx.strokeRect(x - box / 2, y - box / 2, box, box);
		if (sf && sf.waiting > 0) {
			ctx.fillStyle = '#ff4d4d';
			ctx.font = `700 ${Math.round(box * 0.8)}px system-ui, sans-serif`;
			ctx.fillText(`+${sf.waiting}`, x + box / 2 + 3 * ratio, y - box / 2 + 2 * ratio);
		}
	});
	if (!view) return;
	const r = Math.max(2, Math.min(4, (layout.sizeKm * scale) / ratio / 220)) * ratio;
	for (let p = 0; p < PHASES.length; p++) {
		ctx.fillStyle = PHASE_COLOURS[PHASES[p]!];
		ctx.beginPath();
		for (let i = 0; i < view.phases.length; i++) {
			if (view.phases[i] !== p) continue;
			let x = X(view.positions[2 * i]!);
			let y = Y(view.positions[2 * i + 1]!);
			if (p >= 3 && p <= 5) {
				const angle = (i * 2.399) % (2 * Math.PI);
				const d = box * 0.9 + (i % 5) * r;
				x += Math.cos(angle) * d;
				y += Math.sin(angle) * d;
			}
			ctx.moveTo(x + r, y);
			ctx.arc(x, y, r, 0, 2 * Math.PI);
		}
		ctx.fill();
	}
}
