// The one schema library at the boundaries is valibot: settings from a form or from storage, the
// devnet manifest, messages. This file holds what every schema here shares: turning valibot's
// issues into one sentence that names the field, for the person who typed it.
import * as v from 'valibot';

/** `a.b[2].c` for an issue's path, or '' at the top. */
export function issuePath(issue: v.BaseIssue<unknown>): string {
	return (issue.path ?? [])
		.map((p) =>
			typeof p.key === 'number' ? `[${p.key}]` : `${p.key === undefined ? '' : String(p.key)}`
		)
		.join('.')
		.replace(/\.\[/g, '[');
}

/** The first issue's message (a schema here always gives its own sentence), with its path when it has none of its own. */
export function firstSentence(issues: readonly [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): {
	path: string;
	message: string;
} {
	const issue = issues[0];
	return { path: issuePath(issue), message: issue.message };
}
