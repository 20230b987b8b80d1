/**
 * weapp-openid's mini program client: logs the user in once, keeps the session in wx storage
 * and signs every request with it; binds the user's phone number, deletes the account, and has
 * open data decrypted with the session_key the backend keeps.
 *
 * Every public type is declared in this file, so that the compiled `index.d.ts` stands alone
 * and can be copied next to the one `.js` file.
 */
import { buildClient } from './client.ts';

/** The part of the `wx` API the client uses; a test can hand in a stand-in. */
export type WxApi = Pick<
  WechatMiniprogram.Wx,
  'login' | 'checkSession' | 'request' | 'getStorageSync' | 'setStorageSync' | 'removeStorageSync'
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
  /** The verified number in E.164 (`+8613800138000`), once one is bound to the user. */
  readonly phoneNumber?: string;
  /** Its country calling code, digits only (`86`), as WeChat gives it. */
  readonly countryCode?: string;
}

/** A phone number WeChat verified, as `bindPhone()` resolves it. */
export interface PhoneNumber {
  /** E.164: `+`, the country code, the national number (`+8613800138000`). */
  readonly phoneNumber: string;
  /** Digits only (`86`). */
  readonly countryCode: string;
}

/**
 * The `e.detail` of `<button open-type="getPhoneNumber" bindgetphonenumber="…">`, or the part
 * of it the client reads.
 */
export interface PhoneNumberDetail {
  /** The one-time phone code (base library 2.21.2 on): five minutes, once. */
  readonly code?: string;
  readonly errMsg?: string;
  /** `1400001` when the mini program's phone number quota is used up. */
  readonly errno?: number;
}

/** What `wx.getWeRunData()`, `wx.getGroupEnterInfo()` and the like resolve; the rest is ignored. */
export interface EncryptedOpenData {
  readonly encryptedData: string;
  readonly iv: string;
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
 * `user_blocked`, `session_key_stale`, …), `network_error` when `wx.request` itself failed,
 * `wx_login_failed` when `wx.login` did, `sessions_off` when the backend issued no token,
 * `unexpected_response` for an answer that is not the backend's; `phone_denied`,
 * `phone_quota_exhausted` and `phone_code_missing` when the getPhoneNumber button gave no code
 * to send, and `open_data_fetch_failed` when the open data could not be fetched. `message` is
 * `detail`, for people.
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
  /**
   * Binds the number the user chose at the getPhoneNumber button: takes its `e.detail` (or the
   * bare code), posts the code to `/phone` with the session, keeps the new session that
   * carries the number, and resolves the number. Rejects `phone_denied`,
   * `phone_quota_exhausted` or `phone_code_missing` (status 0) without sending anything when
   * the button gave no code. On a 401 logs in again once and sends the same code once more.
   */
  bindPhone(detail: PhoneNumberDetail | string): Promise<PhoneNumber>;
  /**
   * Deletes what the backend keeps about the user (`DELETE /me`), then forgets the session.
   * When the deletion fails it rejects with the problem and keeps the session.
   */
  deleteAccount(): Promise<void>;
  /**
   * Open data decrypted by the backend with the session_key it keeps. First makes sure the
   * backend holds the user's current session_key (logging in afresh when `wx.checkSession`
   * fails or a `wx.login` came after the session), only then calls `fetch` (e.g.
   * `() => wx.getWeRunData()`), posts its `encryptedData` and `iv` to `/open-data` and resolves
   * the decrypted object (its `watermark` included). On `session_key_stale` or a 401 it logs in
   * afresh, fetches and posts once more, never more. Rejects `open_data_fetch_failed` (status
   * 0, the runtime's `errMsg` as `detail`) when `fetch` fails.
   */
  openData<T = Record<string, unknown>>(fetch: () => PromiseLike<EncryptedOpenData>): Promise<T>;
}

/** Creates a client for the backend at `baseUrl`. Create one per app and share it. */
export function createClient(options: ClientOptions): Client {
  return buildClient(options);
}
