import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Artifact, disposeArtifact } from '../../harness/artifact.ts';
import { json, loginEvent } from '../../harness/events.ts';
import { type FakeWechat, startFakeWechat } from '../../harness/fake-wechat.ts';
import { type FaultProxy, startFaultProxy } from '../../harness/fault-proxy.ts';
import { APP_ID, OPENID, referer, singleAppSecret } from '../../harness/fixtures.ts';
import { type LambdaProcess, startArtifactProcess } from '../../harness/lambda-process.ts';
import { type Moto, motoAvailable, requireMotoInCi } from '../../harness/moto.ts';
import { sharedArtifact } from '../support/artifact.ts';
import { rememberToken } from '../support/leak-guard.ts';
import { sharedMoto, uniqueName } from '../support/moto.ts';

/**
 * The shipped bundle with sessions on, in a fresh Node.js 24 process, signing with a KMS key
 * on moto (behind a proxy that counts the calls): the same code path as in the cloud.
 */
requireMotoInCi();

const ISSUER = 'https://login.example.com';
/** The signing key's alias, unique in the run's moto_server. */
const ALIAS = uniqueName('alias/weapp-openid-artifact');

describe.skipIf(!motoAvailable)('the shipped artifact with sessions on (KMS on moto)', () => {
  let artifact: Artifact;
  let moto: Moto | undefined;
  let kms: FaultProxy | undefined;
  let wechat: FakeWechat | undefined;
  let lambda: LambdaProcess | undefined;

  beforeAll(async () => {
    [artifact, moto, wechat] = await Promise.all([
      sharedArtifact(),
      sharedMoto(),
      startFakeWechat(),
    ]);
    kms = await startFaultProxy(moto.endpoint);
    const secretArn = await moto.createSecret(
      uniqueName('weapp-openid/sessions'),
      singleAppSecret(),
    );
    const key = await moto.createSigningKey(ALIAS);
    lambda = startArtifactProcess(artifact, {
      ...moto.env,
      WECHAT_SECRET_ID: secretArn,
      WECHAT_API_BASE_URL: wechat.url,
      SESSION_KEY_ID: ALIAS,
      SESSION_PUBLISHED_KEY_IDS: key.arn,
      SESSION_ISSUER: ISSUER,
      AWS_ENDPOINT_URL_KMS: kms.url,
    });
    await lambda.first;
  }, 120_000);

  afterAll(async () => {
    await lambda?.close();
    await Promise.all([wechat?.close(), kms?.close()]);
    await Promise.all([moto?.stop(), disposeArtifact()]);
  });

  const invoke = async (routeKey: string, body?: unknown) => {
    const event = {
      ...loginEvent(body === undefined ? undefined : JSON.stringify(body), {
        headers: { referer: referer(APP_ID) },
      }),
      routeKey,
    };
    const invocation = await (lambda as LambdaProcess).invoke(event);
    expect(invocation.error).toBeUndefined();
    return invocation.result as NonNullable<typeof invocation.result>;
  };

  it('answers a login with a KMS-signed token that verifies against its own JWKS', async () => {
    // Act
    const login = json(await invoke('POST /openid', { code: 'artifact-session-code' }));
    rememberToken(String(login.token));
    const jwks = json(await invoke('GET /.well-known/jwks.json')) as never;
    const { payload } = await jwtVerify(String(login.token), createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: APP_ID,
      algorithms: ['RS256'],
    });

    // Assess
    expect(login).toMatchObject({ openid: OPENID, expiresIn: 7200 });
    expect(payload.sub).toBe(OPENID);
    // The alias and the ARN name one key: it is published once.
    expect((jwks as { keys: unknown[] }).keys).toHaveLength(1);
  });

  it('publishes discovery with the configured issuer', async () => {
    const result = await invoke('GET /.well-known/openid-configuration');

    expect(json(result)).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
    });
  });

  it('reads each public key once per environment and signs once per login', async () => {
    // Prepare
    const signsBefore = kms?.count('Sign') ?? 0;

    // Act
    for (let i = 0; i < 3; i++) await invoke('POST /openid', { code: `artifact-many-${i}` });
    await invoke('GET /.well-known/jwks.json');

    // Assess: the alias and the ARN are two ids, so two reads, both at init.
    expect(kms?.count('GetPublicKey')).toBe(2);
    expect((kms?.count('Sign') ?? 0) - signsBefore).toBe(3);
  });

  it('answers GET /me from the claims API Gateway passes, as strings', async () => {
    const event = {
      ...loginEvent(undefined),
      routeKey: 'GET /me',
      requestContext: {
        ...loginEvent(undefined).requestContext,
        authorizer: { jwt: { claims: { sub: OPENID, aud: APP_ID, exp: '1900000000' } } },
      },
    };

    const invocation = await (lambda as LambdaProcess).invoke(event);

    expect(json(invocation.result ?? {})).toEqual({
      openid: OPENID,
      appid: APP_ID,
      expiresAt: 1_900_000_000,
    });
  });

  it('never writes a token or a signature to its log', () => {
    const output = (lambda as LambdaProcess).stdout.join('');
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{16,}/);
  });
});
