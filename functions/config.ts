import { WECHAT } from './commons/budgets.ts';
import { ENV } from './commons/names.ts';

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

/** Where an AWS service is called: the region, and the endpoint the SDK would pick. */
export interface AwsTarget {
  readonly region: string;
  readonly endpoint: URL;
}

/**
 * Session tokens: off, signed by a KMS key, or (the sandbox, decided by the local server)
 * by an in-memory key. `issuer` is undefined when the local server derives it from its port.
 */
export type TokenConfig =
  | { readonly kind: 'off'; readonly ttlSeconds: number }
  | {
      readonly kind: 'kms';
      readonly keyId: string;
      /** Retired keys still published in the JWKS, so their tokens verify until they expire. */
      readonly publishedKeyIds: readonly string[];
      readonly issuer: string | undefined;
      readonly ttlSeconds: number;
      readonly kms: AwsTarget;
    };

/** Open data: off, or the symmetric KMS key that seals kept session_keys. */
export type OpenDataConfig =
  | { readonly kind: 'off' }
  | { readonly kind: 'kms'; readonly keyId: string; readonly kms: AwsTarget };

/** User records: off, or a DynamoDB table (the sandbox keeps them in memory regardless). */
export type UsersConfig =
  | { readonly kind: 'off' }
  | { readonly kind: 'dynamodb'; readonly table: string; readonly dynamodb: AwsTarget };

/** The configuration (docs/endpoint.md, "Configuration"), validated. */
export interface Config {
  readonly credentials: CredentialConfig;
  readonly tokens: TokenConfig;
  readonly users: UsersConfig;
  readonly openData: OpenDataConfig;
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
    tokens: tokenConfig(env),
    users: usersConfig(env),
    openData: openDataConfig(env),
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
    const region = awsRegion(env, ENV.secretId);
    return {
      kind: 'secret',
      secretId,
      region,
      endpoint: awsEndpoint('secretsmanager', region, env),
    };
  }
  if (appId || appSecret) {
    if (!appId) throw new ConfigError('WECHAT_APP_ID is required with WECHAT_APP_SECRET.');
    if (!appSecret) throw new ConfigError('WECHAT_APP_SECRET is required with WECHAT_APP_ID.');
    return { kind: 'env', appId, appSecret };
  }
  return { kind: 'sandbox' };
}

/** The range of SESSION_TTL_SECONDS: five minutes to a week. */
export const SESSION_TTL_RANGE = { min: 300, max: 604_800, fallback: 7200 } as const;

function tokenConfig(env: NodeJS.ProcessEnv): TokenConfig {
  const ttlSeconds = integer(
    env,
    ENV.sessionTtlSeconds,
    SESSION_TTL_RANGE.fallback,
    SESSION_TTL_RANGE.min,
    SESSION_TTL_RANGE.max,
  );
  const keyId = env[ENV.sessionKeyId]?.trim();
  const publishedKeyIds = (env[ENV.sessionPublishedKeyIds] ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const issuer = issuerUrl(env);
  if (!keyId) {
    if (publishedKeyIds.length > 0) {
      throw new ConfigError(`${ENV.sessionPublishedKeyIds} needs ${ENV.sessionKeyId}.`);
    }
    return { kind: 'off', ttlSeconds };
  }
  const region = awsRegion(env, ENV.sessionKeyId);
  return {
    kind: 'kms',
    keyId,
    publishedKeyIds: publishedKeyIds.filter((id) => id !== keyId),
    issuer,
    ttlSeconds,
    kms: { region, endpoint: awsEndpoint('kms', region, env) },
  };
}

/** SESSION_ISSUER: an http(s) URL with no trailing slash, query or fragment, as `iss` must be exact. */
function issuerUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env[ENV.sessionIssuer]?.trim();
  if (!raw) return undefined;
  const parsed = url(env, ENV.sessionIssuer, '');
  if (raw.endsWith('/') || parsed.search !== '' || parsed.hash !== '') {
    throw new ConfigError(
      `${ENV.sessionIssuer} must be the issuer URL without a trailing slash, query or fragment (e.g. https://login.example.com).`,
    );
  }
  return raw;
}

function usersConfig(env: NodeJS.ProcessEnv): UsersConfig {
  const table = env[ENV.usersTable]?.trim();
  if (!table) return { kind: 'off' };
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) {
    throw new ConfigError(`${ENV.usersTable} must be a DynamoDB table name.`);
  }
  const region = awsRegion(env, ENV.usersTable);
  return {
    kind: 'dynamodb',
    table,
    dynamodb: { region, endpoint: awsEndpoint('dynamodb', region, env) },
  };
}

function openDataConfig(env: NodeJS.ProcessEnv): OpenDataConfig {
  const keyId = env[ENV.openDataKeyId]?.trim();
  if (!keyId) return { kind: 'off' };
  if (!env[ENV.usersTable]?.trim()) {
    throw new ConfigError(
      `${ENV.openDataKeyId} needs ${ENV.usersTable}: the sealed session_keys are kept on the user records.`,
    );
  }
  if (!env[ENV.sessionKeyId]?.trim()) {
    throw new ConfigError(
      `${ENV.openDataKeyId} needs ${ENV.sessionKeyId}: POST /open-data decrypts for a session token's caller.`,
    );
  }
  const region = awsRegion(env, ENV.openDataKeyId);
  return { kind: 'kms', keyId, kms: { region, endpoint: awsEndpoint('kms', region, env) } };
}

function awsRegion(env: NodeJS.ProcessEnv, neededBy: string): string {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new ConfigError(`AWS_REGION is required with ${neededBy}.`);
  return region;
}

/**
 * The AWS services the project calls (the function the first three, the doctor Lambda): the
 * host prefix and the SDK's endpoint variable.
 */
const AWS_SERVICES = {
  secretsmanager: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  kms: 'AWS_ENDPOINT_URL_KMS',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  lambda: 'AWS_ENDPOINT_URL_LAMBDA',
} as const;

/**
 * The endpoint the AWS SDK would use: the service's own variable (`AWS_ENDPOINT_URL_KMS`),
 * else `AWS_ENDPOINT_URL`, else the regional endpoint of the region's partition.
 */
export function awsEndpoint(
  service: keyof typeof AWS_SERVICES,
  region: string,
  env: NodeJS.ProcessEnv,
): URL {
  for (const name of [AWS_SERVICES[service], 'AWS_ENDPOINT_URL']) {
    if (env[name]) return url(env, name, '');
  }
  return new URL(`https://${service}.${region}.${dnsSuffix(region)}/`);
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
