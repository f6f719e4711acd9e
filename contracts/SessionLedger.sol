// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StationRegistry} from "./StationRegistry.sol";

/// @title SessionLedger
/// @notice Charging sessions anchored on chain: open, anchor Merkle roots of signed meter readings
/// over contiguous reading ranges, close with totals. A session belongs to its station: it is
/// stored under sessionKey(stationId, sessionId), so no other station can take, anchor or close a
/// session id that this one offers (ids are public on the broker long before they are opened). The
/// station's registered signer opens a session and, from then on, is the only account that writes
/// for it (so a station retired while charging can still finish and close its sessions; a retired
/// station cannot open new ones).
///
/// Cheap at scale: an anchor writes no new storage slot. The anchors themselves live in the
/// ReadingsAnchored events; storage keeps a hash chain over them (`anchorsDigest`), updated in
/// place, so a reader who takes the anchors from the logs can prove they are complete and
/// untampered, and `verifyReading` checks a reading's Merkle proof against them in a free view.
///   digest_0 = keccak256(abi.encode(sessionKey))
///   digest_i = keccak256(abi.encode(digest_{i-1}, root_i, fromReading_i, toReading_i, energyWh_i))
/// Leaves follow OpenZeppelin's StandardMerkleTree for a single `bytes32` value:
/// leaf = keccak256(keccak256(abi.encode(readingHash))), pairs hashed sorted.
contract SessionLedger {
    /// What a caller reads with getSession.
    struct Session {
        bytes32 stationId;
        bytes32 sessionId;
        bytes32 driverRef;
        address signer;
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
        bytes32 anchorsDigest;
    }

    /// One anchor as its ReadingsAnchored event reports it.
    struct Anchor {
        bytes32 root;
        uint64 fromReading;
        uint64 toReading;
        uint64 energyWh;
    }

    /// Storage layout: everything an anchor reads or writes sits in `head` (one slot) and
    /// `anchorsDigest` (one slot), both already non-zero after open.
    struct Head {
        address signer;
        uint32 lastReading;
        uint40 energyWh;
        uint16 anchorCount;
        bool closed;
    }

    struct Record {
        Head head;
        bytes32 anchorsDigest;
        bytes32 stationId;
        bytes32 driverRef;
        uint64 openedAt;
        uint64 closedAt;
        uint128 amountMsat;
        bytes32 paymentsRoot;
    }

    StationRegistry public immutable registry;
    mapping(bytes32 => Record) private sessions;

    event SessionOpened(
        bytes32 indexed sessionKey, bytes32 indexed stationId, bytes32 sessionId, bytes32 driverRef, address indexed signer
    );
    event ReadingsAnchored(
        bytes32 indexed sessionKey,
        uint32 anchorIndex,
        bytes32 merkleRoot,
        uint64 fromReading,
        uint64 toReading,
        uint64 energyWh
    );
    event SessionClosed(
        bytes32 indexed sessionKey,
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
    error ValueTooLarge(uint64 value, uint64 max);
    error TooManyAnchors(bytes32 sessionId);
    error UnknownAnchor(bytes32 sessionId, uint256 anchorIndex);
    error AnchorsDoNotMatch(bytes32 sessionId);

    constructor(StationRegistry registry_) {
        registry = registry_;
    }

    /// @notice Where a station's session is stored: its id is only unique within the station.
    function sessionKey(bytes32 stationId, bytes32 sessionId) public pure returns (bytes32) {
        return keccak256(abi.encode(stationId, sessionId));
    }

    function open(bytes32 stationId, bytes32 sessionId, bytes32 driverRef) external {
        if (sessionId == bytes32(0)) revert InvalidSessionId();
        (bool registered, bool active, address signer) = registry.stationAuthority(stationId);
        if (!registered) revert UnknownStation(stationId);
        if (!active) revert StationInactive(stationId);
        if (msg.sender != signer) revert NotStationSigner(stationId, msg.sender);
        bytes32 key = sessionKey(stationId, sessionId);
        Record storage session = sessions[key];
        if (session.openedAt != 0) revert SessionAlreadyExists(sessionId);
        session.head = Head({signer: msg.sender, lastReading: 0, energyWh: 0, anchorCount: 0, closed: false});
        session.anchorsDigest = keccak256(abi.encode(key));
        session.stationId = stationId;
        session.driverRef = driverRef;
        session.openedAt = uint64(block.timestamp);
        emit SessionOpened(key, stationId, sessionId, driverRef, msg.sender);
    }

    /// @param fromReading first reading's pagination in this batch: exactly one after the last
    /// anchored reading, or >= 1 for the session's first anchor.
    function anchor(
        bytes32 stationId,
        bytes32 sessionId,
        bytes32 merkleRoot,
        uint64 fromReading,
        uint64 toReading,
        uint64 energyWh
    ) external {
        bytes32 key = sessionKey(stationId, sessionId);
        Record storage session = sessions[key];
        Head memory head = _writableHead(session, stationId, sessionId);
        if (head.closed) revert SessionNotOpen(sessionId);
        if (merkleRoot == bytes32(0)) revert EmptyMerkleRoot();
        if (head.anchorCount == 0) {
            if (fromReading == 0) revert ReadingRangeOutOfOrder(sessionId, 1, fromReading);
        } else if (fromReading != uint64(head.lastReading) + 1) {
            revert ReadingRangeOutOfOrder(sessionId, uint64(head.lastReading) + 1, fromReading);
        }
        if (toReading < fromReading) revert InvalidReadingRange(fromReading, toReading);
        if (toReading > type(uint32).max) revert ValueTooLarge(toReading, type(uint32).max);
        if (energyWh > type(uint40).max) revert ValueTooLarge(energyWh, type(uint40).max);
        if (energyWh < head.energyWh) revert EnergyDecreased(sessionId, head.energyWh, energyWh);
        if (head.anchorCount == type(uint16).max) revert TooManyAnchors(sessionId);

        session.anchorsDigest =
            keccak256(abi.encode(session.anchorsDigest, merkleRoot, fromReading, toReading, energyWh));
        session.head = Head({
            signer: head.signer,
            lastReading: uint32(toReading),
            energyWh: uint40(energyWh),
            anchorCount: head.anchorCount + 1,
            closed: false
        });
        emit ReadingsAnchored(key, head.anchorCount, merkleRoot, fromReading, toReading, energyWh);
    }

    function close(bytes32 stationId, bytes32 sessionId, uint64 energyWh, uint128 amountMsat, bytes32 paymentsRoot)
        external
    {
        bytes32 key = sessionKey(stationId, sessionId);
        Record storage session = sessions[key];
        Head memory head = _writableHead(session, stationId, sessionId);
        if (head.closed) revert SessionAlreadyClosed(sessionId);
        if (energyWh > type(uint40).max) revert ValueTooLarge(energyWh, type(uint40).max);
        if (energyWh < head.energyWh) revert EnergyDecreased(sessionId, head.energyWh, energyWh);
        session.head.closed = true;
        session.head.energyWh = uint40(energyWh);
        session.closedAt = uint64(block.timestamp);
        session.amountMsat = amountMsat;
        session.paymentsRoot = paymentsRoot;
        emit SessionClosed(key, stationId, energyWh, amountMsat, paymentsRoot);
    }

    function getSession(bytes32 stationId, bytes32 sessionId) external view returns (Session memory) {
        Record storage session = sessions[sessionKey(stationId, sessionId)];
        if (session.openedAt == 0) revert UnknownSession(sessionId);
        Head memory head = session.head;
        return Session({
            stationId: session.stationId,
            sessionId: sessionId,
            driverRef: session.driverRef,
            signer: head.signer,
            openedAt: session.openedAt,
            closedAt: session.closedAt,
            lastReading: head.lastReading,
            energyWh: head.energyWh,
            amountMsat: session.amountMsat,
            anchorCount: head.anchorCount,
            closed: head.closed,
            paymentsRoot: session.paymentsRoot,
            anchorsDigest: session.anchorsDigest
        });
    }

    /// @notice True when `proof` shows `readingHash` is a leaf of anchor `anchorIndex`'s Merkle root.
    /// @param anchors every anchor of the session, in order, as the ReadingsAnchored events report
    /// them; reverts AnchorsDoNotMatch unless they hash to the stored digest.
    function verifyReading(
        bytes32 stationId,
        bytes32 sessionId,
        Anchor[] calldata anchors,
        uint256 anchorIndex,
        bytes32 readingHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 key = sessionKey(stationId, sessionId);
        Record storage session = sessions[key];
        if (session.openedAt == 0) revert UnknownSession(sessionId);
        bytes32 digest = keccak256(abi.encode(key));
        for (uint256 i = 0; i < anchors.length; i++) {
            Anchor calldata a = anchors[i];
            digest = keccak256(abi.encode(digest, a.root, a.fromReading, a.toReading, a.energyWh));
        }
        if (digest != session.anchorsDigest) revert AnchorsDoNotMatch(sessionId);
        if (anchorIndex >= anchors.length) revert UnknownAnchor(sessionId, anchorIndex);
        bytes32 node = keccak256(bytes.concat(keccak256(abi.encode(readingHash))));
        for (uint256 i = 0; i < proof.length; i++) {
            bytes32 sibling = proof[i];
            node = node < sibling
                ? keccak256(abi.encodePacked(node, sibling))
                : keccak256(abi.encodePacked(sibling, node));
        }
        return node == anchors[anchorIndex].root;
    }

    /// The session's head, after checking it exists and the caller is the signer that opened it.
    function _writableHead(Record storage session, bytes32 stationId, bytes32 sessionId)
        private
        view
        returns (Head memory head)
    {
        head = session.head;
        if (head.signer == address(0)) revert UnknownSession(sessionId);
        if (msg.sender != head.signer) revert NotStationSigner(stationId, msg.sender);
    }
}
