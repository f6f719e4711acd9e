// The one typed emitter: a set of listeners for one kind of event, in place of a hand-written
// `Set` of callbacks with its own add, delete and loop in every class that tells others of changes
// (the bus's state, the runtimes' views, the simnet's events, the chargers' reports, a transport's
// bytes). Listeners run in the order they subscribed; one that unsubscribes while an event is being
// delivered is not called for it, and one that subscribes meanwhile hears from the next event on.

export type Unsubscribe = () => void;

export interface EmitterOptions {
	/**
	 * A listener that throws is reported here and the others still run. Without it, the error
	 * propagates to the code that emitted, and the listeners after it are not called for that event.
	 */
	onListenerError?: (error: unknown) => void;
}

export class Emitter<Args extends unknown[]> {
	readonly #listeners = new Set<(...args: Args) => void>();
	readonly #onListenerError: ((error: unknown) => void) | undefined;

	constructor(options: EmitterOptions = {}) {
		this.#onListenerError = options.onListenerError;
	}

	/** Adds a listener (once, however often it is passed); the returned function removes it. */
	on(listener: (...args: Args) => void): Unsubscribe {
		this.#listeners.add(listener);
		return () => {
			this.#listeners.delete(listener);
		};
	}

	/** Removes a listener added with `on`. */
	off(listener: (...args: Args) => void): void {
		this.#listeners.delete(listener);
	}

	emit(...args: Args): void {
		for (const listener of [...this.#listeners]) {
			if (!this.#listeners.has(listener)) continue;
			if (!this.#onListenerError) {
				listener(...args);
				continue;
			}
			try {
				listener(...args);
			} catch (e) {
				this.#onListenerError(e);
			}
		}
	}

	/** How many listeners there are (for tests and for "nobody is listening" shortcuts). */
	get size(): number {
		return this.#listeners.size;
	}

	clear(): void {
		this.#listeners.clear();
	}
}
