import type { AppCredentials } from './apps.ts';
import { withApp } from './credentials.ts';
import type { Identity } from './identity.ts';
import type { CredentialSource, RequestTrace, WechatClient } from './ports.ts';
import { isRefusedToken, Problem, reasonOf, unspent } from './problem.ts';
import type { TokenIssuer } from './token.ts';
import { degrade } from './trace.ts';
import { type BoundPhone, e164, type UserStore } from './users.ts';

/** WeChat access tokens, kept per AppID (adapters/access-tokens.ts). */
export interface AccessTokens {
  /** The kept token, or one fetched now (shared with any fetch in flight). */
  get(app: AppCredentials, trace: RequestTrace): Promise<string>;
  /** Drops the kept token (WeChat refused it) and fetches one now. */
  renew(app: AppCredentials, trace: RequestTrace): Promise<string>;
}

export interface PhoneDeps {
  readonly credentials: CredentialSource;
  readonly wechat: WechatClient;
  readonly accessTokens: AccessTokens;
  readonly tokens: TokenIssuer;
  /** Absent when users are off: the number is answered and kept nowhere. */
  readonly users?: UserStore;
  /**
   * How long all of one request's calls to WeChat may take together (access tokens, the
   * number, the repeat after a refused token), from the first one on; unbounded if absent.
   */
  readonly wechatBudgetMs?: number;
  readonly now?: () => number;
}

/** What a bind answers: the number, and a token that carries it. */
export interface PhoneResult {
  readonly openid: string;
  readonly phoneNumber: string;
  readonly countryCode: string;
  readonly token: string;
  readonly expiresIn: number;
}

export type BindPhone = (
  caller: Identity,
  code: string,
  trace: RequestTrace,
) => Promise<PhoneResult>;

/**
 * `POST /phone`: the caller's phone code, with the token's openid, for the verified number;
 * kept on the record, and carried in a new token. The number is answered even when it cannot
 * be kept: the user's tap succeeded and WeChat charged for it.
 */
export function createBindPhone(deps: PhoneDeps): BindPhone {
  const now = deps.now ?? Date.now;
  return async (caller, code, trace) => {
    trace.openid = caller.openid;
    // As at a login: a signing key known to be unusable stops the bind before WeChat charges
    // for a lookup whose number no token could carry.
    const ready = deps.tokens.ready().catch(unspent);
    ready.catch(() => {});
    const { value: info, app } = await withApp(deps.credentials, caller.appid, async (app) => {
      trace.appId = app.appId;
      if (deps.wechatBudgetMs !== undefined)
        trace.wechatDeadline ??= performance.now() + deps.wechatBudgetMs;
      // The phone code is not sent before there is a token: a failure here leaves it unspent.
      const token = await deps.accessTokens.get(app, trace).catch(unspent);
      await ready;
      try {
        return await deps.wechat.phoneNumber(token, code, caller.openid, trace);
      } catch (error) {
        if (!isRefusedToken(error)) throw error;
        // Revoked or expired early: one fresh token, one more call. A second refusal stands.
        const renewed = await deps.accessTokens.renew(app, trace);
        return deps.wechat.phoneNumber(renewed, code, caller.openid, trace);
      }
    });
    if (info.watermarkAppId !== app.appId) {
      throw new Problem('upstream_error', {
        reason: "WeChat's phone_info watermark names another AppID than the token's",
      });
    }
    const phone: BoundPhone = {
      phoneNumber: e164(info.countryCode, info.purePhoneNumber),
      countryCode: info.countryCode,
      verifiedAt: Math.floor(now() / 1000),
    };
    trace.phone = phone.phoneNumber;
    const user = { openid: caller.openid, ...(caller.unionid && { unionid: caller.unionid }) };
    // Kept and signed side by side: neither waits for the other, and the paid-for number is
    // written even when the token cannot be signed (the next login's token carries it).
    const [issued] = await Promise.allSettled([
      deps.tokens.issue(user, app, phone.phoneNumber),
      keep(deps.users, app.appId, caller.openid, phone, trace),
    ]);
    if (issued.status === 'rejected') throw issued.reason;
    return {
      openid: caller.openid,
      phoneNumber: phone.phoneNumber,
      countryCode: phone.countryCode,
      ...issued.value,
    };
  };
}

async function keep(
  users: UserStore | undefined,
  appId: string,
  openid: string,
  phone: BoundPhone,
  trace: RequestTrace,
): Promise<void> {
  if (!users) return;
  try {
    await users.bindPhone(appId, openid, phone);
  } catch (error) {
    trace.storeFailed = true;
    degrade(trace, `the phone number was answered but not kept: ${reasonOf(error)}`);
  }
}
