// Who the station is, as the wallet fixes it for a session (the CheckIdentity port of ports.ts;
// registry-identity.ts reads the registry for it). Signing key, Lightning payee
// and tariff come from the registry, or from an explicit pin on a network the driver marked as
// offline; they are fixed at join and no later message can change them.
import {
	ethereumAddressOf,
	NO_TARIFF_REFERENCE,
	type StationStatus,
	tariffReference
} from '../protocol';
import type { IdentityVerdict, RegistryEntry, StationPin } from './ports';

/** The verdict on a status against its registry entry (null: not registered). Pure. */
export function judgeAgainstRegistry(
	status: StationStatus,
	entry: RegistryEntry | null
): IdentityVerdict {
	const id = status.stationId;
	if (!entry)
		return {
			ok: false,
			reason: 'unregistered',
			message: `Station ${id} is not registered on the ledger. Do not pay it.`
		};
	if (!entry.active)
		return {
			ok: false,
			reason: 'retired',
			message: `Station ${id} has been retired from the registry. Do not pay it.`
		};
	if (entry.signer.toLowerCase() !== ethereumAddressOf(status.signingKey).toLowerCase())
		return {
			ok: false,
			reason: 'signer',
			message: `Station ${id} signs with a key that is not the one registered on the ledger. Its readings cannot be trusted.`
		};
	if (entry.lightningPubkey.toLowerCase() !== status.lightningPubkey.toLowerCase())
		return {
			ok: false,
			reason: 'payee',
			message: `Station ${id} asks to be paid to a Lightning node that is not the one registered on the ledger.`
		};
	const registered = entry.tariffRef.toLowerCase() !== NO_TARIFF_REFERENCE;
	if (registered && entry.tariffRef.toLowerCase() !== tariffReference(status.tariff))
		return {
			ok: false,
			reason: 'tariff',
			message: `Station ${id} shows a tariff that is not the one registered on the ledger. Do not pay it.`
		};
	return {
		ok: true,
		source: 'ledger',
		detail: `registered signer ${entry.signer}${registered ? ', registered tariff' : ''}`,
		pin: pinOf(status, entry.lightningPubkey.toLowerCase(), registered)
	};
}

export function pinOf(
	status: StationStatus,
	lightningPubkey: string,
	tariffRegistered: boolean
): StationPin {
	return {
		signingKey: status.signingKey,
		signerAddress: ethereumAddressOf(status.signingKey),
		lightningPubkey,
		tariff: status.tariff,
		tariffRegistered
	};
}

/** What in a later (validly signed) status disagrees with the pin; null when nothing does. */
export function pinMismatch(pin: StationPin, status: StationStatus): string | null {
	if (status.signingKey !== pin.signingKey) return 'it now signs with another key';
	if (status.lightningPubkey.toLowerCase() !== pin.lightningPubkey.toLowerCase())
		return 'it now names another Lightning node to be paid';
	if (tariffReference(status.tariff) !== tariffReference(pin.tariff))
		return 'it now announces another tariff';
	return null;
}
