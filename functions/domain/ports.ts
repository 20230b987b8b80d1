import type { AppCredentials, AppRegistry } from './apps.ts';

/** Who a user is, as WeChat says: the openid, and the unionid when there is one. */
export interface WechatUser {
  readonly openid: string;
  readonly unionid?: string;
}

/** Filled in while a login runs, for the request's log line. */
export interface RequestTrace {
  /** Calls made to WeChat, retries included. */
  calls: number;
  /** When set (a `performance.now()` time), every call to WeChat of this request ends by then. */
  wechatDeadline?: number;
  wechatMs: number;
  errcode?: number;
  appId?: string;
  /** The openid a login yielded (logged masked). */
  openid?: string;
  /** The phone number a request bound or carried, in E.164 (logged masked). */
  phone?: string;
  /**
   * Why a request succeeded with less than it could (the users table failed, no session_key
   * could be kept): logged as `reason` with outcome `ok`.
   */
  degraded?: string;
  /** The users table failed on this request: counted as `UserStoreFailures`. */
  storeFailed?: boolean;
}

/** An access token from `stable_token`, and how long WeChat says it lives. */
export interface AccessToken {
  readonly token: string;
  readonly expiresInSeconds: number;
}

/** A verified phone number as WeChat gives it. */
export interface WechatPhone {
  /** The number without its country code: `13800138000`. */
  readonly purePhoneNumber: string;
  /** Digits: `86`. */
  readonly countryCode: string;
  /** The AppID WeChat's watermark names, to check against the token's. */
  readonly watermarkAppId: string | undefined;
}

/** WeChat's server APIs. Each throws `Problem` for every answer other than its success. */
/**
 * What code2Session answers: the user, and WeChat's session_key for this login (base64 of 16
 * bytes), which only the open data feature keeps, sealed. Never answered, never logged.
 */
export interface WechatLogin extends WechatUser {
  readonly sessionKey?: string;
}

export interface WechatClient {
  code2Session(app: AppCredentials, code: string, trace: RequestTrace): Promise<WechatLogin>;
  stableToken(app: AppCredentials, trace: RequestTrace): Promise<AccessToken>;
  phoneNumber(
    accessToken: string,
    code: string,
    openid: string,
    trace: RequestTrace,
  ): Promise<WechatPhone>;
}

/** Where the configured apps come from. */
export interface CredentialSource {
  /** The cached apps, read again once the TTL has passed. */
  get(): Promise<AppRegistry>;
  /** Reads the secret now, bypassing the cache (after WeChat rejected the credentials). */
  refresh(): Promise<AppRegistry>;
}

/** Structured logs: one JSON object per line. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Writes a prepared record as one line. */
  write(record: Record<string, unknown>): void;
}
