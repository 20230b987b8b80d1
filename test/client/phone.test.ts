/**
 * bindPhone(), and login() once a number is bound, against the fake backend: the contract's
 * `POST /phone` and `POST /openid` wire format, on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, rejection } from '../support/client.ts';
import {
  type FakeBackend,
  OPENID,
  PHONE_NUMBER,
  problem,
  startFakeBackend,
} from '../support/fake-backend.ts';
import { standInWx } from '../support/wx-runtime.ts';

let backend: FakeBackend;
beforeAll(async () => {
  backend = await startFakeBackend();
});
afterAll(() => backend?.close());

const setup = (storage = new Map<string, string>()) => {
  const standIn = standInWx(storage);
  const client = createClient({ baseUrl: backend.baseUrl, wx: standIn.wx });
  // Requests are counted from here: the backend is shared by the file's tests.
  const from = backend.received.length;
  const sent = (route: string) =>
    backend.received.slice(from).filter((r) => `${r.method} ${r.path}` === route);
  return { standIn, client, sent, storage };
};

/** A fresh phone code: the backend, like WeChat, takes each one once. */
let codes = 0;
const phoneCode = () => `phone-code-${++codes}`;

describe('bindPhone()', () => {
  it('logs in first, posts the code with the session and resolves the number', async () => {
    const { standIn, client, sent } = setup();
    const code = phoneCode();

    const phone = await client.bindPhone({ errMsg: 'getPhoneNumber:ok', code });

    expect(phone).toEqual({ phoneNumber: PHONE_NUMBER, countryCode: '86' });
    expect(standIn.issuedCodes).toHaveLength(1);
    const [login] = sent('POST /openid');
    const [request] = sent('POST /phone');
    expect(request?.body).toEqual({ code });
    expect(request?.authorization).toMatch(/^Bearer fake-token-\d+$/);
    expect(login).toBeDefined();
  });

  it('takes the bare code as well as the event detail', async () => {
    const { client, sent } = setup();
    const code = phoneCode();

    const phone = await client.bindPhone(code);

    expect(phone.phoneNumber).toBe(PHONE_NUMBER);
    expect(sent('POST /phone').map((r) => r.body)).toEqual([{ code }]);
  });

  it('keeps the new session, which carries the number, so login() resolves it with no wx.login', async () => {
    // Prepare
    const { client, storage } = setup();
    const before = await client.login();
    const sentAt = Math.floor(Date.now() / 1000);

    // Act
    await client.bindPhone(phoneCode());
    const after = await client.login();
    const restarted = await setup(storage).client.login();

    // Assess
    expect(after.token).not.toBe(before.token);
    expect(after).toMatchObject({ openid: OPENID, phoneNumber: PHONE_NUMBER, countryCode: '86' });
    expect(after.expiresAt).toBeGreaterThanOrEqual(sentAt + 7200);
    expect(after.expiresAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 7200);
    expect(restarted).toEqual(after);
  });

  it('never stores the phone code', async () => {
    const { client, storage } = setup();
    const code = phoneCode();

    await client.bindPhone(code);

    expect(storage.size).toBe(1);
    expect(JSON.stringify([...storage.values()])).not.toContain(code);
  });

  it.each([
    [
      'the quota is used up (errno 1400001), checked before anything else',
      { errMsg: 'getPhoneNumber:fail user deny', errno: 1400001, code: 'phone-code-x' },
      'phone_quota_exhausted',
    ],
    ['the user declined', { errMsg: 'getPhoneNumber:fail user deny' }, 'phone_denied'],
    [
      'the user declined, in any case, even with a code',
      { errMsg: 'getPhoneNumber:fail:user DENY', code: 'phone-code-y' },
      'phone_denied',
    ],
    [
      'an old base library gave encryptedData and no code',
      { errMsg: 'getPhoneNumber:ok', encryptedData: 'c2VhbGVk', iv: 'aXY=' },
      'phone_code_missing',
    ],
    ['the code is empty', { errMsg: 'getPhoneNumber:ok', code: '' }, 'phone_code_missing'],
    ['the bare code is empty', '', 'phone_code_missing'],
  ])('rejects, with status 0 and no request, when %s', async (_, detail, code) => {
    const { standIn, client, sent } = setup();

    const error = await rejection(
      client.bindPhone(detail as Parameters<typeof client.bindPhone>[0]),
    );

    expect(error).toMatchObject({ name: 'WeappOpenidError', code, status: 0 });
    expect(error.detail.length).toBeGreaterThan(10);
    expect(standIn.calls).toEqual([]);
    expect(sent('POST /phone')).toHaveLength(0);
  });

  it('says which base library gives a code when there is none', async () => {
    const { client } = setup();

    const error = await rejection(client.bindPhone({ errMsg: 'getPhoneNumber:ok' }));

    expect(error.detail).toContain('2.21.2');
    expect(error.detail).toContain('getPhoneNumber:ok');
  });

  it('on a 401 logs in again once and sends the same code once more', async () => {
    const { standIn, client, sent } = setup();
    await client.login();
    const code = phoneCode();
    backend.script('POST /phone', problem(401, 'unauthorized'));

    const phone = await client.bindPhone(code);

    expect(phone.phoneNumber).toBe(PHONE_NUMBER);
    const posts = sent('POST /phone');
    expect(posts.map((r) => r.body)).toEqual([{ code }, { code }]);
    expect(posts[1]?.authorization).not.toBe(posts[0]?.authorization);
    expect(sent('POST /openid')).toHaveLength(2);
    expect(standIn.issuedCodes).toHaveLength(2);
  });

  it('rejects unauthorized after a second 401, never a third request, and forgets the session', async () => {
    const { standIn, client, sent, storage } = setup();
    backend.script('POST /phone', problem(401, 'unauthorized'), problem(401, 'unauthorized'));

    const error = await rejection(client.bindPhone(phoneCode()));

    expect(error).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(sent('POST /phone')).toHaveLength(2);
    expect(sent('POST /openid')).toHaveLength(2);
    expect(standIn.issuedCodes).toHaveLength(2);
    expect(storage.size).toBe(0);
  });

  it('rejects invalid_phone_code with WeChat errcode and request id, once, keeping the session', async () => {
    const { client, sent, storage } = setup();
    const session = await client.login();
    const code = phoneCode();
    await client.bindPhone(code);
    const bound = await client.login();

    const error = await rejection(client.bindPhone(code));

    expect(error).toMatchObject({ code: 'invalid_phone_code', status: 400, errcode: 40029 });
    expect(error.requestId).toMatch(/^fake-\d+$/);
    expect(sent('POST /phone')).toHaveLength(2);
    expect(bound.token).not.toBe(session.token);
    expect(JSON.stringify([...storage.values()])).toContain(bound.token);
  });

  it('rejects rate_limited with the Retry-After seconds, without another request', async () => {
    const { client, sent } = setup();
    backend.script(
      'POST /phone',
      problem(429, 'rate_limited', { errcode: 45011 }, { 'retry-after': '60' }),
    );

    const error = await rejection(client.bindPhone(phoneCode()));

    expect(error).toMatchObject({
      code: 'rate_limited',
      status: 429,
      retryAfter: 60,
      errcode: 45011,
    });
    expect(sent('POST /phone')).toHaveLength(1);
  });

  it('keeps the unionid of the session it replaces (the answer has none)', async () => {
    const { standIn, client } = setup();
    standIn.codes.push('with-unionid-1');
    const session = await client.login();

    await client.bindPhone(phoneCode());

    expect(session.unionid).toBeTruthy();
    expect((await client.login()).unionid).toBe(session.unionid);
  });
});

describe('login() with a bound number', () => {
  it('resolves the phoneNumber and countryCode the backend answers', async () => {
    backend.users.set(OPENID, { phoneNumber: PHONE_NUMBER, countryCode: '86' });
    const { client } = setup();

    const session = await client.login();

    expect(session).toMatchObject({ phoneNumber: PHONE_NUMBER, countryCode: '86' });
  });

  it('resolves them from the stored session after a restart, with no wx.login', async () => {
    backend.users.set(OPENID, { phoneNumber: PHONE_NUMBER, countryCode: '86' });
    const first = setup();
    const session = await first.client.login();

    const { standIn, client } = setup(first.storage);
    const again = await client.login();

    expect(again).toEqual(session);
    expect(again.phoneNumber).toBe(PHONE_NUMBER);
    expect(standIn.calls).toEqual([]);
  });

  it('resolves no phone fields when none is bound', async () => {
    backend.users.delete(OPENID);
    const { client } = setup();

    const session = await client.login();

    expect(Object.keys(session).sort()).toEqual(['expiresAt', 'openid', 'token']);
  });
});
