// The narrow ledger interface the simulator needs, with two implementations: an adapter over the
// real ethers client (src/lib/ledger, to the devnet chain or any QBFT network) and an in-memory
// ledger that enforces the same contract rules for fast runs. Times are Unix seconds of the
// simulated clock; the chain adapter shifts them onto chain time.
import {
	type Ledger,
	LedgerError,
	stationIdToBytes32,
	vehicleRefToBytes32,
	type Hex32
} from '../ledger';

export type LedgerMethod =
	| 'reserve'
	| 'cancelReservation'
	| 'fulfilReservation'
	| 'openSession'
	| 'anchorReadings'
	| 'closeSession';

export interface SimTx {
	method: LedgerMethod;
	txHash: string;
	gasUsed: number;
}

export interface QueuedReservation {
	reservationId: number;
	vehicleRef: Hex32;
	/** Unix seconds (simulated clock). */
	eta: number;
	expiresAt: number;
}

export interface AnchorArgs {
	stationId: string;
	sessionId: string;
	root: string;
	fromReading: number;
	toReading: number;
	energyWh: number;
}

export interface SimLedger {
	/** 'memory' or 'chain'. */
	readonly kind: 'memory' | 'chain';
	/** True when gas figures are constants measured on the devnet rather than receipts. */
	readonly gasEstimated: boolean;
	/** Tells the ledger the simulated time (Unix seconds); the memory ledger's block time. */
	setTime(unixSeconds: number): void;
	reserve(a: {
		stationId: string;
		vehicleRef: string;
		eta: number;
		expiresAt: number;
	}): Promise<SimTx & { reservationId: number }>;
	cancelReservation(reservationId: number): Promise<SimTx>;
	fulfilReservation(reservationId: number): Promise<SimTx>;
	/** Active, unexpired reservations of a station, earliest ETA first. */
	listReservations(stationId: string): Promise<QueuedReservation[]>;
	/** listReservations answered at once, where the ledger is in memory (a station choice asks it of up to 60 stations). */
	readonly listReservationsNow?: ((stationId: string) => QueuedReservation[]) | undefined;
	openSession(a: { stationId: string; sessionId: string; driverRef: string }): Promise<SimTx>;
	anchorReadings(a: AnchorArgs): Promise<SimTx>;
	/** anchorReadings done at once, where the ledger is in memory (the simulator's hot path: a call per reading). */
	readonly anchorReadingsNow?: ((a: AnchorArgs) => SimTx) | undefined;
	closeSession(a: {
		stationId: string;
		sessionId: string;
		energyWh: number;
		amountMsat: bigint;
		paymentsRoot: string;
	}): Promise<SimTx>;
}

/**
 * Mean gas per call measured with `npm run sim -- --vehicles 30 --stations 4 --hours 14 --ledger devnet
 * --policy optimal` (Hardhat 2.29, london, this repo's contracts; 824 transactions). Values vary a
 * little with the storage slots a call touches (queue length, first anchor). cancelReservation was
 * not exercised there; it does the same status change and dequeue as fulfilReservation, so it
 * takes that figure. The memory ledger reports these as estimates.
 */
export const ESTIMATED_GAS: Record<LedgerMethod, number> = {
	reserve: 185_974,
	cancelReservation: 46_890,
	fulfilReservation: 46_890,
	openSession: 97_588,
	anchorReadings: 90_864,
	closeSession: 66_321
};

function revert(name: string, message: string): LedgerError {
	return new LedgerError('reverted', message, { name, args: {} });
}

interface MemReservation extends QueuedReservation {
	stationId: string;
	stationKey: Hex32;
	status: 'active' | 'cancelled' | 'expired' | 'fulfilled';
	/** Block time from which others see it (the block that includes the transaction). */
	visibleFrom: number;
}

interface MemSession {
	stationId: string;
	closed: boolean;
	lastReading: number;
	energyWh: number;
	anchors: number;
}

/** A memory ledger transaction: its hash (the transaction's number as 32 bytes of hex) made only when read. */
class MemoryTx implements SimTx {
	readonly gasUsed: number;
	constructor(
		readonly method: LedgerMethod,
		private readonly n: number
	) {
		this.gasUsed = ESTIMATED_GAS[method];
	}
	get txHash(): string {
		return `0x${this.n.toString(16).padStart(64, '0')}`;
	}
}

/**
 * The contracts' rules in memory: same checks, same error names, block time = simulated time.
 * With `blockSeconds` > 0 a reservation is listed only from the next block boundary (the block that
 * includes it); cancellations and fulfilments take effect at once.
 */
export class MemoryLedger implements SimLedger {
	readonly kind = 'memory' as const;
	readonly gasEstimated = true;
	private readonly blockSeconds: number;
	private now = 0;
	private nextReservationId = 1;
	private txCounter = 0;
	/** Registered stations and their bytes32 keys (keccak256 of the id, once per station, not per reservation). */
	private readonly stations = new Map<string, Hex32>();
	private readonly reservations = new Map<number, MemReservation>();
	private readonly closedReservations = new Map<number, MemReservation['status']>();
	private readonly queues = new Map<string, MemReservation[]>();
	private readonly sessions = new Map<string, MemSession>();

	constructor(stationIds: readonly string[], options: { blockSeconds?: number } = {}) {
		for (const id of stationIds) this.stations.set(id, stationIdToBytes32(id));
		this.blockSeconds = options.blockSeconds ?? 0;
	}

	setTime(unixSeconds: number): void {
		this.now = Math.floor(unixSeconds);
	}

	private tx(method: LedgerMethod): SimTx {
		return new MemoryTx(method, ++this.txCounter);
	}

	async reserve(a: {
		stationId: string;
		vehicleRef: string;
		eta: number;
		expiresAt: number;
	}): Promise<SimTx & { reservationId: number }> {
		const stationKey = this.stations.get(a.stationId);
		if (stationKey === undefined)
			throw revert('UnknownStation', `station ${a.stationId} is not registered`);
		if (a.expiresAt <= this.now)
			throw revert(
				'ExpiryInPast',
				`reservation expiry ${a.expiresAt} is not after block time ${this.now}`
			);
		if (a.eta > a.expiresAt)
			throw revert('EtaAfterExpiry', `reservation eta ${a.eta} is after its expiry ${a.expiresAt}`);
		const reservation: MemReservation = {
			reservationId: this.nextReservationId++,
			stationId: a.stationId,
			visibleFrom:
				this.blockSeconds > 0
					? Math.ceil((this.now + 1e-9) / this.blockSeconds) * this.blockSeconds
					: this.now,
			stationKey,
			vehicleRef: vehicleRefToBytes32(a.vehicleRef),
			eta: a.eta,
			expiresAt: a.expiresAt,
			status: 'active'
		};
		this.reservations.set(reservation.reservationId, reservation);
		let queue = this.queues.get(a.stationId);
		if (!queue) this.queues.set(a.stationId, (queue = []));
		// Kept in ETA order (ties by id), as the contract's queue view lists them.
		let at = queue.length;
		while (at > 0 && queue[at - 1]!.eta > reservation.eta) at--;
		queue.splice(at, 0, reservation);
		return Object.assign(this.tx('reserve'), { reservationId: reservation.reservationId });
	}

	private active(id: number): MemReservation {
		const r = this.reservations.get(id);
		const closed = this.closedReservations.get(id);
		if (!r && closed === 'expired')
			throw revert('ReservationExpired', `reservation #${id} has expired`);
		if (!r && closed) throw revert('ReservationNotActive', `reservation #${id} is ${closed}`);
		if (!r) throw revert('UnknownReservation', `reservation #${id} does not exist`);
		if (r.status !== 'active')
			throw revert('ReservationNotActive', `reservation #${id} is ${r.status}`);
		if (this.now > r.expiresAt)
			throw revert('ReservationExpired', `reservation #${id} expired at ${r.expiresAt}`);
		return r;
	}

	private dequeue(r: MemReservation): void {
		const queue = this.queues.get(r.stationId);
		const i = queue ? queue.indexOf(r) : -1;
		if (i >= 0) queue!.splice(i, 1);
		// Nobody asks for a closed reservation again; keep memory bounded over long runs.
		this.reservations.delete(r.reservationId);
		this.closedReservations.set(r.reservationId, r.status);
	}

	async cancelReservation(id: number): Promise<SimTx> {
		const r = this.active(id);
		r.status = 'cancelled';
		this.dequeue(r);
		return this.tx('cancelReservation');
	}

	async fulfilReservation(id: number): Promise<SimTx> {
		const r = this.active(id);
		r.status = 'fulfilled';
		this.dequeue(r);
		return this.tx('fulfilReservation');
	}

	async listReservations(stationId: string): Promise<QueuedReservation[]> {
		return this.listReservationsNow(stationId);
	}

	readonly listReservationsNow = (stationId: string): QueuedReservation[] => {
		const queue = this.queues.get(stationId);
		if (!queue || queue.length === 0) return [];
		const out: QueuedReservation[] = [];
		let expired = 0;
		for (const r of queue) {
			if (r.expiresAt < this.now) expired++;
			else if (r.visibleFrom <= this.now)
				out.push({
					reservationId: r.reservationId,
					vehicleRef: r.vehicleRef,
					eta: r.eta,
					expiresAt: r.expiresAt
				});
		}
		// Expired reservations stay in the contract until touched; here they are dropped for memory's sake.
		if (expired > 0) {
			for (const r of queue.filter((q) => q.expiresAt < this.now)) {
				r.status = 'expired';
				this.dequeue(r);
			}
		}
		return out;
	};

	async openSession(a: {
		stationId: string;
		sessionId: string;
		driverRef: string;
	}): Promise<SimTx> {
		if (!this.stations.has(a.stationId))
			throw revert('UnknownStation', `station ${a.stationId} is not registered`);
		if (this.sessions.has(a.sessionId))
			throw revert('SessionAlreadyExists', `session ${a.sessionId} already exists`);
		this.sessions.set(a.sessionId, {
			stationId: a.stationId,
			closed: false,
			lastReading: 0,
			energyWh: 0,
			anchors: 0
		});
		return this.tx('openSession');
	}

	private session(id: string): MemSession {
		const s = this.sessions.get(id);
		if (!s) throw revert('UnknownSession', `session ${id} does not exist`);
		return s;
	}

	async anchorReadings(a: AnchorArgs): Promise<SimTx> {
		return this.anchorReadingsNow(a);
	}

	readonly anchorReadingsNow = (a: AnchorArgs): SimTx => {
		const s = this.session(a.sessionId);
		if (s.closed) throw revert('SessionNotOpen', `session ${a.sessionId} is closed`);
		if (/^0x0{64}$/.test(a.root)) throw revert('EmptyMerkleRoot', 'the Merkle root is zero');
		if (a.fromReading !== s.lastReading + 1) {
			throw revert(
				'ReadingRangeOutOfOrder',
				`session ${a.sessionId} expects reading ${s.lastReading + 1}, got ${a.fromReading}`
			);
		}
		if (a.toReading < a.fromReading)
			throw revert(
				'InvalidReadingRange',
				`reading range ${a.fromReading}..${a.toReading} is empty`
			);
		if (a.energyWh < s.energyWh)
			throw revert('EnergyDecreased', `energy went down from ${s.energyWh} to ${a.energyWh} Wh`);
		s.lastReading = a.toReading;
		s.energyWh = a.energyWh;
		s.anchors++;
		return this.tx('anchorReadings');
	};

	async closeSession(a: {
		stationId: string;
		sessionId: string;
		energyWh: number;
		amountMsat: bigint;
		paymentsRoot: string;
	}): Promise<SimTx> {
		const s = this.session(a.sessionId);
		if (s.closed) throw revert('SessionAlreadyClosed', `session ${a.sessionId} is already closed`);
		if (a.energyWh < s.energyWh)
			throw revert('EnergyDecreased', `energy went down from ${s.energyWh} to ${a.energyWh} Wh`);
		s.closed = true;
		s.energyWh = a.energyWh;
		return this.tx('closeSession');
	}
}

/**
 * The simulator's ledger on a real chain through the shared client. The operator's signer acts as
 * every station (registered with it: it opens, anchors, closes and fulfils); each vehicle reserves
 * and cancels from an account of its own (the contract allows an account at most
 * MAX_ACTIVE_PER_ACCOUNT active reservations). Simulated times are moved onto the chain's clock:
 * `chainOffset` = chain time at the start − simulated Unix time at the start; a simulation runs
 * faster than real time, so its reservations always lie in the chain's future.
 */
export class ChainSimLedger implements SimLedger {
	readonly kind = 'chain' as const;
	readonly gasEstimated = false;
	private readonly reservers = new Map<number, Ledger>();

	constructor(
		private readonly ledger: Ledger,
		private readonly chainOffset: number,
		/** The ledger client signing as a vehicle (its own account). */
		private readonly vehicleLedger: (vehicleRef: string) => Promise<Ledger> = async () => ledger
	) {}

	setTime(): void {
		// The chain has its own clock.
	}

	private static tx(method: LedgerMethod, r: { txHash: string; gasUsed: bigint }): SimTx {
		return { method, txHash: r.txHash, gasUsed: Number(r.gasUsed) };
	}

	async reserve(a: { stationId: string; vehicleRef: string; eta: number; expiresAt: number }) {
		const reserver = await this.vehicleLedger(a.vehicleRef);
		const r = await reserver.reserve({
			...a,
			eta: a.eta + this.chainOffset,
			expiresAt: a.expiresAt + this.chainOffset
		});
		this.reservers.set(r.reservationId, reserver);
		return { ...ChainSimLedger.tx('reserve', r), reservationId: r.reservationId };
	}

	async cancelReservation(id: number) {
		const r = await (this.reservers.get(id) ?? this.ledger).cancelReservation(id);
		this.reservers.delete(id);
		return ChainSimLedger.tx('cancelReservation', r);
	}

	async fulfilReservation(id: number) {
		const r = await this.ledger.fulfilReservation(id);
		this.reservers.delete(id);
		return ChainSimLedger.tx('fulfilReservation', r);
	}

	async listReservations(stationId: string): Promise<QueuedReservation[]> {
		const list = await this.ledger.listReservations(stationId);
		return list.map((r) => ({
			reservationId: r.reservationId,
			vehicleRef: r.vehicleRef,
			eta: r.eta - this.chainOffset,
			expiresAt: r.expiresAt - this.chainOffset
		}));
	}

	async openSession(a: { stationId: string; sessionId: string; driverRef: string }) {
		return ChainSimLedger.tx('openSession', await this.ledger.openSession(a));
	}

	async anchorReadings(a: {
		stationId: string;
		sessionId: string;
		root: string;
		fromReading: number;
		toReading: number;
		energyWh: number;
	}) {
		return ChainSimLedger.tx('anchorReadings', await this.ledger.anchorReadings(a));
	}

	async closeSession(a: {
		stationId: string;
		sessionId: string;
		energyWh: number;
		amountMsat: bigint;
		paymentsRoot: string;
	}) {
		return ChainSimLedger.tx('closeSession', await this.ledger.closeSession(a));
	}
}
