// QR codes for both apps' screens: SVG with a 4-module quiet zone (ISO/IEC 18004 §6.3.8 asks for
// 4; less makes old phone cameras miss the code at arm's length).
import QRCode from 'qrcode';

export const QUIET_ZONE_MODULES = 4;

export type QrLevel = 'L' | 'M' | 'Q' | 'H';

/** An SVG QR code of `text`. */
export function qrSvg(text: string, level: QrLevel = 'M'): Promise<string> {
	return QRCode.toString(text, {
		type: 'svg',
		margin: QUIET_ZONE_MODULES,
		errorCorrectionLevel: level
	});
}

/** The QR symbol's version (1–40) and module count for `text`, without the quiet zone. */
export function qrVersion(
	text: string,
	level: QrLevel = 'M'
): { version: number; modules: number } {
	const q = QRCode.create(text, { errorCorrectionLevel: level });
	return { version: q.version, modules: q.modules.size };
}
