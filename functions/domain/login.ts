import { selectApp } from './apps.ts';
import type { CredentialSource, RequestTrace, WechatClient, WechatUser } from './ports.ts';
import { Problem } from './problem.ts';
import type { IssuedToken, TokenIssuer } from './token.ts';

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
}

export type Login = (
  request: LoginRequest,
  trace: RequestTrace,
) => Promise<WechatUser | IssuedToken>;

/**
 * The use case: pick the app, exchange the code, sign the token. When WeChat says the
 * AppID/AppSecret is wrong, the secret is read again at once (it may just have been rotated)
 * and the exchange is retried once, only if the credentials changed: the same ones would
 * fail the same way. A signing failure never leads to a second exchange: the code is spent.
 */
export function createLogin(deps: LoginDeps): Login {
  return async (request, trace) => {
    // The signing key is checked with the secret, before WeChat spends the code: a key known
    // to be unusable (or KMS unreachable) costs the user nothing.
    const [registry] = await Promise.all([
      deps.credentials.get(),
      deps.tokens?.ready().catch(beforeExchange),
    ]);
    const app = selectApp(registry, request.appId);
    trace.appId = app.appId;
    let session: WechatUser;
    let signedFor = app;
    try {
      session = await deps.wechat.code2Session(app, request.code, trace);
    } catch (error) {
      if (!isRejectedCredentials(error)) throw error;
      const fresh = selectApp(await deps.credentials.refresh(), request.appId);
      if (fresh.appSecret === app.appSecret) throw error;
      session = await deps.wechat.code2Session(fresh, request.code, trace);
      signedFor = fresh;
    }
    return deps.tokens ? deps.tokens.issue(session, signedFor) : session;
  };
}

/** A signing failure found before the exchange: the same failure, with the code unspent. */
function beforeExchange(error: unknown): never {
  if (error instanceof Problem)
    throw new Problem(error.code, { ...error.facts, beforeExchange: true });
  throw error;
}

/** WeChat answered that the AppID/AppSecret is wrong (as opposed to a malformed secret). */
function isRejectedCredentials(error: unknown): boolean {
  return error instanceof Problem && error.code === 'misconfigured' && error.errcode !== undefined;
}
