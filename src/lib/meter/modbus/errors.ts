// Everything that can go wrong on a Modbus RTU exchange, each with a message a person understands.

export const EXCEPTION_TEXT: Record<number, string> = {
	1: 'illegal function (the device does not support this request)',
	2: 'illegal data address (no such register on this device — wrong meter profile?)',
	3: 'illegal data value (the device refused the value or the register count)',
	4: 'server device failure (the device reports an internal error)',
	5: 'acknowledge (the device accepted a long-running request)',
	6: 'server device busy (try again later)',
	8: 'memory parity error',
	10: 'gateway path unavailable',
	11: 'gateway target device failed to respond'
};

export type ModbusErrorKind = 'timeout' | 'crc' | 'exception' | 'malformed' | 'closed';

export class ModbusError extends Error {
	constructor(
		readonly kind: ModbusErrorKind,
		message: string,
		readonly unitId?: number,
		readonly functionCode?: number
	) {
		super(message);
		this.name = 'ModbusError';
	}
}

export class ModbusTimeoutError extends ModbusError {
	constructor(unitId: number, functionCode: number, timeoutMs: number, attempts: number) {
		super(
			'timeout',
			`Meter/device ${unitId} did not answer (function ${functionCode}, ${attempts} attempt(s), ${timeoutMs} ms each): check the cable, A/B wiring, unit address and baud rate.`,
			unitId,
			functionCode
		);
		this.name = 'ModbusTimeoutError';
	}
}

export class ModbusCrcError extends ModbusError {
	constructor(unitId: number, functionCode: number, attempts: number) {
		super(
			'crc',
			`Answers from device ${unitId} arrived corrupted (CRC mismatch after ${attempts} attempt(s)): check termination, cable shielding and that only one master is on the bus.`,
			unitId,
			functionCode
		);
		this.name = 'ModbusCrcError';
	}
}

export class ModbusExceptionError extends ModbusError {
	constructor(
		unitId: number,
		functionCode: number,
		readonly exceptionCode: number
	) {
		super(
			'exception',
			`Device ${unitId} refused function ${functionCode}: exception ${exceptionCode}, ${EXCEPTION_TEXT[exceptionCode] ?? 'unknown exception code'}.`,
			unitId,
			functionCode
		);
		this.name = 'ModbusExceptionError';
	}
}
