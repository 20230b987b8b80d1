import { describe, expect, it } from 'vitest';
import { awsEndpoint, ConfigError, loadConfig } from '../../functions/config.ts';

describe('the configuration', () => {
  it('runs the tests on the Lambda runtime major, Node.js 24', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('has the contract defaults and is a sandbox without credentials', () => {
    const config = loadConfig({});

    expect(config).toEqual({
      credentials: { kind: 'sandbox' },
      tokens: { kind: 'off', ttlSeconds: 7200 },
      users: { kind: 'off' },
      openData: { kind: 'off' },
      wechatBaseUrl: new URL('https://api.weixin.qq.com'),
      wechatTimeoutMs: 3000,
      secretTtlMs: 300_000,
      port: 2020,
    });
  });

  it('keeps users in the table USERS_TABLE names, at the endpoint AWS_ENDPOINT_URL_DYNAMODB gives', () => {
    const config = loadConfig({
      USERS_TABLE: 'weapp-users',
      AWS_REGION: 'ap-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4566',
    });

    expect(config.users).toEqual({
      kind: 'dynamodb',
      table: 'weapp-users',
      dynamodb: { region: 'ap-east-1', endpoint: new URL('http://127.0.0.1:4566') },
    });
  });

  it('seals session_keys with OPEN_DATA_KEY_ID, and refuses to start without USERS_TABLE or SESSION_KEY_ID, naming both', () => {
    const config = loadConfig({
      OPEN_DATA_KEY_ID: 'alias/open-data',
      USERS_TABLE: 'weapp-users',
      SESSION_KEY_ID: 'alias/session',
      AWS_REGION: 'ap-east-1',
    });

    expect(config.openData).toMatchObject({ kind: 'kms', keyId: 'alias/open-data' });
    expect(() =>
      loadConfig({ OPEN_DATA_KEY_ID: 'alias/open-data', AWS_REGION: 'ap-east-1' }),
    ).toThrow(/OPEN_DATA_KEY_ID needs USERS_TABLE/);
    expect(() =>
      loadConfig({
        OPEN_DATA_KEY_ID: 'alias/open-data',
        USERS_TABLE: 'weapp-users',
        AWS_REGION: 'ap-east-1',
      }),
    ).toThrow(/OPEN_DATA_KEY_ID needs SESSION_KEY_ID/);
  });

  it('signs sessions with the KMS key, publishing the retired ones, at the endpoint the SDK would use', () => {
    const config = loadConfig({
      SESSION_KEY_ID: 'alias/weapp-openid-session',
      SESSION_PUBLISHED_KEY_IDS: ' arn:aws:kms:ap-east-1:1:key/old , alias/weapp-openid-session,',
      SESSION_ISSUER: 'https://login.example.com',
      SESSION_TTL_SECONDS: '3600',
      AWS_REGION: 'ap-east-1',
      AWS_ENDPOINT_URL: 'http://a:1',
      AWS_ENDPOINT_URL_KMS: 'http://kms:2',
    });

    expect(config.tokens).toEqual({
      kind: 'kms',
      keyId: 'alias/weapp-openid-session',
      publishedKeyIds: ['arn:aws:kms:ap-east-1:1:key/old'],
      issuer: 'https://login.example.com',
      ttlSeconds: 3600,
      kms: { region: 'ap-east-1', endpoint: new URL('http://kms:2') },
    });
  });

  it("finds KMS at AWS_ENDPOINT_URL, else at the partition's regional host", () => {
    expect(awsEndpoint('kms', 'us-east-1', { AWS_ENDPOINT_URL: 'http://a:1' }).host).toBe('a:1');
    expect(awsEndpoint('kms', 'cn-northwest-1', {}).href).toBe(
      'https://kms.cn-northwest-1.amazonaws.com.cn/',
    );
  });

  it('reads the secret id with the region and its endpoint', () => {
    expect(
      loadConfig({ WECHAT_SECRET_ID: 'weapp/app', AWS_REGION: 'cn-north-1' }).credentials,
    ).toEqual({
      kind: 'secret',
      secretId: 'weapp/app',
      region: 'cn-north-1',
      endpoint: new URL('https://secretsmanager.cn-north-1.amazonaws.com.cn/'),
    });
  });

  it.each([
    ['us-east-1', 'https://secretsmanager.us-east-1.amazonaws.com/'],
    ['ap-east-1', 'https://secretsmanager.ap-east-1.amazonaws.com/'],
    ['cn-northwest-1', 'https://secretsmanager.cn-northwest-1.amazonaws.com.cn/'],
  ])('uses the regional Secrets Manager endpoint of the partition in %s', (region, expected) => {
    expect(awsEndpoint('secretsmanager', region, {}).href).toBe(expected);
  });

  it('honours AWS_ENDPOINT_URL_SECRETS_MANAGER over AWS_ENDPOINT_URL', () => {
    const env = { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://b:2' };

    expect(awsEndpoint('secretsmanager', 'us-east-1', env).host).toBe('b:2');
    expect(
      awsEndpoint('secretsmanager', 'us-east-1', { AWS_ENDPOINT_URL: 'http://a:1' }).host,
    ).toBe('a:1');
  });

  it.each([
    [{ WECHAT_SECRET_ID: 'weapp/app' }, /AWS_REGION/],
    [{ WECHAT_APP_ID: 'wx4f4bc4dec97d474b' }, /WECHAT_APP_SECRET/],
    [{ WECHAT_APP_SECRET: 'x' }, /WECHAT_APP_ID/],
    [
      { WECHAT_SECRET_ID: 's', WECHAT_APP_ID: 'wx4f4bc4dec97d474b', AWS_REGION: 'us-east-1' },
      /not both/,
    ],
    [{ WECHAT_TIMEOUT_MS: '3s' }, /WECHAT_TIMEOUT_MS/],
    [{ WECHAT_TIMEOUT_MS: '0' }, /WECHAT_TIMEOUT_MS/],
    [{ WECHAT_TIMEOUT_MS: '4501' }, /WECHAT_TIMEOUT_MS must be a whole number from 1 to 4500/],
    [
      { WECHAT_SECRET_ID: 's', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'localhost:4566' },
      /AWS_ENDPOINT_URL/,
    ],
    [
      {
        WECHAT_SECRET_ID: 's',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: 'not a url',
      },
      /AWS_ENDPOINT_URL_SECRETS_MANAGER/,
    ],
    [{ SECRET_CACHE_TTL_SECONDS: '-1' }, /SECRET_CACHE_TTL_SECONDS/],
    [
      { SESSION_TTL_SECONDS: '299' },
      /SESSION_TTL_SECONDS must be a whole number from 300 to 604800/,
    ],
    [{ SESSION_TTL_SECONDS: '604801' }, /SESSION_TTL_SECONDS/],
    [{ SESSION_KEY_ID: 'alias/k' }, /AWS_REGION is required with SESSION_KEY_ID/],
    [{ SESSION_PUBLISHED_KEY_IDS: 'alias/old' }, /SESSION_PUBLISHED_KEY_IDS needs SESSION_KEY_ID/],
    [
      { SESSION_ISSUER: 'https://login.example.com/' },
      /SESSION_ISSUER .* without a trailing slash/,
    ],
    [{ SESSION_ISSUER: 'login.example.com' }, /SESSION_ISSUER must be an http\(s\) URL/],
    [
      { SESSION_KEY_ID: 'alias/k', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_KMS: 'kms' },
      /AWS_ENDPOINT_URL_KMS/,
    ],
    [{ PORT: 'eighty' }, /PORT/],
    [{ WECHAT_API_BASE_URL: 'api.weixin.qq.com' }, /WECHAT_API_BASE_URL/],
    [{ WECHAT_API_BASE_URL: 'ftp://x' }, /WECHAT_API_BASE_URL/],
  ])('fails at start-up, naming the variable, for %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
