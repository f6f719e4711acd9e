// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title StationRegistry
/// @notice Operator-permissioned list of charging stations: who signs for a station (its OCMF
/// signing key's Ethereum address), which Lightning node it invoices from, its tariff and place.
/// Only the operator registers, replaces or retires a station; the station's own signer may
/// change its tariff reference and Lightning pubkey. Every change emits an event so a client can
/// rebuild the registry from logs.
contract StationRegistry {
    struct Station {
        address signer;
        bool active;
        bool registered;
        /// Compressed secp256k1 public key of the station's Lightning node (33 bytes).
        bytes lightningPubkey;
        /// SHA-256 of the tariff's canonical JSON (or any 32-byte reference the operator chooses).
        bytes32 tariffRef;
        string location;
    }

    address public operator;
    mapping(bytes32 => Station) private stations;
    bytes32[] private stationIds;

    event OperatorTransferred(address indexed previousOperator, address indexed newOperator);
    event StationRegistered(
        bytes32 indexed stationId,
        address indexed signer,
        bytes lightningPubkey,
        bytes32 tariffRef,
        string location
    );
    event StationUpdated(
        bytes32 indexed stationId,
        address indexed signer,
        bytes lightningPubkey,
        bytes32 tariffRef,
        string location
    );
    event TariffRefChanged(bytes32 indexed stationId, bytes32 tariffRef, address indexed by);
    event LightningPubkeyChanged(bytes32 indexed stationId, bytes lightningPubkey, address indexed by);
    event StationRetired(bytes32 indexed stationId);
    event StationReactivated(bytes32 indexed stationId);

    error NotOperator(address caller);
    error ZeroAddress();
    error InvalidStationId();
    error UnknownStation(bytes32 stationId);
    error StationAlreadyRegistered(bytes32 stationId);
    error StationInactive(bytes32 stationId);
    error StationAlreadyActive(bytes32 stationId);
    error NotStationSigner(bytes32 stationId, address caller);
    error InvalidLightningPubkey(uint256 length);

    modifier onlyOperator() {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        _;
    }

    constructor() {
        operator = msg.sender;
        emit OperatorTransferred(address(0), msg.sender);
    }

    function transferOperator(address newOperator) external onlyOperator {
        if (newOperator == address(0)) revert ZeroAddress();
        emit OperatorTransferred(operator, newOperator);
        operator = newOperator;
    }

    function registerStation(
        bytes32 stationId,
        address signer,
        bytes calldata lightningPubkey,
        bytes32 tariffRef,
        string calldata location
    ) external onlyOperator {
        if (stationId == bytes32(0)) revert InvalidStationId();
        if (stations[stationId].registered) revert StationAlreadyRegistered(stationId);
        _checkStationFields(signer, lightningPubkey);
        stations[stationId] = Station({
            signer: signer,
            active: true,
            registered: true,
            lightningPubkey: lightningPubkey,
            tariffRef: tariffRef,
            location: location
        });
        stationIds.push(stationId);
        emit StationRegistered(stationId, signer, lightningPubkey, tariffRef, location);
    }

    /// @notice Operator replaces every field of a station (e.g. a new signing key after a meter swap).
    function updateStation(
        bytes32 stationId,
        address signer,
        bytes calldata lightningPubkey,
        bytes32 tariffRef,
        string calldata location
    ) external onlyOperator {
        Station storage station = _existing(stationId);
        _checkStationFields(signer, lightningPubkey);
        station.signer = signer;
        station.lightningPubkey = lightningPubkey;
        station.tariffRef = tariffRef;
        station.location = location;
        emit StationUpdated(stationId, signer, lightningPubkey, tariffRef, location);
    }

    function setTariffRef(bytes32 stationId, bytes32 tariffRef) external {
        Station storage station = _writableBySignerOrOperator(stationId);
        station.tariffRef = tariffRef;
        emit TariffRefChanged(stationId, tariffRef, msg.sender);
    }

    function setLightningPubkey(bytes32 stationId, bytes calldata lightningPubkey) external {
        Station storage station = _writableBySignerOrOperator(stationId);
        if (lightningPubkey.length != 33) revert InvalidLightningPubkey(lightningPubkey.length);
        station.lightningPubkey = lightningPubkey;
        emit LightningPubkeyChanged(stationId, lightningPubkey, msg.sender);
    }

    function retireStation(bytes32 stationId) external onlyOperator {
        Station storage station = _existing(stationId);
        if (!station.active) revert StationInactive(stationId);
        station.active = false;
        emit StationRetired(stationId);
    }

    function reactivateStation(bytes32 stationId) external onlyOperator {
        Station storage station = _existing(stationId);
        if (station.active) revert StationAlreadyActive(stationId);
        station.active = true;
        emit StationReactivated(stationId);
    }

    function getStation(bytes32 stationId)
        external
        view
        returns (
            bool registered,
            address signer,
            bytes memory lightningPubkey,
            bytes32 tariffRef,
            string memory location,
            bool active
        )
    {
        Station storage station = stations[stationId];
        return (
            station.registered,
            station.signer,
            station.lightningPubkey,
            station.tariffRef,
            station.location,
            station.active
        );
    }

    /// @notice Cheap lookup for the other contracts: never reverts.
    function stationAuthority(bytes32 stationId)
        external
        view
        returns (bool registered, bool active, address signer)
    {
        Station storage station = stations[stationId];
        return (station.registered, station.active, station.signer);
    }

    function stationCount() external view returns (uint256) {
        return stationIds.length;
    }

    function stationIdAt(uint256 index) external view returns (bytes32) {
        return stationIds[index];
    }

    function _existing(bytes32 stationId) private view returns (Station storage station) {
        station = stations[stationId];
        if (!station.registered) revert UnknownStation(stationId);
    }

    function _writableBySignerOrOperator(bytes32 stationId) private view returns (Station storage station) {
        station = _existing(stationId);
        if (msg.sender != station.signer && msg.sender != operator) {
            revert NotStationSigner(stationId, msg.sender);
        }
        // A retired station's own key can no longer change anything; the operator still can.
        if (!station.active && msg.sender != operator) revert StationInactive(stationId);
    }

    function _checkStationFields(address signer, bytes calldata lightningPubkey) private pure {
        if (signer == address(0)) revert ZeroAddress();
        if (lightningPubkey.length != 33) revert InvalidLightningPubkey(lightningPubkey.length);
    }
}
