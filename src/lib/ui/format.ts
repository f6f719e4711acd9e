// Number formatting shared by both apps' screens.
export function formatSats(msat: bigint, digits = 0): string {
	const sat = Number(msat) / 1000;
	return sat.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: Math.max(digits, sat < 10 ? 3 : 0) });
}
export const formatKwh = (wh: number, digits = 3) => (wh / 1000).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const formatKw = (w: number) => (w / 1000).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
export function formatDuration(ms: number): string {
	const s = Math.max(0, Math.floor(ms / 1000));
	const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
	return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
export const shortHex = (hex: string, n = 8) => (hex.length > 2 * n ? `${hex.slice(0, n)}…${hex.slice(-n)}` : hex);
