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
  /** The DynamoDB table of user records; unset = users off. */
  usersTable: 'USERS_TABLE',
  /** The symmetric KMS key that seals kept session_keys; unset = open data off. */
  openDataKeyId: 'OPEN_DATA_KEY_ID',
} as const;

/**
 * The users table's key: one string attribute, `{AppID}#{openid}`, so that writes spread over
 * partitions whatever the number of mini programs (a key by AppID would put a whole app's
 * logins on one partition).
 */
export const USERS_TABLE_KEY = 'id';

/** The Embedded Metric Format record on every request's log line. */
export const METRICS = {
  namespace: 'WeappOpenid',
  /** 1 per login, by service and outcome. */
  logins: 'Logins',
  /** 1 per `POST /phone`, by service and outcome. */
  phoneBinds: 'PhoneBinds',
  /**
   * 1 per request on which the users table could not be read or written (throttled,
   * unreachable, denied), by service only: the request itself may still have succeeded.
   */
  storeFailures: 'UserStoreFailures',
  /** Time spent in calls to WeChat, when WeChat was called. */
  wechatLatency: 'WechatLatency',
  dimensions: ['service', 'outcome'],
  /** The dimensions of `storeFailures`. */
  storeDimensions: ['service'],
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
