import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { createStaticSource } from '../../functions/adapters/secret-store.ts';
import { JWKS_FETCH_LIMIT_MS, KMS } from '../../functions/commons/budgets.ts';
import { loadConfig } from '../../functions/config.ts';
import { parseSecretValue } from '../../functions/domain/apps.ts';
import { createApiHandler, kmsTokens } from '../../functions/wiring.ts';
import { loginEvent } from '../../harness/events.ts';
import { type FakeWechat, startFakeWechat } from '../../harness/fake-wechat.ts';
import { type FaultMode, type FaultProxy, startFaultProxy } from '../../harness/fault-proxy.ts';
import { CODE, singleAppSecret } from '../../harness/fixtures.ts';
import {
  freePort,
  MOTO_REGION,
  type Moto,
  motoAvailable,
  requireMotoInCi,
} from '../../harness/moto.ts';
import { sharedMoto } from '../support/moto.ts';

requireMotoInCi();

/** The documented bound (docs/endpoint.md, "Time bounds") for a session that cannot be signed, with the default configuration. */
const BOUND_MS = 5000;

let moto: Moto;
let proxy: FaultProxy;
let wechat: FakeWechat;
let keyArn: string;
let lines: Record<string, unknown>[];

/** The real handler with KMS behind the fault proxy (or at `kmsUrl`), WeChat on loopback. */
function handlerAt(kmsUrl: string, retiredKeyIds: readonly string[] = []) {
  const config = loadConfig({
    ...(retiredKeyIds.length > 0 && { SESSION_PUBLISHED_KEY_IDS: retiredKeyIds.join(',') }),
    WECHAT_API_BASE_URL: wechat.url,
    SESSION_KEY_ID: keyArn,
    SESSION_ISSUER: 'https://login.example.com',
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL_KMS: kmsUrl,
  });
  const log = createLogger({}, (line) => {
    process.stdout.write(`${line}\n`);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const credentials = createStaticSource(parseSecretValue(singleAppSecret()));
  const sessions = kmsTokens(config, undefined, log, async () => ({
    accessKeyId: 'testing',
    secretAccessKey: 'testing',
  }));
  return createApiHandler(config, log, credentials, 'kms-faults', sessions);
}

describe.skipIf(!motoAvailable)('KMS faults while signing a session', () => {
  beforeAll(async () => {
    [moto, wechat] = await Promise.all([sharedMoto(), startFakeWechat()]);
    proxy = await startFaultProxy(moto.endpoint);
    keyArn = (await moto.createSigningKey()).arn;
  });
  afterAll(async () => {
    await Promise.all([proxy?.close(), wechat?.close()]);
    await moto?.stop();
  });
  beforeEach(() => {
    wechat.reset();
    proxy.mode = 'pass';
    proxy.resetCounts();
    lines = [];
  });

  /** Each fault, as it meets a cold environment (at GetPublicKey) and a warm one (at Sign). */
  const FAULTS: [string, FaultMode, number, string, RegExp][] = [
    ['throttled', { awsError: 'ThrottlingException' }, 503, 'session_unavailable', /Throttling/],
    ['slow (never answers in time)', 'hang', 503, 'session_unavailable', /timeout/],
    ['failing with 500', 'error500', 503, 'session_unavailable', /HTTP 500/],
    [
      'saying the key is unavailable for now',
      { awsError: 'KeyUnavailableException' },
      503,
      'session_unavailable',
      /KeyUnavailable/,
    ],
    [
      'saying the key is disabled',
      { awsError: 'DisabledException' },
      500,
      'misconfigured',
      /Disabled/,
    ],
    [
      'saying the key is pending deletion',
      { awsError: 'KMSInvalidStateException' },
      500,
      'misconfigured',
      /KMSInvalidState/,
    ],
    [
      'saying the key does not exist',
      { awsError: 'NotFoundException' },
      500,
      'misconfigured',
      /NotFound/,
    ],
    [
      'refusing the function',
      { awsError: 'AccessDeniedException' },
      500,
      'misconfigured',
      /AccessDenied/,
    ],
  ];
  const cases = FAULTS.flatMap(([what, ...rest]) =>
    (['cold', 'warm'] as const).map((env) => [`${what} (${env})`, env, ...rest] as const),
  );

  it.each(cases)(
    'answers KMS %s with its contract answer, within the bound, after one WeChat call when warm and none when cold',
    async (_what, env, mode, status, code, reason) => {
      // Prepare: a warm environment has its public key already, so only Sign meets the fault.
      const handler = handlerAt(proxy.url);
      if (env === 'warm') await handler(loginEvent(JSON.stringify({ code: 'warm-up' })));
      wechat.reset();
      proxy.resetCounts();
      lines = [];
      proxy.mode = mode;

      // Act
      const started = performance.now();
      const result = await handler(loginEvent(JSON.stringify({ code: CODE })));
      const elapsed = performance.now() - started;

      // Assess
      const body = JSON.parse(result.body ?? '{}') as Record<string, unknown>;
      expect(result.statusCode).toBe(status);
      expect(body.code).toBe(code);
      // Cold, the key is read with the secret, before WeChat is asked: the code is not spent.
      expect(wechat.calls).toHaveLength(env === 'warm' ? 1 : 0);
      expect(elapsed).toBeLessThan(BOUND_MS);
      expect(lines.at(-1)).toMatchObject({ outcome: code, reason: expect.stringMatching(reason) });
      expect(proxy.count(env === 'warm' ? 'Sign' : 'GetPublicKey')).toBeGreaterThan(0);
      if (env === 'warm') expect(proxy.count('GetPublicKey')).toBe(0);
      if (code === 'session_unavailable') {
        expect(result.headers?.['retry-after']).toBe('2');
        expect(body.detail).toMatch(env === 'warm' ? /wx\.login\(\) again/ : /not used up/);
      } else {
        // The key is the operator's to fix: retrying it would only fail again.
        expect(proxy.count('Sign') + proxy.count('GetPublicKey')).toBe(1);
        expect(body.detail).toMatch(/session signing key/);
      }
    },
  );

  it('does not keep a failed public key read: the next request reads it again and signs', async () => {
    // Prepare
    const handler = handlerAt(proxy.url);
    proxy.mode = 'error500';
    const failed = await handler(loginEvent(JSON.stringify({ code: 'first-code' })));
    proxy.mode = 'pass';
    proxy.resetCounts();

    // Act
    const result = await handler(loginEvent(JSON.stringify({ code: CODE })));

    // Assess
    expect(failed.statusCode).toBe(503);
    expect(result.statusCode).toBe(200);
    expect(proxy.count('GetPublicKey')).toBe(1);
  });

  it("answers the JWKS within API Gateway's 1.5 s when KMS hangs, with words about keys, not a login", async () => {
    // Prepare
    const handler = handlerAt(proxy.url);
    proxy.mode = 'hang';

    // Act
    const started = performance.now();
    const result = await handler({
      ...loginEvent(undefined),
      routeKey: 'GET /.well-known/jwks.json',
    });

    // Assess
    expect(performance.now() - started).toBeLessThan(JWKS_FETCH_LIMIT_MS);
    expect(result.statusCode).toBe(503);
    const body = JSON.parse(result.body ?? '{}') as Record<string, unknown>;
    expect(body.detail).toMatch(/public keys/);
    expect(body.detail).not.toMatch(/wx\.login/);
  });

  it('publishes the keys it can read when a retired one cannot be, with a warning', async () => {
    // Prepare: a retired key id that KMS does not know.
    const handler = handlerAt(proxy.url, [
      'arn:aws:kms:us-east-1:123456789012:key/retired-and-gone',
    ]);

    // Act
    const result = await handler({
      ...loginEvent(undefined),
      routeKey: 'GET /.well-known/jwks.json',
    });

    // Assess
    expect(result.statusCode).toBe(200);
    expect((JSON.parse(result.body ?? '{}') as { keys: unknown[] }).keys).toHaveLength(1);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'WARN', keyId: expect.stringMatching(/retired-and-gone/) }),
    );
  });

  it('answers KMS unreachable with 503 session_unavailable, within the bound, before any WeChat call', async () => {
    // Prepare: a port nobody listens on.
    const handler = handlerAt(`http://127.0.0.1:${await freePort()}`);

    // Act
    const started = performance.now();
    const result = await handler(loginEvent(JSON.stringify({ code: CODE })));

    // Assess
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body ?? '{}')).toMatchObject({ code: 'session_unavailable' });
    expect(wechat.calls).toHaveLength(0);
    expect(performance.now() - started).toBeLessThan(BOUND_MS);
  });

  it('retries a throttled Sign within its budget and signs once KMS recovers', async () => {
    // Prepare: the public key is read; then KMS throttles for a moment.
    const handler = handlerAt(proxy.url);
    await handler(loginEvent(JSON.stringify({ code: 'warm-up-code' })));
    proxy.resetCounts();
    proxy.mode = { awsError: 'ThrottlingException' };
    setTimeout(() => {
      proxy.mode = 'pass';
    }, 150);

    // Act
    const result = await handler(loginEvent(JSON.stringify({ code: CODE })));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(proxy.count('Sign')).toBeGreaterThan(1);
    expect(proxy.count('Sign')).toBeLessThanOrEqual(KMS.attempts);
    expect(proxy.count('GetPublicKey')).toBe(0);
  });

  it('reads the public key once per environment, however many logins and JWKS requests', async () => {
    // Prepare
    const handler = handlerAt(proxy.url);

    // Act
    for (let i = 0; i < 5; i++) await handler(loginEvent(JSON.stringify({ code: `${CODE}${i}` })));
    for (let i = 0; i < 3; i++) {
      await handler({
        ...loginEvent(JSON.stringify({ code: CODE })),
        routeKey: 'GET /.well-known/jwks.json',
      });
    }

    // Assess
    expect(proxy.count('GetPublicKey')).toBe(1);
    expect(proxy.count('Sign')).toBe(5);
  });
});
