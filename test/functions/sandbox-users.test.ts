/**
 * The sandbox's users and phone numbers (npm start with no credentials), over HTTP through the
 * local server and its stand-in for API Gateway's authorizer: one user per AppID as on WeChat,
 * `sandbox-user-NAME-` codes for others, numbers that stay bound, phone codes that work once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import type { SANDBOX_PHONE_CODES } from '../../functions/local/sandbox-wechat.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { APP_ID, OTHER_APP_ID, referer } from '../../harness/fixtures.ts';
import { rememberSensitive, rememberToken } from '../support/leak-guard.ts';

let servers: LocalServer[];
let server: LocalServer;
let codes = 0;
/** A login code of its own per login: the sandbox, as WeChat, takes each once. */
const newCode = (prefix = 'sandbox-users-login') => `${prefix}-${++codes}`;
let phoneCodes = 0;
const newPhoneCode = () => {
  const code = `sandbox-users-phone-code-${++phoneCodes}`;
  rememberSensitive(code);
  return code;
};

async function call(
  on: LocalServer,
  method: string,
  path: string,
  options: { body?: unknown; appId?: string; token?: string } = {},
) {
  const response = await fetch(new URL(path, on.url), {
    method,
    headers: {
      'content-type': 'application/json',
      referer: referer(options.appId ?? APP_ID),
      ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const body = (text === '' ? {} : JSON.parse(text)) as Record<string, string>;
  if (typeof body.token === 'string') rememberToken(body.token);
  return { status: response.status, headers: response.headers, body };
}

const login = (code: string, appId = APP_ID, on = server) =>
  call(on, 'POST', '/openid', { body: { code }, appId });
const bindPhone = (token: string, code: string, appId = APP_ID, on = server) =>
  call(on, 'POST', '/phone', { body: { code }, token, appId });
const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

beforeAll(async () => {
  const config = loadConfig({ PORT: '0' });
  // To stdout, where the leak guard reads every line for the phone codes and tokens.
  const log = createLogger({}, (line) => process.stdout.write(`${line}\n`));
  servers = [
    await startLocalServer(config, log, '127.0.0.1'),
    await startLocalServer(config, log, '127.0.0.1'),
  ];
  [server] = servers as [LocalServer];
});
afterAll(() => Promise.all(servers?.map((each) => each.close()) ?? []));

describe('the sandbox’s users', () => {
  it('logs every code of one AppID in as the same user, and another AppID as another', async () => {
    // Act
    const first = await login(newCode());
    const second = await login(newCode());
    const other = await login(newCode(), OTHER_APP_ID);

    // Assess
    expect([first.status, second.status, other.status]).toEqual([200, 200, 200]);
    expect(second.body.openid).toBe(first.body.openid);
    expect(other.body.openid).not.toBe(first.body.openid);
  });

  it('logs sandbox-user-NAME- codes in as the user NAME, one openid per name', async () => {
    // Act
    const own = await login(newCode());
    const alice = await login(newCode('sandbox-user-alice'));
    const aliceAgain = await login(newCode('sandbox-user-alice'));
    const bob = await login(newCode('sandbox-user-Bob42'));

    // Assess
    expect(aliceAgain.body.openid).toBe(alice.body.openid);
    expect(new Set([own.body.openid, alice.body.openid, bob.body.openid]).size).toBe(3);
  });
});

describe('phone numbers in the sandbox', () => {
  it('answers a well-formed phone code with a mainland mobile number and a token carrying it', async () => {
    // Prepare
    const { body: session } = await login(newCode('sandbox-user-phone1'));

    // Act
    const { status, body } = await bindPhone(session.token ?? '', newPhoneCode());

    // Assess
    expect(status).toBe(200);
    expect(body.openid).toBe(session.openid);
    expect(body.phoneNumber).toMatch(/^\+861\d{10}$/);
    expect(body.countryCode).toBe('86');
    expect(claims(body.token ?? '')).toMatchObject({
      sub: session.openid,
      phone_number: body.phoneNumber,
      scope: 'phone',
    });
  });

  it('keeps a bound number: the next login answers it and its token carries it', async () => {
    // Prepare
    const { body: session } = await login(newCode('sandbox-user-phone2'));
    const { body: bound } = await bindPhone(session.token ?? '', newPhoneCode());

    // Act
    const { status, body } = await login(newCode('sandbox-user-phone2'));

    // Assess
    expect(status).toBe(200);
    expect(body).toMatchObject({
      openid: session.openid,
      phoneNumber: bound.phoneNumber,
      countryCode: '86',
    });
    expect(claims(body.token ?? '')).toMatchObject({
      phone_number: bound.phoneNumber,
      scope: 'phone',
    });
  });

  it('takes a phone code once: a second use is 400 invalid_phone_code', async () => {
    // Prepare
    const { body: session } = await login(newCode('sandbox-user-phone3'));
    const code = newPhoneCode();
    const first = await bindPhone(session.token ?? '', code);

    // Act
    const second = await bindPhone(session.token ?? '', code);

    // Assess
    expect(first.status).toBe(200);
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ code: 'invalid_phone_code', errcode: 40029 });
  });

  it('gives the same number for the same (AppID, user, code), and another for another user', async () => {
    // Prepare: the same code on a second sandbox, which has not seen it used.
    const code = newPhoneCode();
    const mine = (await login(newCode('sandbox-user-phone4'))).body.token ?? '';
    const again = (await login(newCode('sandbox-user-phone4'), APP_ID, servers[1])).body.token;
    const theirs = (await login(newCode('sandbox-user-phone5'), APP_ID, servers[1])).body.token;

    // Act
    const first = await bindPhone(mine, code);
    const same = await bindPhone(again ?? '', code, APP_ID, servers[1]);
    const other = await bindPhone(theirs ?? '', code, APP_ID, servers[1]);

    // Assess
    expect(same.body.phoneNumber).toBe(first.body.phoneNumber);
    expect(other.body.phoneNumber).toMatch(/^\+861\d{10}$/);
    expect(other.body.phoneNumber).not.toBe(first.body.phoneNumber);
  });

  it.each<[keyof typeof SANDBOX_PHONE_CODES, number, string]>([
    ['sandbox-phone-invalid', 400, 'invalid_phone_code'],
    ['sandbox-phone-rate-limited', 429, 'rate_limited'],
  ])('answers the phone code %s with %i %s', async (code, status, problem) => {
    // Prepare
    const { body: session } = await login(newCode());

    // Act
    const { status: answered, headers, body } = await bindPhone(session.token ?? '', code);

    // Assess
    expect(answered).toBe(status);
    expect(headers.get('content-type')).toBe('application/problem+json');
    expect(body.code).toBe(problem);
    if (status === 429) expect(headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('answers POST /phone without a token with 401 unauthorized', async () => {
    // Act
    const { status, headers, body } = await call(server, 'POST', '/phone', {
      body: { code: newPhoneCode() },
    });

    // Assess
    expect(status).toBe(401);
    expect(headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(body.code).toBe('unauthorized');
  });

  it('forgets the number on DELETE /me: 204, and the next login answers none', async () => {
    // Prepare
    const { body: session } = await login(newCode('sandbox-user-phone6'));
    await bindPhone(session.token ?? '', newPhoneCode());

    // Act
    const erased = await call(server, 'DELETE', '/me', { token: session.token ?? '' });
    const again = await call(server, 'DELETE', '/me', { token: session.token ?? '' });
    const { body } = await login(newCode('sandbox-user-phone6'));

    // Assess
    expect(erased.status).toBe(204);
    expect(again.status).toBe(204);
    expect(body.openid).toBe(session.openid);
    expect(body).not.toHaveProperty('phoneNumber');
    expect(claims(body.token ?? '')).not.toHaveProperty('phone_number');
  });
});
