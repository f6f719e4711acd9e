// A checker for the subset of OpenAPI 2 (swagger) that LND's REST definitions use: $ref, object
// properties (no unknown fields), arrays, additionalProperties maps, enums, and the JSON encodings
// grpc-gateway gives proto types (int64 as decimal strings, bytes as base64). Node-only test helper.

export interface SwaggerSchema {
	$ref?: string;
	type?: string;
	format?: string;
	properties?: Record<string, SwaggerSchema>;
	items?: SwaggerSchema;
	additionalProperties?: SwaggerSchema | boolean;
	enum?: string[];
}

export interface SwaggerDoc {
	definitions: Record<string, SwaggerSchema>;
	paths: Record<string, Record<string, { responses?: Record<string, { schema?: SwaggerSchema }> }>>;
}

/** Returns a list of problems (empty when the value conforms). */
export function checkSwagger(doc: SwaggerDoc, schema: SwaggerSchema, value: unknown, path = '$'): string[] {
	if (schema.$ref) {
		const name = schema.$ref.replace('#/definitions/', '');
		const target = doc.definitions[name];
		if (!target) return [`${path}: unknown definition ${name}`];
		return checkSwagger(doc, target, value, path);
	}
	if (schema.enum) {
		return typeof value === 'string' && schema.enum.includes(value)
			? []
			: [`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`];
	}
	const type = schema.type ?? (schema.properties ? 'object' : undefined);
	switch (type) {
		case 'string': {
			if (typeof value !== 'string') return [`${path}: expected a string, got ${JSON.stringify(value)}`];
			if (['int64', 'uint64'].includes(schema.format ?? '') && !/^-?\d+$/.test(value)) {
				return [`${path}: ${schema.format} must be a decimal string, got ${JSON.stringify(value)}`];
			}
			if (schema.format === 'uint64' && value.startsWith('-')) return [`${path}: uint64 cannot be negative`];
			if (schema.format === 'byte' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
				return [`${path}: bytes must be standard base64, got ${JSON.stringify(value)}`];
			}
			return [];
		}
		case 'integer':
			return typeof value === 'number' && Number.isInteger(value) ? [] : [`${path}: expected an integer, got ${JSON.stringify(value)}`];
		case 'number':
			return typeof value === 'number' ? [] : [`${path}: expected a number`];
		case 'boolean':
			return typeof value === 'boolean' ? [] : [`${path}: expected a boolean, got ${JSON.stringify(value)}`];
		case 'array': {
			if (!Array.isArray(value)) return [`${path}: expected an array`];
			const items = schema.items;
			return items ? value.flatMap((v, i) => checkSwagger(doc, items, v, `${path}[${i}]`)) : [];
		}
		case 'object': {
			if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object`];
			const problems: string[] = [];
			for (const [key, v] of Object.entries(value)) {
				const prop = schema.properties?.[key];
				if (prop) problems.push(...checkSwagger(doc, prop, v, `${path}.${key}`));
				else if (typeof schema.additionalProperties === 'object') {
					problems.push(...checkSwagger(doc, schema.additionalProperties, v, `${path}.${key}`));
				} else problems.push(`${path}.${key}: not a field of this message`);
			}
			return problems;
		}
		default:
			return [];
	}
}

/** The 200-response schema of an operation; for streams, the `{result, error}` wrapper. */
export function responseSchema(doc: SwaggerDoc, path: string, method: string): SwaggerSchema {
	const op = doc.paths[path]?.[method.toLowerCase()];
	const schema = op?.responses?.['200']?.schema;
	if (!schema) throw new Error(`The swagger has no 200 response for ${method} ${path}`);
	return schema;
}

/** The request-body schema of an operation. */
export function requestSchema(doc: SwaggerDoc, path: string, method: string): SwaggerSchema {
	const op = doc.paths[path]?.[method.toLowerCase()] as { parameters?: { in: string; schema?: SwaggerSchema }[] } | undefined;
	const body = op?.parameters?.find((p) => p.in === 'body');
	if (!body?.schema) throw new Error(`The swagger has no request body for ${method} ${path}`);
	return body.schema;
}
