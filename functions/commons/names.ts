/**
 * Names that both the function and the stack use: the environment variables the stack sets
 * and the function reads, and the metrics the function writes and the alarms watch. Declared
 * once here so the two sides cannot drift apart.
 */

/** The function's environment variables (docs/endpoint.md, "Configuration"). */
export const ENV = {
  secretId: 'WECHAT_SECRET_ID',
  appId: 'WECHAT_APP_ID',
  appSecret: 'WECHAT_APP_SECRET',
  wechatApiBaseUrl: 'WECHAT_API_BASE_URL',
  wechatTimeoutMs: 'WECHAT_TIMEOUT_MS',
  secretCacheTtlSeconds: 'SECRET_CACHE_TTL_SECONDS',
  port: 'PORT',
  sessionKeyId: 'SESSION_KEY_ID',
  sessionPublishedKeyIds: 'SESSION_PUBLISHED_KEY_IDS',
  sessionIssuer: 'SESSION_ISSUER',
  sessionTtlSeconds: 'SESSION_TTL_SECONDS',
} as const;

/** The Embedded Metric Format record on every request's log line. */
export const METRICS = {
  namespace: 'WeappOpenid',
  /** 1 per request, by service and outcome. */
  logins: 'Logins',
  /** Time spent in calls to WeChat, when WeChat was called. */
  wechatLatency: 'WechatLatency',
  dimensions: ['service', 'outcome'],
} as const;

/**
 * Outcomes that always need the operator, each with an alarm at ≥ 1: the credentials or the
 * signing key are wrong, or a dependency the operator owns cannot be reached.
 */
export const OPERATOR_OUTCOMES = [
  'misconfigured',
  'secret_unavailable',
  'session_unavailable',
] as const;
