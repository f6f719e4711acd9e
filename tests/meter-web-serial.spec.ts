// The Web Serial fake in a real page: navigator.serial.requestPort() hands out a port whose
// streams reach a simulated SDM630 in the page, answering real Modbus RTU frames.
import { expect, test } from '@playwright/test';
import { E2E_PORTS } from '../playwright.config';
import { crcValid, decodeRegisters, withCrc } from '../src/lib/meter';
import { installFakeSerial } from './fakes/web-serial';

const KIOSK = `http://127.0.0.1:${E2E_PORTS.kiosk}/`;

/** Runs in the page with nothing imported: raw Web Serial calls, one request, the whole answer back. */
function exchange(args: {
	request: number[];
	answerLength: number;
	baudRate: number;
}): Promise<number[]> {
	return (async () => {
		const serial = (navigator as unknown as { serial: { requestPort(): Promise<any> } }).serial;
		const port = await serial.requestPort();
		await port.open({ baudRate: args.baudRate });
		const writer = port.writable.getWriter();
		await writer.write(new Uint8Array(args.request));
		writer.releaseLock();
		const reader = port.readable.getReader();
		const got: number[] = [];
		const timeout = setTimeout(() => reader.cancel(), 1000);
		while (got.length < args.answerLength) {
			const { value, done } = await reader.read();
			if (done) break;
			got.push(...value);
		}
		clearTimeout(timeout);
		reader.releaseLock();
		await port.close();
		return got;
	})();
}

test('navigator.serial is a fake port that answers Modbus reads from a simulated SDM630', async ({
	page
}) => {
	await installFakeSerial(page, {
		profile: 'eastron-sdm630',
		serial: '20240917',
		startWh: 1_234_000,
		carAllowed: false
	});
	await page.goto(KIOSK);
	expect(
		await page.evaluate(
			() => 'serial' in navigator && Object.getPrototypeOf(navigator).hasOwnProperty('serial')
		)
	).toBe(true);

	// FC 04, import energy (0x0048, float32 kWh)
	const energy = await page.evaluate(exchange, {
		request: [...withCrc(new Uint8Array([1, 4, 0x00, 0x48, 0x00, 0x02]))],
		answerLength: 9,
		baudRate: 9600
	});
	expect(crcValid(new Uint8Array(energy))).toBe(true);
	expect(energy.slice(0, 3)).toEqual([1, 4, 4]);
	expect(
		decodeRegisters(
			[(energy[3]! << 8) | energy[4]!, (energy[5]! << 8) | energy[6]!],
			'float32',
			'high-first'
		)
	).toBe(1234);

	// FC 03, serial number (0xFC00, uint32)
	const serial = await page.evaluate(exchange, {
		request: [...withCrc(new Uint8Array([1, 3, 0xfc, 0x00, 0x00, 0x02]))],
		answerLength: 9,
		baudRate: 9600
	});
	expect(
		decodeRegisters(
			[(serial[3]! << 8) | serial[4]!, (serial[5]! << 8) | serial[6]!],
			'uint32',
			'high-first'
		)
	).toBe(20240917);

	// A register the SDM630 does not have: exception 2
	const refused = await page.evaluate(exchange, {
		request: [...withCrc(new Uint8Array([1, 4, 0x70, 0x00, 0x00, 0x02]))],
		answerLength: 5,
		baudRate: 9600
	});
	expect(refused.slice(0, 3)).toEqual([1, 0x84, 2]);

	// Opened at the wrong baud rate, the meter hears noise and stays silent.
	const silent = await page.evaluate(exchange, {
		request: [...withCrc(new Uint8Array([1, 4, 0x00, 0x48, 0x00, 0x02]))],
		answerLength: 9,
		baudRate: 19200
	});
	expect(silent).toEqual([]);
	expect(await page.evaluate(() => globalThis.__lightchargeFakeMeter!.requestsSeen())).toBe(3);
});

test('the real master and Web Serial transport read the fake meter in Chromium, and see its faults', async ({
	page
}) => {
	await installFakeSerial(page, {
		profile: 'carlo-gavazzi-em340',
		serial: 'EM340SIM000042',
		startWh: 5_000_000,
		maxPowerW: 11_000,
		rampSeconds: 0
	});
	await page.goto(KIOSK);
	// The app's side, bundled from src/lib/meter as the kiosk would use it (no test code in it).
	const { build } = await import('esbuild');
	const out = await build({
		stdin: {
			contents: `import { requestSerialPort, openSerialMeter, probeMeter, pollMeter, MeterGuard } from '../src/lib/meter';
				globalThis.__meterUnderTest = async () => {
					const port = await requestSerialPort();
					const { meter, master, close } = await openSerialMeter(port, { profile: 'carlo-gavazzi-em340', master: { timeoutMs: 250, retries: 2 } });
					const why = []; const probed = (await probeMeter(master, 1, undefined, (id, reason) => why.push(id + ': ' + reason))).map((p) => p.profile.id);
					const guard = new MeterGuard({ expectedSerial: meter.identity.serial, maxPowerW: 11000, energyResolutionWh: 100 });
					const first = guard.check(await pollMeter(meter));
					globalThis.__lightchargeFakeMeter.setFaults({ silent: true });
					const silent = guard.check(await pollMeter(meter));
					globalThis.__lightchargeFakeMeter.setFaults({});
					globalThis.__lightchargeFakeMeter.unplug();
					const unplugged = guard.check(await pollMeter(meter));
					await close();
					return { identity: meter.identity, probed, why, first, silent, unplugged };
				};`,
			resolveDir: new URL('.', import.meta.url).pathname,
			loader: 'ts'
		},
		bundle: true,
		format: 'iife',
		platform: 'browser',
		target: 'es2022',
		write: false,
		logLevel: 'silent'
	});
	await page.addScriptTag({ content: out.outputFiles[0]!.text });
	const r = await page.evaluate(() =>
		(globalThis as unknown as { __meterUnderTest(): Promise<any> }).__meterUnderTest()
	);
	expect(r.identity).toEqual({ vendor: 'Carlo Gavazzi', model: 'EM340', serial: 'EM340SIM000042' });
	expect(r.probed, r.why.join('\n')).toEqual(['carlo-gavazzi-em340']);
	expect(r.first.ok).toBe(true);
	expect(r.first.sample.energyWh).toBeGreaterThanOrEqual(5_000_000);
	expect(r.first.sample.voltageV).toBe(230);
	expect(r.silent).toMatchObject({ ok: false, fault: { kind: 'no-answer' } });
	expect(r.unplugged).toMatchObject({
		ok: false,
		fault: { kind: 'port-closed', message: expect.stringMatching(/serial port is gone/) }
	});
});
