// A virtual RS-485 line for Node demos: socat makes two connected pseudo-terminals; a simulated
// meter (our Modbus RTU slave) listens on one through serialport, and the other is a device path
// a headless station opens exactly as it would open /dev/ttyUSB0. Node only; needs socat.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModbusRtuSlave } from '../modbus/slave';
import type { MeterProfile } from '../profiles';
import { startSimulatedModbusMeter, type MeterRegisterBank } from '../simulated-slave';
import type { ByteTransport } from '../transport';
import type { Meter } from '../types';
import { openNodeSerialTransport } from './node-serial.node';

export interface VirtualMeterLine {
	/** Open this path as the meter's serial port. */
	devicePath: string;
	slave: ModbusRtuSlave;
	bank: MeterRegisterBank;
	close(): Promise<void>;
}

export function socatAvailable(): boolean {
	return spawnSync('socat', ['-V']).status === 0;
}

export async function startVirtualMeterLine(opts: {
	profile: MeterProfile;
	source: Meter;
	unitId?: number;
	serial?: string;
	baudRate?: number;
}): Promise<VirtualMeterLine> {
	if (!socatAvailable())
		throw new Error(
			'socat is not installed (Debian: apt-get install socat); it makes the virtual serial line.'
		);
	const dir = mkdtempSync(join(tmpdir(), 'lightcharge-line-'));
	const meterEnd = join(dir, 'meter');
	const devicePath = join(dir, 'station');
	const socat: ChildProcess = spawn(
		'socat',
		[`pty,raw,echo=0,link=${meterEnd}`, `pty,raw,echo=0,link=${devicePath}`],
		{ stdio: 'ignore' }
	);
	for (let i = 0; i < 150 && !(existsSync(meterEnd) && existsSync(devicePath)); i++)
		await new Promise((r) => setTimeout(r, 20));
	if (!existsSync(devicePath)) {
		socat.kill();
		throw new Error('socat did not create the virtual serial line within 3 s.');
	}
	let transport: ByteTransport;
	try {
		transport = await openNodeSerialTransport({ path: meterEnd, baudRate: opts.baudRate ?? 9600 });
	} catch (e) {
		socat.kill();
		throw e;
	}
	const { slave, bank } = startSimulatedModbusMeter(transport, {
		profile: opts.profile,
		source: opts.source,
		unitId: opts.unitId,
		serial: opts.serial
	});
	return {
		devicePath,
		slave,
		bank,
		async close() {
			slave.detach();
			await transport.close();
			socat.kill();
			rmSync(dir, { recursive: true, force: true });
		}
	};
}
