/**
 * The session in wx storage, so that a restart of the mini program reuses it. Storage may be
 * empty (`getStorageSync` answers `''`), full, or hold what an older version of this client
 * wrote: anything that is not this version's shape, for this backend, is treated as no session.
 */
import type { Session, WxApi } from './index.ts';
import { asObject, text, texts } from './json.ts';

/**
 * Bumped whenever the stored shape changes; an older shape is then ignored and replaced.
 * 2: the phone number is kept. A version 1 value has none even when the backend had answered
 * one, so it is not reused: one login replaces it, and a number bound before is not asked for
 * (and paid for) again.
 */
const VERSION = 2;

/** A session's fields that are there only when the backend answered them. */
export const OPTIONAL_FIELDS = ['unionid', 'phoneNumber', 'countryCode'] as const;

interface Stored extends Session {
  readonly version: typeof VERSION;
  /** A session from another backend (config.js changed from local to production) is not reused. */
  readonly baseUrl: string;
}

export interface SessionStore {
  read(): Session | undefined;
  write(session: Session): void;
  forget(): void;
}

export function sessionStore(wx: WxApi, key: string, baseUrl: string): SessionStore {
  return {
    read() {
      let raw: unknown;
      try {
        raw = wx.getStorageSync(key);
      } catch {
        return undefined;
      }
      return parse(raw, baseUrl);
    },
    write(session) {
      const stored: Stored = { version: VERSION, baseUrl, ...session };
      try {
        wx.setStorageSync(key, stored);
      } catch {
        // Storage full or unavailable: the session still lives in memory until the app stops.
      }
    },
    forget() {
      try {
        wx.removeStorageSync(key);
      } catch {
        // Nothing stored, or storage unavailable: either way nothing is left to reuse.
      }
    },
  };
}

function parse(raw: unknown, baseUrl: string): Session | undefined {
  const value = asObject(raw);
  const openid = text(value.openid);
  const token = text(value.token);
  const { expiresAt } = value;
  if (value.version !== VERSION || value.baseUrl !== baseUrl || !openid || !token) return undefined;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return undefined;
  for (const field of OPTIONAL_FIELDS) {
    if (value[field] !== undefined && typeof value[field] !== 'string') return undefined;
  }
  return { openid, token, expiresAt, ...texts(value, OPTIONAL_FIELDS) };
}
