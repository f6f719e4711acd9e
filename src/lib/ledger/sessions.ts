// The ledger client's SessionLedger methods: a station opens a session, anchors Merkle roots of
// its readings, closes it; anyone reads, rebuilds from the event log and checks a reading on chain.
import { foldHistory, LedgerError, toLedgerError } from './errors';
import { anchorsDigest, foldSessionEvents, type SessionHistory } from './history';
import {
	driverRefToBytes32,
	sessionIdToBytes32,
	sessionKeyOf,
	stationIdToBytes32,
	type Hex32
} from './ids';
import { readingHash } from './merkle';
import {
	UINT128_MAX,
	ANCHOR_GAS_LIMIT,
	invalid,
	uint64,
	bytes32,
	type LedgerConnection
} from './connection';
import type { Ledger } from './api';

export function sessionMethods(c: LedgerConnection) {
	const { rpcUrl, sessions, sessionEvents, findEvent, write, read, txOnly } = c;
	const methods: Pick<
		Ledger,
		| 'openSession'
		| 'anchorReadings'
		| 'closeSession'
		| 'getSession'
		| 'getAnchors'
		| 'rebuildSession'
		| 'verifyReadingOnChain'
	> = {
		async openSession({ stationId, sessionId, driverRef }) {
			const args = [
				stationIdToBytes32(stationId),
				sessionIdToBytes32(sessionId),
				driverRefToBytes32(driverRef)
			];
			return txOnly(await write(sessions, 'open', args, `openSession("${sessionId}")`));
		},

		async anchorReadings({ stationId, sessionId, root, fromReading, toReading, energyWh }) {
			const args = [
				stationIdToBytes32(stationId),
				sessionIdToBytes32(sessionId),
				bytes32(root, 'Merkle root'),
				uint64(fromReading, 'fromReading'),
				uint64(toReading, 'toReading'),
				uint64(energyWh, 'energyWh')
			];
			// The hot path (every station, every minute): a fixed gas limit instead of an estimate saves a
			// round trip; a rejected anchor is then mined as reverted and decoded by replaying it.
			const action = `anchorReadings("${sessionId}", #${fromReading}..#${toReading})`;
			const result = await write(sessions, 'anchor', args, action, ANCHOR_GAS_LIMIT);
			const event = findEvent(sessions, 'ReadingsAnchored', result.logs);
			if (!event)
				throw new LedgerError(
					'rpc-error',
					`anchor transaction ${result.txHash} emitted no ReadingsAnchored event`
				);
			return { ...txOnly(result), anchorIndex: Number(event.anchorIndex) };
		},

		async closeSession({ stationId, sessionId, energyWh, amountMsat, paymentsRoot }) {
			let amount: bigint;
			try {
				amount = BigInt(amountMsat);
			} catch {
				throw invalid(`amountMsat must be an integer, got "${amountMsat}"`);
			}
			if (amount < 0n || amount > UINT128_MAX)
				throw invalid(`amountMsat ${amount} is out of range`);
			const args = [
				stationIdToBytes32(stationId),
				sessionIdToBytes32(sessionId),
				uint64(energyWh, 'energyWh'),
				amount,
				bytes32(paymentsRoot, 'paymentsRoot')
			];
			return txOnly(await write(sessions, 'close', args, `closeSession("${sessionId}")`));
		},

		async getSession(stationId, sessionId) {
			let s;
			try {
				s = await sessions.getFunction('getSession')(
					stationIdToBytes32(stationId),
					sessionIdToBytes32(sessionId)
				);
			} catch (error) {
				const ledgerError = toLedgerError(error, `getSession("${sessionId}")`, rpcUrl);
				if (ledgerError.revert?.name === 'UnknownSession') return null;
				throw ledgerError;
			}
			const closed = s.closed as boolean;
			return {
				sessionKey: sessionKeyOf(stationId, sessionId),
				sessionId: s.sessionId as Hex32,
				stationId: s.stationId as Hex32,
				signer: s.signer as string,
				driverRef: s.driverRef as Hex32,
				state: closed ? 'closed' : 'open',
				openedAt: Number(s.openedAt),
				closedAt: closed ? Number(s.closedAt) : null,
				lastReading: Number(s.lastReading),
				energyWh: Number(s.energyWh),
				amountMsat: s.amountMsat as bigint,
				anchorCount: Number(s.anchorCount),
				paymentsRoot: closed ? (s.paymentsRoot as Hex32) : null
			};
		},

		async getAnchors(stationId, sessionId) {
			const events = await sessionEvents(
				sessionKeyOf(stationId, sessionId),
				`getAnchors("${stationId}", "${sessionId}")`
			);
			return events
				.flatMap((e) =>
					e.type === 'ReadingsAnchored'
						? [
								{
									anchorIndex: e.anchorIndex,
									root: e.root,
									fromReading: e.fromReading,
									toReading: e.toReading,
									energyWh: e.energyWh,
									txHash: e.txHash,
									blockNumber: e.blockNumber
								}
							]
						: []
				)
				.sort((a, b) => a.anchorIndex - b.anchorIndex);
		},

		async rebuildSession(stationId, sessionId) {
			const id = sessionKeyOf(stationId, sessionId);
			const action = `rebuildSession("${stationId}", "${sessionId}")`;
			const events = await sessionEvents(id, action);
			const rebuilt: SessionHistory | null = foldHistory(action, () =>
				foldSessionEvents(id, events)
			);
			if (!rebuilt) return null;
			// The stored hash chain proves the logs complete: a node that left an anchor out is caught here.
			const stored = await read(action, () =>
				sessions.getFunction('getSession')(
					stationIdToBytes32(stationId),
					sessionIdToBytes32(sessionId)
				)
			);
			const complete =
				anchorsDigest(id, rebuilt.anchors) === (stored.anchorsDigest as string).toLowerCase() &&
				(rebuilt.state === 'closed') === (stored.closed as boolean);
			if (!complete) {
				throw new LedgerError(
					'rpc-error',
					`${action} failed: the node's event logs for this session are incomplete (they do not match the anchors digest on chain)`
				);
			}
			return rebuilt;
		},

		async verifyReadingOnChain(stationId, sessionId, anchorIndex, ocmf, proof) {
			// The contract checks the anchors (from the event logs) against its stored digest.
			const anchors = (await methods.getAnchors(stationId, sessionId)).map((a) => ({
				root: a.root,
				fromReading: BigInt(a.fromReading),
				toReading: BigInt(a.toReading),
				energyWh: BigInt(a.energyWh)
			}));
			const args = [
				stationIdToBytes32(stationId),
				sessionIdToBytes32(sessionId),
				anchors,
				uint64(anchorIndex, 'anchorIndex'),
				readingHash(ocmf),
				proof.map((p, i) => bytes32(p, `proof element ${i}`))
			];
			return read(
				`verifyReadingOnChain("${sessionId}", #${anchorIndex})`,
				() => sessions.getFunction('verifyReading')(...args) as Promise<boolean>
			);
		}
	};
	return methods;
}
