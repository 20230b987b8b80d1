import type { Sealed, SealedKeys } from './open-data.ts';
import type { WechatUser } from './ports.ts';

/** A phone number WeChat verified, as the record keeps it. */
export interface BoundPhone {
  /** E.164: `+8613800138000`. */
  readonly phoneNumber: string;
  /** Digits, as WeChat gives them: `86`. */
  readonly countryCode: string;
  /** Seconds since the epoch. */
  readonly verifiedAt: number;
}

/** One user of one mini program, as kept. Never a code, an access token or a session_key in clear. */
export interface UserRecord {
  /** Seconds since the epoch: the first login. */
  readonly createdAt: number;
  readonly lastLoginAt: number;
  readonly unionid?: string;
  readonly phone?: BoundPhone;
}

/**
 * The user records (DynamoDB in the cloud, memory in the sandbox). Every method is one call
 * and throws `Problem` `store_unavailable` when the store cannot be reached; the caller decides
 * whether the request goes on without it.
 */
export interface UserStore extends SealedKeys {
  /**
   * Creates or updates the record of a login and returns it, in one call (no read first).
   * `sessionKey`: with open data on, this login's sealed session_key, or `null` to drop the
   * kept one (it could not be sealed, and an older key would only mislead).
   */
  recordLogin(
    appId: string,
    user: WechatUser,
    nowSeconds: number,
    sessionKey?: Sealed | null,
  ): Promise<UserRecord>;
  /** Keeps a verified number on the record (creating it if need be). */
  bindPhone(appId: string, openid: string, phone: BoundPhone): Promise<void>;
  /** Erases the record and everything on it; nothing to erase is not a failure. */
  erase(appId: string, openid: string): Promise<void>;
}

/** E.164 from WeChat's parts: `+`, the country code, the number without it. */
export function e164(countryCode: string, purePhoneNumber: string): string {
  return `+${countryCode}${purePhoneNumber}`;
}

/** Keeps enough of a number to correlate log lines: `+86138****8000`. */
export function maskPhone(phone: string): string {
  return phone.length <= 8 ? '****' : `${phone.slice(0, 6)}****${phone.slice(-4)}`;
}
