import { readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Artifact, disposeArtifact, PROJECT_ROOT } from '../../harness/artifact.ts';
import { json, loginEvent } from '../../harness/events.ts';
import { errcode, type FakeWechat, ok, startFakeWechat } from '../../harness/fake-wechat.ts';
import {
  APP_ID,
  APP_SECRET,
  CODE,
  OPENID,
  ROTATED_APP_SECRET,
  referer,
  SENSITIVE,
  SESSION_KEY,
  singleAppSecret,
} from '../../harness/fixtures.ts';
import { type LambdaProcess, startArtifactProcess } from '../../harness/lambda-process.ts';
import { type Moto, motoAvailable, requireMotoInCi } from '../../harness/moto.ts';
import { sharedArtifact } from '../support/artifact.ts';
import { sharedMoto, uniqueName } from '../support/moto.ts';

/**
 * The bundle the stack ships (cdk synth → the function's asset), copied out of the project
 * and run in a fresh Node.js 24 process against moto and a loopback WeChat: proves the
 * artifact is self-contained (docs/endpoint.md, "What the bundle contains") and behaves like the code the unit tests cover.
 */
requireMotoInCi();

describe.skipIf(!motoAvailable)('the shipped artifact', () => {
  let artifact: Artifact;
  let moto: Moto | undefined;
  let wechat: FakeWechat | undefined;
  let lambda: LambdaProcess | undefined;
  let secretArn: string;

  beforeAll(async () => {
    [artifact, moto, wechat] = await Promise.all([
      sharedArtifact(),
      sharedMoto(),
      startFakeWechat(),
    ]);
    secretArn = await moto.createSecret(
      uniqueName('weapp-openid/artifact-test'),
      singleAppSecret(),
    );
    lambda = startArtifactProcess(artifact, {
      ...moto.env,
      WECHAT_SECRET_ID: secretArn,
      WECHAT_API_BASE_URL: wechat.url,
    });
    await lambda.first;
  }, 120_000);

  afterAll(async () => {
    await lambda?.close();
    await Promise.all([wechat?.close(), moto?.stop(), disposeArtifact()]);
  });

  beforeEach(() => wechat?.reset());

  const login = async () => {
    const invocation = await (lambda as LambdaProcess).invoke(
      loginEvent(JSON.stringify({ code: CODE }), { headers: { referer: referer(APP_ID) } }),
    );
    expect(invocation.error).toBeUndefined();
    return invocation.result as NonNullable<typeof invocation.result>;
  };

  it('is a copy outside the project, so nothing resolves from node_modules', () => {
    expect(relative(PROJECT_ROOT, artifact.dir).startsWith('..')).toBe(true);
    expect(readdirSync(artifact.dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it('runs on Node.js 24 with source maps enabled through NODE_OPTIONS, as the stack sets it', async () => {
    const { environment } = await (lambda as LambdaProcess).first;

    expect(artifact.environment.NODE_OPTIONS).toContain('--enable-source-maps');
    expect(environment.nodeVersion).toMatch(/^v24\./);
    expect(environment.nodeOptions).toBe(artifact.environment.NODE_OPTIONS);
    expect(environment.sourceMapsEnabled).toBe(true);
  });

  it('answers 200 with the openid and no session_key for a valid code', async () => {
    const result = await login();

    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(json(result)).toEqual({ openid: OPENID });
    expect(result.body).not.toContain(SESSION_KEY);
    expect(wechat?.calls).toHaveLength(1);
    expect(wechat?.calls[0]).toMatchObject({ appid: APP_ID, secret: APP_SECRET, jsCode: CODE });
  });

  it('answers 400 invalid_code with errcode 40029 when WeChat rejects the code', async () => {
    wechat?.script(errcode(40029, 'invalid code'));

    const result = await login();

    expect(result.statusCode).toBe(400);
    expect(result.headers).toMatchObject({ 'content-type': 'application/problem+json' });
    expect(json(result)).toMatchObject({ status: 400, code: 'invalid_code', errcode: 40029 });
  });

  it('re-reads a rotated secret once when WeChat says the AppSecret is wrong, and retries', async () => {
    // Prepare: the old secret is cached by an earlier login, then the operator rotates it.
    expect((await login()).statusCode).toBe(200);
    wechat?.reset();
    await moto?.putSecret(secretArn, singleAppSecret(ROTATED_APP_SECRET));
    wechat?.script(errcode(40125, 'invalid appsecret'), ok());

    // Act
    const result = await login();

    // Assess
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual({ openid: OPENID });
    expect(wechat?.calls.map((call) => call.secret)).toEqual([APP_SECRET, ROTATED_APP_SECRET]);
  });

  it('writes one log line per request and never a secret, session_key or code', () => {
    const lines = (lambda as LambdaProcess).stdout.join('').split('\n').filter(Boolean);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const logins = records.filter((record) => record.message === 'login');

    expect(logins.length).toBeGreaterThanOrEqual(4);
    for (const record of logins) expect(record).toHaveProperty('requestId');
    for (const value of SENSITIVE) expect(lines.join('\n')).not.toContain(value);
  });
});
