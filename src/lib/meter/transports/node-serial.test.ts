import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { crcValid, withCrc } from '../modbus/crc';
import { ModbusRtuMaster } from '../modbus/master';
import { nodeSerialTransport, type NodeSerialStream } from './node-serial.node';

afterEach(() => SerialPortMock.binding.reset());

describe('Node serialport transport (serialport mock binding)', () => {
	it('writes frames to the port and delivers what the port receives', async () => {
		SerialPortMock.binding.createPort('/dev/ttyMOCK0');
		const port = new SerialPortMock({ path: '/dev/ttyMOCK0', baudRate: 9600, autoOpen: false });
		const transport = await nodeSerialTransport(port as unknown as NodeSerialStream);
		expect(transport.baudRate).toBe(9600);
		const master = new ModbusRtuMaster(transport, { timeoutMs: 200, retries: 0 });
		// The "meter": answer the request once it has reached the binding.
		const answered = (async () => {
			for (;;) {
				const last = port.port?.lastWrite;
				if (last) {
					expect(crcValid(new Uint8Array(last))).toBe(true);
					expect([...last.subarray(0, 6)]).toEqual([5, 4, 0x00, 0x48, 0x00, 0x02]);
					port.port!.emitData(
						Buffer.from(withCrc(new Uint8Array([5, 4, 4, 0x44, 0x9a, 0x52, 0x2b])))
					);
					return;
				}
				await new Promise((r) => setTimeout(r, 2));
			}
		})();
		const words = await master.readInputRegisters(5, 0x48, 2);
		await answered;
		expect([...words]).toEqual([0x449a, 0x522b]);
		await transport.close();
		expect(port.isOpen).toBe(false);
	});

	it('an open failure names the port', async () => {
		const { openNodeSerialTransport } = await import('./node-serial.node');
		await expect(
			openNodeSerialTransport({ path: '/dev/does-not-exist-lightcharge' })
		).rejects.toThrow(/Could not open serial port \/dev\/does-not-exist-lightcharge/);
	});
});
