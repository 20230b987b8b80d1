/**
 * The largest timeout of one call to WeChat. The function's worst case is a secret read (6 s)
 * and an exchange (timeout + 1.5 s), twice when WeChat rejects a rotated AppSecret; with 5 s
 * that is 22 s, inside the function's 25 s timeout, so every request still gets a problem
 * answer and a log line instead of API Gateway's bare 503.
 */
export const MAX_WECHAT_TIMEOUT_MS = 5000;

/** Where the app credentials come from. */
export type CredentialConfig =
  | {
      readonly kind: 'secret';
      readonly secretId: string;
      readonly region: string;
      readonly endpoint: URL;
    }
  | { readonly kind: 'env'; readonly appId: string; readonly appSecret: string }
  | { readonly kind: 'sandbox' };

/** The configuration of contract section 3, validated. */
export interface Config {
  readonly credentials: CredentialConfig;
  readonly wechatBaseUrl: URL;
  readonly wechatTimeoutMs: number;
  readonly secretTtlMs: number;
  readonly port: number;
}

/** A variable is missing or malformed; the message names it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and checks the environment once, at start-up, so that a mistake fails the cold
 * start with the variable's name instead of failing every request.
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  return {
    credentials: credentialConfig(env),
    wechatBaseUrl: url(env, 'WECHAT_API_BASE_URL', 'https://api.weixin.qq.com'),
    wechatTimeoutMs: integer(env, 'WECHAT_TIMEOUT_MS', 3000, 1, MAX_WECHAT_TIMEOUT_MS),
    secretTtlMs: integer(env, 'SECRET_CACHE_TTL_SECONDS', 300, 0, 86_400) * 1000,
    port: integer(env, 'PORT', 2020, 0, 65_535),
  };
}

function credentialConfig(env: NodeJS.ProcessEnv): CredentialConfig {
  const secretId = env.WECHAT_SECRET_ID?.trim();
  const appId = env.WECHAT_APP_ID?.trim();
  const appSecret = env.WECHAT_APP_SECRET?.trim();
  if (secretId) {
    if (appId || appSecret) {
      throw new ConfigError(
        'Set either WECHAT_SECRET_ID or WECHAT_APP_ID/WECHAT_APP_SECRET, not both.',
      );
    }
    const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
    if (!region) throw new ConfigError('AWS_REGION is required with WECHAT_SECRET_ID.');
    return { kind: 'secret', secretId, region, endpoint: secretsManagerEndpoint(region, env) };
  }
  if (appId || appSecret) {
    if (!appId) throw new ConfigError('WECHAT_APP_ID is required with WECHAT_APP_SECRET.');
    if (!appSecret) throw new ConfigError('WECHAT_APP_SECRET is required with WECHAT_APP_ID.');
    return { kind: 'env', appId, appSecret };
  }
  return { kind: 'sandbox' };
}

/**
 * The endpoint the AWS SDK would use: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else
 * `AWS_ENDPOINT_URL`, else the regional endpoint of the region's partition.
 */
export function secretsManagerEndpoint(region: string, env: NodeJS.ProcessEnv): URL {
  for (const name of ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL']) {
    if (env[name]) return url(env, name, '');
  }
  return new URL(`https://secretsmanager.${region}.${dnsSuffix(region)}/`);
}

function dnsSuffix(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn';
  if (region.startsWith('us-isob-')) return 'sc2s.sgov.gov';
  if (region.startsWith('us-iso-')) return 'c2s.ic.gov';
  if (region.startsWith('eusc-')) return 'amazonaws.eu';
  return 'amazonaws.com';
}

function url(env: NodeJS.ProcessEnv, name: string, fallback: string): URL {
  const value = env[name] || fallback;
  try {
    const parsed = new URL(value);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed;
  } catch {}
  throw new ConfigError(`${name} must be an http(s) URL.`);
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}
