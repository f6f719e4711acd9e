// Rebuilds a station's or a session's state from the contracts' event logs alone, without the
// contracts' view functions: what an auditor (or a wallet that distrusts one RPC node's state
// answers) does. The folds are pure; client.ts fetches and decodes the logs and feeds them here.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Hex32 } from './ids';
import type { AnchorRecord, SessionRecord, StationRecord } from './types';

/** Where a log sits on the chain, so events sort and can be looked up. */
export interface EventPosition {
	blockNumber: number;
	/** Position of the log in its block. */
	logIndex: number;
	txHash: string;
}

export type StationEvent = EventPosition &
	(
		| {
				type: 'StationRegistered' | 'StationUpdated';
				signer: string;
				lightningPubkey: string;
				tariffRef: Hex32;
				location: string;
		  }
		| { type: 'TariffRefChanged'; tariffRef: Hex32; by: string }
		| { type: 'LightningPubkeyChanged'; lightningPubkey: string; by: string }
		| { type: 'StationRetired' }
		| { type: 'StationReactivated' }
	);

export type SessionEvent = EventPosition &
	(
		| {
				type: 'SessionOpened';
				stationId: Hex32;
				sessionId: Hex32;
				driverRef: Hex32;
				signer: string;
				timestamp: number;
		  }
		| {
				type: 'ReadingsAnchored';
				anchorIndex: number;
				root: Hex32;
				fromReading: number;
				toReading: number;
				energyWh: number;
		  }
		| {
				type: 'SessionClosed';
				energyWh: number;
				amountMsat: bigint;
				paymentsRoot: Hex32;
				timestamp: number;
		  }
	);

export interface StationHistory extends StationRecord {
	/** Every registry event of the station, oldest first. */
	events: StationEvent[];
}

export interface SessionHistory extends SessionRecord {
	anchors: AnchorRecord[];
	/** Every event of the session, oldest first. */
	events: SessionEvent[];
}

/** The logs contradict the contract's rules: a node left some out, or they belong to another contract. */
export class InconsistentLogError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'InconsistentLogError';
	}
}

export function compareEventPositions(a: EventPosition, b: EventPosition): number {
	return a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;
}

const at = (e: EventPosition) => `block ${e.blockNumber}, log ${e.logIndex}`;

/** State of a station after its events (any order); null when it was never registered. */
export function foldStationEvents(
	stationId: Hex32,
	unsorted: readonly StationEvent[]
): StationHistory | null {
	const events = [...unsorted].sort(compareEventPositions);
	let station: StationRecord | null = null;
	for (const event of events) {
		if (event.type === 'StationRegistered') {
			if (station)
				throw new InconsistentLogError(
					`station ${stationId} registered a second time (${at(event)})`
				);
			const { signer, lightningPubkey, tariffRef, location } = event;
			station = { stationId, signer, lightningPubkey, tariffRef, location, active: true };
			continue;
		}
		if (!station)
			throw new InconsistentLogError(
				`${event.type} of station ${stationId} before its registration (${at(event)})`
			);
		switch (event.type) {
			case 'StationUpdated':
				station = {
					...station,
					signer: event.signer,
					lightningPubkey: event.lightningPubkey,
					tariffRef: event.tariffRef,
					location: event.location
				};
				break;
			case 'TariffRefChanged':
				station = { ...station, tariffRef: event.tariffRef };
				break;
			case 'LightningPubkeyChanged':
				station = { ...station, lightningPubkey: event.lightningPubkey };
				break;
			case 'StationRetired':
				if (!station.active)
					throw new InconsistentLogError(`station ${stationId} retired twice (${at(event)})`);
				station = { ...station, active: false };
				break;
			case 'StationReactivated':
				if (station.active)
					throw new InconsistentLogError(
						`station ${stationId} reactivated while active (${at(event)})`
					);
				station = { ...station, active: true };
				break;
		}
	}
	return station ? { ...station, events } : null;
}

/**
 * State of a session after its events (any order); null when it was never opened. Checks what the
 * contract enforces (anchors numbered 0, 1, … over contiguous reading ranges, nothing after close),
 * so a node that withheld a log is noticed rather than believed.
 */
export function foldSessionEvents(
	sessionKey: Hex32,
	unsorted: readonly SessionEvent[]
): SessionHistory | null {
	const events = [...unsorted].sort(compareEventPositions);
	let session: SessionRecord | null = null;
	const anchors: AnchorRecord[] = [];
	for (const event of events) {
		if (event.type === 'SessionOpened') {
			if (session)
				throw new InconsistentLogError(`session ${sessionKey} opened a second time (${at(event)})`);
			session = {
				sessionKey,
				sessionId: event.sessionId,
				stationId: event.stationId,
				signer: event.signer,
				driverRef: event.driverRef,
				state: 'open',
				openedAt: event.timestamp,
				closedAt: null,
				lastReading: 0,
				energyWh: 0,
				amountMsat: 0n,
				anchorCount: 0,
				paymentsRoot: null
			};
			continue;
		}
		if (!session)
			throw new InconsistentLogError(
				`${event.type} of session ${sessionKey} before it was opened (${at(event)})`
			);
		if (session.state === 'closed')
			throw new InconsistentLogError(
				`${event.type} of session ${sessionKey} after it closed (${at(event)})`
			);
		if (event.type === 'ReadingsAnchored') {
			if (event.anchorIndex !== session.anchorCount) {
				throw new InconsistentLogError(
					`session ${sessionKey}: expected anchor #${session.anchorCount}, found #${event.anchorIndex} (a log is missing, ${at(event)})`
				);
			}
			if (session.anchorCount > 0 && event.fromReading !== session.lastReading + 1) {
				throw new InconsistentLogError(
					`session ${sessionKey}: anchor #${event.anchorIndex} starts at reading #${event.fromReading}, expected #${session.lastReading + 1}`
				);
			}
			anchors.push({
				anchorIndex: event.anchorIndex,
				root: event.root,
				fromReading: event.fromReading,
				toReading: event.toReading,
				energyWh: event.energyWh,
				txHash: event.txHash,
				blockNumber: event.blockNumber
			});
			session = {
				...session,
				anchorCount: session.anchorCount + 1,
				lastReading: event.toReading,
				energyWh: event.energyWh
			};
		} else {
			session = {
				...session,
				state: 'closed',
				closedAt: event.timestamp,
				energyWh: event.energyWh,
				amountMsat: event.amountMsat,
				paymentsRoot: event.paymentsRoot
			};
		}
	}
	return session ? { ...session, anchors, events } : null;
}

function word(value: bigint | string): Uint8Array {
	const hex = typeof value === 'string' ? value.replace(/^0x/, '') : value.toString(16);
	if (!/^[0-9a-fA-F]{0,64}$/.test(hex)) throw new TypeError(`not a 32-byte value: ${value}`);
	return hexToBytes(hex.padStart(64, '0'));
}

/**
 * The hash chain SessionLedger keeps over a session's anchors (its `anchorsDigest`):
 * digest_0 = keccak256(abi.encode(sessionKey)), digest_i = keccak256(abi.encode(digest_{i-1}, root,
 * fromReading, toReading, energyWh)). Equal to the stored value only for the complete, unaltered list.
 */
export function anchorsDigest(
	sessionKey: Hex32,
	anchors: readonly { root: string; fromReading: number; toReading: number; energyWh: number }[]
): Hex32 {
	let digest = keccak_256(word(sessionKey));
	for (const a of anchors) {
		const encoded = new Uint8Array(5 * 32);
		[
			digest,
			word(a.root),
			word(BigInt(a.fromReading)),
			word(BigInt(a.toReading)),
			word(BigInt(a.energyWh))
		].forEach((w, i) => encoded.set(w, i * 32));
		digest = keccak_256(encoded);
	}
	return `0x${bytesToHex(digest)}`;
}
