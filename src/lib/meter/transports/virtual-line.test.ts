import { describe, expect, it } from 'vitest';
import { openMeterOnTransport } from '../open';
import { findProfile } from '../profiles';
import { SimulatedMeter } from '../simulated';
import { openNodeSerialTransport } from './node-serial.node';
import { socatAvailable, startVirtualMeterLine } from './virtual-line.node';

describe.skipIf(!socatAvailable())(
	'virtual meter line (our slave and master over real ptys)',
	() => {
		it('a headless station reads the simulated meter through a device path', async () => {
			const car = new SimulatedMeter({
				maxPowerW: 11_000,
				wantedWh: 10_000,
				startWh: 3_000_000,
				identity: { vendor: 'v', model: 'm', serial: '880011' }
			});
			const line = await startVirtualMeterLine({
				profile: findProfile('inepro-pro380'),
				source: car,
				unitId: 4,
				serial: '880011'
			});
			try {
				const transport = await openNodeSerialTransport({ path: line.devicePath });
				const { meter, close } = await openMeterOnTransport(transport, {
					profile: 'inepro-pro380',
					unitId: 4,
					serial: 'PRO380-880011'
				});
				const s = await meter.read();
				expect(s.energyWh).toBe(3_000_000);
				expect(s.voltageV).toBe(230);
				expect(meter.identity.serial).toBe('PRO380-880011');
				await close();
			} finally {
				await line.close();
			}
		});
	}
);
