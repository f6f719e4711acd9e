// One call from a granted serial port to a meter the kiosk can poll (browser: Web Serial or the
// WebUSB polyfill's ports). The master is returned too: a SmartEVSE on the same bus shares it.
import { ModbusRtuMaster, type MasterOptions } from './modbus/master';
import { ModbusMeter } from './modbus-meter';
import { findProfile, type MeterProfile } from './profiles';
import type { ByteTransport } from './transport';
import type { SerialOpenOptions, WebSerialPortLike } from './transports/serial-port';
import { openWebSerialTransport } from './transports/web-serial';

export interface SerialMeterOptions {
	/** A profile id (METER_PROFILES) or a profile object (custom meters). */
	profile: string | MeterProfile;
	unitId?: number;
	/** For profiles without a readable serial: the one printed on the meter. */
	serial?: string;
	line?: Partial<SerialOpenOptions>;
	master?: MasterOptions;
}

export interface SerialMeter {
	transport: ByteTransport;
	master: ModbusRtuMaster;
	meter: ModbusMeter;
	close(): Promise<void>;
}

export async function openMeterOnTransport(
	transport: ByteTransport,
	opts: SerialMeterOptions
): Promise<SerialMeter> {
	const profile = typeof opts.profile === 'string' ? findProfile(opts.profile) : opts.profile;
	const master = new ModbusRtuMaster(transport, opts.master);
	try {
		const meter = await ModbusMeter.open(master, {
			profile,
			unitId: opts.unitId,
			serial: opts.serial
		});
		return { transport, master, meter, close: () => transport.close() };
	} catch (e) {
		await transport.close();
		throw e;
	}
}

export async function openSerialMeter(
	port: WebSerialPortLike,
	opts: SerialMeterOptions
): Promise<SerialMeter> {
	return openMeterOnTransport(await openWebSerialTransport(port, opts.line), opts);
}
