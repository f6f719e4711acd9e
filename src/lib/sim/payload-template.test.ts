import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildOcmfPayloadText, GATEWAY_VERSION } from '../protocol';
import { PayloadTemplate, type PayloadReading } from './payload-template';

const reading = fc.record({
	pagination: fc.integer({ min: 1, max: 100_000 }),
	at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
	tx: fc.constantFrom('B' as const, 'T' as const, 'E' as const),
	energyWh: fc.integer({ min: 0, max: 1e12 })
});
const fixed = fc.record({
	stationId: fc.stringMatching(/^[A-Z0-9-]{1,12}$/),
	serial: fc.string({ minLength: 1, maxLength: 16 }),
	session: fc.string({ minLength: 1, maxLength: 40 })
});
const input = (f: { stationId: string; serial: string; session: string }) => ({
	stationId: f.stationId,
	gatewayVersion: GATEWAY_VERSION,
	meter: { vendor: 'Lightcharge', model: 'SIM-1', serial: f.serial },
	identification: { type: 'CENTRAL' as const, data: f.session }
});
const built = (f: Parameters<typeof input>[0], r: PayloadReading) =>
	buildOcmfPayloadText({
		...input(f),
		pagination: r.pagination,
		reading: { at: r.at, tx: r.tx, energyWh: r.energyWh }
	});

describe('PayloadTemplate', () => {
	it('fills every later reading exactly as buildOcmfPayloadText builds it', () => {
		fc.assert(
			fc.property(
				fixed,
				reading,
				fc.array(reading, { minLength: 1, maxLength: 8 }),
				(f, first, later) => {
					const { template, text } = PayloadTemplate.of(input(f), first);
					expect(text).toBe(built(f, first));
					for (const r of later) expect(template.fill(r)).toBe(built(f, r));
				}
			),
			{ numRuns: 300 }
		);
	});
});
