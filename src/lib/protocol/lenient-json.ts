// A tolerant JSON reader for OCMF sections written by real meters.
// Meters emit things strict JSON.parse refuses (leading-zero numbers, raw control
// characters, undefined `\q` escapes), and the signature covers the text as written,
// so we must read such records without rewriting them. It also reports where the
// value ended, which is how an OCMF record is split even when a string contains `|`.

export type LenientJson =
	null | boolean | number | string | LenientJson[] | { [key: string]: LenientJson };

const MAX_DEPTH = 64;

export class LenientJsonError extends Error {}

/** Reads one JSON value starting at `start` (leading whitespace skipped); returns it and the index just past it. */
export function readLenientJson(text: string, start: number): { value: LenientJson; end: number } {
	const reader = new Reader(text, start);
	reader.skipWhitespace();
	const value = reader.readValue(0);
	return { value, end: reader.position };
}

class Reader {
	constructor(
		private readonly text: string,
		public position: number
	) {}

	skipWhitespace(): void {
		while (
			this.position < this.text.length &&
			' \t\n\r'.includes(this.text[this.position] as string)
		) {
			this.position++;
		}
	}

	private fail(message: string): never {
		throw new LenientJsonError(`${message} at character ${this.position}`);
	}

	readValue(depth: number): LenientJson {
		if (depth > MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH}`);
		const char = this.text[this.position];
		if (char === undefined) this.fail('unexpected end of JSON');
		if (char === '{') return this.readObject(depth);
		if (char === '[') return this.readArray(depth);
		if (char === '"') return this.readString();
		if (char === '-' || (char >= '0' && char <= '9')) return this.readNumber();
		for (const [word, value] of [
			['true', true],
			['false', false],
			['null', null]
		] as const) {
			if (this.text.startsWith(word, this.position)) {
				this.position += word.length;
				return value;
			}
		}
		this.fail(`unexpected ${JSON.stringify(char)} in JSON`);
	}

	private readObject(depth: number): { [key: string]: LenientJson } {
		const result: { [key: string]: LenientJson } = {};
		this.position++; // {
		this.skipWhitespace();
		if (this.text[this.position] === '}') {
			this.position++;
			return result;
		}
		for (;;) {
			this.skipWhitespace();
			if (this.text[this.position] !== '"') this.fail('expected a quoted member name');
			const key = this.readString();
			this.skipWhitespace();
			if (this.text[this.position] !== ':') this.fail('expected ":" after a member name');
			this.position++;
			this.skipWhitespace();
			const value = this.readValue(depth + 1);
			// defineProperty so a member named "__proto__" stays data; a repeated key keeps the last value.
			Object.defineProperty(result, key, {
				value,
				enumerable: true,
				writable: true,
				configurable: true
			});
			this.skipWhitespace();
			const next = this.text[this.position];
			this.position++;
			if (next === '}') return result;
			if (next !== ',') {
				this.position--;
				this.fail('expected "," or "}" in an object');
			}
		}
	}

	private readArray(depth: number): LenientJson[] {
		const result: LenientJson[] = [];
		this.position++; // [
		this.skipWhitespace();
		if (this.text[this.position] === ']') {
			this.position++;
			return result;
		}
		for (;;) {
			this.skipWhitespace();
			result.push(this.readValue(depth + 1));
			this.skipWhitespace();
			const next = this.text[this.position];
			this.position++;
			if (next === ']') return result;
			if (next !== ',') {
				this.position--;
				this.fail('expected "," or "]" in an array');
			}
		}
	}

	private readString(): string {
		this.position++; // opening quote
		let out = '';
		for (;;) {
			const char = this.text[this.position];
			if (char === undefined) this.fail('unterminated string');
			this.position++;
			if (char === '"') return out;
			if (char !== '\\') {
				out += char; // raw control characters are kept, as the meter wrote them
				continue;
			}
			const escape = this.text[this.position];
			if (escape === undefined) this.fail('unterminated string');
			this.position++;
			switch (escape) {
				case 'b':
					out += '\b';
					break;
				case 'f':
					out += '\f';
					break;
				case 'n':
					out += '\n';
					break;
				case 'r':
					out += '\r';
					break;
				case 't':
					out += '\t';
					break;
				case 'u': {
					const digits = this.text.slice(this.position, this.position + 4);
					if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.fail('bad \\u escape');
					out += String.fromCharCode(parseInt(digits, 16));
					this.position += 4;
					break;
				}
				default:
					// `\"`, `\\`, `\/` and undefined escapes such as `\q`: the character itself.
					out += escape;
			}
		}
	}

	private readNumber(): number {
		const match = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(
			this.text.slice(this.position, this.position + 400)
		);
		if (!match) this.fail('malformed number');
		this.position += match[0].length;
		return Number(match[0]);
	}
}
