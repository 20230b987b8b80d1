import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FORCED_READ_EVERY_MS } from '../../functions/commons/budgets.ts';
import { loginEvent as event, json } from '../../harness/events.ts';
import { errcode, ok, type Reply } from '../../harness/fake-wechat.ts';
import {
  APP_ID,
  APP_SECRET,
  CODE,
  multiAppSecret,
  OPENID,
  OTHER_APP_ID,
  OTHER_APP_SECRET,
  ROTATED_APP_SECRET,
  referer,
  SESSION_KEY,
  singleAppSecret,
  UNIONID,
} from '../../harness/fixtures.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { SECRET_CACHE_TTL_SECONDS: '0' } });
});
afterAll(() => app.close());
beforeEach(() => {
  // Each test is a moment of its own, past the previous one's forced re-read.
  app.later(FORCED_READ_EVERY_MS);
  app.wechat.reset();
  app.secret.value = singleAppSecret();
  app.secret.reads = 0;
});

const login = (body: unknown = { code: CODE }, headers: Record<string, string> = {}) =>
  app.handler(event(typeof body === 'string' ? body : JSON.stringify(body), { headers }));

function expectProblem(result: Awaited<ReturnType<typeof login>>, status: number, code: string) {
  expect(result.statusCode).toBe(status);
  expect(result.headers?.['content-type']).toBe('application/problem+json');
  expect(result.headers?.['cache-control']).toBe('no-store');
  const body = json(result);
  expect(body).toMatchObject({ status, code, type: `urn:weapp-openid:problem:${code}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(typeof body.requestId).toBe('string');
  expect(result.body).not.toContain(CODE);
  expect(result.body).not.toContain(APP_SECRET);
  expect(result.body).not.toContain(SESSION_KEY);
  return body;
}

describe('a valid code', () => {
  it('answers 200 with the openid only, never the session_key', async () => {
    const result = await login();

    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    expect(json(result)).toEqual({ openid: OPENID });
    expect(result.body).not.toContain(SESSION_KEY);
    expect(app.wechat.calls).toEqual([
      {
        appid: APP_ID,
        secret: APP_SECRET,
        jsCode: CODE,
        grantType: 'authorization_code',
        path: '/sns/jscode2session',
      },
    ]);
  });

  it('adds the unionid when WeChat gives one', async () => {
    app.wechat.script(ok(OPENID, { unionid: UNIONID }));

    expect(json(await login())).toEqual({ openid: OPENID, unionid: UNIONID });
  });

  it('accepts success answered with errcode 0 and errmsg ok', async () => {
    app.wechat.script(ok(OPENID, { errcode: 0, errmsg: 'ok' }));

    expect((await login()).statusCode).toBe(200);
  });

  it('decodes a base64 body as API Gateway sends it', async () => {
    const result = await app.handler(event(JSON.stringify({ code: CODE }), { base64: true }));

    expect(result.statusCode).toBe(200);
  });

  it('ignores unknown body fields', async () => {
    expect((await login({ code: CODE, nickname: 'x', extra: { a: 1 } })).statusCode).toBe(200);
  });
});

describe('a bad request is answered 400 invalid_request without calling WeChat', () => {
  const cases: [string, string | undefined][] = [
    ['a missing body', undefined],
    ['an empty body', ''],
    ['a body that is not JSON', `{"code": "${CODE}"`],
    ['a JSON array', '[1,2]'],
    ['JSON null', 'null'],
    ['a JSON string', '"abc"'],
    ['no code', '{"appid":"wx4f4bc4dec97d474b"}'],
    ['a numeric code', '{"code":12345}'],
    ['a null code', '{"code":null}'],
    ['an object code', '{"code":{"a":1}}'],
    ['an empty code', '{"code":""}'],
    ['a blank code', '{"code":"   "}'],
    ['a code longer than 128 characters', JSON.stringify({ code: 'a'.repeat(129) })],
    ['a code with a space', '{"code":"abc def"}'],
    ['a code with a plus sign', '{"code":"abc+def"}'],
    ['a code with unicode', '{"code":"abcé"}'],
    ['a code with a newline', '{"code":"abc\\ndef"}'],
    ['an appid that is not a string', `{"code":"${CODE}","appid":42}`],
    ['an inherited code only', '{"__proto__":{"code":"abc"}}'],
  ];
  it.each(cases)('%s', async (_name, body) => {
    const result = await app.handler(event(body));

    expectProblem(result, 400, 'invalid_request');
    expect(app.wechat.calls).toHaveLength(0);
  });

  it('accepts a code of exactly 128 characters', async () => {
    expect((await login({ code: 'a'.repeat(128) })).statusCode).toBe(200);
  });

  it('never quotes the input, even when JSON.parse would', async () => {
    const result = await app.handler(event(`{"code": "${CODE}", oops}`));

    expect(expectProblem(result, 400, 'invalid_request').detail).not.toContain('oops');
  });

  it('answers invalid_request for a base64 body that is not base64', async () => {
    const result = await app.handler({
      ...event('x'),
      body: '!!not*base64!!',
      isBase64Encoded: true,
    });

    expectProblem(result, 400, 'invalid_request');
  });
});

describe('a body larger than 16 KiB', () => {
  it('is answered 413 payload_too_large', async () => {
    const result = await login({ code: CODE, pad: 'x'.repeat(16 * 1024) });

    expectProblem(result, 413, 'payload_too_large');
    expect(app.wechat.calls).toHaveLength(0);
  });

  it('is counted as received, before base64 decoding', async () => {
    // 13 KiB of JSON is 17.3 KiB once base64-encoded.
    const body = JSON.stringify({ code: CODE, pad: 'x'.repeat(13 * 1024) });
    expect((await app.handler(event(body))).statusCode).toBe(200);
    expectProblem(await app.handler(event(body, { base64: true })), 413, 'payload_too_large');
  });

  it('accepts exactly 16 KiB', async () => {
    const prefix = `{"code":"${CODE}","pad":"`;
    const body = `${prefix}${'x'.repeat(16 * 1024 - prefix.length - 2)}"}`;
    expect(body.length).toBe(16 * 1024);

    expect((await app.handler(event(body))).statusCode).toBe(200);
  });
});

describe('app selection', () => {
  it('uses the single configured app when the request names none', async () => {
    await login();

    expect(app.wechat.calls[0]?.appid).toBe(APP_ID);
  });

  it("takes the AppID from wx.request's Referer, also for trial (version 0) builds", async () => {
    app.secret.value = multiAppSecret();

    await login({ code: CODE }, { referer: referer(OTHER_APP_ID, '0') });

    expect(app.wechat.calls[0]).toMatchObject({ appid: OTHER_APP_ID, secret: OTHER_APP_SECRET });
  });

  it("lets the Referer's AppID win over the body's appid", async () => {
    app.secret.value = multiAppSecret();

    await login({ code: CODE, appid: APP_ID }, { Referer: referer(OTHER_APP_ID, '12') });

    expect(app.wechat.calls[0]?.appid).toBe(OTHER_APP_ID);
  });

  it("uses the body's appid when there is no usable Referer", async () => {
    app.secret.value = multiAppSecret();

    await login(
      { code: CODE, appid: OTHER_APP_ID },
      { referer: 'https://example.com/wx4f4bc4dec97d474b/1/page-frame.html' },
    );

    expect(app.wechat.calls[0]?.appid).toBe(OTHER_APP_ID);
  });

  it.each([
    ['another host', 'https://evil.example/wx0123456789abcdef/1/page-frame.html'],
    ['plain http', 'http://servicewechat.com/wx0123456789abcdef/1/page-frame.html'],
    ['another page', 'https://servicewechat.com/wx0123456789abcdef/1/index.html'],
    ['a suffix', 'https://servicewechat.com/wx0123456789abcdef/1/page-frame.html?x=1'],
  ])('ignores a Referer of any other shape (%s)', async (_name, value) => {
    const result = await login({ code: CODE }, { referer: value });

    expect(result.statusCode).toBe(200);
    expect(app.wechat.calls[0]?.appid).toBe(APP_ID);
  });

  it('answers appid_mismatch naming both AppIDs when the Referer names another app', async () => {
    const result = await login({ code: CODE }, { referer: referer(OTHER_APP_ID) });

    const body = expectProblem(result, 400, 'appid_mismatch');
    expect(body.detail).toContain(OTHER_APP_ID);
    expect(body.detail).toContain(APP_ID);
    expect(app.wechat.calls).toHaveLength(0);
  });

  it("answers appid_mismatch when the body's appid is not configured", async () => {
    expectProblem(await login({ code: CODE, appid: OTHER_APP_ID }), 400, 'appid_mismatch');
    expect(app.wechat.calls).toHaveLength(0);
  });

  it('answers appid_mismatch when several apps are configured and the request names none', async () => {
    app.secret.value = multiAppSecret();

    const body = expectProblem(await login(), 400, 'appid_mismatch');
    expect(body.detail).toContain(APP_ID);
    expect(body.detail).toContain(OTHER_APP_ID);
    expect(app.wechat.calls).toHaveLength(0);
  });
});

describe("WeChat's answers", () => {
  const rows: [string, Reply, number, string, number | undefined][] = [
    ['40029 (invalid code)', errcode(40029, 'invalid code'), 400, 'invalid_code', 40029],
    ['"40029" as a string', errcode('40029', 'invalid code'), 400, 'invalid_code', 40029],
    ['40163 (code used)', errcode(40163, 'code been used'), 400, 'code_used', 40163],
    ['40226 (high-risk user)', errcode(40226), 403, 'user_blocked', 40226],
    ['45011 (minute quota)', errcode(45011), 429, 'rate_limited', 45011],
    ['an unknown errcode', errcode(48001, 'api unauthorized'), 502, 'upstream_error', 48001],
    [
      'success without openid',
      { kind: 'json', body: { session_key: SESSION_KEY } },
      502,
      'upstream_error',
      undefined,
    ],
    [
      'an HTML error page',
      { kind: 'raw', status: 502, contentType: 'text/html', body: '<html>502</html>' },
      502,
      'upstream_error',
      undefined,
    ],
    ['an empty body', { kind: 'raw', body: '' }, 502, 'upstream_error', undefined],
    ['a body that is not JSON', { kind: 'raw', body: 'ok' }, 502, 'upstream_error', undefined],
    ['a reset connection', { kind: 'reset' }, 502, 'upstream_error', undefined],
    ['no answer within the timeout', { kind: 'hang' }, 504, 'upstream_timeout', undefined],
  ];
  // The reply goes last: the title formats only the first three values.
  const titled = rows.map(
    ([name, reply, status, code, errcode]) => [name, status, code, errcode, reply] as const,
  );
  it.each(titled)(
    '%s → %i %s, after exactly one call',
    async (_name, status, code, expectedErrcode, reply) => {
      app.wechat.script(reply);

      const body = expectProblem(await login(), status, code);

      expect(body.errcode).toBe(expectedErrcode);
      expect(app.wechat.calls).toHaveLength(1);
    },
  );

  it('sends Retry-After with rate_limited', async () => {
    app.wechat.script(errcode(45011));

    expect((await login()).headers?.['retry-after']).toMatch(/^\d+$/);
  });

  it('retries -1 (busy) at most twice, then answers 503 upstream_busy with Retry-After', async () => {
    app.wechat.fallback = errcode(-1, 'system error');

    const result = await login();

    expect(expectProblem(result, 503, 'upstream_busy').errcode).toBe(-1);
    expect(result.headers?.['retry-after']).toMatch(/^\d+$/);
    expect(app.wechat.calls).toHaveLength(3);
  });

  it('logs in when WeChat recovers from -1 on a retry', async () => {
    app.wechat.script(errcode(-1), ok());

    expect((await login()).statusCode).toBe(200);
    expect(app.wechat.calls).toHaveLength(2);
  });

  it('answers 502 upstream_error when WeChat is unreachable', async () => {
    const closed = await startTestApp({ env: { WECHAT_API_BASE_URL: 'http://127.0.0.1:9' } });
    try {
      expectProblem(
        await closed.handler(event(JSON.stringify({ code: CODE }))),
        502,
        'upstream_error',
      );
    } finally {
      await closed.close();
    }
  });
});

describe('credentials WeChat rejects', () => {
  it.each([40013, 40125, 41002, 41004])(
    'errcode %i re-reads the secret once and answers 500 misconfigured when it is unchanged',
    async (code) => {
      app.wechat.script(errcode(code, 'invalid appsecret'));

      const body = expectProblem(await login(), 500, 'misconfigured');

      expect(body.errcode).toBe(code);
      expect(body.detail).toMatch(/operator must check/);
      expect(app.secret.reads).toBe(2);
      expect(app.wechat.calls).toHaveLength(1);
    },
  );

  it('retries once with the rotated AppSecret when the re-read finds a new one', async () => {
    app.wechat.script(errcode(40125, 'invalid appsecret'), ok());
    const handler = app.handler;
    const first = handler(event(JSON.stringify({ code: CODE })));
    app.secret.value = singleAppSecret(ROTATED_APP_SECRET);

    expect((await first).statusCode).toBe(200);
    expect(app.wechat.calls.map((call) => call.secret)).toEqual([APP_SECRET, ROTATED_APP_SECRET]);
  });
});

describe('the secret', () => {
  it.each([
    ['not JSON', 'appsecret-plain-text'],
    ['neither format', '{"foo":"bar"}'],
    [
      'an AppID of the wrong shape',
      JSON.stringify({ appId: 'REPLACE_WITH_YOUR_APPID', appSecret: APP_SECRET }),
    ],
    ['an empty AppSecret', JSON.stringify({ appId: APP_ID, appSecret: '' })],
    ['empty apps', '{"apps":{}}'],
  ])(
    'answers 500 misconfigured when the value is %s, and logs why without the value',
    async (_name, value) => {
      app.secret.value = value;

      expectProblem(await login(), 500, 'misconfigured');

      const line = app.lines.at(-1);
      expect(line).toMatchObject({ outcome: 'misconfigured' });
      expect(typeof line?.reason).toBe('string');
      expect(JSON.stringify(line)).not.toContain(APP_SECRET);
      expect(app.wechat.calls).toHaveLength(0);
    },
  );

  it('answers 503 secret_unavailable with Retry-After when Secrets Manager fails and nothing is cached', async () => {
    const cold = await startTestApp();
    cold.secret.value = new Error('connect ECONNREFUSED');
    try {
      const result = await cold.handler(event(JSON.stringify({ code: CODE })));

      expectProblem(result, 503, 'secret_unavailable');
      expect(result.headers?.['retry-after']).toMatch(/^\d+$/);
      expect(cold.lines.at(-1)).toMatchObject({
        outcome: 'secret_unavailable',
        reason: 'connect ECONNREFUSED',
      });
    } finally {
      await cold.close();
    }
  });

  it('keeps serving the last good value, with a warning, when a read after the TTL fails', async () => {
    await login({ code: 'warm-the-cache' });
    app.secret.value = new Error('connect ECONNREFUSED');

    expect((await login()).statusCode).toBe(200);
    expect(app.lines).toContainEqual(
      expect.objectContaining({ level: 'WARN', reason: 'connect ECONNREFUSED' }),
    );
  });
});

describe('anything unexpected', () => {
  it('is answered 500 internal_error and logged with the error', async () => {
    const broken = await startTestApp({
      credentials: () => ({
        get: () => Promise.reject(new TypeError('boom')),
        refresh: () => Promise.reject(new TypeError('boom')),
      }),
    });
    try {
      const body = expectProblem(
        await broken.handler(event(JSON.stringify({ code: CODE }))),
        500,
        'internal_error',
      );
      expect(body.detail).not.toContain('boom');
      expect(broken.lines.at(-1)).toMatchObject({
        outcome: 'internal_error',
        error: { name: 'TypeError', message: 'boom' },
      });
    } finally {
      await broken.close();
    }
  });
});

describe('the log line', () => {
  it('is one JSON line per request with the request id, outcome, errcode, latency and cold start', async () => {
    const fresh = await startTestApp();
    try {
      fresh.wechat.script(ok(), errcode(40029));
      const first = await fresh.handler(
        event(JSON.stringify({ code: CODE }), { requestId: 'first-id=' }),
      );
      const second = await fresh.handler(
        event(JSON.stringify({ code: CODE }), { requestId: 'second-id=' }),
      );

      expect(first.statusCode).toBe(200);
      expect(json(second).requestId).toBe('second-id=');
      expect(fresh.lines).toHaveLength(2);
      expect(fresh.lines[0]).toMatchObject({
        requestId: 'first-id=',
        outcome: 'ok',
        coldStart: true,
        openid: 'oVBk****xXc4',
      });
      expect(fresh.lines[1]).toMatchObject({
        requestId: 'second-id=',
        outcome: 'invalid_code',
        errcode: 40029,
        coldStart: false,
      });
      for (const line of fresh.lines) expect(typeof line.wechatMs).toBe('number');
      expect(JSON.stringify(fresh.lines)).not.toContain(OPENID);
    } finally {
      await fresh.close();
    }
  });

  it('has wechatMs 0 when WeChat was not called', async () => {
    await login({ code: '' });

    expect(app.lines.at(-1)).toMatchObject({
      outcome: 'invalid_request',
      wechatCalls: 0,
      wechatMs: 0,
    });
  });

  it('declares the WechatLatency metric only when WeChat was called', async () => {
    const metricNames = () =>
      (
        app.lines.at(-1) as { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } }
      )._aws.CloudWatchMetrics[0]?.Metrics.map((metric) => metric.Name);

    await login({ code: '' });
    expect(metricNames()).toEqual(['Logins']);
    await login();
    expect(metricNames()).toEqual(['Logins', 'WechatLatency']);
    expect(app.lines.at(-1)?.WechatLatency).toEqual(expect.any(Number));
  });

  it('is also an EMF record counting logins by outcome', async () => {
    await login();

    const line = app.lines.at(-1) as {
      Logins: number;
      service: string;
      _aws: { CloudWatchMetrics: unknown[] };
    };
    expect(line.Logins).toBe(1);
    expect(line._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'WeappOpenid',
      Dimensions: [['service', 'outcome']],
    });
    expect(line.service).toBe('test');
  });
});
