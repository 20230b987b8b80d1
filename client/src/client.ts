/**
 * The client's state: the current session (in memory, mirrored in storage), the one login in
 * flight, and the rule for a 401.
 */
import type { Client, ClientOptions, RequestOptions, Response, Session, WxApi } from './index.ts';
import { exchangeCode } from './login.ts';
import { clientError, problemError } from './problem.ts';
import { sessionStore } from './session-store.ts';
import { wxRequest } from './transport.ts';

/**
 * A session is renewed this long before it expires. A request signed just before expiry must
 * still be valid when API Gateway checks it, after the upload and any slow network; a minute
 * covers that with room to spare, and is a fifth of the shortest lifetime the backend allows
 * (300 s), so even short sessions are reused.
 */
export const RENEW_BEFORE_EXPIRY_SECONDS = 60;

export function buildClient(options: ClientOptions): Client {
  const wx = options.wx ?? globalWx();
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  if (/\/openid$/.test(baseUrl)) {
    // The stack's EndpointUrl output: the login would post to /openid/openid and meet a 404.
    throw clientError(
      'invalid_base_url',
      0,
      `createClient: give baseUrl without /openid, which the client adds: ${baseUrl.slice(0, -'/openid'.length)}, the stack's BaseUrl output (not EndpointUrl).`,
    );
  }
  const trusted = [baseUrl, ...(options.trustedUrls ?? []).map(normaliseBaseUrl)];
  const store = sessionStore(wx, options.storageKey ?? 'weapp-openid.session', baseUrl);
  let current: Session | undefined;
  let loaded = false;
  let inFlight: Promise<Session> | undefined;
  // Bumped by logout(), so that a login in flight at that moment does not store its session.
  let generation = 0;

  const valid = (): Session | undefined => {
    if (!loaded) {
      current = store.read();
      loaded = true;
    }
    const now = Date.now() / 1000;
    return current && current.expiresAt - now > RENEW_BEFORE_EXPIRY_SECONDS ? current : undefined;
  };

  const freshLogin = (): Promise<Session> => {
    if (inFlight) return inFlight;
    const started = generation;
    // Only this login's own slot: after a logout the slot may hold a newer login.
    const done = () => {
      if (inFlight === flight) inFlight = undefined;
    };
    const flight = exchangeCode(wx, baseUrl).then(
      (session) => {
        done();
        if (started === generation) {
          current = session;
          store.write(session);
        }
        return session;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
    inFlight = flight;
    return flight;
  };

  const login = (): Promise<Session> => {
    const session = valid();
    return session ? Promise.resolve(session) : freshLogin();
  };

  /** After `refused` got a 401: a newer session if another call already renewed it, else a login. */
  const renew = (refused: string): Promise<Session> => {
    const session = valid();
    if (session && session.token !== refused) return Promise.resolve(session);
    forget(refused);
    return freshLogin();
  };

  const forget = (token: string) => {
    if (current?.token !== token) return;
    current = undefined;
    store.forget();
  };

  /** `call` is the caller's options as copied when `request()` was called, its URL checked. */
  const send = (call: RequestOptions, token: string): Promise<Response> =>
    wxRequest(wx, { ...call, header: withAuthorization(call.header, token) });

  return {
    login,
    async request<T>(options: RequestOptions): Promise<Response<T>> {
      // Copied now, each field read once: the caller's object (or a getter on it) may say
      // something else after the login or at the retry, and the URL checked must be the URL
      // that gets the token.
      const copy: RequestOptions = { ...options };
      const url = resolveUrl(baseUrl, copy.url);
      const request: RequestOptions = { ...copy, url, header: copyHeader(copy.header) };
      if (!trusted.some((base) => isUnder(url, base))) {
        throw clientError(
          'untrusted_url',
          0,
          `request() sends the session token only to ${baseUrl} and the trustedUrls given to createClient; ${hostOf(url)} is neither. Add it to trustedUrls if it is your API, or call wx.request for it.`,
        );
      }
      const first = await login();
      const response = await send(request, first.token);
      if (response.statusCode !== 401) return response as Response<T>;
      const second = await renew(first.token);
      const retried = await send(request, second.token);
      if (retried.statusCode !== 401) return retried as Response<T>;
      // Refused twice, the second time with a token minted for this very call: logging in
      // again would be refused too, so the caller hears why instead of a loop.
      forget(second.token);
      throw problemError(retried, 'unauthorized');
    },
    logout() {
      // A login in flight finishes for its callers but is not stored, and is not shared with
      // a login() that comes after the logout.
      generation++;
      inFlight = undefined;
      current = undefined;
      loaded = true;
      store.forget();
    },
  };
}

function globalWx(): WxApi {
  if (typeof wx === 'undefined') {
    throw new TypeError('createClient: there is no global wx; pass options.wx.');
  }
  return wx;
}

function normaliseBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string' || !/^https?:\/\/[^/]/i.test(baseUrl)) {
    throw new TypeError(
      'createClient: baseUrl and trustedUrls must be http(s) URLs, e.g. https://api.example.com',
    );
  }
  return baseUrl.replace(/\/+$/, '');
}

/** Whether `url` is `base` or below it: same scheme and host, and a path under base's. */
function isUnder(url: string, base: string): boolean {
  const lower = url.toLowerCase();
  const prefix = base.toLowerCase();
  if (!lower.startsWith(prefix)) return false;
  // "https://api.example.com.evil.example" and "…:8443" are other hosts, not below it.
  const rest = lower.slice(prefix.length);
  return rest === '' || /^[/?#]/.test(rest);
}

/** The scheme and host of a URL, for a message (never its path or query). */
function hostOf(url: string): string {
  return /^[a-z]+:\/\/[^/?#]*/i.exec(url)?.[0] ?? 'that URL';
}

/** An absolute URL as it is; any other is taken relative to `baseUrl`. */
function resolveUrl(baseUrl: string, url: string): string {
  if (/^https?:\/\//i.test(url)) return url;
  return `${baseUrl}/${url.replace(/^\/+/, '')}`;
}

/** A copy of the caller's headers as they are now (absent stays absent). */
function copyHeader(header: unknown): RequestOptions['header'] {
  return header !== null && typeof header === 'object' ? { ...header } : undefined;
}

/** The caller's headers with ours replacing any `authorization` of theirs, whatever its case. */
function withAuthorization(header: unknown, token: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (header !== null && typeof header === 'object') {
    for (const key of Object.keys(header)) {
      if (key.toLowerCase() !== 'authorization')
        out[key] = (header as Record<string, unknown>)[key];
    }
  }
  out.Authorization = `Bearer ${token}`;
  return out;
}
