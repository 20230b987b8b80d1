import { createHmac, createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsJsonClient } from '../../functions/adapters/aws-json.ts';
import { createKmsKeys } from '../../functions/adapters/kms-keys.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import { createTokenIssuer } from '../../functions/domain/token.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { type FakeWechat, ok, startFakeWechat } from '../../harness/fake-wechat.ts';
import { APP_ID, APP_SECRET, OTHER_APP_ID, UNIONID } from '../../harness/fixtures.ts';
import {
  freePort,
  MOTO_REGION,
  type Moto,
  motoAvailable,
  requireMotoInCi,
} from '../../harness/moto.ts';
import { rememberToken } from '../support/leak-guard.ts';
import { sharedMoto, uniqueName } from '../support/moto.ts';

requireMotoInCi();

/** The current key's alias, unique in the run's moto_server. */
const ALIAS = uniqueName('alias/weapp-openid-session');

let moto: Moto;
let wechat: FakeWechat;
let current: { arn: string };
let retired: { arn: string };
const servers: LocalServer[] = [];

/** npm start in real mode: credentials in the environment, WeChat on loopback, KMS on moto. */
async function start(env: Record<string, string>): Promise<LocalServer> {
  const config = loadConfig({
    PORT: '0',
    WECHAT_APP_ID: APP_ID,
    WECHAT_APP_SECRET: APP_SECRET,
    WECHAT_API_BASE_URL: wechat.url,
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL_KMS: moto.endpoint,
    ...env,
  });
  const server = await startLocalServer(
    config,
    createLogger({}, () => {}),
    '127.0.0.1',
  );
  servers.push(server);
  return server;
}

async function login(server: LocalServer, code: string) {
  const response = await fetch(server.url, { method: 'POST', body: JSON.stringify({ code }) });
  const body = (await response.json()) as Record<string, unknown>;
  if (typeof body.token === 'string') rememberToken(body.token);
  return { status: response.status, body };
}

const me = (server: LocalServer, token: string) =>
  fetch(new URL('/me', server.url), { headers: { authorization: `Bearer ${token}` } });

/** What any verifier does: discovery, then the JWKS it names. */
async function verifyThroughDiscovery(issuer: string, token: string, audience: string) {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    issuer: string;
    jwks_uri: string;
  };
  return jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
    issuer: discovery.issuer,
    audience,
    algorithms: ['RS256'],
  });
}

describe.skipIf(!motoAvailable)('sessions signed by KMS (moto_server)', () => {
  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    [moto, wechat] = await Promise.all([sharedMoto(), startFakeWechat()]);
    current = await moto.createSigningKey(ALIAS);
    retired = await moto.createSigningKey();
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await Promise.all([moto?.stop(), wechat?.close()]);
  });

  it('answers a token that jose verifies against the JWKS found through discovery', async () => {
    // Prepare
    const server = await start({ SESSION_KEY_ID: current.arn, SESSION_TTL_SECONDS: '600' });
    wechat.fallback = ok(undefined, { unionid: UNIONID });

    // Act
    const { status, body } = await login(server, 'kms-code-1');
    const { payload, protectedHeader } = await verifyThroughDiscovery(
      server.issuer ?? '',
      String(body.token),
      APP_ID,
    );

    // Assess
    expect(status).toBe(200);
    expect(body.expiresIn).toBe(600);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toMatchObject({
      iss: server.issuer,
      sub: body.openid,
      aud: APP_ID,
      unionid: UNIONID,
    });
    expect(Object.keys(payload).sort()).toEqual([
      'aud',
      'exp',
      'iat',
      'iss',
      'jti',
      'sub',
      'unionid',
    ]);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
    wechat.fallback = ok();
  });

  it('names the key by its RFC 7638 thumbprint, the same through an alias as through the ARN', async () => {
    // Prepare
    const byArn = await start({ SESSION_KEY_ID: current.arn });
    const byAlias = await start({ SESSION_KEY_ID: ALIAS });

    // Act
    const jwks = (await (await fetch(new URL('/.well-known/jwks.json', byArn.url))).json()) as {
      keys: { kid: string; kty: 'RSA'; n: string; e: string }[];
    };
    const token = String((await login(byAlias, 'kms-code-alias')).body.token);

    // Assess
    const [key] = jwks.keys;
    expect(jwks.keys).toHaveLength(1);
    expect(key?.kid).toBe(await calculateJwkThumbprint({ kty: 'RSA', n: key?.n, e: key?.e }));
    expect(decodeProtectedHeader(token).kid).toBe(key?.kid);
  });

  it('keeps tokens of a retired key working while it is published, and refuses them once it is not', async () => {
    // Prepare: three deployments in turn behind one issuer (one port), as a rotation runs.
    const port = String(await freePort());
    const deploy = async (env: Record<string, string>) => {
      await Promise.all(servers.splice(0).map((server) => server.close()));
      // Let pooled keep-alive connections see the old server's close before the next request.
      await new Promise((resolve) => setTimeout(resolve, 50));
      return start({ PORT: port, ...env });
    };
    const before = await deploy({ SESSION_KEY_ID: retired.arn });
    const token = String((await login(before, 'kms-code-before')).body.token);

    // Act
    const publishing = await deploy({
      SESSION_KEY_ID: current.arn,
      SESSION_PUBLISHED_KEY_IDS: retired.arn,
    });
    const whilePublished = await me(publishing, token);
    const keys = (await (
      await fetch(new URL('/.well-known/jwks.json', publishing.url))
    ).json()) as {
      keys: unknown[];
    };
    const newToken = String((await login(publishing, 'kms-code-during')).body.token);
    const removed = await deploy({ SESSION_KEY_ID: current.arn });
    const afterRemoval = await me(removed, token);
    const newAfterRemoval = await me(removed, newToken);

    // Assess
    expect(keys.keys).toHaveLength(2);
    expect(whilePublished.status).toBe(200);
    expect(await whilePublished.json()).toMatchObject({ appid: APP_ID });
    expect(afterRemoval.status).toBe(401);
    expect(afterRemoval.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(newAfterRemoval.status).toBe(200);
  });

  it('lets GET /me through only for AppIDs of the secret', async () => {
    // Prepare
    const server = await start({ SESSION_KEY_ID: current.arn });

    // Act
    const mine = await sign(server, { appId: APP_ID });
    const other = await sign(server, { appId: OTHER_APP_ID });

    // Assess
    expect((await me(server, mine)).status).toBe(200);
    expect((await me(server, other)).status).toBe(401);
  });

  describe('the local authorizer on GET /me', () => {
    let server: LocalServer;
    let genuine: string;
    beforeAll(async () => {
      server = await start({ SESSION_KEY_ID: current.arn });
      genuine = String((await login(server, 'kms-code-authorizer')).body.token);
    });

    const parts = () => genuine.split('.') as [string, string, string];
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const decoded = (part: string) =>
      JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

    it.each<[string, () => string | undefined | Promise<string | undefined>]>([
      ['no token', () => undefined],
      ['a malformed token', () => 'not-a-jwt'],
      [
        'a tampered payload',
        () => {
          const [h, p, sig] = parts();
          return `${h}.${b64({ ...decoded(p), sub: 'oSomeoneElse000000000000000' })}.${sig}`;
        },
      ],
      [
        'alg: none',
        () => {
          const [h, p] = parts();
          return `${b64({ ...decoded(h), alg: 'none' })}.${p}.`;
        },
      ],
      [
        'HS256 keyed with the public key',
        async () => {
          const [h, p] = parts();
          const jwks = (await (
            await fetch(new URL('/.well-known/jwks.json', server.url))
          ).json()) as {
            keys: import('node:crypto').JsonWebKey[];
          };
          const pem = createPublicKey({
            key: jwks.keys[0] as import('node:crypto').JsonWebKey,
            format: 'jwk',
          }).export({
            type: 'spki',
            format: 'pem',
          });
          const input = `${b64({ ...decoded(h), alg: 'HS256' })}.${p}`;
          return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
        },
      ],
      [
        'another RSA key under the real kid',
        () => {
          const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
          const [h, p] = parts();
          const input = `${h}.${p}`;
          return `${input}.${nodeSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
        },
      ],
      ['an expired token', () => sign(server, { now: Date.now() - 3600_000, ttlSeconds: 600 })],
      ['a token from the future (iat)', () => sign(server, { now: Date.now() + 600_000 })],
      ['a wrong issuer', () => sign(server, { issuer: 'https://login.example.com' })],
      ['a wrong audience', () => sign(server, { appId: OTHER_APP_ID })],
      [
        'a genuine signature over an nbf in the future',
        async () => {
          const [h, p] = parts();
          const later = { ...decoded(p), nbf: Math.floor(Date.now() / 1000) + 600 };
          const { signingInput, signature } = await motoKeys().sign(() => `${h}.${b64(later)}`);
          return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
        },
      ],
      [
        'a genuine signature under a header without kid',
        async () => {
          const payload = parts()[1];
          const { signingInput, signature } = await motoKeys().sign(
            () => `${b64({ alg: 'RS256', typ: 'JWT' })}.${payload}`,
          );
          return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
        },
      ],
    ])('refuses %s with 401 unauthorized and WWW-Authenticate', async (_what, forge) => {
      // Prepare
      const token = await forge();

      // Act
      const response = await fetch(new URL('/me', server.url), {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });

      // Assess
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(await response.json()).toMatchObject({ code: 'unauthorized', status: 401 });
    });

    it("hands an accepted token's claims to /me, exp as a number", async () => {
      // Act
      const response = await me(server, genuine);
      const body = (await response.json()) as Record<string, unknown>;

      // Assess
      const claims = decoded(parts()[1]);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(body).toEqual({ openid: claims.sub, appid: APP_ID, expiresAt: claims.exp });
    });
  });
});

/** A token signed by the moto key with the project's issuer, for claims a login would not give. */
/** The moto signing key, through the project's KMS adapter. */
function motoKeys() {
  const call = createAwsJsonClient({
    label: 'KMS',
    service: 'kms',
    targetPrefix: 'TrentService',
    region: MOTO_REGION,
    endpoint: new URL(moto.endpoint),
    credentials: async () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' }),
    callMs: 1000,
    totalMs: 2500,
    attempts: 1,
  });
  return createKmsKeys({
    call,
    signingKeyId: current.arn,
    publishedKeyIds: [],
    log: createLogger({}, () => {}),
  });
}

async function sign(
  server: LocalServer,
  options: { appId?: string; issuer?: string; now?: number; ttlSeconds?: number },
): Promise<string> {
  const now = options.now;
  const issue = createTokenIssuer({
    keys: motoKeys(),
    issuer: options.issuer ?? server.issuer ?? '',
    ttlSeconds: options.ttlSeconds ?? 600,
    ...(now !== undefined && { now: () => now }),
    newTokenId: () => 'forged',
  });
  const app = { appId: options.appId ?? APP_ID, appSecret: 'unused' };
  return (await issue.issue({ openid: 'oSigned00000000000000000000' }, app)).token;
}
