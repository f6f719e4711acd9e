import { describe, expect, it } from 'vitest';
import { FakeSerialPort } from '../../../../tests/fakes/fake-serial-port';
import { ModbusRtuMaster } from '../modbus/master';
import { ModbusMeter } from '../modbus-meter';
import { findProfile } from '../profiles';
import { startSimulatedModbusMeter } from '../simulated-slave';
import { SimulatedMeter } from '../simulated';
import { createTransportPair } from '../transport';
import { openWebSerialTransport } from './web-serial';

function rig() {
	const [host, device] = createTransportPair();
	const car = new SimulatedMeter({
		maxPowerW: 11_000,
		wantedWh: 5000,
		startWh: 777_000,
		identity: { vendor: 'v', model: 'm', serial: '31337' }
	});
	startSimulatedModbusMeter(device, { profile: findProfile('eastron-sdm630'), source: car });
	return { port: new FakeSerialPort(host), car };
}

describe('Web Serial transport', () => {
	it('opens at 9600 8N1 and carries a real meter read', async () => {
		const { port } = rig();
		const transport = await openWebSerialTransport(port);
		expect(port.openedWith).toEqual({ baudRate: 9600, dataBits: 8, stopBits: 1, parity: 'none' });
		expect(transport.baudRate).toBe(9600);
		const meter = await ModbusMeter.open(new ModbusRtuMaster(transport), {
			profile: findProfile('eastron-sdm630')
		});
		expect(meter.identity.serial).toBe('31337');
		expect((await meter.read()).energyWh).toBe(777_000);
		await transport.close();
		expect(port.readable).toBeNull();
	});

	it('explains a port that cannot be opened', async () => {
		const { port } = rig();
		await port.open({ baudRate: 9600 });
		await expect(openWebSerialTransport(port)).rejects.toThrow(
			/Could not open the serial port at 9600 baud.*another program/
		);
	});

	it('reports an unplugged adapter as closed, and the master fails fast', async () => {
		const { port } = rig();
		const transport = await openWebSerialTransport(port, { baudRate: 19200 });
		const closed = new Promise<Error | undefined>((r) => transport.onClose(r));
		// Unplugging: the stream errors and the port has no readable any more.
		port.unplug();
		expect((await closed)?.message).toMatch(/device has been lost/);
		await expect(new ModbusRtuMaster(transport).readInputRegisters(1, 0, 2)).rejects.toThrow(
			/closed/
		);
	});
});
