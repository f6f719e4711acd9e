// Test support: a devnet test's start, tried again once when it fails. On a machine shared by several
// test runs a port found free can be taken before the devnet binds it, and a start under heavy load
// can miss one of its own waits; neither says anything about the code under test. The second failure
// is the one reported, with the first named.
export async function withStartRetry<T>(
	what: string,
	start: () => Promise<T>,
	attempts = 2
): Promise<T> {
	let first: unknown = null;
	for (let i = 1; ; i++) {
		try {
			return await start();
		} catch (err) {
			if (i >= attempts) {
				if (first !== null && err instanceof Error)
					err.message += ` (the first try failed too: ${first instanceof Error ? first.message : String(first)})`;
				throw err;
			}
			first = err;
			console.warn(
				`${what} failed to start (${err instanceof Error ? err.message : String(err)}); trying once more`
			);
		}
	}
}
