import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWechatClient } from '../../functions/adapters/wechat-client.ts';
import type { RequestTrace } from '../../functions/domain/ports.ts';
import { isRefusedToken, Problem } from '../../functions/domain/problem.ts';
import {
  accessToken,
  errcode,
  type FakeWechat,
  PHONE_PATH,
  phoneInfo,
  STABLE_TOKEN_PATH,
  startFakeWechat,
} from '../../harness/fake-wechat.ts';
import { APP_ID, APP_SECRET, CODE, OPENID } from '../../harness/fixtures.ts';

let wechat: FakeWechat;
beforeAll(async () => {
  wechat = await startFakeWechat();
});
afterAll(() => wechat.close());
beforeEach(() => wechat.reset());

const app = { appId: APP_ID, appSecret: APP_SECRET };
const newTrace = (): RequestTrace => ({ calls: 0, wechatMs: 0 });
const client = (options: { timeoutMs?: number; baseUrl?: string; budgetMs?: number } = {}) =>
  createWechatClient({
    baseUrl: new URL(options.baseUrl ?? wechat.url),
    timeoutMs: options.timeoutMs ?? 500,
    retryDelayMs: 20,
    ...(options.budgetMs !== undefined && { budgetMs: options.budgetMs }),
  });

async function failure(promise: Promise<unknown>): Promise<Problem> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Problem);
  return error as Problem;
}

describe('the code2Session request', () => {
  it('URL-encodes every value and asks for grant_type authorization_code', async () => {
    const odd = { appId: APP_ID, appSecret: 'a&b=c d/é' };

    await client().code2Session(odd, 'x_-y', newTrace());

    expect(wechat.calls[0]).toEqual({
      appid: APP_ID,
      secret: 'a&b=c d/é',
      jsCode: 'x_-y',
      grantType: 'authorization_code',
      path: '/sns/jscode2session',
    });
  });

  it('keeps a path prefix of the base URL (a proxy in front of WeChat)', async () => {
    await client({ baseUrl: `${wechat.url}/wechat` }).code2Session(app, CODE, newTrace());

    expect(wechat.calls[0]?.path).toBe('/wechat/sns/jscode2session');
  });
});

describe('a successful answer', () => {
  it('is parsed whatever the content type, with the session_key apart for the sealer alone', async () => {
    wechat.script({
      kind: 'json',
      contentType: 'text/plain',
      body: { openid: OPENID, session_key: 'k', unionid: 'u1' },
    });

    const session = await client().code2Session(app, CODE, newTrace());

    // The login takes the session_key off before anything else sees the user (domain/login.ts).
    expect(session).toEqual({ openid: OPENID, unionid: 'u1', sessionKey: 'k' });
  });

  it('counts the call and its latency in the trace', async () => {
    const trace = newTrace();

    await client().code2Session(app, CODE, trace);

    expect(trace.calls).toBe(1);
    expect(trace.wechatMs).toBeGreaterThan(0);
  });
});

describe('retries', () => {
  it.each([40029, 40163, '40029', 40226, 45011, 40125])(
    'never retries errcode %s',
    async (code) => {
      wechat.fallback = errcode(code);

      await failure(client().code2Session(app, CODE, newTrace()));

      expect(wechat.calls).toHaveLength(1);
    },
  );

  it('retries -1 (busy) up to 3 calls in all', async () => {
    wechat.fallback = errcode(-1);
    const trace = newTrace();

    const error = await failure(client().code2Session(app, CODE, trace));

    expect(error.code).toBe('upstream_busy');
    expect(wechat.calls).toHaveLength(3);
    expect(trace).toMatchObject({ calls: 3, errcode: -1 });
  });

  it('does not retry a timeout: the code may have been consumed', async () => {
    wechat.script({ kind: 'hang' });

    const error = await failure(client({ timeoutMs: 200 }).code2Session(app, CODE, newTrace()));

    expect(error.code).toBe('upstream_timeout');
    expect(wechat.calls).toHaveLength(1);
  });

  it('does not retry a connection reset after the request was sent', async () => {
    wechat.script({ kind: 'reset' });

    const error = await failure(client().code2Session(app, CODE, newTrace()));

    expect(error.code).toBe('upstream_error');
    expect(wechat.calls).toHaveLength(1);
  });

  it('retries a connection refused before anything was sent, then answers upstream_error', async () => {
    const port = await closedPort();
    const trace = newTrace();
    const started = performance.now();

    const error = await failure(
      client({ baseUrl: `http://127.0.0.1:${port}` }).code2Session(app, CODE, trace),
    );

    expect(error.code).toBe('upstream_error');
    expect(trace.calls).toBe(3);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('retries a connection that never comes up, then answers upstream_error (not a timeout) within the budget', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const trace = newTrace();
    const started = performance.now();
    try {
      const unreachable = createWechatClient({
        baseUrl: new URL(`https://127.0.0.1:${port}`),
        timeoutMs: 1000,
        connectTimeoutMs: 200,
        retryDelayMs: 20,
      });

      const error = await failure(unreachable.code2Session(app, CODE, trace));

      expect(error.code).toBe('upstream_error');
      expect(trace.calls).toBe(3);
      expect(performance.now() - started).toBeLessThan(2500);
    } finally {
      silent.close();
    }
  });

  it('answers an unreachable WeChat within 5 s with the default configuration (contract time bound)', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const started = performance.now();
    try {
      const defaults = createWechatClient({
        baseUrl: new URL(`https://127.0.0.1:${port}`),
        timeoutMs: 3000,
      });

      const error = await failure(defaults.code2Session(app, CODE, newTrace()));

      expect(error.code).toBe('upstream_error');
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });

  it('stops retrying when the budget is spent', async () => {
    wechat.fallback = { kind: 'delay', ms: 150, reply: errcode(-1) };

    const error = await failure(
      client({ timeoutMs: 1000, budgetMs: 250 }).code2Session(app, CODE, newTrace()),
    );

    expect(error.code).toBe('upstream_busy');
    expect(wechat.calls).toHaveLength(1);
  });
});

describe('unusable answers are upstream_error', () => {
  it.each([
    [
      'an HTML page with HTTP 502',
      { kind: 'raw', status: 502, contentType: 'text/html', body: '<html/>' },
    ],
    ['HTTP 500 with JSON', { kind: 'json', status: 500, body: { openid: OPENID } }],
    ['an empty body', { kind: 'raw', body: '' }],
    ['truncated JSON', { kind: 'raw', body: '{"openid":"o' }],
    ['a JSON array', { kind: 'json', body: [1] }],
    ['an openid that is a number', { kind: 'json', body: { openid: 42 } }],
    ['an errcode that is not a number', { kind: 'json', body: { errcode: 'abc', openid: OPENID } }],
    ['a body over 64 KiB', { kind: 'raw', body: `{"openid":"${'o'.repeat(70_000)}"}` }],
  ] as const)('%s', async (_name, reply) => {
    wechat.script(reply);

    expect((await failure(client().code2Session(app, CODE, newTrace()))).code).toBe(
      'upstream_error',
    );
  });

  it('keeps an unknown errcode for the caller', async () => {
    wechat.script(errcode(40001));

    expect((await failure(client().code2Session(app, CODE, newTrace()))).errcode).toBe(40001);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = http.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('stable_token', () => {
  it('asks in normal mode with the app credentials and answers the token and its lifetime', async () => {
    wechat.forPath(STABLE_TOKEN_PATH, [accessToken('TOKEN-A', 7000)]);

    const token = await client().stableToken(app, newTrace());

    expect(token).toEqual({ token: 'TOKEN-A', expiresInSeconds: 7000 });
    expect(wechat.callsTo(STABLE_TOKEN_PATH)[0]?.body).toEqual({
      grant_type: 'client_credential',
      appid: APP_ID,
      secret: APP_SECRET,
    });
  });

  it.each([
    [40013, 'secret', undefined],
    [40125, 'secret', undefined],
    [40243, 'secret', /frozen/],
    [40164, 'ip_allowlist', /allow-list/],
    [61004, 'ip_allowlist', /allow-list/],
  ])('answers errcode %i as misconfigured about the %s', async (code, subject, reason) => {
    wechat.forPath(STABLE_TOKEN_PATH, [errcode(code)]);

    const problem = await failure(client().stableToken(app, newTrace()));

    expect(problem.code).toBe('misconfigured');
    expect(problem.facts).toMatchObject({ errcode: code, subject });
    if (reason) expect(problem.reason).toMatch(reason);
  });

  it('answers a success without a token as upstream_error', async () => {
    wechat.forPath(STABLE_TOKEN_PATH, [{ kind: 'json', body: { expires_in: 7200 } }]);

    const problem = await failure(client().stableToken(app, newTrace()));

    expect(problem.code).toBe('upstream_error');
    expect(problem.reason).toMatch(/no access token/);
  });
});

describe('getuserphonenumber', () => {
  it("posts the phone code with the token's openid and the access token in the query", async () => {
    wechat.forPath(PHONE_PATH, [phoneInfo({ purePhoneNumber: '51234567', countryCode: '852' })]);

    const phone = await client().phoneNumber('TOKEN-B', 'phone-code-1', OPENID, newTrace());

    expect(phone).toEqual({
      purePhoneNumber: '51234567',
      countryCode: '852',
      watermarkAppId: APP_ID,
    });
    const [call] = wechat.callsTo(PHONE_PATH);
    expect(call?.body).toEqual({ code: 'phone-code-1', openid: OPENID });
    expect(call?.accessToken).toBe('TOKEN-B');
  });

  it.each([
    [40029, 'invalid_phone_code'],
    [45011, 'rate_limited'],
    [40013, 'misconfigured'],
  ])('answers errcode %i as %s', async (code, expected) => {
    wechat.forPath(PHONE_PATH, [errcode(code)]);

    const problem = await failure(client().phoneNumber('TOKEN', 'phone-code', OPENID, newTrace()));

    expect(problem.code).toBe(expected);
    expect(problem.errcode).toBe(code);
  });

  it.each([40001, 40014, 42001])('marks errcode %i as a refused access token', async (code) => {
    wechat.forPath(PHONE_PATH, [errcode(code)]);

    const problem = await failure(client().phoneNumber('TOKEN', 'phone-code', OPENID, newTrace()));

    expect(problem.code).toBe('upstream_error');
    expect(isRefusedToken(problem)).toBe(true);
  });

  it.each([
    ['no phone_info', { errcode: 0, errmsg: 'ok' }],
    [
      'a number that is not digits',
      { errcode: 0, phone_info: { purePhoneNumber: '+86 138', countryCode: '86' } },
    ],
    ['no country code', { errcode: 0, phone_info: { purePhoneNumber: '13800138000' } }],
  ])('answers a success with %s as upstream_error', async (_what, body) => {
    wechat.forPath(PHONE_PATH, [{ kind: 'json', body }]);

    const problem = await failure(client().phoneNumber('TOKEN', 'phone-code', OPENID, newTrace()));

    expect(problem.code).toBe('upstream_error');
    expect(problem.reason).toMatch(/phone_info/);
  });

  it("calls WeChat no more once the request's shared deadline has passed", async () => {
    const trace = { ...newTrace(), wechatDeadline: performance.now() - 1 };

    const problem = await failure(client().phoneNumber('TOKEN', 'phone-code', OPENID, trace));

    expect(problem.code).toBe('upstream_timeout');
    expect(wechat.calls).toHaveLength(0);
  });
});
