// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StationRegistry} from "./StationRegistry.sol";

/// @title Reservations
/// @notice The fleet's "calculating" phase: a vehicle reserves a slot at a station with an ETA and
/// an expiry. Everyone reads a station's queue. The reserver may cancel; once the expiry has passed
/// anyone may clear the reservation, and the station can no longer honour (fulfil) it.
/// Bounded against a stranger: a reservation expires at most MAX_RESERVATION_SECONDS after it is
/// made, and one account holds at most MAX_ACTIVE_PER_ACCOUNT active ones at a time (accounts are
/// free on a gas-free chain, so readers page through a queue instead of reading it whole).
contract Reservations {
    uint64 public constant MAX_RESERVATION_SECONDS = 24 hours;
    uint256 public constant MAX_ACTIVE_PER_ACCOUNT = 4;

    enum Status {
        None,
        Active,
        Cancelled,
        Expired,
        Fulfilled
    }

    struct Reservation {
        bytes32 stationId;
        address reserver;
        uint64 eta;
        uint64 expiresAt;
        uint64 createdAt;
        Status status;
        /// Free reference to the vehicle (hash of a fleet id); several vehicles may share one account.
        bytes32 vehicleRef;
    }

    StationRegistry public immutable registry;
    uint256 public reservationCount;
    mapping(uint256 => Reservation) private reservations;
    /// Active (not yet cancelled / expired / fulfilled) reservation ids per station, unordered.
    mapping(bytes32 => uint256[]) private queues;
    /// Position + 1 of a reservation id in its station's queue (0 = not queued).
    mapping(uint256 => uint256) private queuePosition;
    /// Active (queued) reservations per reserver account.
    mapping(address => uint256) public activeCount;

    event ReservationCreated(
        uint256 indexed reservationId,
        bytes32 indexed stationId,
        address indexed reserver,
        bytes32 vehicleRef,
        uint64 eta,
        uint64 expiresAt
    );
    event ReservationCancelled(uint256 indexed reservationId, bytes32 indexed stationId);
    event ReservationLapsed(uint256 indexed reservationId, bytes32 indexed stationId, address clearedBy);
    event ReservationFulfilled(uint256 indexed reservationId, bytes32 indexed stationId);

    error UnknownStation(bytes32 stationId);
    error StationInactive(bytes32 stationId);
    error NotStationSigner(bytes32 stationId, address caller);
    error UnknownReservation(uint256 reservationId);
    error NotReserver(uint256 reservationId, address caller);
    error ReservationNotActive(uint256 reservationId, Status status);
    error ReservationExpired(uint256 reservationId, uint64 expiresAt);
    error ReservationNotExpired(uint256 reservationId, uint64 expiresAt);
    error ExpiryInPast(uint64 expiresAt, uint256 currentTime);
    error EtaAfterExpiry(uint64 eta, uint64 expiresAt);
    error ExpiryTooFar(uint64 expiresAt, uint256 latest);
    error TooManyReservations(address account, uint256 limit);

    constructor(StationRegistry registry_) {
        registry = registry_;
    }

    function reserve(bytes32 stationId, bytes32 vehicleRef, uint64 eta, uint64 expiresAt)
        external
        returns (uint256 reservationId)
    {
        (bool registered, bool active,) = registry.stationAuthority(stationId);
        if (!registered) revert UnknownStation(stationId);
        if (!active) revert StationInactive(stationId);
        if (expiresAt <= block.timestamp) revert ExpiryInPast(expiresAt, block.timestamp);
        if (eta > expiresAt) revert EtaAfterExpiry(eta, expiresAt);
        if (expiresAt > block.timestamp + MAX_RESERVATION_SECONDS) {
            revert ExpiryTooFar(expiresAt, block.timestamp + MAX_RESERVATION_SECONDS);
        }
        if (activeCount[msg.sender] >= MAX_ACTIVE_PER_ACCOUNT) revert TooManyReservations(msg.sender, MAX_ACTIVE_PER_ACCOUNT);
        activeCount[msg.sender]++;

        reservationId = ++reservationCount;
        reservations[reservationId] = Reservation({
            stationId: stationId,
            reserver: msg.sender,
            eta: eta,
            expiresAt: expiresAt,
            createdAt: uint64(block.timestamp),
            status: Status.Active,
            vehicleRef: vehicleRef
        });
        queues[stationId].push(reservationId);
        queuePosition[reservationId] = queues[stationId].length;
        emit ReservationCreated(reservationId, stationId, msg.sender, vehicleRef, eta, expiresAt);
    }

    function cancel(uint256 reservationId) external {
        Reservation storage r = _active(reservationId);
        if (msg.sender != r.reserver) revert NotReserver(reservationId, msg.sender);
        if (block.timestamp > r.expiresAt) revert ReservationExpired(reservationId, r.expiresAt);
        r.status = Status.Cancelled;
        _dequeue(r.stationId, reservationId);
        emit ReservationCancelled(reservationId, r.stationId);
    }

    /// @notice Anyone may clear a reservation whose expiry has passed.
    function expire(uint256 reservationId) external {
        Reservation storage r = _active(reservationId);
        if (block.timestamp <= r.expiresAt) revert ReservationNotExpired(reservationId, r.expiresAt);
        r.status = Status.Expired;
        _dequeue(r.stationId, reservationId);
        emit ReservationLapsed(reservationId, r.stationId, msg.sender);
    }

    /// @notice The station's signer marks a reservation as used when the vehicle plugs in.
    function fulfil(uint256 reservationId) external {
        Reservation storage r = _active(reservationId);
        (,, address signer) = registry.stationAuthority(r.stationId);
        if (msg.sender != signer) revert NotStationSigner(r.stationId, msg.sender);
        if (block.timestamp > r.expiresAt) revert ReservationExpired(reservationId, r.expiresAt);
        r.status = Status.Fulfilled;
        _dequeue(r.stationId, reservationId);
        emit ReservationFulfilled(reservationId, r.stationId);
    }

    function getReservation(uint256 reservationId) external view returns (Reservation memory) {
        Reservation memory r = reservations[reservationId];
        if (r.status == Status.None) revert UnknownReservation(reservationId);
        return r;
    }

    /// @notice One page of a station's queue: of the queued ids at positions [offset, offset + limit),
    /// the reservations still active and not past expiry; `queued` is the whole queue's length.
    function reservationsPage(bytes32 stationId, uint256 offset, uint256 limit)
        external
        view
        returns (uint256[] memory ids, Reservation[] memory items, uint256 queued)
    {
        uint256[] storage queue = queues[stationId];
        queued = queue.length;
        uint256 end = offset + limit < queued ? offset + limit : queued;
        uint256 live;
        for (uint256 i = offset; i < end; i++) {
            if (reservations[queue[i]].expiresAt >= block.timestamp) live++;
        }
        ids = new uint256[](live);
        items = new Reservation[](live);
        uint256 j;
        for (uint256 i = offset; i < end; i++) {
            Reservation storage r = reservations[queue[i]];
            if (r.expiresAt >= block.timestamp) {
                ids[j] = queue[i];
                items[j] = r;
                j++;
            }
        }
    }

    /// @notice Every queued id, including ones past expiry that nobody has cleared yet.
    function queuedReservationIds(bytes32 stationId) external view returns (uint256[] memory) {
        return queues[stationId];
    }

    function _active(uint256 reservationId) private view returns (Reservation storage r) {
        r = reservations[reservationId];
        if (r.status == Status.None) revert UnknownReservation(reservationId);
        if (r.status != Status.Active) revert ReservationNotActive(reservationId, r.status);
    }

    function _dequeue(bytes32 stationId, uint256 reservationId) private {
        activeCount[reservations[reservationId].reserver]--;
        uint256[] storage queue = queues[stationId];
        uint256 index = queuePosition[reservationId] - 1;
        uint256 last = queue[queue.length - 1];
        queue[index] = last;
        queuePosition[last] = index + 1;
        queue.pop();
        delete queuePosition[reservationId];
    }
}
