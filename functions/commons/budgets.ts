/**
 * Every time budget of a request, in one place, so the worst case is a sum a test can check
 * against the function's timeout instead of arithmetic in comments.
 *
 * Why this shape: a login waits on at most three dependencies in a row (Secrets Manager,
 * WeChat, KMS). Each gets a per-call timeout short enough that a dead host costs one call,
 * a few attempts for what is safe to retry, and a total that caps the retries. The function's
 * timeout is derived from the worst path, so every request still gets a problem+json answer and
 * a log line before Lambda (or API Gateway's 30 s integration limit) cuts it off.
 */

/** GetSecretValue: a read, so retrying is always safe. */
export const SECRETS_MANAGER = { callMs: 2000, attempts: 3, totalMs: 6000 } as const;

/**
 * code2Session. The per-call timeout is the operator's (`WECHAT_TIMEOUT_MS`); retries (only
 * for -1 and for connections that never came up) get `retryAllowanceMs` on top of it.
 */
export const WECHAT = {
  defaultTimeoutMs: 3000,
  /**
   * The largest `WECHAT_TIMEOUT_MS` that keeps the worst case inside the function timeout:
   * 4500, since a login also writes the user record (USERS).
   */
  maxTimeoutMs: 4500,
  connectMs: 1500,
  attempts: 3,
  retryDelayMs: 150,
  retryAllowanceMs: 1500,
} as const;

/** The whole of one exchange with WeChat, retries included. */
export function wechatTotalMs(timeoutMs: number): number {
  return timeoutMs + WECHAT.retryAllowanceMs;
}

/**
 * Signing a session token with KMS: one total for the step, a `GetPublicKey` (when the key's
 * id is not cached yet) and the `Sign` together. Both are safe to retry. Short, because the
 * code is already spent by then: the caller needs its answer to call wx.login() again.
 */
export const KMS = {
  callMs: 1000,
  attempts: 3,
  totalMs: 2500,
  /**
   * Reading the public keys for the JWKS: API Gateway gives its JWKS fetch 1.5 s, and on the
   * first deploy the function answering it is cold, so the reads must end before that.
   */
  publishMs: 1200,
} as const;

/** API Gateway's timeout for fetching the discovery document and the JWKS. */
export const JWKS_FETCH_LIMIT_MS = 1500;

/** Lambda ends the invocation this long after the worst path would have answered. */
export const FUNCTION_HEADROOM_MS = 1000;

/** API Gateway HTTP APIs give up on an integration after 30 s. */
export const API_GATEWAY_INTEGRATION_LIMIT_MS = 30_000;

/**
 * The users table (DynamoDB): one write per login or phone bind, one delete per erasure. A
 * failing table adds at most `totalMs` to any route; a login then goes on without it.
 */
export const USERS = { callMs: 700, attempts: 2, totalMs: 1500 } as const;

/**
 * The slowest a login can be: the secret read, an exchange, and when WeChat rejects the
 * AppSecret (the operator may just have rotated it) a forced re-read and a second exchange;
 * then the user record's write and the signing step.
 */
export function worstCaseLoginMs(wechatTimeoutMs: number): number {
  const readAndExchange = SECRETS_MANAGER.totalMs + wechatTotalMs(wechatTimeoutMs);
  return 2 * readAndExchange + USERS.totalMs + KMS.totalMs;
}

/**
 * All of one `POST /phone`'s calls to WeChat (access tokens and the phone number, with the
 * one repeat after a refused token) share this deadline.
 */
export function phoneWechatMs(wechatTimeoutMs: number): number {
  return 2 * wechatTotalMs(wechatTimeoutMs);
}

/**
 * The slowest a `POST /phone` can be: the secret read, and after WeChat rejects the AppSecret
 * a forced re-read; the WeChat calls within their shared deadline; then the record's write
 * and the signing step, side by side.
 */
export function worstCasePhoneMs(wechatTimeoutMs: number): number {
  return (
    2 * SECRETS_MANAGER.totalMs +
    phoneWechatMs(wechatTimeoutMs) +
    Math.max(USERS.totalMs, KMS.totalMs)
  );
}

/**
 * A dependency found unusable (a malformed secret, a refused AppSecret, a signing key that
 * cannot be used) is read again at most this often: a misconfigured deployment under traffic
 * would otherwise call it on every request.
 */
export const FORCED_READ_EVERY_MS = 5000;
