// Public API of the kiosk↔wallet protocol.
export * from './types';
export * from './networks';
export * from './topics';
export * from './canonical-json';
export * from './billing';
export * from './messages';
export * from './authentication';
export {
	OBIS_IMPORT_ENERGY,
	OCMF_SIGNATURE_ALGORITHM,
	OcmfParseError,
	OcmfVerifyingKey,
	buildOcmfPayloadText,
	formatKwh,
	formatOcmfTime,
	ocmfPublicKeyHex,
	parseOcmf,
	parseOcmfTime,
	signOcmf,
	verifyOcmf,
	type OcmfCurveName,
	type OcmfPayload,
	type OcmfPayloadInput,
	type OcmfReading,
	type OcmfSignatureSection,
	type OcmfTransaction,
	type OcmfVerification,
	type ParsedOcmf,
	type PublicKeyInput
} from './ocmf';
export type { LenientJson } from './lenient-json';
export * from './readings';
export * from './session-link';
export {
	base64UrlDecode,
	base64UrlEncode,
	bytesToHex,
	equalBytes,
	hexToBytes,
	isHex,
	utf8Decode,
	utf8Encode
} from './bytes';
