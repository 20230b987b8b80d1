import type { AppCredentials, AppRegistry } from './apps.ts';

/** What a successful code2Session gives us. The session_key is dropped on purpose. */
export interface WechatUser {
  readonly openid: string;
  readonly unionid?: string;
}

/** Filled in while a login runs, for the request's log line. */
export interface RequestTrace {
  /** Calls made to WeChat, retries included. */
  calls: number;
  wechatMs: number;
  errcode?: number;
  appId?: string;
  /** The openid a login yielded (logged masked). */
  openid?: string;
}

/** WeChat's code2Session. Throws `Problem` for every answer other than a session. */
export interface WechatClient {
  code2Session(app: AppCredentials, code: string, trace: RequestTrace): Promise<WechatUser>;
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
