import { readFileSync } from 'node:fs';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

// The wallet's built-in trusted networks (src/lib/config/trusted-networks.ts): a JSON array in the
// file LIGHTCHARGE_TRUSTED_NETWORKS names at build time; none by default (a devnet build trusts the
// devnet that serves it).
const networksFile = process.env.LIGHTCHARGE_TRUSTED_NETWORKS;
const trustedNetworks: unknown = networksFile ? JSON.parse(readFileSync(networksFile, 'utf8')) : [];

export default defineConfig({
	plugins: [sveltekit()],
	define: { __LIGHTCHARGE_TRUSTED_NETWORKS__: JSON.stringify(trustedNetworks) },
	server: { fs: { allow: ['kiosk'] } },
	build: { target: 'es2022', chunkSizeWarningLimit: 1500 },
	test: {
		include: [
			'src/**/*.test.ts',
			'devnet/**/*.test.ts',
			'contracts/**/*.test.ts',
			'bench/**/*.test.ts'
		],
		environment: 'node',
		testTimeout: 30_000,
		hookTimeout: 60_000,
		pool: 'forks'
	}
});
