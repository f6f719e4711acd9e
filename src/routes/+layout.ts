// A static single-page app: nothing renders on a server, the shell is prerendered.
export const prerender = true;
export const ssr = false;
