import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Artifact, disposeArtifact } from '../../harness/artifact.ts';
import { json, loginEvent } from '../../harness/events.ts';
import { errcode, type FakeWechat, ok, startFakeWechat } from '../../harness/fake-wechat.ts';
import { type FaultProxy, startFaultProxy } from '../../harness/fault-proxy.ts';
import {
  APP_ID,
  APP_SECRET,
  ROTATED_APP_SECRET,
  referer,
  singleAppSecret,
} from '../../harness/fixtures.ts';
import { type LambdaProcess, startArtifactProcess } from '../../harness/lambda-process.ts';
import { type Moto, motoAvailable, requireMotoInCi } from '../../harness/moto.ts';
import { sharedArtifact } from '../support/artifact.ts';
import { sharedMoto, uniqueName } from '../support/moto.ts';

/**
 * Faults injected into the shipped artifact (the bundle `cdk synth` produces, run in fresh
 * Node.js 24 processes): Secrets Manager behind a proxy that can fail, WeChat on loopback.
 * Each row asserts the contract's answer, the number of upstream calls, and the recovery
 * once the fault ends.
 */
requireMotoInCi();

const WECHAT_TIMEOUT_MS = 500;

describe.skipIf(!motoAvailable)('the fault matrix, against the shipped artifact', () => {
  let artifact: Artifact;
  let moto: Moto;
  let wechat: FakeWechat;
  let secrets: FaultProxy;
  const processes: LambdaProcess[] = [];
  let codes = 0;

  beforeAll(async () => {
    [artifact, moto, wechat] = await Promise.all([
      sharedArtifact(),
      sharedMoto(),
      startFakeWechat(),
    ]);
    secrets = await startFaultProxy(moto.endpoint);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(processes.map((lambda) => lambda.close()));
    await Promise.all([wechat?.close(), secrets?.close(), moto?.stop(), disposeArtifact()]);
  });
  beforeEach(() => {
    wechat.reset();
    secrets.mode = 'pass';
    secrets.resetCounts();
  });

  /** A fresh execution environment (a cold start) reading the secret `secretId`. */
  async function coldFunction(secretId: string, ttlSeconds = 300): Promise<LambdaProcess> {
    const lambda = startArtifactProcess(artifact, {
      ...moto.env,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      WECHAT_SECRET_ID: secretId,
      WECHAT_API_BASE_URL: wechat.url,
      WECHAT_TIMEOUT_MS: String(WECHAT_TIMEOUT_MS),
      SECRET_CACHE_TTL_SECONDS: String(ttlSeconds),
    });
    processes.push(lambda);
    await lambda.first;
    return lambda;
  }

  async function newSecret(value = singleAppSecret()): Promise<string> {
    const name = uniqueName('weapp-openid/faults');
    await moto.createSecret(name, value);
    return name;
  }

  async function login(lambda: LambdaProcess) {
    const started = performance.now();
    const invocation = await lambda.invoke(
      loginEvent(JSON.stringify({ code: `fault-code-${++codes}` }), {
        headers: { referer: referer(APP_ID) },
      }),
    );
    expect(invocation.error).toBeUndefined();
    const result = invocation.result as NonNullable<typeof invocation.result>;
    return {
      status: result.statusCode,
      body: json(result),
      headers: result.headers ?? {},
      ms: performance.now() - started,
    };
  }

  const logLines = (lambda: LambdaProcess) =>
    lambda.stdout
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  describe('Secrets Manager', () => {
    it('down at a cold start: 503 secret_unavailable within 8 s after 3 tries, then recovers', async () => {
      secrets.mode = 'reset';
      const lambda = await coldFunction(await newSecret());
      // The module starts a read while it loads; let its 3 tries fail before counting this request's.
      await until(() => secrets.count('GetSecretValue') >= 3);
      await new Promise((resolve) => setTimeout(resolve, 100));
      secrets.resetCounts();

      const down = await login(lambda);

      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ code: 'secret_unavailable' });
      expect(down.headers['retry-after']).toMatch(/^\d+$/);
      expect(down.ms).toBeLessThan(8000);
      expect(secrets.count('GetSecretValue')).toBe(3);
      expect(wechat.calls).toHaveLength(0);

      secrets.mode = 'pass';
      expect((await login(lambda)).status).toBe(200);
    });

    it('slow beyond the budget at a cold start: 503 secret_unavailable within 8 s', async () => {
      secrets.mode = 'hang';
      const lambda = await coldFunction(await newSecret());

      const slow = await login(lambda);

      expect(slow.status).toBe(503);
      expect(slow.body).toMatchObject({ code: 'secret_unavailable' });
      expect(slow.ms).toBeLessThan(8000);

      secrets.mode = 'pass';
      expect((await login(lambda)).status).toBe(200);
    }, 30_000);

    it('down while warm with an expired cache: the last good value serves, with a warning', async () => {
      const lambda = await coldFunction(await newSecret(), 1);
      expect((await login(lambda)).status).toBe(200);
      secrets.mode = 'error500';
      await new Promise((resolve) => setTimeout(resolve, 1100));
      secrets.resetCounts();

      const stale = await login(lambda);
      const again = await login(lambda);

      expect(stale.status).toBe(200);
      expect(again.status).toBe(200);
      expect(secrets.count('GetSecretValue')).toBe(3);
      // A warning for each request served from the stale value, not just for the failed read.
      const warnings = logLines(lambda).filter((line) => line.level === 'WARN');
      expect(warnings).toHaveLength(2);
      expect(warnings[0]?.message).toMatch(/last good secret/);

      secrets.mode = 'pass';
      secrets.resetCounts();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await login(lambda)).status).toBe(200);
      expect(secrets.count('GetSecretValue')).toBe(1);
    }, 30_000);

    it.each([
      ['an HTML page', '<html><body>502 Bad Gateway</body></html>'],
      ['a cut-off body', '{"ARN":"arn:aws:secretsmanager:us-east-1:1:secret:x","SecretStr'],
      ['a JSON object that is not its answer', '{"message":"ok"}'],
    ])(
      'answering 200 with %s: an outage, so the last good value serves, else 503',
      async (_name, body) => {
        const warm = await coldFunction(await newSecret(), 1);
        expect((await login(warm)).status).toBe(200);
        secrets.mode = { ok200: body };
        await new Promise((resolve) => setTimeout(resolve, 1100));

        const stale = await login(warm);

        expect(stale.status).toBe(200);
        expect(logLines(warm)).toContainEqual(
          expect.objectContaining({
            level: 'WARN',
            reason: expect.stringMatching(/HTTP 200 with/),
          }),
        );

        const cold = await coldFunction(await newSecret());
        const down = await login(cold);

        expect(down.status).toBe(503);
        expect(down.body).toMatchObject({ code: 'secret_unavailable' });
      },
      30_000,
    );

    it('the secret deleted: 503 secret_unavailable when nothing is cached, then recovers when it is back', async () => {
      const name = await newSecret();
      await moto.deleteSecret(name);
      const lambda = await coldFunction(name);

      const gone = await login(lambda);

      expect(gone.status).toBe(503);
      expect(gone.body).toMatchObject({ code: 'secret_unavailable' });
      expect(logLines(lambda)).toContainEqual(
        expect.objectContaining({ reason: expect.stringMatching(/ResourceNotFoundException/) }),
      );

      await moto.createSecret(name, singleAppSecret());
      expect((await login(lambda)).status).toBe(200);
    });

    it('the secret rotated between two requests: one forced re-read, one retried exchange', async () => {
      const name = await newSecret();
      const lambda = await coldFunction(name);
      expect((await login(lambda)).status).toBe(200);
      await moto.putSecret(name, singleAppSecret(ROTATED_APP_SECRET));
      wechat.reset();
      secrets.resetCounts();
      wechat.script(errcode(40125, 'invalid appsecret'), ok());

      const rotated = await login(lambda);

      expect(rotated.status).toBe(200);
      expect(wechat.calls.map((call) => call.secret)).toEqual([APP_SECRET, ROTATED_APP_SECRET]);
      expect(secrets.count('GetSecretValue')).toBe(1);
    });
    it('a malformed secret under traffic: 20 sequential logins read it twice in all', async () => {
      const lambda = await coldFunction(await newSecret('{"appId": "wx4f4bc4dec97d474b"'));

      const answers = [];
      for (let request = 0; request < 20; request++) answers.push(await login(lambda));

      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(500));
      expect(answers[19]?.body).toMatchObject({ code: 'misconfigured' });
      // The read at start-up, and one forced re-read; the next waits FORCED_READ_EVERY_MS.
      expect(secrets.count('GetSecretValue')).toBe(2);
      expect(wechat.calls).toHaveLength(0);
    });

    it('a secret WeChat rejects (40125) under traffic: 20 sequential logins read it twice in all', async () => {
      const lambda = await coldFunction(await newSecret());
      wechat.fallback = errcode(40125, 'invalid appsecret');

      const answers = [];
      for (let request = 0; request < 20; request++) answers.push(await login(lambda));

      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(500));
      expect(secrets.count('GetSecretValue')).toBe(2);
      expect(wechat.calls).toHaveLength(20);
    });
  });

  describe('WeChat', () => {
    let lambda: LambdaProcess;
    beforeAll(async () => {
      lambda = await coldFunction(await newSecret());
    }, 30_000);

    const rows = [
      [
        'slow beyond the timeout',
        { kind: 'delay', ms: WECHAT_TIMEOUT_MS + 300, reply: ok() },
        504,
        'upstream_timeout',
        1,
      ],
      ['resetting connections', { kind: 'reset' }, 502, 'upstream_error', 1],
      ['answering -1 repeatedly', errcode(-1, 'system error'), 503, 'upstream_busy', 3],
      ['answering 45011', errcode(45011, 'minute-quota reach limit'), 429, 'rate_limited', 1],
      [
        'answering garbage',
        { kind: 'raw', status: 200, contentType: 'text/html', body: '<html>\u0000' },
        502,
        'upstream_error',
        1,
      ],
      [
        'answering truncated JSON',
        { kind: 'raw', body: '{"openid":"oVBk' },
        502,
        'upstream_error',
        1,
      ],
    ] as const;

    // The reply goes last: the title formats only the first four values.
    const titled = rows.map(
      ([name, reply, status, code, calls]) => [name, status, code, calls, reply] as const,
    );
    it.each(titled)(
      '%s → %i %s after %i call(s), then recovers',
      async (_name, status, code, calls, reply) => {
        wechat.fallback = reply;

        const faulty = await login(lambda);

        expect(faulty.status).toBe(status);
        expect(faulty.body).toMatchObject({ code });
        if (status === 429 || status === 503)
          expect(faulty.headers['retry-after']).toMatch(/^\d+$/);
        expect(wechat.calls).toHaveLength(calls);

        wechat.reset();
        expect((await login(lambda)).status).toBe(200);
        expect(wechat.calls).toHaveLength(1);
      },
    );
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
