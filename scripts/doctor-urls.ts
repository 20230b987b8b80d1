/**
 * The URLs the operator gives `npm run doctor`: a `user:password@` in them is never sent, and
 * never printed. Everything the doctor prints about a URL shows it as `***@`.
 */

/** A scheme's `//`, then everything up to the authority's last `@`, as the URL parser reads it. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#\\]*@/gi;

/** The text with the user and password of every URL in it shown as `***`. */
export function maskUserinfo(text: string): string {
  return text.replace(USERINFO, '$1***@');
}

/** The URL without its user and password; the same URL when it has none. */
export function withoutUserinfo(url: URL): URL {
  if (url.username === '' && url.password === '') return url;
  const bare = new URL(url);
  bare.username = '';
  bare.password = '';
  return bare;
}
