import { App } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../infra/config.ts';

const configOf = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

const DOMAIN = {
  domainName: 'login.example.com',
  certificateArn: 'arn:aws:acm:x:1:certificate/a',
};

/** `n` distinct well-formed AppIDs. */
const appIdList = (n: number) =>
  Array.from({ length: n }, (_, i) => `wx${i.toString(16).padStart(16, '0')}`);

describe('readConfig', () => {
  it('defaults to a created secret, 30-day retained logs, 50/100 throttling, sessions signed by one key, users on and open data off', () => {
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
      keepExecuteApiEndpoint: false,
      alarmEmail: undefined,
      wechatApiBaseUrl: undefined,
      wechatTimeoutMs: undefined,
      secretCacheTtlSeconds: undefined,
      sessions: { keys: ['default'], signingKey: 'default', ttlSeconds: undefined, appIds: [] },
      users: true,
      openData: false,
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
    [{ wechatTimeoutMs: '4501' }, /wechatTimeoutMs must be a whole number from 1 to 4500/],
    [{ destroyLogsOnDelete: 'yes' }, /destroyLogsOnDelete must be true or false/],
    [{ ...DOMAIN, keepExecuteApiEndpoint: 'yes' }, /keepExecuteApiEndpoint must be true or false/],
    [{ keepExecuteApiEndpoint: 'true' }, /keepExecuteApiEndpoint needs domainName/],
    [{ keepExecuteApiEndpoint: false }, /keepExecuteApiEndpoint needs domainName/],
    [{ alarmEmail: 42 }, /alarmEmail must be a string/],
    [{ sessions: 'no' }, /sessions must be true or false/],
    [{ appIds: 'wx0123456789abcde' }, /appIds must be AppIDs.*"wx0123456789abcde"/],
    [{ appIds: 'wx0123456789ABCDEF' }, /appIds must be AppIDs, each wx and 16 lowercase/],
    [{ appIds: 'wx0123456789abcdef,,wx4f4bc4dec97d474b' }, /appIds has an empty entry/],
    [
      { appIds: 'wx0123456789abcdef,wx0123456789abcdef' },
      /appIds names "wx0123456789abcdef" twice/,
    ],
    [{ appIds: appIdList(51).join(',') }, /appIds names at most 50 AppIDs/],
    [{ appIds: 42 }, /appIds must be a comma-separated string or a list of strings/],
    [{ sessionTtlSeconds: '299' }, /sessionTtlSeconds must be a whole number from 300 to 604800/],
    [
      { sessionTtlSeconds: '604801' },
      /sessionTtlSeconds must be a whole number from 300 to 604800/,
    ],
    [{ sessionKeys: 'Default' }, /sessionKeys must be names of lowercase letters.*"Default"/],
    [{ sessionKeys: 'a_b' }, /sessionKeys must be names/],
    [{ sessionKeys: 'a,b,c,d', sessionSigningKey: 'a' }, /sessionKeys names at most 3 keys/],
    [{ sessionKeys: 'a,a' }, /sessionKeys names "a" twice/],
    [{ sessionKeys: 'a,b' }, /sessionSigningKey is required when sessionKeys names more than one/],
    [
      { sessionKeys: 'a,b', sessionSigningKey: 'c' },
      /sessionSigningKey must be one of sessionKeys \(a, b\)/,
    ],
    [{ sessionSigningKey: 'next' }, /sessionSigningKey must be one of sessionKeys \(default\)/],
    [{ sessions: 'false', appIds: 'wx0123456789abcdef' }, /appIds needs sessions/],
    [{ sessions: false, sessionTtlSeconds: 3600 }, /sessionTtlSeconds needs sessions/],
    [{ users: 'no' }, /users must be true or false/],
    [{ openData: 'on' }, /openData must be true or false/],
    [
      { openData: 'true', users: 'false' },
      /openData=true needs users and sessions, which users=false turns off/,
    ],
    [
      { openData: true, sessions: false },
      /openData=true needs users and sessions, which sessions=false turns off/,
    ],
    [
      { openData: 'true', users: 'false', sessions: 'false' },
      /openData=true needs users and sessions, which users=false and sessions=false turn off/,
    ],
  ])('rejects %j naming the key', (context, message) => {
    // Prepare / Act
    const read = () => configOf(context);

    // Assess
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });

  it('keeps the execute-api endpoint beside a custom domain with keepExecuteApiEndpoint=true, from -c or cdk.json', () => {
    // Prepare / Act
    const fromCli = configOf({ ...DOMAIN, keepExecuteApiEndpoint: 'true' });
    const fromJson = configOf({ ...DOMAIN, keepExecuteApiEndpoint: true });
    const unsaid = configOf(DOMAIN);

    // Assess
    expect(fromCli.keepExecuteApiEndpoint).toBe(true);
    expect(fromJson.keepExecuteApiEndpoint).toBe(true);
    expect(unsaid.keepExecuteApiEndpoint).toBe(false);
  });

  it('turns sessions off with sessions=false, from -c or cdk.json', () => {
    // Prepare / Act
    const fromCli = configOf({ sessions: 'false' });
    const fromJson = configOf({ sessions: false });

    // Assess
    expect(fromCli.sessions).toBeUndefined();
    expect(fromJson.sessions).toBeUndefined();
  });

  it('turns users off with users=false, and open data on with openData=true, from -c or cdk.json', () => {
    // Prepare / Act
    const usersOff = [configOf({ users: 'false' }), configOf({ users: false })];
    const openData = [configOf({ openData: 'true' }), configOf({ openData: true })];

    // Assess
    for (const config of usersOff) expect(config).toMatchObject({ users: false, openData: false });
    for (const config of openData) expect(config).toMatchObject({ users: true, openData: true });
  });

  it('reads the AppIDs as a comma-separated -c value or a cdk.json list', () => {
    // Prepare / Act
    const fromCli = configOf({ appIds: ' wx0123456789abcdef , wx4f4bc4dec97d474b' });
    const fromJson = configOf({ appIds: ['wx0123456789abcdef', 'wx4f4bc4dec97d474b'] });

    // Assess
    expect(fromCli.sessions?.appIds).toEqual(['wx0123456789abcdef', 'wx4f4bc4dec97d474b']);
    expect(fromJson.sessions).toEqual(fromCli.sessions);
  });

  it('reads an empty cdk.json list of AppIDs as none', () => {
    // Prepare / Act
    const config = configOf({ appIds: [] });

    // Assess
    expect(config.sessions?.appIds).toEqual([]);
  });

  it('accepts 50 AppIDs, the most one authorizer takes', () => {
    // Prepare / Act
    const config = configOf({ appIds: appIdList(50) });

    // Assess
    expect(config.sessions?.appIds).toHaveLength(50);
  });

  it('reads a rotation step: several keys, one of them signing', () => {
    // Prepare / Act
    const config = configOf({
      sessionKeys: 'default,next',
      sessionSigningKey: 'next',
      sessionTtlSeconds: '3600',
    });

    // Assess
    expect(config.sessions).toEqual({
      keys: ['default', 'next'],
      signingKey: 'next',
      ttlSeconds: 3600,
      appIds: [],
    });
  });

  it('lets a single key sign without naming it', () => {
    // Prepare / Act
    const config = configOf({ sessionKeys: 'next' });

    // Assess
    expect(config.sessions).toMatchObject({ keys: ['next'], signingKey: 'next' });
  });
});
