import { selectApp } from './apps.ts';
import { LoginError } from './errors.ts';
import type { CredentialSource, LoginTrace, Session, WechatClient } from './ports.ts';
import type { IssueSession, SignedSession } from './session.ts';

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
  readonly issueSession?: IssueSession;
}

export type Login = (request: LoginRequest, trace: LoginTrace) => Promise<Session | SignedSession>;

/**
 * The use case: pick the app, exchange the code, sign the session. When WeChat says the
 * AppID/AppSecret is wrong, the secret is read again at once (it may just have been rotated)
 * and the exchange is retried once, only if the credentials changed: the same ones would
 * fail the same way. A signing failure never leads to a second exchange: the code is spent.
 */
export function createLogin(deps: LoginDeps): Login {
  return async (request, trace) => {
    const app = selectApp(await deps.credentials.get(), request.appId);
    trace.appId = app.appId;
    let session: Session;
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
    return deps.issueSession ? deps.issueSession(session, signedFor) : session;
  };
}

/** WeChat answered that the AppID/AppSecret is wrong (as opposed to a malformed secret). */
function isRejectedCredentials(error: unknown): boolean {
  return (
    error instanceof LoginError && error.code === 'misconfigured' && error.errcode !== undefined
  );
}
