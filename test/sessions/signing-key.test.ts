import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsJsonClient } from '../../functions/adapters/aws-json.ts';
import { rsaPublicJwk } from '../../functions/adapters/jwk.ts';
import { ALIAS_REREAD_MS, createKmsKeys } from '../../functions/adapters/kms-keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { createStaticSource } from '../../functions/adapters/secret-store.ts';
import { FORCED_READ_EVERY_MS } from '../../functions/commons/budgets.ts';
import { loadConfig } from '../../functions/config.ts';
import { parseSecretValue } from '../../functions/domain/apps.ts';
import { createApiHandler, kmsTokens } from '../../functions/wiring.ts';
import { json, loginEvent } from '../../harness/events.ts';
import { type FakeWechat, startFakeWechat } from '../../harness/fake-wechat.ts';
import { type FaultProxy, startFaultProxy } from '../../harness/fault-proxy.ts';
import { APP_ID, singleAppSecret } from '../../harness/fixtures.ts';
import { MOTO_REGION, type Moto, motoAvailable, requireMotoInCi } from '../../harness/moto.ts';
import { rememberToken } from '../support/leak-guard.ts';
import { sharedMoto } from '../support/moto.ts';

requireMotoInCi();

const ISSUER = 'https://login.example.com';
const QUIET = createLogger({}, () => {});

let moto: Moto;
let proxy: FaultProxy;
let wechat: FakeWechat;
let codes = 0;

/** The real handler, signing with `keyId` through the fault proxy in front of moto's KMS. */
function handlerFor(keyId: string) {
  const config = loadConfig({
    WECHAT_API_BASE_URL: wechat.url,
    SESSION_KEY_ID: keyId,
    SESSION_ISSUER: ISSUER,
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL_KMS: proxy.url,
  });
  const credentials = createStaticSource(parseSecretValue(singleAppSecret()));
  const tokens = kmsTokens(config, undefined, QUIET, async () => ({
    accessKeyId: 'testing',
    secretAccessKey: 'testing',
  }));
  return createApiHandler(config, QUIET, credentials, 'signing-key', tokens);
}

const login = (handler: ReturnType<typeof handlerFor>) =>
  handler(loginEvent(JSON.stringify({ code: `signing-key-code-${++codes}` })));

const jwksOf = async (handler: ReturnType<typeof handlerFor>) =>
  json(
    await handler({ ...loginEvent(undefined), routeKey: 'GET /.well-known/jwks.json' }),
  ) as never;

describe.skipIf(!motoAvailable)('the session signing key', () => {
  beforeAll(async () => {
    [moto, wechat] = await Promise.all([sharedMoto(), startFakeWechat()]);
    proxy = await startFaultProxy(moto.endpoint);
  });
  afterAll(async () => {
    await Promise.all([proxy?.close(), wechat?.close()]);
    await moto?.stop();
  });
  beforeEach(() => {
    wechat.reset();
    proxy.mode = 'pass';
    proxy.resetCounts();
  });

  it('follows an alias that moved to another key: the kid, the JWKS and the signature agree', async () => {
    // Prepare: an alias on one key, a login, then the alias moved to a second key.
    const alias = `alias/moving-${Date.now()}`;
    await moto.createSigningKey(alias);
    const second = await moto.createSigningKey();
    const handler = handlerFor(alias);
    const before = json(await login(handler));
    rememberToken(String(before.token));
    await moto.kms('TrentService.UpdateAlias', { AliasName: alias, TargetKeyId: second.keyId });

    // Act
    const after = json(await login(handler));
    rememberToken(String(after.token));
    const jwks = await jwksOf(handler);

    // Assess: a new kid, published, and the token verifies against the JWKS.
    const kid = decodeProtectedHeader(String(after.token)).kid;
    expect(kid).not.toBe(decodeProtectedHeader(String(before.token)).kid);
    expect((jwks as { keys: { kid: string }[] }).keys.map((key) => key.kid)).toContain(kid);
    await expect(
      jwtVerify(String(after.token), createLocalJWKSet(jwks), {
        issuer: ISSUER,
        audience: APP_ID,
      }),
    ).resolves.toBeDefined();
  });

  it('publishes, in an environment that only answers the JWKS, the key a moved alias names within ALIAS_REREAD_MS, keeping the old one', async () => {
    // Prepare: an environment that never signs, only publishes, with a clock of its own.
    const alias = `alias/jwks-only-${Date.now()}`;
    const first = await moto.createSigningKey(alias);
    const second = await moto.createSigningKey();
    let clock = 0;
    const keys = createKmsKeys({
      call: createAwsJsonClient({
        label: 'KMS',
        service: 'kms',
        targetPrefix: 'TrentService',
        region: MOTO_REGION,
        endpoint: new URL(proxy.url),
        credentials: async () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' }),
        callMs: 1000,
        totalMs: 2500,
        attempts: 3,
      }),
      signingKeyId: alias,
      publishedKeyIds: [],
      log: QUIET,
      now: () => clock,
    });
    const kidOf = async (keyId: string) =>
      rsaPublicJwk(
        Buffer.from(
          String((await moto.kms('TrentService.GetPublicKey', { KeyId: keyId })).PublicKey),
          'base64',
        ),
      ).kid;
    const before = (await keys.published()).map((key) => key.kid);
    await moto.kms('TrentService.UpdateAlias', { AliasName: alias, TargetKeyId: second.keyId });

    // Act
    clock = ALIAS_REREAD_MS - 1;
    const soon = (await keys.published()).map((key) => key.kid);
    clock = ALIAS_REREAD_MS;
    const later = (await keys.published()).map((key) => key.kid);

    // Assess: the new key within the interval, and the old one still published for its tokens.
    expect(before).toEqual([await kidOf(first.keyId)]);
    expect(soon).toEqual(before);
    expect(later).toEqual([await kidOf(second.keyId), await kidOf(first.keyId)]);
  });

  it('answers misconfigured before WeChat spends the code once the key is known unusable, and reads it again at most every 5 s', async () => {
    // Prepare: a key KMS does not know.
    const handler = handlerFor('arn:aws:kms:us-east-1:123456789012:key/never-created');

    // Act: three logins within the interval.
    const answers = [await login(handler), await login(handler), await login(handler)];

    // Assess: WeChat is never asked, so no code is spent; KMS is read once, and once more at
    // once after the first failure (as the secret is), then not again within the interval.
    for (const answer of answers) {
      expect(answer.statusCode).toBe(500);
      expect(json(answer)).toMatchObject({ code: 'misconfigured' });
      expect(String(json(answer).detail)).toMatch(/session signing key/);
    }
    expect(wechat.calls).toHaveLength(0);
    expect(proxy.count('GetPublicKey')).toBe(2);
    expect(FORCED_READ_EVERY_MS).toBe(5000);
  });

  it.each(['UnsupportedOperationException', 'ValidationException'])(
    'answers %s from KMS as misconfigured, not as a passing outage',
    async (awsError) => {
      // Prepare
      const { arn } = await moto.createSigningKey();
      const handler = handlerFor(arn);
      proxy.mode = { awsError };

      // Act
      const result = await login(handler);

      // Assess: a permanent refusal, said once, never retried.
      expect(result.statusCode).toBe(500);
      expect(json(result)).toMatchObject({ code: 'misconfigured' });
      expect(result.headers?.['retry-after']).toBeUndefined();
      expect(proxy.count('GetPublicKey')).toBe(1);
      expect(wechat.calls).toHaveLength(0);
    },
  );
});
