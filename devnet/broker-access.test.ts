import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BrokerAccess, filterWithin, MAX_GRANTS_PER_LOGIN, mosquittoHash } from './broker-access';

const R = 'lightcharge/v1/stations';

function model() {
	return new BrokerAccess([
		{ username: 'station-1', password: 'station-password', role: 'station' },
		{ username: 'driver', password: 'driver-password', role: 'driver' },
		{ username: 'driver-aaaa', password: 'phone-a-password', role: 'phone' },
		{ username: 'driver-bbbb', password: 'phone-b-password', role: 'phone' },
		{ username: 'devnet', password: 'observer-password', role: 'observer' }
	]);
}

describe('filterWithin', () => {
	it('holds a filter inside another only when every topic it matches is matched', () => {
		expect(filterWithin(`${R}/s/sessions/x/+`, `${R}/s/sessions/x/+`)).toBe(true);
		expect(filterWithin(`${R}/s/sessions/x/driver`, `${R}/s/sessions/x/+`)).toBe(true);
		expect(filterWithin(`${R}/s/sessions/+/driver`, `${R}/s/sessions/x/+`)).toBe(false);
		expect(filterWithin(`${R}/s/sessions/x/#`, `${R}/s/sessions/x/+`)).toBe(false);
		expect(filterWithin(`${R}/#`, `${R}/+/status`)).toBe(false);
		expect(filterWithin(`${R}/+/status`, `${R}/+/status`)).toBe(true);
		expect(filterWithin(`${R}/s/sessions/x`, `${R}/s/#`)).toBe(true);
		expect(filterWithin(`${R}/s/sessions/x/driver/extra`, `${R}/s/sessions/x/+`)).toBe(false);
		expect(filterWithin(`${R}/s`, `${R}/s/sessions/x/+`)).toBe(false);
	});
});

describe('BrokerAccess', () => {
	it('gives a phone login only stations’ status until it is granted a session', () => {
		const a = model();
		expect(a.maySubscribe('driver-aaaa', `${R}/+/status`)).toBe(true);
		expect(a.maySubscribe('driver-aaaa', `${R}/station-1/status`)).toBe(true);
		expect(a.maySubscribe('driver-aaaa', `${R}/station-1/sessions/s1/+`)).toBe(false);
		expect(a.maySubscribe('driver-aaaa', `${R}/#`)).toBe(false);
		expect(a.mayPublish('driver-aaaa', `${R}/station-1/sessions/s1/driver`)).toBe(false);
		expect(a.mayPublish('driver-aaaa', `${R}/station-1/status`)).toBe(false);
	});

	it('grants a phone exactly one session’s topics: read them all, write its driver topic', () => {
		const a = model();
		expect(a.grant('driver-aaaa', 'station-1', 's1')).toBe(true);
		expect(a.grant('driver-aaaa', 'station-1', 's1')).toBe(false);
		expect(a.maySubscribe('driver-aaaa', `${R}/station-1/sessions/s1/+`)).toBe(true);
		expect(a.mayPublish('driver-aaaa', `${R}/station-1/sessions/s1/driver`)).toBe(true);
		expect(a.mayPublish('driver-aaaa', `${R}/station-1/sessions/s1/invoices`)).toBe(false);
		expect(a.mayPublish('driver-aaaa', `${R}/station-1/sessions/+/driver`)).toBe(false);
		// Another session of the same station, and the other phone, get nothing from it.
		expect(a.maySubscribe('driver-aaaa', `${R}/station-1/sessions/s2/+`)).toBe(false);
		expect(a.maySubscribe('driver-aaaa', `${R}/station-1/sessions/+/+`)).toBe(false);
		expect(a.maySubscribe('driver-bbbb', `${R}/station-1/sessions/s1/+`)).toBe(false);
		expect(a.mayPublish('driver-bbbb', `${R}/station-1/sessions/s1/driver`)).toBe(false);
		expect(a.holdersOf('station-1', 's1')).toEqual(['driver-aaaa']);
	});

	it('keeps a phone’s last grants only', () => {
		const a = model();
		for (let i = 0; i <= MAX_GRANTS_PER_LOGIN; i++) a.grant('driver-aaaa', 'station-1', `s${i}`);
		expect(a.grantsOf('driver-aaaa')).toHaveLength(MAX_GRANTS_PER_LOGIN);
		expect(a.maySubscribe('driver-aaaa', `${R}/station-1/sessions/s0/+`)).toBe(false);
		expect(
			a.maySubscribe('driver-aaaa', `${R}/station-1/sessions/s${MAX_GRANTS_PER_LOGIN}/+`)
		).toBe(true);
	});

	it('grants only phone logins, and only valid ids', () => {
		const a = model();
		expect(() => a.grant('driver', 'station-1', 's1')).toThrow(/not a phone/);
		expect(() => a.grant('nobody', 'station-1', 's1')).toThrow(/not a phone/);
		expect(() => a.grant('driver-aaaa', 'station-1', 's/#')).toThrow(/ids must be/);
	});

	it('keeps a station to its own topics and the observer to status', () => {
		const a = model();
		expect(a.mayPublish('station-1', `${R}/station-1/sessions/s1/readings`)).toBe(true);
		expect(a.mayPublish('station-1', `${R}/station-2/status`)).toBe(false);
		expect(a.maySubscribe('station-1', `${R}/station-1/#`)).toBe(true);
		expect(a.maySubscribe('devnet', `${R}/+/status`)).toBe(true);
		expect(a.mayPublish('devnet', `${R}/station-1/status`)).toBe(false);
		expect(a.maySubscribe('devnet', `${R}/station-1/sessions/s1/+`)).toBe(false);
	});

	it('checks passwords in constant time and refuses bad logins', () => {
		const a = model();
		expect(a.authenticate('driver-aaaa', 'phone-a-password')).toBe(true);
		expect(a.authenticate('driver-aaaa', 'phone-b-password')).toBe(false);
		expect(a.authenticate('nobody', 'phone-a-password')).toBe(false);
		expect(() => a.addLogin({ username: 'x/y', password: 'long-enough', role: 'phone' })).toThrow(
			/broker user/
		);
		expect(() => a.addLogin({ username: 'x', password: 'short', role: 'phone' })).toThrow(
			/8 or more/
		);
		expect(() => a.addLogin({ username: 'x', password: 'has:colon!', role: 'phone' })).toThrow(
			/8 or more/
		);
	});

	it('writes Mosquitto files with no rule that applies to every user', () => {
		const a = model();
		a.grant('driver-aaaa', 'station-1', 's1');
		const acl = a.mosquittoAcl();
		expect(acl).not.toMatch(/^pattern/m);
		expect(acl).toContain(
			`user driver-aaaa\ntopic read ${R}/+/status\ntopic read ${R}/station-1/sessions/s1/+\ntopic write ${R}/station-1/sessions/s1/driver`
		);
		expect(acl).toContain(`user station-1\ntopic readwrite ${R}/station-1/#`);
		expect(acl).toContain(`user driver-bbbb\ntopic read ${R}/+/status\n`);
		const lines = a.mosquittoPasswords().trim().split('\n');
		expect(lines).toHaveLength(5);
		expect(lines.join('\n')).not.toContain('phone-a-password');
	});

	it('hashes passwords as mosquitto_passwd does ($7$, PBKDF2-SHA512, 101 rounds)', () => {
		const salt = Buffer.from('0123456789ab');
		const [, seven, rounds, s, hash] = mosquittoHash('secret-password', salt).split('$');
		expect([seven, rounds, s]).toEqual(['7', '101', salt.toString('base64')]);
		expect(hash).toBe(pbkdf2Sync('secret-password', salt, 101, 64, 'sha512').toString('base64'));
	});
});
