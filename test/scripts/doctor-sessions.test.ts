import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { errcode, type FakeWechat, startFakeWechat } from '../../harness/fake-wechat.ts';
import { APP_ID, APP_SECRET, OPENID } from '../../harness/fixtures.ts';
import { type Canned, endpoint, json, runDoctor } from '../support/doctor.ts';

const silent = createLogger({}, () => {});

describe('npm run doctor against the local server: sessions', () => {
  let local: LocalServer | undefined;
  let wechat: FakeWechat | undefined;
  afterEach(async () => {
    await local?.close();
    await wechat?.close();
    local = undefined;
    wechat = undefined;
  });

  it("exits 0 on the sandbox with sessions: discovery, JWKS, the login's token and GET /me", async () => {
    // Prepare
    local = await startLocalServer(loadConfig({ PORT: '0' }), silent, '127.0.0.1');

    // Act
    const run = await runDoctor(['--url', local.url.href, '--allow-sandbox', '--me']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/sandbox/),
      expect.stringMatching(
        /^Sessions are on: .*names http:\/\/localhost:\d+ as issuer and its JWKS publishes 1 RS256 key, and the login's token verifies against them \(kid [\w-]{43}\)\.$/,
      ),
      "GET /me accepts the login's token for AppID wx000000000sandbox.",
    ]);
  });

  it("names the discovery document's issuer for --issuer when the local server is reached as 127.0.0.1", async () => {
    // Prepare: the local server's issuer is http://localhost:PORT.
    local = await startLocalServer(loadConfig({ PORT: '0' }), silent, '127.0.0.1');
    const { port } = local.url;

    // Act
    const numeric = await runDoctor([
      '--url',
      `http://127.0.0.1:${port}/openid`,
      '--allow-sandbox',
    ]);
    const named = await runDoctor([
      '--url',
      `http://127.0.0.1:${port}/openid`,
      '--issuer',
      `http://localhost:${port}`,
      '--allow-sandbox',
      '--me',
    ]);

    // Assess
    expect(numeric.code).toBe(1);
    expect(numeric.stderr.trim()).toMatch(
      new RegExp(
        `^The discovery document at http://127\\.0\\.0\\.1:${port}/\\S+ names issuer "http://localhost:${port}", not http://127\\.0\\.0\\.1:${port}, .*the issuer must be the exact host the authorizer will use.*--issuer http://localhost:${port}\\b[^\\n]*$`,
      ),
    );
    expect(named.code).toBe(0);
    expect(named.stdout).toMatch(/GET \/me accepts the login's token/);
  });

  it('says in one sentence that sessions are off, and exits 0', async () => {
    // Prepare: real credentials and no SESSION_KEY_ID, so the three session routes answer 404.
    wechat = await startFakeWechat();
    wechat.fallback = errcode(40029, 'invalid code');
    const config = loadConfig({
      PORT: '0',
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: APP_SECRET,
      WECHAT_API_BASE_URL: wechat.url,
    });
    local = await startLocalServer(config, silent, '127.0.0.1');

    // Act
    const run = await runDoctor(['--url', local.url.href]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^Healthy/),
      'Sessions are off: the discovery document, the JWKS and GET /me answer 404 and the login answers no token, so there is nothing more to check.',
    ]);
  });
});

/** A key that signs, and what a JWKS publishes of it. */
interface Key {
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  readonly jwk: JWK;
}

async function rsaKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

const INVALID_CODE = json(
  400,
  { status: 400, code: 'invalid_code', errcode: 40029, detail: 'd', requestId: 'r' },
  'application/problem+json',
);

const discovery =
  (issuer?: string) =>
  (base: string): Canned => {
    const named = issuer ?? base;
    return json(200, {
      issuer: named,
      jwks_uri: `${named}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
    });
  };

/** A sandbox-like login answering a token signed by `key` for `base` as issuer. */
const loginWithToken =
  (key: Key, audience = APP_ID) =>
  async (base: string): Promise<Canned> => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.jwk.kid ?? '' })
      .setIssuer(base)
      .setSubject(OPENID)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('2h')
      .setJti('jti-1')
      .sign(key.privateKey);
    return json(200, { openid: OPENID, token, expiresIn: 7200 });
  };

/** An endpoint whose login answers a token: the answer is signed once, before it listens. */
async function sessionEndpoint(
  login: (base: string) => Promise<Canned>,
  routes: Record<string, Canned | ((base: string) => Canned)>,
) {
  let answer: Canned | undefined;
  const served = await endpoint({ ...routes, 'POST /openid': () => answer ?? INVALID_CODE });
  answer = await login(served.base);
  return served;
}

describe('npm run doctor: session checks against loopback endpoints', () => {
  let signing: Key;
  let other: Key;
  beforeAll(async () => {
    signing = await rsaKey('key-1');
    other = await rsaKey('key-1');
  });

  it.each([
    [
      'another host',
      () => 'https://login.example.com',
      /names issuer "https:\/\/login\.example\.com", not http:\/\/127\.0\.0\.1:\d+, the URL it was fetched from/,
    ],
    [
      'a trailing slash',
      (base: string) => `${base}/`,
      /issuer "http:\/\/127\.0\.0\.1:\d+\/" ends in a slash/,
    ],
  ])('exits 1 when the discovery document names as issuer %s', async (_case, issuerOf, message) => {
    // Prepare
    const served = await endpoint({
      'POST /openid': INVALID_CODE,
      'GET /.well-known/openid-configuration': (base) => discovery(issuerOf(base))(base),
      'GET /.well-known/jwks.json': json(200, { keys: [signing.jwk] }),
    });

    // Act
    const run = await runDoctor(['--url', served.url]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^Healthy/);
    expect(run.stderr).toMatch(message);
  });

  it('exits 1 when the JWKS the discovery document names is missing', async () => {
    // Prepare
    const served = await endpoint({
      'POST /openid': INVALID_CODE,
      'GET /.well-known/openid-configuration': discovery(),
    });

    // Act
    const run = await runDoctor(['--url', served.url]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^The JWKS http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json answers 404 although the discovery document names it/,
    );
  });

  it('exits 1 when the JWKS has a key API Gateway cannot use', async () => {
    // Prepare
    const { alg: _alg, ...withoutAlg } = signing.jwk;
    const served = await endpoint({
      'POST /openid': INVALID_CODE,
      'GET /.well-known/openid-configuration': discovery(),
      'GET /.well-known/jwks.json': json(200, { keys: [signing.jwk, withoutAlg] }),
    });

    // Act
    const run = await runDoctor(['--url', served.url]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/key #2 is not an RS256 RSA key/);
  });

  it('says sessions are on without a token to verify when WeChat rejects the made-up code', async () => {
    // Prepare
    const served = await endpoint({
      'POST /openid': INVALID_CODE,
      'GET /.well-known/openid-configuration': discovery(),
      'GET /.well-known/jwks.json': json(200, { keys: [signing.jwk, other.jwk] }),
    });

    // Act
    const run = await runDoctor(['--url', served.url]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/publishes 2 RS256 keys; there was no token to verify/);
  });

  it.each([
    [
      'another key under its kid',
      () => other.jwk,
      /does not verify against the JWKS key of its kid/,
    ],
    [
      'no key of its kid',
      () => ({ ...other.jwk, kid: 'key-2' }),
      /signed under a kid the JWKS does not publish/,
    ],
  ])("exits 1 when the login's token meets %s in the JWKS", async (_case, published, message) => {
    // Prepare
    const served = await sessionEndpoint(loginWithToken(signing), {
      'GET /.well-known/openid-configuration': discovery(),
      'GET /.well-known/jwks.json': () => json(200, { keys: [published()] }),
    });

    // Act
    const run = await runDoctor(['--url', served.url, '--allow-sandbox']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/API Gateway would refuse every token/);
  });

  it("explains a 401 on GET /me for a token that verifies: the AppID is not in the stack's appIds", async () => {
    // Prepare
    const served = await sessionEndpoint(loginWithToken(signing), {
      'GET /.well-known/openid-configuration': discovery(),
      'GET /.well-known/jwks.json': json(200, { keys: [signing.jwk] }),
      'GET /me': json(401, { message: 'Unauthorized' }),
    });

    // Act
    const run = await runDoctor([
      '--url',
      served.url,
      '--allow-sandbox',
      '--appid',
      APP_ID,
      '--me',
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/the login's token verifies against them/);
    expect(run.stderr.trim()).toBe(
      `GET /me refuses the login's token (401) although it verifies against the JWKS: its AppID ${APP_ID} is served by the secret but not in the stack's appIds context, so deploy again with ${APP_ID} in -c appIds=….`,
    );
    const me = served.received.find(({ url }) => url === '/me');
    expect(me?.headers.authorization).toMatch(/^Bearer ey/);
  });

  it('fetches discovery and keys from the --issuer custom domain, and /me from the API', async () => {
    // Prepare
    const issuer = await endpoint({
      'GET /.well-known/openid-configuration': discovery(),
      'GET /.well-known/jwks.json': json(200, { keys: [signing.jwk] }),
    });
    const api = await sessionEndpoint(async () => loginWithToken(signing)(issuer.base), {
      'GET /me': json(200, { openid: OPENID, appid: APP_ID, expiresAt: 1 }),
    });

    // Act
    const run = await runDoctor([
      '--url',
      api.url,
      '--issuer',
      issuer.base,
      '--allow-sandbox',
      '--me',
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/GET \/me accepts the login's token/);
    expect(issuer.received.map(({ url }) => url)).toEqual([
      '/.well-known/openid-configuration',
      '/.well-known/jwks.json',
    ]);
  });

  it('checks an --issuer with user:password@ without them, and prints no password', async () => {
    // Prepare
    const issuer = await endpoint({
      'GET /.well-known/openid-configuration': discovery(),
      'GET /.well-known/jwks.json': json(200, { keys: [signing.jwk] }),
    });
    const api = await endpoint({ 'POST /openid': INVALID_CODE });

    // Act
    const run = await runDoctor([
      '--url',
      api.url,
      '--issuer',
      issuer.base.replace('http://', 'http://user:secretpw@'),
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^--issuer carries credentials \(user:password@\)/);
    expect(run.stdout).toMatch(/names http:\/\/127\.0\.0\.1:\d+ as issuer/);
    expect(run.stdout + run.stderr).not.toContain('secretpw');
    expect(issuer.received.map(({ headers }) => headers.authorization)).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('exits 1 when GET /me is routed but the issuer serves no discovery document', async () => {
    // Prepare: a custom-domain issuer, and the doctor not told about it.
    const served = await endpoint({
      'POST /openid': INVALID_CODE,
      'GET /me': json(401, { message: 'Unauthorized' }),
    });

    // Act
    const run = await runDoctor(['--url', served.url]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /GET .*\/me answers HTTP 401 but .* answers 404: if the issuer is a custom domain, pass it with --issuer/,
    );
  });

  it('exits 2 when --issuer is not an issuer URL', async () => {
    // Prepare / Act
    const run = await runDoctor([
      '--url',
      'https://example.com/openid',
      '--issuer',
      'https://login.example.com/',
    ]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--issuer must be the http\(s\) issuer URL without a trailing slash/,
    );
  });
});
