// RFC 8785 JSON Canonicalization Scheme (JCS).
// Object keys sorted by UTF-16 code units, no whitespace, numbers in ECMAScript
// Number-to-string form, strings escaped as ECMAScript's JSON.stringify does.
// Both the kiosk and the wallet hash this output, so anything ambiguous is refused
// rather than guessed: non-finite numbers, bigints, lone surrogates, non-plain objects.

const MAX_DEPTH = 100;

export function canonicalize(value: unknown): string {
	return serialize(value, '$', 0, new Set());
}

function serialize(value: unknown, path: string, depth: number, ancestors: Set<object>): string {
	if (value === null) return 'null';
	switch (typeof value) {
		case 'boolean':
			return value ? 'true' : 'false';
		case 'number':
			if (!Number.isFinite(value)) {
				throw new Error(`canonical JSON: ${path} is ${String(value)}, which JSON cannot represent`);
			}
			// ES Number serialisation is exactly what RFC 8785 §3.2.2.3 prescribes; -0 becomes 0.
			return JSON.stringify(value);
		case 'string':
			return serializeString(value, path);
		case 'bigint':
			throw new Error(`canonical JSON: ${path} is a bigint; encode it as a decimal string`);
		case 'undefined':
			throw new Error(`canonical JSON: ${path} is undefined`);
		case 'function':
		case 'symbol':
			throw new Error(`canonical JSON: ${path} is a ${typeof value}, not JSON data`);
	}
	const object = value as object;
	if (depth >= MAX_DEPTH)
		throw new Error(`canonical JSON: nesting deeper than ${MAX_DEPTH} at ${path}`);
	if (ancestors.has(object)) throw new Error(`canonical JSON: ${path} refers back to itself`);
	ancestors.add(object);
	try {
		if (Array.isArray(object)) {
			const parts = object.map((item, index) =>
				serialize(item, `${path}[${index}]`, depth + 1, ancestors)
			);
			return `[${parts.join(',')}]`;
		}
		const prototype = Object.getPrototypeOf(object);
		if (prototype !== Object.prototype && prototype !== null) {
			throw new Error(`canonical JSON: ${path} is not a plain object`);
		}
		const record = object as Record<string, unknown>;
		const keys = Object.keys(record)
			.filter((key) => record[key] !== undefined)
			.sort(compareUtf16);
		const parts = keys.map(
			(key) =>
				`${serializeString(key, `${path} key`)}:${serialize(record[key], `${path}.${key}`, depth + 1, ancestors)}`
		);
		return `{${parts.join(',')}}`;
	} finally {
		ancestors.delete(object);
	}
}

/** Orders strings by their UTF-16 code units, as RFC 8785 §3.2.3 requires (not by code point or locale). */
function compareUtf16(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(text: string, path: string): string {
	// I-JSON (RFC 7493) forbids unpaired surrogates; JCS inherits that.
	if (LONE_SURROGATE.test(text))
		throw new Error(`canonical JSON: ${path} contains an unpaired surrogate`);
	return JSON.stringify(text);
}
