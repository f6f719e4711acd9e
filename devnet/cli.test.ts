import { describe, expect, it } from 'vitest';
import { sampleManifest } from '../src/lib/config/devnet-manifest.fixture';
import { parseCli, phoneUrls, summaryText, USAGE } from './cli';

describe('devnet CLI options', () => {
	it('uses defaults when given nothing', () => {
		const cli = parseCli([], {});
		expect(cli).toEqual({
			devnet: { ports: {}, fresh: false, https: true },
			readyFile: null,
			qr: true
		});
	});

	it('reads every port flag, and flags beat environment variables', () => {
		const cli = parseCli(
			[
				'--chain-port',
				'18545',
				'--mqtt-port',
				'11883',
				'--ws-port',
				'19001',
				'--ln-port',
				'18180',
				'--wallet-port',
				'15173',
				'--kiosk-port',
				'15174',
				'--https-wallet-port',
				'15443',
				'--https-kiosk-port',
				'15444'
			],
			{ LIGHTCHARGE_CHAIN_PORT: '28545', LIGHTCHARGE_MQTT_PORT: '21883' }
		);
		expect(cli !== 'help' && cli.devnet.ports).toEqual({
			chain: 18545,
			mqtt: 11883,
			ws: 19001,
			lightning: 18180,
			wallet: 15173,
			kiosk: 15174,
			httpsWallet: 15443,
			httpsKiosk: 15444
		});
	});

	it('reads LIGHTCHARGE_* variables', () => {
		const cli = parseCli([], {
			LIGHTCHARGE_CHAIN_PORT: '28545',
			LIGHTCHARGE_BROKER: 'mosquitto',
			LIGHTCHARGE_BLOCK_INTERVAL_MS: '0',
			LIGHTCHARGE_HOST: '0.0.0.0'
		});
		expect(cli !== 'help' && cli.devnet).toMatchObject({
			ports: { chain: 28545 },
			broker: 'mosquitto',
			blockIntervalMs: 0,
			host: '0.0.0.0'
		});
	});

	it('reads the switches and paths', () => {
		const cli = parseCli(
			[
				'--fresh',
				'--no-https',
				'--no-qr',
				'--state-dir',
				'/tmp/x',
				'--ready-file',
				'ready.json',
				'--broker',
				'aedes'
			],
			{}
		);
		expect(cli).toMatchObject({
			devnet: { fresh: true, https: false, stateDir: '/tmp/x', broker: 'aedes' },
			qr: false
		});
		expect(cli !== 'help' && cli.readyFile).toMatch(/\/ready\.json$/);
	});

	it('picks real LND with --lightning lnd or LIGHTCHARGE_LIGHTNING, the simnet by default', () => {
		expect(parseCli(['--lightning', 'lnd', '--lnd-port-base', '23104'], {})).toMatchObject({
			devnet: { lightning: 'lnd', lndPortBase: 23104 }
		});
		expect(parseCli([], { LIGHTCHARGE_LIGHTNING: 'lnd' })).toMatchObject({
			devnet: { lightning: 'lnd' }
		});
		const plain = parseCli([], {});
		expect(plain !== 'help' && plain.devnet.lightning).toBeUndefined();
	});

	it('adds Lightning Node Connect with --lnc or LIGHTCHARGE_LNC=1, only on real LND', () => {
		expect(parseCli(['--lightning', 'lnd', '--lnc', '--lnc-port-base', '23150'], {})).toMatchObject(
			{ devnet: { lightning: 'lnd', lnc: true, lncPortBase: 23150 } }
		);
		expect(parseCli([], { LIGHTCHARGE_LIGHTNING: 'lnd', LIGHTCHARGE_LNC: '1' })).toMatchObject({
			devnet: { lnc: true }
		});
		const plain = parseCli(['--lightning', 'lnd'], {});
		expect(plain !== 'help' && plain.devnet.lnc).toBeUndefined();
	});

	it.each([
		[['--lightning', 'cln'], /--lightning must be simnet or lnd \(got "cln"\)/],
		[['--lnd-port-base', '65530'], /--lnd-port-base leaves no room for the 10 ports/],
		[['--chain-port', 'abc'], /--chain-port must be a port number from 1 to 65535 \(got "abc"\)/],
		[['--ws-port', '70000'], /--ws-port must be a port number/],
		[['--broker', 'emqx'], /--broker must be aedes or mosquitto \(got "emqx"\)/],
		[['--block-interval-ms=-5'], /--block-interval-ms must be a whole number/],
		[['--chian-port', '1'], /Unknown option '--chian-port'/],
		[['--lnc'], /--lnc needs --lightning lnd/],
		[
			['--lightning', 'lnd', '--lnc', '--lnc-port-base', '65535'],
			/--lnc-port-base leaves no room for litd/
		]
	])('rejects %j with a clear message', (argv, message) => {
		expect(() => parseCli(argv, {})).toThrow(message);
	});

	it('names the environment variable when that is what is wrong', () => {
		expect(() => parseCli([], { LIGHTCHARGE_LN_PORT: '0' })).toThrow(
			/LIGHTCHARGE_LN_PORT must be a port number/
		);
	});

	it('answers --help, and the usage lists every flag', () => {
		expect(parseCli(['-h'], {})).toBe('help');
		for (const flag of [
			'--host',
			'--chain-port',
			'--mqtt-port',
			'--ws-port',
			'--ln-port',
			'--wallet-port',
			'--kiosk-port',
			'--https-wallet-port',
			'--https-kiosk-port',
			'--broker',
			'--lightning',
			'--lnd-port-base',
			'--lnc',
			'--lnc-port-base',
			'--block-interval-ms',
			'--state-dir',
			'--fresh',
			'--no-https',
			'--ready-file'
		]) {
			expect(USAGE).toContain(flag);
		}
	});
});

describe('devnet summary', () => {
	const devnet = {
		manifest: sampleManifest(),
		manifestFile: '/tmp/.devnet/devnet.json',
		wallet: {
			url: 'http://127.0.0.1:5173/',
			httpsUrl: 'https://192.168.1.20:5443/',
			httpsLocalUrl: 'https://localhost:5443/',
			httpsLanUrls: ['https://192.168.1.20:5443/', 'https://10.0.0.7:5443/']
		},
		kiosk: {
			url: 'http://127.0.0.1:5174/',
			httpsUrl: 'https://192.168.1.20:5444/',
			httpsLocalUrl: 'https://localhost:5444/',
			httpsLanUrls: ['https://192.168.1.20:5444/']
		},
		tlsFingerprint: 'AB:CD'
	};

	it('puts the HTTPS LAN URLs up for phones, with the certificate to accept and its fingerprint', () => {
		expect(phoneUrls(devnet)).toEqual([
			{ label: 'wallet', url: 'https://192.168.1.20:5443/' },
			{ label: 'kiosk', url: 'https://192.168.1.20:5444/' }
		]);
		const text = summaryText(devnet);
		expect(text).toContain('kiosk    https://192.168.1.20:5444/');
		expect(text).toContain('https://10.0.0.7:5443/   (wallet, another interface)');
		expect(text).toContain('accept the certificate once on the phone');
		expect(text).toContain('SHA-256 AB:CD');
	});

	it('says why phones cannot connect when HTTPS is off or only on loopback', () => {
		const loopbackOnly = {
			...devnet,
			wallet: { ...devnet.wallet, httpsLanUrls: ['https://127.0.0.1:5443/'] },
			kiosk: { ...devnet.kiosk, httpsLanUrls: ['https://127.0.0.1:5444/'] }
		};
		expect(phoneUrls(loopbackOnly)).toEqual([]);
		expect(summaryText(loopbackOnly)).toMatch(/no LAN address .* phones cannot reach it/);
		expect(summaryText({ ...devnet, tlsFingerprint: null })).toContain('HTTPS is off (--no-https)');
	});
});
