import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { WECHAT } from '../functions/commons/budgets.ts';
import { ConfigError, SESSION_TTL_RANGE } from '../functions/config.ts';
import { APP_ID_PATTERN, MAX_APP_IDS } from './session-authorizer.ts';

export { ConfigError };

/** Every deployment choice an operator can make with `-c key=value` (docs/operators.md). */
export interface DeploymentConfig {
  /** Complete ARN of an existing secret to use instead of creating one. */
  readonly secretArn?: string;
  /** Name of an existing secret to use instead of creating one. */
  readonly secretName?: string;
  readonly logRetentionDays: RetentionDays;
  /** Delete the log groups with the stack instead of keeping them. */
  readonly destroyLogsOnDelete: boolean;
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  /** Custom domain (e.g. `login.example.com`); needs `certificateArn` in the same region. */
  readonly domainName?: string;
  readonly certificateArn?: string;
  /**
   * Keep the API's own `execute-api` endpoint answering beside the custom domain; by default a
   * custom domain turns it off, so the domain is the only way in. Only with `domainName`.
   */
  readonly keepExecuteApiEndpoint: boolean;
  /** Alarm notifications go to this address (the recipient must confirm the subscription). */
  readonly alarmEmail?: string;
  /** Passed through to the function when set (docs/endpoint.md, "Configuration"). */
  readonly wechatApiBaseUrl?: string;
  readonly wechatTimeoutMs?: number;
  readonly secretCacheTtlSeconds?: number;
  /** Session tokens (docs/operators.md, "Sessions"); undefined with `-c sessions=false`. */
  readonly sessions: SessionConfig | undefined;
  /** The users table and what it serves (docs/operators.md, "Users"); off with `-c users=false`. */
  readonly users: boolean;
  /**
   * Keep each login's session_key, sealed with a KMS key of its own, for `POST /open-data`
   * (`-c openData=true`); needs users and sessions.
   */
  readonly openData: boolean;
}

/**
 * The session signing keys and who may present their tokens. Every key named here exists in
 * KMS and is published in the JWKS; exactly one of them signs. A rotation is a sequence of
 * deploys that changes `keys` and `signingKey` (docs/operators.md, "Rotating the session key").
 */
export interface SessionConfig {
  /** The keys' names, each one KMS key; the name fixes the key's logical id and alias. */
  readonly keys: readonly string[];
  /** The name of the key that signs new tokens; one of `keys`. */
  readonly signingKey: string;
  /** Token lifetime passed to the function when set; the function defaults to 7200. */
  readonly ttlSeconds?: number;
  /** AppIDs whose tokens `GET /me` accepts (the authorizer's audience); empty = no `/me`. */
  readonly appIds: readonly string[];
}

/** The key the stack creates when no `sessionKeys` are given; rotation starts from it. */
export const DEFAULT_SESSION_KEY = 'default';

/** Letters, digits and hyphens: the name ends up in a logical id and a KMS alias. */
const KEY_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * A rotation needs two keys at once; a third leaves room for an emergency rotation during a
 * planned one. Every published key is one more GetPublicKey on a cold JWKS request, which
 * API Gateway gives 1.5 s.
 */
const MAX_SESSION_KEYS = 3;

/**
 * 50 requests/s steady, bursts of 100: a login happens once per mini program session, so
 * this is ~180,000 logins an hour, far above a typical mini program, while capping what a
 * flood of junk codes can cost (Lambda time, WeChat calls) and how much of the account's
 * Lambda concurrency it can take (50/s × ≤ 5 s ≈ 250 concurrent in the worst case).
 */
export const DEFAULT_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/** 30 days: long enough to investigate a reported login problem, short enough to stay cheap. */
export const DEFAULT_LOG_RETENTION = RetentionDays.ONE_MONTH;

/**
 * Reads the CDK context. Values from `-c key=value` arrive as strings and values from
 * cdk.json as JSON, so both are accepted; anything malformed fails the synth with the key.
 */
export function readConfig(node: Node): DeploymentConfig {
  const config: DeploymentConfig = {
    secretArn: text(node, 'secretArn'),
    secretName: text(node, 'secretName'),
    logRetentionDays: retention(node, 'logRetentionDays'),
    destroyLogsOnDelete: flag(node, 'destroyLogsOnDelete'),
    throttleRateLimit: whole(node, 'throttleRateLimit', 1, 10_000) ?? DEFAULT_THROTTLE.rateLimit,
    throttleBurstLimit: whole(node, 'throttleBurstLimit', 1, 5_000) ?? DEFAULT_THROTTLE.burstLimit,
    domainName: text(node, 'domainName'),
    certificateArn: text(node, 'certificateArn'),
    keepExecuteApiEndpoint: flag(node, 'keepExecuteApiEndpoint'),
    alarmEmail: text(node, 'alarmEmail'),
    wechatApiBaseUrl: text(node, 'wechatApiBaseUrl'),
    wechatTimeoutMs: whole(node, 'wechatTimeoutMs', 1, WECHAT.maxTimeoutMs),
    secretCacheTtlSeconds: whole(node, 'secretCacheTtlSeconds', 0, 86_400),
    sessions: sessions(node),
    users: flag(node, 'users', true),
    openData: flag(node, 'openData'),
  };
  if (config.secretArn && config.secretName) {
    throw new ConfigError('Give either secretArn or secretName, not both.');
  }
  if (Boolean(config.domainName) !== Boolean(config.certificateArn)) {
    throw new ConfigError('domainName and certificateArn go together: give both or neither.');
  }
  if (!config.domainName && isGiven(node.tryGetContext('keepExecuteApiEndpoint'))) {
    throw new ConfigError(
      'Context keepExecuteApiEndpoint needs domainName: without a custom domain the execute-api endpoint is the only one and always stays on.',
    );
  }
  if (config.openData && (!config.users || !config.sessions)) {
    // The session_key is kept on the user record, and POST /open-data is behind the authorizer.
    const off = [
      ...(config.users ? [] : ['users=false']),
      ...(config.sessions ? [] : ['sessions=false']),
    ];
    throw new ConfigError(
      `Context openData=true needs users and sessions, which ${off.join(' and ')} ${off.length > 1 ? 'turn' : 'turns'} off: drop one or the other.`,
    );
  }
  return config;
}

const SESSION_KEYS = ['appIds', 'sessionKeys', 'sessionSigningKey', 'sessionTtlSeconds'];

function sessions(node: Node): SessionConfig | undefined {
  if (!flag(node, 'sessions', true)) {
    const given = SESSION_KEYS.filter((key) => isGiven(node.tryGetContext(key)));
    if (given.length > 0) {
      throw new ConfigError(
        `Context ${given.join(', ')} needs sessions, which sessions=false turns off: drop one or the other.`,
      );
    }
    return undefined;
  }
  const keys = names(node, 'sessionKeys') ?? [DEFAULT_SESSION_KEY];
  const signingKey = text(node, 'sessionSigningKey');
  if (signingKey === undefined && keys.length > 1) {
    throw new ConfigError(
      `Context sessionSigningKey is required when sessionKeys names more than one key (${keys.join(', ')}): name the one that signs.`,
    );
  }
  if (signingKey !== undefined && !keys.includes(signingKey)) {
    throw new ConfigError(
      `Context sessionSigningKey must be one of sessionKeys (${keys.join(', ')}), not "${signingKey}".`,
    );
  }
  return {
    keys,
    signingKey: signingKey ?? (keys[0] as string),
    ttlSeconds: whole(node, 'sessionTtlSeconds', SESSION_TTL_RANGE.min, SESSION_TTL_RANGE.max),
    appIds: appIds(node, 'appIds'),
  };
}

function names(node: Node, key: string): string[] | undefined {
  const values = list(node, key);
  if (values === undefined) return undefined;
  const bad = values.find((name) => !KEY_NAME.test(name));
  if (bad !== undefined) {
    throw new ConfigError(
      `Context ${key} must be names of lowercase letters, digits and hyphens (at most 32 characters), not "${bad}".`,
    );
  }
  unique(key, values);
  if (values.length > MAX_SESSION_KEYS) {
    throw new ConfigError(`Context ${key} names at most ${MAX_SESSION_KEYS} keys.`);
  }
  return values;
}

function appIds(node: Node, key: string): string[] {
  const values = list(node, key) ?? [];
  const bad = values.find((appId) => !APP_ID_PATTERN.test(appId));
  if (bad !== undefined) {
    throw new ConfigError(
      `Context ${key} must be AppIDs, each wx and 16 lowercase letters or digits, not "${bad}".`,
    );
  }
  unique(key, values);
  if (values.length > MAX_APP_IDS) {
    throw new ConfigError(
      `Context ${key} names at most ${MAX_APP_IDS} AppIDs (API Gateway's audience limit per authorizer).`,
    );
  }
  return values;
}

function unique(key: string, values: readonly string[]): void {
  const twice = values.find((value, i) => values.indexOf(value) !== i);
  if (twice !== undefined) throw new ConfigError(`Context ${key} names "${twice}" twice.`);
}

function isGiven(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** A comma-separated string (`-c key=a,b`) or a JSON array of strings (cdk.json). */
function list(node: Node, key: string): string[] | undefined {
  const value: unknown = node.tryGetContext(key);
  if (!isGiven(value)) return undefined;
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) {
    throw new ConfigError(`Context ${key} must be a comma-separated string or a list of strings.`);
  }
  if (items.length === 0) return undefined;
  const trimmed = items.map((item) => item.trim());
  if (trimmed.includes('')) {
    throw new ConfigError(`Context ${key} has an empty entry.`);
  }
  return trimmed;
}

function text(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(`Context ${key} must be a string.`);
  return value.trim();
}

function whole(node: Node, key: string, min: number, max: number): number | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`Context ${key} must be a whole number from ${min} to ${max}.`);
  }
  return parsed;
}

function flag(node: Node, key: string, fallback = false): boolean {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError(`Context ${key} must be true or false.`);
}

function retention(node: Node, key: string): RetentionDays {
  const days = whole(node, key, 1, 3653);
  if (days === undefined) return DEFAULT_LOG_RETENTION;
  // INFINITE is left out on purpose: logs that are never deleted are a cost nobody chose.
  const allowed = Object.values(RetentionDays).filter(
    (v): v is number => typeof v === 'number' && v !== RetentionDays.INFINITE,
  );
  if (!allowed.includes(days)) {
    throw new ConfigError(
      `Context ${key} must be one of CloudWatch's values: ${allowed.join(', ')}.`,
    );
  }
  return days as RetentionDays;
}
