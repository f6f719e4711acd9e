// Test helpers for wallets that run in-process beside a StationRuntime: the session link the kiosk
// would show, and an identity check against a registry entry held in memory.
import { NO_TARIFF_REFERENCE, type SessionLink } from '../protocol';
import { judgeAgainstRegistry } from './identity';
import type { CheckIdentity, RegistryEntry } from './ports';
import type { StationRuntime } from './station-runtime';

/** The link of the session the station offers now (what its QR code shows). */
export function offeredLink(station: StationRuntime): SessionLink {
	const offer = station.offer();
	if (!offer) throw new Error('the station offers no session');
	return { v: 2, network: '0000aaaa', ...offer };
}

/** A registry that lists the station with `signer` and `lightningPubkey` (active, no tariff reference unless given). */
export function registryCheck(
	entry: Omit<RegistryEntry, 'active' | 'tariffRef'> & Partial<RegistryEntry>
): CheckIdentity {
	return async (status) =>
		judgeAgainstRegistry(status, { active: true, tariffRef: NO_TARIFF_REFERENCE, ...entry });
}
