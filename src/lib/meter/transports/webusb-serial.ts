// Android Chrome has WebUSB but no Web Serial: `web-serial-polyfill` speaks USB CDC-ACM over
// WebUSB and hands out ports with the Web Serial API, so openWebSerialTransport() takes them as
// they are. (Adapters with vendor chips — CH340, FTDI, CP210x — are not CDC-ACM and need Web
// Serial or a CDC-ACM adapter; docs/meter.md lists what works.)
import type { WebSerialLike, WebSerialPortLike } from './serial-port';

export function webUsbAvailable(): boolean {
	return typeof (globalThis as { navigator?: { usb?: unknown } }).navigator?.usb === 'object';
}

async function polyfill(): Promise<WebSerialLike> {
	if (!webUsbAvailable())
		throw new Error(
			'This browser has neither Web Serial nor WebUSB: use Chrome or Edge (desktop or Android) for the meter.'
		);
	const mod = (await import('web-serial-polyfill')) as unknown as { serial: WebSerialLike };
	return mod.serial;
}

export async function requestUsbSerialPort(): Promise<WebSerialPortLike> {
	return (await polyfill()).requestPort();
}

/** Ports the user already granted (a kiosk reconnects to its adapter after a reload without asking). */
export async function grantedUsbSerialPorts(): Promise<WebSerialPortLike[]> {
	return (await polyfill()).getPorts();
}
