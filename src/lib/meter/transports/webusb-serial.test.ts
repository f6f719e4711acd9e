// The Android path: no navigator.serial, so requestSerialPort() falls back to web-serial-polyfill
// over WebUSB. The polyfill runs for real on a fake CDC-ACM adapter wired to the simulated meter.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeNavigatorUsb, FakeUsbCdcDevice } from '../../../../tests/fakes/fake-usb-cdc';
import { openSerialMeter } from '../open';
import { findProfile } from '../profiles';
import { startSimulatedModbusMeter } from '../simulated-slave';
import { SimulatedMeter } from '../simulated';
import { createTransportPair } from '../transport';
import { requestSerialPort } from './web-serial';
import { grantedUsbSerialPorts } from './webusb-serial';

afterEach(() => vi.unstubAllGlobals());

describe('WebUSB polyfill transport (Android)', () => {
	it('reads a meter through web-serial-polyfill on a CDC-ACM adapter at 9600 8N1', async () => {
		const [host, device] = createTransportPair();
		const car = new SimulatedMeter({
			maxPowerW: 7_400,
			wantedWh: 20_000,
			startWh: 98_765_400,
			identity: { vendor: 'v', model: 'm', serial: '5150' }
		});
		startSimulatedModbusMeter(device, { profile: findProfile('abb-b23'), source: car, unitId: 2 });
		const usb = new FakeUsbCdcDevice(host);
		vi.stubGlobal('navigator', { usb: fakeNavigatorUsb(usb) });

		const port = await requestSerialPort();
		const { meter, close } = await openSerialMeter(port, { profile: 'abb-b23', unitId: 2 });
		expect(usb.lineCoding).toEqual({ baudRate: 9600, stopBits: 0, parity: 0, dataBits: 8 }); // CDC: 0 = 1 stop bit, 0 = no parity
		expect(meter.identity.serial).toBe('5150');
		expect((await meter.read()).energyWh).toBe(98_765_400);
		expect(await grantedUsbSerialPorts()).toHaveLength(1);
		await close();
		expect(usb.opened).toBe(false);
	});

	it('says what is missing when the browser has neither Web Serial nor WebUSB', async () => {
		vi.stubGlobal('navigator', {});
		await expect(requestSerialPort()).rejects.toThrow(/neither Web Serial nor WebUSB/);
	});
});
