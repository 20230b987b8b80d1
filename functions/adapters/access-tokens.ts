import type { AppCredentials } from '../domain/apps.ts';
import type { AccessTokens } from '../domain/phone.ts';
import type { RequestTrace, WechatClient } from '../domain/ports.ts';
import { type Cache, createCache } from './cache.ts';

/**
 * A token is given up this long before WeChat says it expires: a call made with it must
 * still reach WeChat in time. WeChat's stable tokens stay valid at least 300 s after they are
 * handed out, so every token is used for at least four minutes.
 */
export const ACCESS_TOKEN_MARGIN_SECONDS = 60;

/**
 * WeChat access tokens per execution environment and per AppID, from `stable_token` in normal
 * mode (adapters/cache.ts): concurrent requests share one fetch, and a token is kept until
 * shortly before `expires_in` runs out. The stable token is the same for every caller while it
 * is valid, so a thousand environments need no central token server and no lock: none of them
 * ever invalidates another's. A token is never logged or answered.
 */
export function createAccessTokens(
  wechat: WechatClient,
  now: () => number = Date.now,
): AccessTokens {
  const caches = new Map<string, { secret: string; cache: Cache<string, RequestTrace> }>();

  const cacheOf = (app: AppCredentials) => {
    let entry = caches.get(app.appId);
    // A rotated AppSecret starts afresh: its tokens are the new secret's to fetch.
    if (!entry || entry.secret !== app.appSecret) {
      let expiresInSeconds = 0;
      entry = {
        secret: app.appSecret,
        cache: createCache<string, RequestTrace>({
          load: async (trace) => {
            const answer = await wechat.stableToken(app, trace);
            expiresInSeconds = answer.expiresInSeconds;
            return answer.token;
          },
          ttlMs: () => Math.max(0, expiresInSeconds - ACCESS_TOKEN_MARGIN_SECONDS) * 1000,
          now,
        }),
      };
      caches.set(app.appId, entry);
    }
    return entry.cache;
  };

  return {
    get: (app, trace) => cacheOf(app).get(trace),
    renew: (app, trace) => {
      const cache = cacheOf(app);
      cache.drop();
      return cache.get(trace);
    },
  };
}
