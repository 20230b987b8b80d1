import { withApp } from './credentials.ts';
import type { Sealed, SessionKeySealer } from './open-data.ts';
import type { CredentialSource, RequestTrace, WechatClient, WechatUser } from './ports.ts';
import { reasonOf, unspent } from './problem.ts';
import type { IssuedToken, TokenIssuer } from './token.ts';
import { degrade } from './trace.ts';
import type { BoundPhone, UserStore } from './users.ts';

/** A validated login request. */
export interface LoginRequest {
  readonly code: string;
  /** From the Referer, else the body; undefined when the request names no app. */
  readonly appId?: string;
}

export interface LoginDeps {
  readonly credentials: CredentialSource;
  readonly wechat: WechatClient;
  /** Signs a session token after the exchange; absent when sessions are off. */
  readonly tokens?: TokenIssuer;
  /** Keeps the user's record; absent when users are off. */
  readonly users?: UserStore;
  /** Seals the session_key for the record; absent when open data is off. */
  readonly sealer?: SessionKeySealer;
  readonly now?: () => number;
}

/** What a login yields: who the user is, the token when sessions are on, the kept number. */
export type LoginResult = WechatUser &
  Partial<Pick<IssuedToken, 'token' | 'expiresIn'>> & {
    readonly phone?: BoundPhone;
  };

export type Login = (request: LoginRequest, trace: RequestTrace) => Promise<LoginResult>;

/**
 * The use case: pick the app, exchange the code, write the user's record, sign the token.
 * When WeChat says the AppID/AppSecret is wrong, the secret is read again once
 * (domain/credentials.ts). A signing failure never leads to a second exchange: the code is
 * spent. A record that cannot be written costs the login nothing but its phone claims.
 */
export function createLogin(deps: LoginDeps): Login {
  const now = deps.now ?? Date.now;
  return async (request, trace) => {
    // The signing key is checked beside the secret read, before WeChat spends the code: a key
    // known to be unusable (or KMS unreachable) costs the user nothing.
    const ready = deps.tokens?.ready().catch(unspent);
    ready?.catch(() => {});
    // Likewise the key that seals the session_key, for open data.
    const sealing = deps.sealer?.prepare();
    const { value: exchanged, app } = await withApp(
      deps.credentials,
      request.appId,
      async (app) => {
        trace.appId = app.appId;
        await ready;
        return deps.wechat.code2Session(app, request.code, trace);
      },
    );
    // The session_key goes no further than the sealer: never into an answer or a log line.
    const { sessionKey, ...user } = exchanged;
    trace.openid = user.openid;
    const sealed =
      deps.sealer &&
      (await sealSessionKey(deps.sealer, await sealing, app.appId, user.openid, sessionKey, trace));
    const phone = await keptPhone(deps.users, app.appId, user, now, trace, sealed);
    if (phone) trace.phone = phone.phoneNumber;
    const issued = deps.tokens ? await deps.tokens.issue(user, app, phone?.phoneNumber) : undefined;
    return { ...user, ...issued, ...(phone && { phone }) };
  };
}

/** The record's number after this login's write; none when the table fails (said in the log). */
async function keptPhone(
  users: UserStore | undefined,
  appId: string,
  user: WechatUser,
  now: () => number,
  trace: RequestTrace,
  sealed: Sealed | null | undefined,
): Promise<BoundPhone | undefined> {
  if (!users) return undefined;
  try {
    return (await users.recordLogin(appId, user, Math.floor(now() / 1000), sealed)).phone;
  } catch (error) {
    trace.storeFailed = true;
    degrade(
      trace,
      `the user record was not written, so the token carries no phone: ${reasonOf(error)}`,
    );
    return undefined;
  }
}

/**
 * This login's session_key, sealed for the record; `null` (drop the kept one) when there is
 * none to seal or the sealing key cannot be used, since an older key would only mislead.
 */
async function sealSessionKey(
  sealer: SessionKeySealer,
  prepared: boolean | undefined,
  appId: string,
  openid: string,
  sessionKey: string | undefined,
  trace: RequestTrace,
): Promise<Sealed | null> {
  const key = sessionKey === undefined ? undefined : Buffer.from(sessionKey, 'base64');
  if (key?.length !== 16) {
    degrade(trace, 'WeChat gave no usable session_key, so none is kept for open data');
    return null;
  }
  if (!prepared) {
    degrade(
      trace,
      'the session_key sealing key could not be read, so no session_key is kept for open data',
    );
    return null;
  }
  try {
    return await sealer.seal(key, appId, openid);
  } catch (error) {
    degrade(
      trace,
      `the session_key could not be sealed, so none is kept for open data: ${reasonOf(error)}`,
    );
    return null;
  }
}
