/**
 * weapp-openid's mini program client: logs the user in once, keeps the session in wx storage
 * and signs every request with it.
 *
 * Every public type is declared in this file, so that the compiled `index.d.ts` stands alone
 * and can be copied next to the one `.js` file.
 */
import { buildClient } from './client.ts';

/** The part of the `wx` API the client uses; a test can hand in a stand-in. */
export type WxApi = Pick<
  WechatMiniprogram.Wx,
  'login' | 'request' | 'getStorageSync' | 'setStorageSync' | 'removeStorageSync'
>;

export interface ClientOptions {
  /**
   * Where the backend is, e.g. `https://login.example.com`: the stack's `BaseUrl` output. One
   * ending in `/openid` (the `EndpointUrl` output) makes `createClient` throw
   * `invalid_base_url`.
   */
  readonly baseUrl: string;
  /** The wx API; the mini program's global `wx` when absent. */
  readonly wx?: WxApi;
  /** The storage key of the session; change it only to keep two backends' sessions apart. */
  readonly storageKey?: string;
  /**
   * Other APIs of yours that accept the session token (e.g. behind `WeappSessionAuthorizer`),
   * as base URLs such as `https://api.example.com`. `request()` sends the token only to
   * `baseUrl` and these; any other absolute URL is refused, so a token never leaks to a CDN
   * or a third party.
   */
  readonly trustedUrls?: readonly string[];
}

/** A signed login state issued by the backend. */
export interface Session {
  readonly openid: string;
  /** Present when WeChat returned one. */
  readonly unionid?: string;
  /** The RS256 JWT to send as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** When the token expires, in seconds since the epoch, by this device's clock. */
  readonly expiresAt: number;
}

/** What `wx.request` takes, less the callbacks: `request()` returns a promise instead. */
export type RequestOptions = Omit<WechatMiniprogram.RequestOption, 'success' | 'fail' | 'complete'>;

export interface Response<T = unknown> {
  readonly statusCode: number;
  /** Parsed when it is JSON, whatever the runtime handed back; otherwise as received. */
  readonly data: T;
  /** Header names in lower case (the runtime's case varies). */
  readonly header: Readonly<Record<string, string>>;
}

/**
 * How every failure rejects. `code` is the backend's problem code (`invalid_code`,
 * `user_blocked`, …), `network_error` when `wx.request` itself failed, `wx_login_failed` when
 * `wx.login` did, `sessions_off` when the backend issued no token, `unexpected_response` for
 * an answer that is not the backend's. `message` is `detail`, for people.
 */
export interface ClientError extends Error {
  readonly name: 'WeappOpenidError';
  readonly code: string;
  /** The HTTP status; 0 when there was no HTTP answer. */
  readonly status: number;
  readonly detail: string;
  /** The backend's request id, to quote when asking the operator. */
  readonly requestId?: string;
  /** WeChat's errcode, when WeChat gave one. */
  readonly errcode?: number;
  /** Seconds to wait before trying again, when the backend said so. */
  readonly retryAfter?: number;
}

export interface Client {
  /** The stored session while it is valid; otherwise one fresh login, shared by concurrent callers. */
  login(): Promise<Session>;
  /**
   * `wx.request` with the session's `Authorization: Bearer` header; `url` may be relative to
   * `baseUrl`, or absolute under `baseUrl` or a `trustedUrls` entry (else it rejects
   * `untrusted_url` without sending). Logs in first when needed; on a 401 logs in again once
   * and repeats once.
   */
  request<T = unknown>(options: RequestOptions): Promise<Response<T>>;
  /** Forgets the stored session (the token itself stays valid until it expires). */
  logout(): void;
}

/** Creates a client for the backend at `baseUrl`. Create one per app and share it. */
export function createClient(options: ClientOptions): Client {
  return buildClient(options);
}
