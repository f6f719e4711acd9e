// The OCMF payload text of a session's readings, made fast without re-implementing it: once per
// session the shared builder (buildOcmfPayloadText) makes the first reading's text, and the four
// fields that change from reading to reading — PG (pagination), TM (time), TX (transaction) and
// RV (the register) — are cut out of it; later readings fill the same fields with the shared
// formatters (formatOcmfTime, formatKwh). The first reading's text is the builder's own, and a
// template is refused unless filling it with the first reading's values gives that text back, so
// the two can never drift apart (tested on random readings as well).
import {
	buildOcmfPayloadText,
	formatKwh,
	formatOcmfTime,
	type OcmfPayloadInput
} from '../protocol';

export interface PayloadReading {
	pagination: number;
	at: number;
	tx: 'B' | 'T' | 'E';
	energyWh: number;
}

// Readings of every session at a tick share their time: format each instant once.
let lastAt = Number.NaN;
let lastTime = '';
function ocmfTime(at: number): string {
	if (at !== lastAt) {
		lastTime = JSON.stringify(formatOcmfTime(at));
		lastAt = at;
	}
	return lastTime;
}

const fieldTexts = (r: PayloadReading) => [
	`"PG":${JSON.stringify(`T${r.pagination}`)}`,
	`"TM":${ocmfTime(r.at)}`,
	`"TX":${JSON.stringify(r.tx)}`,
	`"RV":${formatKwh(r.energyWh)}`
];

export class PayloadTemplate {
	/** The text between the varying fields: text = p0 PG p1 TM p2 TX p3 RV p4. */
	private readonly parts: readonly [string, string, string, string, string];

	private constructor(parts: [string, string, string, string, string]) {
		this.parts = parts;
	}

	/** The template of a session, and its first reading's text (the shared builder's output). */
	static of(
		fixed: Omit<OcmfPayloadInput, 'pagination' | 'reading'>,
		first: PayloadReading
	): { template: PayloadTemplate; text: string } {
		const text = buildOcmfPayloadText({
			...fixed,
			pagination: first.pagination,
			reading: { at: first.at, tx: first.tx, energyWh: first.energyWh }
		});
		const parts: string[] = [];
		let from = 0;
		for (const field of fieldTexts(first)) {
			const at = text.indexOf(field, from);
			// A field that is not where expected, or that also occurs later, cannot be cut out safely.
			if (at < 0 || text.indexOf(field, at + 1) >= 0)
				throw new Error(`OCMF payload template: field ${field} not found once in ${text}`);
			parts.push(text.slice(from, at));
			from = at + field.length;
		}
		parts.push(text.slice(from));
		const template = new PayloadTemplate(parts as [string, string, string, string, string]);
		if (template.fill(first) !== text)
			throw new Error(`OCMF payload template does not reproduce ${text}`);
		return { template, text };
	}

	fill(r: PayloadReading): string {
		const p = this.parts;
		return `${p[0]}"PG":"T${r.pagination}"${p[1]}"TM":${ocmfTime(r.at)}${p[2]}"TX":"${r.tx}"${p[3]}"RV":${formatKwh(r.energyWh)}${p[4]}`;
	}
}
