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
	/** Fields that must be present (OpenAPI 2 `required`). */
	required?: string[];
}

export interface SwaggerDoc {
	definitions: Record<string, SwaggerSchema>;
	paths: Record<string, Record<string, { responses?: Record<string, { schema?: SwaggerSchema }> }>>;
}

/** Returns a list of problems (empty when the value conforms). */
export function checkSwagger(
	doc: SwaggerDoc,
	schema: SwaggerSchema,
	value: unknown,
	path = '$'
): string[] {
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
			if (typeof value !== 'string')
				return [`${path}: expected a string, got ${JSON.stringify(value)}`];
			if (['int64', 'uint64'].includes(schema.format ?? '') && !/^-?\d+$/.test(value)) {
				return [`${path}: ${schema.format} must be a decimal string, got ${JSON.stringify(value)}`];
			}
			if (schema.format === 'uint64' && value.startsWith('-'))
				return [`${path}: uint64 cannot be negative`];
			if (schema.format === 'byte' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
				return [`${path}: bytes must be standard base64, got ${JSON.stringify(value)}`];
			}
			return [];
		}
		case 'integer':
			return typeof value === 'number' && Number.isInteger(value)
				? []
				: [`${path}: expected an integer, got ${JSON.stringify(value)}`];
		case 'number':
			return typeof value === 'number' ? [] : [`${path}: expected a number`];
		case 'boolean':
			return typeof value === 'boolean'
				? []
				: [`${path}: expected a boolean, got ${JSON.stringify(value)}`];
		case 'array': {
			if (!Array.isArray(value)) return [`${path}: expected an array`];
			const items = schema.items;
			return items ? value.flatMap((v, i) => checkSwagger(doc, items, v, `${path}[${i}]`)) : [];
		}
		case 'object': {
			if (typeof value !== 'object' || value === null || Array.isArray(value))
				return [`${path}: expected an object`];
			const problems: string[] = [];
			for (const key of schema.required ?? []) {
				if (!(key in value)) problems.push(`${path}.${key}: required, but missing`);
			}
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
	const op = doc.paths[path]?.[method.toLowerCase()] as
		{ parameters?: { in: string; schema?: SwaggerSchema }[] } | undefined;
	const body = op?.parameters?.find((p) => p.in === 'body');
	if (!body?.schema) throw new Error(`The swagger has no request body for ${method} ${path}`);
	return body.schema;
}

interface SwaggerParameter {
	name: string;
	in: 'path' | 'query' | 'body' | 'header';
	required?: boolean;
	type?: string;
	format?: string;
	schema?: SwaggerSchema;
}

/** The swagger path template (e.g. `/v2/router/track/{payment_hash}`) a concrete path matches, with its path parameters. */
export function matchPath(
	doc: SwaggerDoc,
	path: string
): { template: string; params: Record<string, string> } | null {
	for (const template of Object.keys(doc.paths)) {
		const names: string[] = [];
		const pattern = template
			.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
			.replace(/\{([^}]+)\}/g, (_m, name: string) => {
				names.push(name);
				return '([^/]+)';
			});
		const m = new RegExp(`^${pattern}$`).exec(path);
		if (!m) continue;
		return {
			template,
			params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]))
		};
	}
	return null;
}

function checkParameter(p: SwaggerParameter, value: string): string[] {
	const where = `${p.in} parameter ${p.name}`;
	if (p.type === 'boolean' && value !== 'true' && value !== 'false')
		return [`${where}: ${JSON.stringify(value)} is not a boolean`];
	if (['int64', 'uint64'].includes(p.format ?? '') && !/^\d+$/.test(value))
		return [`${where}: ${JSON.stringify(value)} is not a decimal ${p.format}`];
	// grpc-gateway reads bytes in paths and queries as base64, standard or URL-safe.
	if (p.format === 'byte' && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value))
		return [`${where}: ${JSON.stringify(value)} is not base64`];
	return [];
}

/**
 * Checks one HTTP request against the swagger: the path and method exist, every path and query
 * parameter is declared with a value of its type, and the body (if any) fits the body schema.
 * Returns the template matched and the problems found (empty when LND would accept the request).
 */
export function checkRequest(
	doc: SwaggerDoc,
	method: string,
	url: string,
	body: unknown
): { template: string | null; problems: string[] } {
	const parsed = new URL(url, 'http://lnd.invalid');
	const match = matchPath(doc, parsed.pathname);
	if (!match)
		return {
			template: null,
			problems: [`${method} ${parsed.pathname}: no such path in the swagger`]
		};
	const op = doc.paths[match.template]?.[method.toLowerCase()] as
		{ parameters?: SwaggerParameter[] } | undefined;
	if (!op)
		return {
			template: match.template,
			problems: [`${method} ${match.template}: method not allowed`]
		};
	const params = op.parameters ?? [];
	const problems: string[] = [];
	for (const [name, value] of Object.entries(match.params)) {
		const p = params.find((x) => x.in === 'path' && x.name === name);
		if (!p) problems.push(`path parameter ${name} is not declared`);
		else problems.push(...checkParameter(p, value));
	}
	for (const [name, value] of parsed.searchParams) {
		const p = params.find((x) => x.in === 'query' && x.name === name);
		if (!p)
			problems.push(`query parameter ${name} is not declared for ${method} ${match.template}`);
		else problems.push(...checkParameter(p, value));
	}
	for (const p of params) {
		if (p.required !== true) continue;
		if (p.in === 'path' && !(p.name in match.params))
			problems.push(`path parameter ${p.name} is required, but missing`);
		if (p.in === 'query' && !parsed.searchParams.has(p.name))
			problems.push(`query parameter ${p.name} is required, but missing`);
		if (p.in === 'body' && body === undefined)
			problems.push(`${method} ${match.template} requires a body`);
	}
	const bodyParam = params.find((x) => x.in === 'body');
	if (body !== undefined) {
		if (!bodyParam?.schema) problems.push(`${method} ${match.template} takes no body`);
		else problems.push(...checkSwagger(doc, bodyParam.schema, body));
	}
	return { template: match.template, problems };
}
