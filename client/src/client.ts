/**
 * The client's state: the current session (in memory, mirrored in storage), the one login in
 * flight, which `wx.login` the backend's session_key came from, and the rule for a 401.
 */
import type {
  Client,
  ClientOptions,
  EncryptedOpenData,
  RequestOptions,
  Response,
  Session,
  WxApi,
} from './index.ts';
import { asObject } from './json.ts';
import { exchangeCode } from './login.ts';
import { fetchOpenData } from './open-data.ts';
import { phoneCode, phoneSession } from './phone.ts';
import { clientError, problemError } from './problem.ts';
import { sessionStore } from './session-store.ts';
import { wxCheckSession, wxLogin, wxRequest } from './transport.ts';

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
  // Every wx.login may replace the user's session_key, and open data is encrypted with the
  // latest one. Counted here: the wx.login calls this client made in this launch, and which of
  // them gave the backend its code last, so whose session_key it keeps (0: none yet).
  let wxLogins = 0;
  let exchanged = 0;

  const valid = (): Session | undefined => {
    if (!loaded) {
      current = store.read();
      loaded = true;
    }
    const now = Date.now() / 1000;
    return current && current.expiresAt - now > RENEW_BEFORE_EXPIRY_SECONDS ? current : undefined;
  };

  const adopt = (session: Session) => {
    current = session;
    loaded = true;
    store.write(session);
  };

  const freshLogin = (): Promise<Session> => {
    if (inFlight) return inFlight;
    const started = generation;
    let login = 0;
    const nextCode = () => {
      login = ++wxLogins;
      return wxLogin(wx);
    };
    // Only this login's own slot: after a logout the slot may hold a newer login.
    const done = () => {
      if (inFlight === flight) inFlight = undefined;
    };
    const flight = exchangeCode(wx, baseUrl, nextCode).then(
      (session) => {
        done();
        // The backend kept this code's session_key, stored or not.
        exchanged = login;
        if (started === generation) adopt(session);
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

  /**
   * `call` with the session, logging in first when there is none; on a 401 logs in again once
   * and sends once more. Resolves the answer and the session it was sent with.
   */
  const signed = async (call: RequestOptions): Promise<[Response, Session]> => {
    const first = await login();
    const response = await send(call, first.token);
    if (response.statusCode !== 401) return [response, first];
    const second = await renew(first.token);
    const retried = await send(call, second.token);
    if (retried.statusCode !== 401) return [retried, second];
    // Refused twice, the second time with a token minted for this very call: logging in
    // again would be refused too, so the caller hears why instead of a loop.
    forget(second.token);
    throw problemError(retried, 'unauthorized');
  };

  /**
   * A session whose login gave the backend the session_key WeChat holds now, so that data
   * fetched next decrypts. A login made here needs no check; a session from before this
   * client's latest wx.login, or one whose session_key WeChat says has expired, is replaced.
   */
  const withCurrentKey = async (): Promise<Session> => {
    const session = valid();
    if (!session || exchanged !== wxLogins || !(await wxCheckSession(wx))) return freshLogin();
    return session;
  };

  const logout = () => {
    // A login in flight finishes for its callers but is not stored, and is not shared with
    // a login() that comes after the logout.
    generation++;
    inFlight = undefined;
    current = undefined;
    loaded = true;
    store.forget();
  };

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
      const [response] = await signed(request);
      return response as Response<T>;
    },
    logout,
    async bindPhone(detail) {
      const code = phoneCode(detail);
      const started = generation;
      // Before the request, as for a login: the new token's lifetime starts at or after this.
      const sentAt = Date.now();
      // A 401 comes before WeChat was asked, so the same code still works once more.
      const [response, used] = await signed(postJson(`${baseUrl}/phone`, { code }));
      if (response.statusCode !== 200) throw problemError(response);
      const session = phoneSession(response.data, sentAt, used);
      if (started === generation) adopt(session);
      return { phoneNumber: session.phoneNumber, countryCode: session.countryCode };
    },
    async deleteAccount() {
      const [response] = await signed({ url: `${baseUrl}/me`, method: 'DELETE' });
      if (response.statusCode < 200 || response.statusCode > 299) throw problemError(response);
      logout();
    },
    async openData<T>(fetch: () => PromiseLike<EncryptedOpenData>): Promise<T> {
      // The order is the point: the session_key is settled first, and the data is fetched
      // after it, so that no wx.login can come between the data and its decryption.
      let session = await withCurrentKey();
      for (let attempt = 1; ; attempt++) {
        const sealed = await fetchOpenData(fetch);
        const response = await send(postJson(`${baseUrl}/open-data`, sealed), session.token);
        if (response.statusCode === 200) return decrypted(response) as T;
        const refused = response.statusCode === 401;
        const error = problemError(response, refused ? 'unauthorized' : undefined);
        if (!refused && error.code !== 'session_key_stale') throw error;
        if (refused) forget(session.token);
        if (attempt > 1) throw error;
        // A new login may replace the session_key, so data fetched before it is of no use:
        // log in afresh, then fetch and post once more.
        session = await freshLogin();
      }
    },
  };
}

function postJson(url: string, data: object): RequestOptions {
  return { url, method: 'POST', header: { 'content-type': 'application/json' }, data };
}

/** The decrypted object of a 200 from /open-data. */
function decrypted(response: Response): unknown {
  const { data } = asObject(response.data);
  if (data === null || typeof data !== 'object') {
    throw clientError('unexpected_response', 200, 'The /open-data answer has no data.');
  }
  return data;
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
