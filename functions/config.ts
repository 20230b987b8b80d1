import { WECHAT } from './shared/budgets.ts';
import { ENV } from './shared/names.ts';

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

/** The configuration (README, "Configuration"), validated. */
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
    wechatBaseUrl: url(env, ENV.wechatApiBaseUrl, 'https://api.weixin.qq.com'),
    wechatTimeoutMs: integer(
      env,
      ENV.wechatTimeoutMs,
      WECHAT.defaultTimeoutMs,
      1,
      WECHAT.maxTimeoutMs,
    ),
    secretTtlMs: integer(env, ENV.secretCacheTtlSeconds, 300, 0, 86_400) * 1000,
    port: integer(env, ENV.port, 2020, 0, 65_535),
  };
}

function credentialConfig(env: NodeJS.ProcessEnv): CredentialConfig {
  const secretId = env[ENV.secretId]?.trim();
  const appId = env[ENV.appId]?.trim();
  const appSecret = env[ENV.appSecret]?.trim();
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
