// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title NaiveReadings
/// @notice Benchmark baseline only (bench/ledger.ts), never deployed by Lightcharge: the two
/// obvious ways to put every meter reading on chain, one transaction per reading. Each stores or
/// logs only the reading's 32-byte hash (not the ~460-byte OCMF record), the cheapest a
/// per-reading design can be, so the comparison with batched Merkle anchors is a fair one.
contract NaiveReadings {
    /// session id => pagination => SHA-256 of the OCMF record
    mapping(bytes32 => mapping(uint64 => bytes32)) public readings;

    event Reading(bytes32 indexed sessionId, uint64 pagination, bytes32 readingHash);

    /// One transaction per reading, stored in contract storage.
    function store(bytes32 sessionId, uint64 pagination, bytes32 readingHash) external {
        readings[sessionId][pagination] = readingHash;
    }

    /// One transaction per reading, kept only in the event log.
    function log(bytes32 sessionId, uint64 pagination, bytes32 readingHash) external {
        emit Reading(sessionId, pagination, readingHash);
    }
}
