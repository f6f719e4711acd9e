import { hasSessionLink } from '$lib/protocol';
// Where a scanned or pasted text leads: a session link opens the session, a BOLT11 invoice the
// pay screen. Anything else is not for this wallet.
export function routeScanned(text: string): string | null {
	const t = text.trim();
	// Old-style links (#join=) too: the session page tells the driver what is wrong with them.
	if (hasSessionLink(t)) return `/session${t.slice(t.indexOf('#'))}`;
	const invoice = t.replace(/^lightning:/i, '');
	if (/^ln(bc|tb|tbs|bcrt|sb)[0-9a-z]+$/i.test(invoice)) return `/pay#${invoice.toLowerCase()}`;
	return null;
}
