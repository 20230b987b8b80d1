/**
 * The URLs the operator gives `npm run doctor`: a `user:password@` in them is never sent, and
 * never printed. Everything the doctor prints about a URL shows it as `***@`. `--url` may be
 * the login's URL or the API's base URL; `--issuer` must be an issuer exactly.
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

/** Where the login is, and the API's base URL, which the session routes hang from. */
export interface EndpointUrls {
  readonly login: URL;
  /** Without a trailing slash: the default issuer, compared as a string. */
  readonly base: string;
}

/**
 * `--url` is the EndpointUrl (`{base}/openid`) or the base URL itself (the BaseUrl output), a
 * trailing slash or not: either way the login is at `{base}/openid`.
 */
export function endpointUrls(url: URL): EndpointUrls {
  const path = url.pathname.replace(/\/+$/, '');
  const basePath = path.endsWith('/openid') ? path.slice(0, -'/openid'.length) : path;
  const login = new URL(url);
  login.pathname = `${basePath}/openid`;
  return { login, base: `${url.origin}${basePath}` };
}

/** As SESSION_ISSUER: `iss` is compared as a string, so the URL must be given exactly. */
export function isIssuer(text: string): boolean {
  if (!URL.canParse(text) || text.endsWith('/')) return false;
  const url = new URL(text);
  return /^https?:$/.test(url.protocol) && url.search === '' && url.hash === '';
}
