/**
 * "A verified phone number, kept" (docs: POST /phone, DELETE /me, access tokens), through the
 * handler the Lambda runs, on moto's Secrets Manager, KMS and DynamoDB and a fake WeChat that
 * speaks stable_token and getuserphonenumber.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { phoneWechatMs, wechatTotalMs } from '../../functions/commons/budgets.ts';
import {
  accessToken,
  errcode,
  PHONE_PATH,
  phoneInfo,
  type Reply,
  STABLE_TOKEN_PATH,
} from '../../harness/fake-wechat.ts';
import {
  ACCESS_TOKEN,
  APP_ID,
  APP_SECRET,
  OTHER_APP_ID,
  PHONE_CODE,
  ROTATED_APP_SECRET,
  singleAppSecret,
} from '../../harness/fixtures.ts';
import { freePort, motoAvailable, requireMotoInCi } from '../../harness/moto.ts';
import { rememberSensitive } from '../support/leak-guard.ts';
import {
  bodyOf,
  claimsFor,
  claimsOf,
  deleteMeEvent,
  itemOf,
  logIn,
  phoneEvent,
  routeEvent,
  startUsersRig,
  type UsersRig,
  verified,
  WECHAT_TIMEOUT_MS,
} from '../support/users-rig.ts';

requireMotoInCi();

let rig: UsersRig;
let users = 0;
/** A user of its own per test, so that no test sees another's record. */
const newOpenid = () => `oPhoneTestUser${String(++users).padStart(14, '0')}`;
let phoneCodes = 0;
/** A phone code of its own per call: WeChat's work once. */
const newPhoneCode = () => {
  const code = `${PHONE_CODE}-${++phoneCodes}`;
  rememberSensitive(code);
  return code;
};

const problem = (result: { body?: string; headers?: Record<string, unknown> }) => ({
  ...bodyOf(result),
  contentType: result.headers?.['content-type'],
});

describe.skipIf(!motoAvailable)('POST /phone through the Lambda handler', () => {
  beforeAll(async () => {
    rig = await startUsersRig();
  });
  afterAll(() => rig?.close());
  beforeEach(() => rig.fresh());

  describe('a number WeChat verifies', () => {
    it('answers the openid, the number in E.164, its country code and a token that carries it', async () => {
      // Prepare
      const handler = rig.handler();
      const openid = newOpenid();
      const code = newPhoneCode();

      // Act
      const result = await handler(phoneEvent(code, claimsFor(openid)));

      // Assess
      const body = bodyOf(result);
      expect(result.statusCode).toBe(200);
      expect(result.headers).toMatchObject({
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      expect(Object.keys(body)).toEqual([
        'openid',
        'phoneNumber',
        'countryCode',
        'token',
        'expiresIn',
      ]);
      expect(body).toMatchObject({
        openid,
        phoneNumber: '+8613800138000',
        countryCode: '86',
        expiresIn: 7200,
      });
      const claims = await verified(handler, String(body.token));
      expect(claims).toMatchObject({
        sub: openid,
        aud: APP_ID,
        phone_number: '+8613800138000',
        scope: 'phone',
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(body.expiresIn);
    });

    it("asks WeChat with the token's openid and a stable token fetched in normal mode", async () => {
      // Prepare
      const handler = rig.handler();
      const openid = newOpenid();
      const code = newPhoneCode();

      // Act
      await handler(phoneEvent(code, claimsFor(openid)));

      // Assess
      const [token, ...moreTokens] = rig.wechat.callsTo(STABLE_TOKEN_PATH);
      expect(moreTokens).toEqual([]);
      // Exactly these fields: never force_refresh, which would invalidate every other caller's.
      expect(token?.body).toEqual({
        grant_type: 'client_credential',
        appid: APP_ID,
        secret: APP_SECRET,
      });
      expect(token?.accessToken).toBeUndefined();
      expect(rig.wechat.callsTo(PHONE_PATH)).toEqual([
        expect.objectContaining({ accessToken: ACCESS_TOKEN, body: { code, openid } }),
      ]);
    });

    it('writes a number outside the mainland as + country code + purePhoneNumber', async () => {
      // Prepare: WeChat's own phoneNumber is not E.164 there.
      const handler = rig.handler();
      rig.wechat.forPath(PHONE_PATH, [
        phoneInfo({ countryCode: '852', purePhoneNumber: '51234567', phoneNumber: '51234567' }),
      ]);

      // Act
      const result = await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      const body = bodyOf(result);
      expect(result.statusCode).toBe(200);
      expect(body).toMatchObject({ phoneNumber: '+85251234567', countryCode: '852' });
      expect(await verified(handler, String(body.token))).toMatchObject({
        phone_number: '+85251234567',
        scope: 'phone',
      });
    });

    it('keeps the number on the DynamoDB item, and nothing it must not keep', async () => {
      // Prepare
      const handler = rig.handler();
      const openid = newOpenid();
      const code = newPhoneCode();
      const before = Math.floor(Date.now() / 1000);

      // Act
      const result = await handler(phoneEvent(code, claimsFor(openid)));

      // Assess
      const item = await itemOf(rig, openid);
      expect(result.statusCode).toBe(200);
      expect(item).toMatchObject({
        id: { S: `${APP_ID}#${openid}` },
        phoneNumber: { S: '+8613800138000' },
        countryCode: { S: '86' },
        phoneVerifiedAt: { N: expect.stringMatching(/^\d+$/) },
        createdAt: { N: expect.any(String) },
        lastLoginAt: { N: expect.any(String) },
      });
      expect(Number(item?.phoneVerifiedAt?.N)).toBeGreaterThanOrEqual(before);
      const stored = JSON.stringify(item);
      for (const value of [code, ACCESS_TOKEN, String(bodyOf(result).token)])
        expect(stored).not.toContain(value);
    });

    it('answers the kept number at the next login, with phone claims, without asking WeChat for it again', async () => {
      // Prepare
      const handler = rig.handler();
      const openid = newOpenid();
      expect((await logIn(handler, rig.wechat, 'first-login-code', openid)).status).toBe(200);
      const bound = await handler(phoneEvent(newPhoneCode(), claimsFor(openid)));
      expect(bound.statusCode).toBe(200);
      rig.wechat.reset();

      // Act: a new environment, a new code.
      const next = rig.handler();
      const { status, body } = await logIn(next, rig.wechat, 'second-login-code', openid);

      // Assess
      expect(status).toBe(200);
      expect(body).toMatchObject({ openid, phoneNumber: '+8613800138000', countryCode: '86' });
      expect(await verified(next, String(body.token))).toMatchObject({
        sub: openid,
        phone_number: '+8613800138000',
        scope: 'phone',
      });
      expect(rig.wechat.callsTo(PHONE_PATH)).toEqual([]);
      expect(rig.wechat.callsTo(STABLE_TOKEN_PATH)).toEqual([]);
    });

    it('logs the number masked, the outcome ok, and never the phone code or the access token', async () => {
      // Prepare
      const handler = rig.handler();
      const code = newPhoneCode();

      // Act
      const result = await handler(phoneEvent(code, claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(200);
      expect(rig.lines).toHaveLength(1);
      expect(rig.lines[0]).toMatchObject({
        route: 'POST /phone',
        outcome: 'ok',
        phone: '+86138****8000',
        PhoneBinds: 1,
      });
      expect(rig.lines[0]).not.toHaveProperty('reason');
      const text = rig.written.join('\n');
      for (const value of ['13800138000', code, ACCESS_TOKEN]) expect(text).not.toContain(value);
      expect(result.body).not.toContain(ACCESS_TOKEN);
    });
  });

  describe('each failure of the contract table', () => {
    it('answers 401 unauthorized when the event carries no verified claims, before WeChat', async () => {
      // Act
      const result = await rig.handler()(phoneEvent(newPhoneCode()));

      // Assess
      expect(result.statusCode).toBe(401);
      expect(problem(result)).toMatchObject({
        code: 'unauthorized',
        contentType: 'application/problem+json',
      });
      expect(rig.wechat.calls).toEqual([]);
    });

    it.each<[string, string | undefined]>([
      ['no body', undefined],
      ['a body that is not JSON', '{"code": '],
      ['a body that is not an object', '["code"]'],
      ['no code', '{}'],
      ['a code that is not a string', '{"code": 40029}'],
      ['a blank code', '{"code": "  "}'],
      ['a code over 128 characters', JSON.stringify({ code: 'c'.repeat(129) })],
      ['a code with characters outside [A-Za-z0-9_-]', '{"code": "abc def"}'],
    ])('answers %s with 400 invalid_request, before WeChat', async (_what, body) => {
      // Act
      const result = await rig.handler()(
        routeEvent({ method: 'POST', path: '/phone' }, body, claimsFor(newOpenid())),
      );

      // Assess
      expect(result.statusCode).toBe(400);
      expect(problem(result)).toMatchObject({ code: 'invalid_request', status: 400 });
      expect(String(bodyOf(result).detail)).toMatch(/getPhoneNumber/);
      expect(rig.wechat.calls).toEqual([]);
    });

    it('answers 40029 with 400 invalid_phone_code and errcode 40029, asking once', async () => {
      // Prepare
      rig.wechat.forPath(PHONE_PATH, [errcode(40029, 'invalid code')]);

      // Act
      const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(400);
      expect(problem(result)).toMatchObject({ code: 'invalid_phone_code', errcode: 40029 });
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(1);
    });

    it('answers 45011 with 429 rate_limited and Retry-After', async () => {
      // Prepare
      rig.wechat.forPath(PHONE_PATH, [errcode(45011, 'api minute-quota reach limit')]);

      // Act
      const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(429);
      expect(result.headers?.['retry-after']).toMatch(/^\d+$/);
      expect(problem(result)).toMatchObject({ code: 'rate_limited', errcode: 45011 });
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(1);
    });

    it('answers -1 three times with 503 upstream_busy and Retry-After, after at most 3 calls', async () => {
      // Prepare: busy for longer than the retry goes on.
      rig.wechat.forPath(PHONE_PATH, [], errcode(-1, 'system error'));

      // Act
      const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(503);
      expect(result.headers?.['retry-after']).toMatch(/^\d+$/);
      expect(problem(result)).toMatchObject({ code: 'upstream_busy', errcode: -1 });
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(3);
    });

    it('answers a silent WeChat with 504 upstream_timeout after WECHAT_TIMEOUT_MS, never sending the phone code again', async () => {
      // Prepare
      rig.wechat.forPath(PHONE_PATH, [], { kind: 'hang' });
      const code = newPhoneCode();

      // Act
      const started = performance.now();
      const result = await rig.handler()(phoneEvent(code, claimsFor(newOpenid())));
      const elapsed = performance.now() - started;

      // Assess
      expect(result.statusCode).toBe(504);
      expect(problem(result)).toMatchObject({ code: 'upstream_timeout' });
      expect(String(bodyOf(result).detail)).toMatch(/phone number button again/);
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(1);
      expect(elapsed).toBeGreaterThanOrEqual(WECHAT_TIMEOUT_MS - 5);
      expect(elapsed).toBeLessThan(wechatTotalMs(WECHAT_TIMEOUT_MS));
    });

    it('answers a connection reset after the phone code went out with 502 upstream_error, never sending it again', async () => {
      // Prepare
      rig.wechat.forPath(PHONE_PATH, [], { kind: 'reset' });

      // Act
      const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(502);
      expect(problem(result)).toMatchObject({ code: 'upstream_error' });
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(1);
    });

    it('answers an unreachable WeChat with 502 upstream_error', async () => {
      // Prepare: nothing listens there.
      const handler = rig.handler({ WECHAT_API_BASE_URL: `http://127.0.0.1:${await freePort()}` });

      // Act
      const result = await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(502);
      expect(problem(result)).toMatchObject({ code: 'upstream_error' });
    });

    const HTML: Reply = {
      kind: 'raw',
      status: 200,
      contentType: 'text/html',
      body: '<html><body>gateway</body></html>',
    };
    it.each<[string, Reply, RegExp]>([
      ['a non-JSON answer', HTML, /not JSON/],
      ['an HTTP error page', { ...HTML, status: 502 }, /HTTP 502/],
      ['an unknown errcode', errcode(99999, 'something new'), /99999/],
      [
        'a success without phone_info',
        { kind: 'json', body: { errcode: 0, errmsg: 'ok' } },
        /phone_info/,
      ],
      ['a watermark of another AppID', phoneInfo({ appid: OTHER_APP_ID }), /watermark/],
    ])('answers %s with 502 upstream_error', async (_what, reply, reason) => {
      // Prepare
      rig.wechat.forPath(PHONE_PATH, [reply]);

      // Act
      const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(502);
      expect(problem(result)).toMatchObject({ code: 'upstream_error' });
      expect(rig.lines.at(-1)).toMatchObject({
        outcome: 'upstream_error',
        reason: expect.stringMatching(reason),
      });
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(1);
    });

    it.each([40013, 40125, 41002, 41004])(
      'answers stable_token %i with 500 misconfigured after one forced re-read of the secret',
      async (code) => {
        // Prepare
        rig.wechat.forPath(STABLE_TOKEN_PATH, [], errcode(code, 'invalid appid or appsecret'));

        // Act
        const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

        // Assess
        expect(result.statusCode).toBe(500);
        expect(problem(result)).toMatchObject({ code: 'misconfigured', errcode: code });
        expect(String(bodyOf(result).detail)).toMatch(/AppID\/AppSecret/);
        // The first read, and the forced one; the value did not change, so no second token call.
        expect(rig.secrets.count('GetSecretValue')).toBe(2);
        expect(rig.wechat.callsTo(STABLE_TOKEN_PATH)).toHaveLength(1);
        expect(rig.wechat.callsTo(PHONE_PATH)).toEqual([]);
      },
    );

    it('fetches the token again with a rotated AppSecret found by the forced re-read, and answers the number', async () => {
      // Prepare: the environment read the secret before the operator rotated it.
      const handler = rig.handler();
      expect((await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid())))).statusCode).toBe(
        200,
      );
      rig.fresh();
      await rig.moto.putSecret(rig.secretArn, singleAppSecret(ROTATED_APP_SECRET));
      try {
        rig.wechat.forPath(STABLE_TOKEN_PATH, [errcode(40125, 'invalid appsecret')]);
        rig.wechat.forPath(PHONE_PATH, [errcode(40001, 'invalid credential')]);

        // Act: WeChat refuses the kept token, then the old AppSecret.
        const result = await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

        // Assess
        expect(result.statusCode).toBe(200);
        expect(rig.wechat.callsTo(STABLE_TOKEN_PATH).map((call) => call.body?.secret)).toEqual([
          APP_SECRET,
          ROTATED_APP_SECRET,
        ]);
        expect(rig.secrets.count('GetSecretValue')).toBe(1);
      } finally {
        await rig.moto.putSecret(rig.secretArn, singleAppSecret());
      }
    });

    it('answers stable_token 40243 (a frozen AppSecret) with 500 misconfigured, saying so in the detail and the log', async () => {
      // Prepare
      rig.wechat.forPath(STABLE_TOKEN_PATH, [], errcode(40243, 'appsecret frozen'));

      // Act
      const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(500);
      expect(problem(result)).toMatchObject({ code: 'misconfigured', errcode: 40243 });
      expect(String(bodyOf(result).detail)).toMatch(/frozen/);
      expect(String(bodyOf(result).detail)).toMatch(/AppSecret/);
      expect(rig.lines.at(-1)).toMatchObject({ reason: expect.stringMatching(/frozen/) });
      expect(rig.wechat.callsTo(PHONE_PATH)).toEqual([]);
    });

    it.each<[number, string]>([
      [40164, STABLE_TOKEN_PATH],
      [61004, STABLE_TOKEN_PATH],
      [40164, PHONE_PATH],
      [61004, PHONE_PATH],
    ])(
      'answers %i (IP not on the allow-list) from %s with 500 misconfigured, the detail naming the allow-list',
      async (code, path) => {
        // Prepare
        rig.wechat.forPath(path, [], errcode(code, 'invalid ip, not in whitelist'));

        // Act
        const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

        // Assess
        expect(result.statusCode).toBe(500);
        expect(problem(result)).toMatchObject({ code: 'misconfigured', errcode: code });
        expect(String(bodyOf(result).detail)).toMatch(/IP allow-list/);
        expect(String(bodyOf(result).detail)).not.toMatch(/AppSecret/);
      },
    );

    it('answers 503 secret_unavailable with Retry-After when Secrets Manager fails and nothing is cached', async () => {
      // Prepare
      rig.secrets.mode = 'error500';

      // Act
      const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(503);
      expect(result.headers?.['retry-after']).toMatch(/^\d+$/);
      expect(problem(result)).toMatchObject({ code: 'secret_unavailable' });
      expect(rig.wechat.calls).toEqual([]);
    });

    it('answers 503 session_unavailable with Retry-After when KMS cannot sign the new token, keeping the number', async () => {
      // Prepare: a warm environment, its public key read; then KMS fails.
      const handler = rig.handler();
      expect((await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid())))).statusCode).toBe(
        200,
      );
      rig.fresh();
      rig.kms.mode = 'error500';
      const openid = newOpenid();

      // Act
      const result = await handler(phoneEvent(newPhoneCode(), claimsFor(openid)));

      // Assess
      expect(result.statusCode).toBe(503);
      expect(result.headers?.['retry-after']).toMatch(/^\d+$/);
      expect(problem(result)).toMatchObject({ code: 'session_unavailable' });
      expect(rig.kms.count('Sign')).toBeGreaterThan(0);
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(1);
      // Paid for and verified: kept, so the next login's token carries it.
      expect((await itemOf(rig, openid))?.phoneNumber?.S).toMatch(/^\+86\d+$/);
    });

    it('answers misconfigured without asking WeChat for the number when the signing key is unusable', async () => {
      // Prepare: a cold environment whose signing key KMS refuses for good.
      rig.kms.mode = { awsError: 'DisabledException' };
      const handler = rig.handler();

      // Act
      const result = await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess: no lookup bought for a number no token could carry.
      expect(result.statusCode).toBe(500);
      expect(problem(result)).toMatchObject({ code: 'misconfigured' });
      expect(String(bodyOf(result).detail)).toMatch(/session signing key/);
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(0);
    });
  });

  describe('access tokens', () => {
    it('makes exactly one stable_token call for 50 concurrent requests of a cold environment', async () => {
      // Prepare
      const handler = rig.handler();
      const events = Array.from({ length: 50 }, () =>
        phoneEvent(newPhoneCode(), claimsFor(newOpenid())),
      );

      // Act
      const results = await Promise.all(events.map((event) => handler(event)));

      // Assess
      expect(results.map((result) => result.statusCode)).toEqual(Array(50).fill(200));
      expect(rig.wechat.callsTo(STABLE_TOKEN_PATH)).toHaveLength(1);
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(50);
    }, 30_000);

    it('keeps the token for the next requests of the environment', async () => {
      // Prepare
      const handler = rig.handler();

      // Act
      for (let i = 0; i < 3; i++) await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(rig.wechat.callsTo(STABLE_TOKEN_PATH)).toHaveLength(1);
      expect(rig.wechat.callsTo(PHONE_PATH).map((call) => call.accessToken)).toEqual(
        Array(3).fill(ACCESS_TOKEN),
      );
    });

    it.each([40001, 40014, 42001])(
      'drops a token WeChat refuses with %i, fetches one more and asks once more with it',
      async (code) => {
        // Prepare
        const [first, second] = [`${ACCESS_TOKEN}-first`, `${ACCESS_TOKEN}-second`];
        rememberSensitive(first, second);
        rig.wechat.forPath(STABLE_TOKEN_PATH, [accessToken(first), accessToken(second)]);
        rig.wechat.forPath(PHONE_PATH, [errcode(code, 'invalid credential')]);
        const phoneCode = newPhoneCode();

        // Act
        const result = await rig.handler()(phoneEvent(phoneCode, claimsFor(newOpenid())));

        // Assess
        expect(result.statusCode).toBe(200);
        expect(rig.wechat.callsTo(STABLE_TOKEN_PATH)).toHaveLength(2);
        const asked = rig.wechat.callsTo(PHONE_PATH);
        expect(asked.map((call) => call.accessToken)).toEqual([first, second]);
        // A refused token spends no phone code: the same one is asked about again.
        expect(asked.map((call) => call.body?.code)).toEqual([phoneCode, phoneCode]);
        for (const call of rig.wechat.callsTo(STABLE_TOKEN_PATH))
          expect(call.body).not.toHaveProperty('force_refresh');
      },
    );

    it('answers a second refusal with 502 upstream_error, after one renewal only', async () => {
      // Prepare
      rig.wechat.forPath(PHONE_PATH, [], errcode(40001, 'invalid credential'));

      // Act
      const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));

      // Assess
      expect(result.statusCode).toBe(502);
      expect(problem(result)).toMatchObject({ code: 'upstream_error', errcode: 40001 });
      expect(rig.wechat.callsTo(STABLE_TOKEN_PATH)).toHaveLength(2);
      expect(rig.wechat.callsTo(PHONE_PATH)).toHaveLength(2);
    });

    it('never puts an access token in an answer or a log line', async () => {
      // Prepare: every path that touches one, success and failures.
      const handler = rig.handler();
      const results = [await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid())))];
      rig.wechat.forPath(PHONE_PATH, [
        errcode(40001, `invalid credential, access_token is ${ACCESS_TOKEN}`),
        errcode(42001, 'access_token expired'),
        errcode(99999, 'unknown'),
      ]);

      // Act
      results.push(await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid()))));
      results.push(await handler(phoneEvent(newPhoneCode(), claimsFor(newOpenid()))));

      // Assess
      for (const result of results) expect(JSON.stringify(result)).not.toContain(ACCESS_TOKEN);
      expect(rig.written.join('\n')).not.toContain(ACCESS_TOKEN);
      expect(rig.written.join('\n')).not.toContain('access_token');
    });
  });

  describe('time bounds', () => {
    it('ends all its WeChat calls within their shared budget when every call is slow and busy', async () => {
      // Prepare: each call answers late and -1 twice before it succeeds, and the first phone
      // call's token is refused, so that four calls each stay within their own budget while
      // together they would take far longer than the route's.
      const late = (reply: Reply): Reply => ({ kind: 'delay', ms: WECHAT_TIMEOUT_MS - 100, reply });
      const busy = late(errcode(-1, 'system error'));
      rig.wechat.forPath(STABLE_TOKEN_PATH, [busy, busy, late(accessToken())], late(accessToken()));
      rig.wechat.forPath(PHONE_PATH, [
        busy,
        busy,
        late(errcode(40001)),
        busy,
        busy,
        late(phoneInfo()),
      ]);

      // Act
      const started = performance.now();
      const result = await rig.handler()(phoneEvent(newPhoneCode(), claimsFor(newOpenid())));
      const elapsed = performance.now() - started;

      // Assess: the budget the function's timeout is derived from (functions/commons/budgets.ts),
      // with room for the secret read and the signing.
      expect(elapsed).toBeLessThan(phoneWechatMs(WECHAT_TIMEOUT_MS) + 500);
      expect([502, 503, 504]).toContain(result.statusCode);
    }, 20_000);
  });

  describe('DELETE /me', () => {
    it('erases the record from the table and answers 204, also the second time', async () => {
      // Prepare
      const handler = rig.handler();
      const openid = newOpenid();
      await logIn(handler, rig.wechat, 'login-before-erasure', openid);
      expect((await handler(phoneEvent(newPhoneCode(), claimsFor(openid)))).statusCode).toBe(200);
      expect(await itemOf(rig, openid)).toBeDefined();

      // Act
      const first = await handler(deleteMeEvent(claimsFor(openid)));
      const second = await handler(deleteMeEvent(claimsFor(openid)));

      // Assess
      expect(first.statusCode).toBe(204);
      expect(first.body ?? '').toBe('');
      expect(second.statusCode).toBe(204);
      expect(await itemOf(rig, openid)).toBeUndefined();
      expect(rig.dynamodb.count('DeleteItem')).toBe(2);
    });

    it('forgets the number: the next login answers none and its token carries no phone claims', async () => {
      // Prepare
      const handler = rig.handler();
      const openid = newOpenid();
      expect((await handler(phoneEvent(newPhoneCode(), claimsFor(openid)))).statusCode).toBe(200);
      expect((await handler(deleteMeEvent(claimsFor(openid)))).statusCode).toBe(204);

      // Act
      const { body } = await logIn(handler, rig.wechat, 'login-after-erasure', openid);

      // Assess
      expect(body).not.toHaveProperty('phoneNumber');
      expect(body).not.toHaveProperty('countryCode');
      const claims = await verified(handler, String(body.token));
      expect(claims).not.toHaveProperty('phone_number');
      expect(claims).not.toHaveProperty('scope');
    });

    it('answers 401 unauthorized without claims, erasing nothing', async () => {
      // Act
      const result = await rig.handler()(deleteMeEvent());

      // Assess
      expect(result.statusCode).toBe(401);
      expect(rig.dynamodb.count('DeleteItem')).toBe(0);
    });
  });

  it('reads the claims of a real token as API Gateway passes them', async () => {
    // Prepare: a login's own token, its claims stringified as API Gateway does.
    const handler = rig.handler();
    const openid = newOpenid();
    const { body } = await logIn(handler, rig.wechat, 'login-for-claims', openid);
    const claims = claimsOf(await verified(handler, String(body.token)));

    // Act
    const result = await handler(phoneEvent(newPhoneCode(), claims));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ openid });
  });
});
