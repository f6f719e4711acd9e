// The meter layer (browser and Node; Node's serialport transport is transports/node-serial.node.ts).
export type { Meter, MeterIdentity, MeterSample } from './types';
export { SimulatedMeter, type SimulatedCarOptions } from './simulated';
export { createTransportPair, type ByteTransport } from './transport';
export { ModbusRtuMaster, interFrameSilenceMs, type MasterOptions } from './modbus/master';
export { ModbusRtuSlave, type RegisterHandler, type SlaveFaults } from './modbus/slave';
export {
	ModbusError,
	ModbusTimeoutError,
	ModbusCrcError,
	ModbusExceptionError
} from './modbus/errors';
export {
	decodeRegisters,
	encodeRegisters,
	registerCount,
	type RegisterType,
	type WordOrder
} from './registers';
export { crc16Modbus, withCrc, crcValid } from './modbus/crc';
export {
	METER_PROFILES,
	findProfile,
	customProfile,
	parseMeterProfile,
	type MeterProfile,
	type CustomProfileInput
} from './profiles';
export {
	ModbusMeter,
	probeMeter,
	pollMeter,
	energyResolutionWh,
	type ProbeResult
} from './modbus-meter';
export { startSimulatedModbusMeter, MeterRegisterBank } from './simulated-slave';
export {
	MeterGuard,
	classifyMeterError,
	type MeterFault,
	type MeterFaultKind,
	type GuardVerdict,
	type PollOutcome
} from './guard';
export {
	openSerialMeter,
	openMeterOnTransport,
	type SerialMeter,
	type SerialMeterOptions
} from './open';
export {
	openWebSerialTransport,
	requestSerialPort,
	webSerial,
	DEFAULT_SERIAL_OPTIONS
} from './transports/web-serial';
export type { SerialOpenOptions, WebSerialLike, WebSerialPortLike } from './transports/serial-port';
export {
	requestUsbSerialPort,
	grantedUsbSerialPorts,
	webUsbAvailable
} from './transports/webusb-serial';
