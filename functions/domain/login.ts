import { withApp } from './credentials.ts';
import type { CredentialSource, RequestTrace, WechatClient, WechatUser } from './ports.ts';
import { Problem } from './problem.ts';
import type { IssuedToken, TokenIssuer } from './token.ts';
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
    const ready = deps.tokens?.ready().catch(beforeExchange);
    ready?.catch(() => {});
    const { value: user, app } = await withApp(deps.credentials, request.appId, async (app) => {
      trace.appId = app.appId;
      await ready;
      return deps.wechat.code2Session(app, request.code, trace);
    });
    trace.openid = user.openid;
    const phone = await keptPhone(deps.users, app.appId, user, now, trace);
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
): Promise<BoundPhone | undefined> {
  if (!users) return undefined;
  try {
    return (await users.recordLogin(appId, user, Math.floor(now() / 1000))).phone;
  } catch (error) {
    trace.degraded = `the user record was not written, so the token carries no phone: ${reasonOf(error)}`;
    return undefined;
  }
}

/** The operator's words for a failure, never a value. */
export function reasonOf(error: unknown): string {
  return error instanceof Problem ? (error.reason ?? error.code) : String(error);
}

/** A signing failure found before the exchange: the same failure, with the code unspent. */
function beforeExchange(error: unknown): never {
  if (error instanceof Problem)
    throw new Problem(error.code, { ...error.facts, beforeExchange: true });
  throw error;
}
