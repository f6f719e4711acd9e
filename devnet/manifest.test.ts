import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleManifest } from '../src/lib/config/devnet-manifest.fixture';
import { manifestPath, writeManifest } from './manifest';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lightcharge-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeManifest', () => {
	it('writes devnet.json into the state directory, readable back', () => {
		const file = writeManifest(path.join(dir, 'state'), sampleManifest());
		expect(file).toBe(manifestPath(path.join(dir, 'state')));
		expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(sampleManifest());
	});

	it('refuses to write a manifest the apps would reject', () => {
		const broken = { ...sampleManifest(), chain: { ...sampleManifest().chain, chainId: 0 } };
		expect(() => writeManifest(dir, broken)).toThrow(/chain\.chainId must be an integer >= 1/);
	});
});
