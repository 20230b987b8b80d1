import { App } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../infra/config.ts';

const configOf = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

describe('readConfig', () => {
  it('defaults to a created secret, 30-day retained logs and 50/100 throttling', () => {
    // Prepare / Act
    const config = configOf({});

    // Assess
    expect(config).toEqual({
      secretArn: undefined,
      secretName: undefined,
      logRetentionDays: RetentionDays.ONE_MONTH,
      destroyLogsOnDelete: false,
      throttleRateLimit: 50,
      throttleBurstLimit: 100,
      domainName: undefined,
      certificateArn: undefined,
      alarmEmail: undefined,
      wechatApiBaseUrl: undefined,
      wechatTimeoutMs: undefined,
      secretCacheTtlSeconds: undefined,
    });
  });

  it('accepts -c strings and cdk.json values alike', () => {
    // Prepare / Act
    const fromCli = configOf({ throttleRateLimit: '20', destroyLogsOnDelete: 'true' });
    const fromJson = configOf({ throttleRateLimit: 20, destroyLogsOnDelete: true });

    // Assess
    expect(fromCli).toEqual(fromJson);
    expect(fromCli.throttleRateLimit).toBe(20);
    expect(fromCli.destroyLogsOnDelete).toBe(true);
  });

  it.each([
    [{ secretArn: 'arn:aws:secretsmanager:x:1:secret:a-AbCdEf', secretName: 'a' }, /not both/],
    [{ domainName: 'login.example.com' }, /domainName and certificateArn/],
    [{ certificateArn: 'arn:aws:acm:x:1:certificate/a' }, /domainName and certificateArn/],
    [{ logRetentionDays: '13' }, /logRetentionDays must be one of/],
    [{ logRetentionDays: '9999' }, /logRetentionDays/],
    [{ throttleRateLimit: 'fast' }, /throttleRateLimit must be a whole number/],
    [{ throttleBurstLimit: '0' }, /throttleBurstLimit must be a whole number/],
    [{ wechatTimeoutMs: '6000' }, /wechatTimeoutMs must be a whole number from 1 to 5000/],
    [{ destroyLogsOnDelete: 'yes' }, /destroyLogsOnDelete must be true or false/],
    [{ alarmEmail: 42 }, /alarmEmail must be a string/],
  ])('rejects %j naming the key', (context, message) => {
    // Prepare / Act
    const read = () => configOf(context);

    // Assess
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });
});
