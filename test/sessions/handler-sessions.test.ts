import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { createStaticSource } from '../../functions/adapters/secret-store.ts';
import { loadConfig } from '../../functions/config.ts';
import { parseSecretValue } from '../../functions/domain/apps.ts';
import type { ApiHandler } from '../../functions/handler/http-handler.ts';
import { createMemoryKeys } from '../../functions/local/memory-keys.ts';
import { createApiHandler, kmsTokens } from '../../functions/wiring.ts';
import { json, loginEvent } from '../../harness/events.ts';
import { type FakeWechat, ok, startFakeWechat } from '../../harness/fake-wechat.ts';
import { APP_ID, CODE, OPENID, singleAppSecret, UNIONID } from '../../harness/fixtures.ts';
import { rememberToken } from '../support/leak-guard.ts';

const ISSUER = 'https://abc123.execute-api.ap-east-1.amazonaws.com';
const QUIET = createLogger({}, () => {});

let wechat: FakeWechat;
let lines: Record<string, unknown>[];
let on: ApiHandler;
let off: ApiHandler;

const routeEvent = (routeKey: string, claims?: Record<string, string>) => {
  const event = { ...loginEvent(undefined), routeKey };
  return claims
    ? { ...event, requestContext: { ...event.requestContext, authorizer: { jwt: { claims } } } }
    : event;
};

beforeAll(async () => {
  wechat = await startFakeWechat();
  const config = loadConfig({ WECHAT_API_BASE_URL: wechat.url, SESSION_TTL_SECONDS: '3600' });
  const log = createLogger({}, (line) => {
    process.stdout.write(`${line}\n`);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const credentials = createStaticSource(parseSecretValue(singleAppSecret()));
  on = createApiHandler(config, log, credentials, 'sessions', {
    keys: createMemoryKeys(),
    issuer: ISSUER,
    ttlSeconds: 3600,
  });
  off = createApiHandler(config, log, credentials, 'sessions-off');
});
afterAll(() => wechat.close());

describe('a login with sessions on', () => {
  it('answers the openid, the unionid, a token and its lifetime, and nothing else', async () => {
    // Prepare
    lines = [];
    wechat.script(ok(OPENID, { unionid: UNIONID }));

    // Act
    const result = await on(loginEvent(JSON.stringify({ code: CODE })));
    const body = json(result);
    rememberToken(String(body.token));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(Object.keys(body)).toEqual(['openid', 'unionid', 'token', 'expiresIn']);
    expect(body).toMatchObject({ openid: OPENID, unionid: UNIONID, expiresIn: 3600 });
    const line = JSON.stringify(lines);
    expect(line).not.toContain(String(body.token).split('.')[2]);
    expect(lines).toHaveLength(1);
  });

  it('signs a token that verifies against its own JWKS, with the claims docs/endpoint.md lists', async () => {
    // Prepare
    const jwks = json(await on(routeEvent('GET /.well-known/jwks.json'))) as never;

    // Act
    const body = json(await on(loginEvent(JSON.stringify({ code: `${CODE}2` }))));
    rememberToken(String(body.token));
    const { payload, protectedHeader } = await jwtVerify(
      String(body.token),
      createLocalJWKSet(jwks),
      { issuer: ISSUER, audience: APP_ID, algorithms: ['RS256'] },
    );

    // Assess
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: expect.any(String) });
    expect(payload).toEqual({
      iss: ISSUER,
      sub: OPENID,
      aud: APP_ID,
      iat: expect.any(Number),
      exp: (payload.iat ?? 0) + 3600,
      jti: expect.any(String),
    });
  });

  it('gives every token its own jti', async () => {
    const jti = async (code: string) => {
      const token = String(json(await on(loginEvent(JSON.stringify({ code })))).token);
      rememberToken(token);
      return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).jti;
    };
    expect(await jti('code-a')).not.toBe(await jti('code-b'));
  });
});

describe('discovery and keys', () => {
  it('publishes the issuer exactly as the tokens name it, cacheable', async () => {
    // Act
    const result = await on(routeEvent('GET /.well-known/openid-configuration'));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(json(result)).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
    });
  });

  it('publishes the signing key as an RS256 JWK, cacheable', async () => {
    // Act
    const result = await on(routeEvent('GET /.well-known/jwks.json'));

    // Assess
    const { keys } = json(result) as { keys: Record<string, unknown>[] };
    expect(result.headers?.['cache-control']).toMatch(/^public/);
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0] ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' });
  });
});

describe('GET /me', () => {
  it('answers from the claims API Gateway passes, every one a string', async () => {
    // Act
    const result = await on(
      routeEvent('GET /me', {
        iss: ISSUER,
        sub: OPENID,
        aud: APP_ID,
        unionid: UNIONID,
        iat: '4102437600',
        exp: '4102444800',
        jti: 'x',
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['cache-control']).toBe('no-store');
    expect(json(result)).toEqual({
      openid: OPENID,
      unionid: UNIONID,
      appid: APP_ID,
      expiresAt: 4_102_444_800,
    });
  });

  it.each([
    ['an exp in the past', '1700000000'],
    ['an exp with spaces', ' 4102444800 '],
    ['an exp in hex', '0x1000000000'],
    ['an exp in exponent notation', '4.1e9'],
    ['an exp that is not a number', 'soon'],
  ])(
    'answers 401 unauthorized for claims with %s, trusting nothing without the authorizer',
    async (_what, exp) => {
      // Act
      const result = await on(
        routeEvent('GET /me', { iss: ISSUER, sub: OPENID, aud: APP_ID, exp }),
      );

      // Assess
      expect(result.statusCode).toBe(401);
      expect(json(result).code).toBe('unauthorized');
    },
  );

  it('answers 401 unauthorized when the event carries no claims', async () => {
    // Act
    const result = await on(routeEvent('GET /me'));

    // Assess
    expect(result.statusCode).toBe(401);
    expect(result.headers?.['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(json(result)).toMatchObject({ code: 'unauthorized' });
  });
});

describe('with sessions off', () => {
  it.each(['GET /.well-known/openid-configuration', 'GET /.well-known/jwks.json', 'GET /me'])(
    'answers %s with 404 not_found',
    async (routeKey) => {
      const result = await off(routeEvent(routeKey, { sub: OPENID, aud: APP_ID, exp: '1' }));

      expect(result.statusCode).toBe(404);
      expect(json(result)).toMatchObject({ code: 'not_found' });
    },
  );

  it('answers a login with the openid only', async () => {
    const result = await off(loginEvent(JSON.stringify({ code: `${CODE}off` })));

    expect(Object.keys(json(result))).toEqual(['openid']);
  });
});

describe('the configuration of KMS sessions', () => {
  it('stops the start-up, naming SESSION_ISSUER, when the cloud gives a key but no issuer', () => {
    const config = loadConfig({ SESSION_KEY_ID: 'alias/session', AWS_REGION: 'ap-east-1' });

    expect(() => kmsTokens(config, undefined, QUIET)).toThrow(
      /SESSION_ISSUER is required with SESSION_KEY_ID/,
    );
  });

  it('takes the local issuer only when SESSION_ISSUER is not set', () => {
    const env = { SESSION_KEY_ID: 'alias/session', AWS_REGION: 'ap-east-1' };

    expect(kmsTokens(loadConfig(env), 'http://localhost:2020', QUIET)?.issuer).toBe(
      'http://localhost:2020',
    );
    expect(
      kmsTokens(loadConfig({ ...env, SESSION_ISSUER: ISSUER }), 'http://localhost:2020', QUIET)
        ?.issuer,
    ).toBe(ISSUER);
  });

  it('is off without SESSION_KEY_ID', () => {
    expect(kmsTokens(loadConfig({}), 'http://localhost:2020', QUIET)).toBeUndefined();
  });
});
