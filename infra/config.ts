import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { ConfigError } from '../functions/config.ts';
import { WECHAT } from '../functions/shared/budgets.ts';

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
  /** Alarm notifications go to this address (the recipient must confirm the subscription). */
  readonly alarmEmail?: string;
  /** Passed through to the function when set (README, "Configuration"). */
  readonly wechatApiBaseUrl?: string;
  readonly wechatTimeoutMs?: number;
  readonly secretCacheTtlSeconds?: number;
}

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
    alarmEmail: text(node, 'alarmEmail'),
    wechatApiBaseUrl: text(node, 'wechatApiBaseUrl'),
    wechatTimeoutMs: whole(node, 'wechatTimeoutMs', 1, WECHAT.maxTimeoutMs),
    secretCacheTtlSeconds: whole(node, 'secretCacheTtlSeconds', 0, 86_400),
  };
  if (config.secretArn && config.secretName) {
    throw new ConfigError('Give either secretArn or secretName, not both.');
  }
  if (Boolean(config.domainName) !== Boolean(config.certificateArn)) {
    throw new ConfigError('domainName and certificateArn go together: give both or neither.');
  }
  return config;
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

function flag(node: Node, key: string): boolean {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return false;
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
