// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

interface IStationAuthority {
    function stationAuthority(bytes32 stationId) external view returns (bool registered, bool active, address signer);
}

/// @title StationMinuteAnchors
/// @notice Benchmark only (bench/ledger.ts), never deployed by Lightcharge: what would make anchoring
/// cheaper per record. A station with several connectors sends ONE transaction a minute for all of
/// them instead of one per connector (session), two ways:
///  - `anchorConnectors`: one entry per connector's session, each checked and chained exactly as
///    SessionLedger.anchor does (contiguous readings, energy never decreasing, a per-session head
///    and hash chain in storage, one ReadingsAnchored event per session). Only the transaction and
///    the station check are shared.
///  - `anchorStationRoot`: one Merkle root over every connector's readings of the minute and one
///    hash chain per station; the per-session checks move off chain (a verifier takes the ranges
///    from the leaves). Cheapest, but the chain no longer refuses a gap or a decrease itself.
contract StationMinuteAnchors {
    struct Head {
        address signer;
        uint32 lastReading;
        uint40 energyWh;
        uint16 anchorCount;
        bool open;
    }

    struct Entry {
        bytes32 sessionId;
        bytes32 merkleRoot;
        uint64 fromReading;
        uint64 toReading;
        uint64 energyWh;
    }

    IStationAuthority public immutable registry;
    mapping(bytes32 => Head) private heads;
    mapping(bytes32 => bytes32) private digests;
    mapping(bytes32 => bytes32) private stationDigests;

    event ReadingsAnchored(
        bytes32 indexed sessionKey, uint32 anchorIndex, bytes32 merkleRoot, uint64 fromReading, uint64 toReading, uint64 energyWh
    );
    event StationMinuteAnchored(bytes32 indexed stationId, bytes32 merkleRoot, uint32 records, uint64 minute);

    error NotStationSigner(bytes32 stationId, address caller);
    error SessionNotOpen(bytes32 sessionId);
    error ReadingRangeOutOfOrder(bytes32 sessionId, uint64 expectedFrom, uint64 fromReading);
    error EnergyDecreased(bytes32 sessionId, uint64 previousWh, uint64 energyWh);

    constructor(IStationAuthority registry_) {
        registry = registry_;
    }

    function _authorised(bytes32 stationId) private view {
        (bool registered, bool active, address signer) = registry.stationAuthority(stationId);
        if (!registered || !active || msg.sender != signer) revert NotStationSigner(stationId, msg.sender);
    }

    function open(bytes32 stationId, bytes32 sessionId) external {
        _authorised(stationId);
        bytes32 key = keccak256(abi.encode(stationId, sessionId));
        heads[key] = Head({signer: msg.sender, lastReading: 0, energyWh: 0, anchorCount: 0, open: true});
        digests[key] = keccak256(abi.encode(key));
    }

    function anchorConnectors(bytes32 stationId, Entry[] calldata entries) external {
        _authorised(stationId);
        for (uint256 i = 0; i < entries.length; i++) {
            Entry calldata e = entries[i];
            bytes32 key = keccak256(abi.encode(stationId, e.sessionId));
            Head memory head = heads[key];
            if (!head.open || head.signer != msg.sender) revert SessionNotOpen(e.sessionId);
            if (e.fromReading != uint64(head.lastReading) + 1) {
                revert ReadingRangeOutOfOrder(e.sessionId, uint64(head.lastReading) + 1, e.fromReading);
            }
            if (e.energyWh < head.energyWh) revert EnergyDecreased(e.sessionId, head.energyWh, e.energyWh);
            digests[key] = keccak256(abi.encode(digests[key], e.merkleRoot, e.fromReading, e.toReading, e.energyWh));
            heads[key] = Head({
                signer: head.signer,
                lastReading: uint32(e.toReading),
                energyWh: uint40(e.energyWh),
                anchorCount: head.anchorCount + 1,
                open: true
            });
            emit ReadingsAnchored(key, head.anchorCount, e.merkleRoot, e.fromReading, e.toReading, e.energyWh);
        }
    }

    function anchorStationRoot(bytes32 stationId, bytes32 merkleRoot, uint32 records, uint64 minute) external {
        _authorised(stationId);
        stationDigests[stationId] = keccak256(abi.encode(stationDigests[stationId], merkleRoot, records, minute));
        emit StationMinuteAnchored(stationId, merkleRoot, records, minute);
    }
}
