// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StationRegistry} from "./StationRegistry.sol";

/// @title SessionLedger
/// @notice Charging sessions anchored on chain: open, anchor Merkle roots of signed meter readings
/// over contiguous reading ranges, close with totals. Only the station's registered signer writes
/// for its sessions. Leaves stay off chain; `verifyReading` checks a proof against a stored root.
/// Leaves follow OpenZeppelin's StandardMerkleTree for a single `bytes32` value:
/// leaf = keccak256(keccak256(abi.encode(readingHash))), pairs hashed sorted.
contract SessionLedger {
    struct Session {
        bytes32 stationId;
        bytes32 driverRef;
        uint64 openedAt;
        uint64 closedAt;
        /// Pagination number of the last anchored reading (0 before the first anchor).
        uint64 lastReading;
        /// Energy delivered so far (last anchor) or in total (after close), Wh.
        uint64 energyWh;
        uint128 amountMsat;
        uint32 anchorCount;
        bool closed;
        bytes32 paymentsRoot;
    }

    struct Anchor {
        bytes32 root;
        uint64 fromReading;
        uint64 toReading;
        uint64 energyWh;
        uint64 anchoredAt;
    }

    StationRegistry public immutable registry;
    mapping(bytes32 => Session) private sessions;
    mapping(bytes32 => mapping(uint256 => Anchor)) private anchors;

    event SessionOpened(
        bytes32 indexed sessionId, bytes32 indexed stationId, bytes32 driverRef, address indexed signer
    );
    event ReadingsAnchored(
        bytes32 indexed sessionId,
        bytes32 indexed stationId,
        uint32 anchorIndex,
        bytes32 merkleRoot,
        uint64 fromReading,
        uint64 toReading,
        uint64 energyWh
    );
    event SessionClosed(
        bytes32 indexed sessionId,
        bytes32 indexed stationId,
        uint64 energyWh,
        uint128 amountMsat,
        bytes32 paymentsRoot
    );

    error UnknownStation(bytes32 stationId);
    error StationInactive(bytes32 stationId);
    error NotStationSigner(bytes32 stationId, address caller);
    error InvalidSessionId();
    error SessionAlreadyExists(bytes32 sessionId);
    error UnknownSession(bytes32 sessionId);
    error SessionNotOpen(bytes32 sessionId);
    error SessionAlreadyClosed(bytes32 sessionId);
    error EmptyMerkleRoot();
    error ReadingRangeOutOfOrder(bytes32 sessionId, uint64 expectedFrom, uint64 fromReading);
    error InvalidReadingRange(uint64 fromReading, uint64 toReading);
    error EnergyDecreased(bytes32 sessionId, uint64 previousWh, uint64 energyWh);
    error UnknownAnchor(bytes32 sessionId, uint256 anchorIndex);

    constructor(StationRegistry registry_) {
        registry = registry_;
    }

    function open(bytes32 stationId, bytes32 sessionId, bytes32 driverRef) external {
        if (sessionId == bytes32(0)) revert InvalidSessionId();
        _requireStationSigner(stationId);
        Session storage session = sessions[sessionId];
        if (session.openedAt != 0) revert SessionAlreadyExists(sessionId);
        session.stationId = stationId;
        session.driverRef = driverRef;
        session.openedAt = uint64(block.timestamp);
        emit SessionOpened(sessionId, stationId, driverRef, msg.sender);
    }

    /// @param fromReading first reading's pagination in this batch: exactly one after the last
    /// anchored reading, or >= 1 for the session's first anchor.
    function anchor(
        bytes32 sessionId,
        bytes32 merkleRoot,
        uint64 fromReading,
        uint64 toReading,
        uint64 energyWh
    ) external {
        Session storage session = _writable(sessionId);
        if (session.closed) revert SessionNotOpen(sessionId);
        if (merkleRoot == bytes32(0)) revert EmptyMerkleRoot();
        if (session.anchorCount == 0) {
            if (fromReading == 0) revert ReadingRangeOutOfOrder(sessionId, 1, fromReading);
        } else if (fromReading != session.lastReading + 1) {
            revert ReadingRangeOutOfOrder(sessionId, session.lastReading + 1, fromReading);
        }
        if (toReading < fromReading) revert InvalidReadingRange(fromReading, toReading);
        if (energyWh < session.energyWh) revert EnergyDecreased(sessionId, session.energyWh, energyWh);

        uint32 index = session.anchorCount;
        anchors[sessionId][index] = Anchor({
            root: merkleRoot,
            fromReading: fromReading,
            toReading: toReading,
            energyWh: energyWh,
            anchoredAt: uint64(block.timestamp)
        });
        session.anchorCount = index + 1;
        session.lastReading = toReading;
        session.energyWh = energyWh;
        emit ReadingsAnchored(sessionId, session.stationId, index, merkleRoot, fromReading, toReading, energyWh);
    }

    function close(bytes32 sessionId, uint64 energyWh, uint128 amountMsat, bytes32 paymentsRoot) external {
        Session storage session = _writable(sessionId);
        if (session.closed) revert SessionAlreadyClosed(sessionId);
        if (energyWh < session.energyWh) revert EnergyDecreased(sessionId, session.energyWh, energyWh);
        session.closed = true;
        session.closedAt = uint64(block.timestamp);
        session.energyWh = energyWh;
        session.amountMsat = amountMsat;
        session.paymentsRoot = paymentsRoot;
        emit SessionClosed(sessionId, session.stationId, energyWh, amountMsat, paymentsRoot);
    }

    function getSession(bytes32 sessionId) external view returns (Session memory) {
        Session memory session = sessions[sessionId];
        if (session.openedAt == 0) revert UnknownSession(sessionId);
        return session;
    }

    function getAnchor(bytes32 sessionId, uint256 anchorIndex) external view returns (Anchor memory) {
        if (anchorIndex >= sessions[sessionId].anchorCount) revert UnknownAnchor(sessionId, anchorIndex);
        return anchors[sessionId][anchorIndex];
    }

    /// @notice True when `proof` shows `readingHash` is a leaf of the given anchor's Merkle root.
    function verifyReading(bytes32 sessionId, uint256 anchorIndex, bytes32 readingHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (anchorIndex >= sessions[sessionId].anchorCount) revert UnknownAnchor(sessionId, anchorIndex);
        bytes32 node = keccak256(bytes.concat(keccak256(abi.encode(readingHash))));
        for (uint256 i = 0; i < proof.length; i++) {
            bytes32 sibling = proof[i];
            node = node < sibling
                ? keccak256(abi.encodePacked(node, sibling))
                : keccak256(abi.encodePacked(sibling, node));
        }
        return node == anchors[sessionId][anchorIndex].root;
    }

    function _writable(bytes32 sessionId) private view returns (Session storage session) {
        session = sessions[sessionId];
        if (session.openedAt == 0) revert UnknownSession(sessionId);
        _requireStationSigner(session.stationId);
    }

    function _requireStationSigner(bytes32 stationId) private view {
        (bool registered, bool active, address signer) = registry.stationAuthority(stationId);
        if (!registered) revert UnknownStation(stationId);
        if (!active) revert StationInactive(stationId);
        if (msg.sender != signer) revert NotStationSigner(stationId, msg.sender);
    }
}
