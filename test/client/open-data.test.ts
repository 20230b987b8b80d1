/**
 * openData() against the fake backend, which keeps the session_key of the latest code it
 * exchanged and decrypts with it, and the stand-in wx, where each wx.login replaces the
 * session_key that wx.getWeRunData encrypts with: data fetched before a wx.login does not
 * decrypt after it, as on WeChat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, rejection } from '../support/client.ts';
import { type FakeBackend, OPENID, problem, startFakeBackend } from '../support/fake-backend.ts';
import { APP_ID, standInWx, type WeChatUser } from '../support/wx-runtime.ts';

let backend: FakeBackend;
beforeAll(async () => {
  backend = await startFakeBackend();
});
afterAll(() => backend?.close());

interface WeRun {
  readonly stepInfoList: { timestamp: number; step: number }[];
  readonly watermark: { appid: string; timestamp: number };
}

const setup = (storage = new Map<string, string>(), user: WeChatUser = {}) => {
  const standIn = standInWx(storage, user);
  const client = createClient({ baseUrl: backend.baseUrl, wx: standIn.wx });
  const from = backend.received.length;
  const sent = (route: string) =>
    backend.received.slice(from).filter((r) => `${r.method} ${r.path}` === route);
  const weRun = () => client.openData<WeRun>(() => standIn.wx.getWeRunData());
  /** The wx calls from here on. */
  const callsAfter = () => {
    const mark = standIn.calls.length;
    return () => standIn.calls.slice(mark);
  };
  return { standIn, client, sent, weRun, callsAfter };
};

describe('openData()', () => {
  it('with no session logs in, then fetches and posts, with no checkSession: the data decrypts', async () => {
    const { standIn, sent, weRun } = setup();

    const data = await weRun();

    expect(data.stepInfoList.map((day) => day.step)).toEqual(standIn.steps);
    expect(data.watermark.appid).toBe(APP_ID);
    expect(standIn.calls).toEqual(['login', 'request', 'getWeRunData', 'request']);
    expect(sent('POST /open-data')).toHaveLength(1);
  });

  it('posts only encryptedData and iv, with the session', async () => {
    const { client, sent, weRun } = setup();

    await weRun();

    const [post] = sent('POST /open-data');
    expect(Object.keys(post?.body ?? {}).sort()).toEqual(['encryptedData', 'iv']);
    expect(post?.authorization).toBe(`Bearer ${(await client.login()).token}`);
  });

  it('with a session from this launch asks wx.checkSession, then fetches, with no new login', async () => {
    const { client, weRun, callsAfter } = setup();
    await client.login();
    const calls = callsAfter();

    await weRun();

    expect(calls()).toEqual(['checkSession', 'getWeRunData', 'request']);
  });

  it('reuses the stored session after a restart when wx.checkSession says it holds', async () => {
    const first = setup();
    await first.client.login();
    const { standIn, weRun } = setup(first.standIn.storage, first.standIn.user);

    const data = await weRun();

    expect(data.stepInfoList).toHaveLength(standIn.steps.length);
    expect(standIn.calls).toEqual(['checkSession', 'getWeRunData', 'request']);
  });

  it('logs in afresh when wx.checkSession fails, then fetches, with no second check', async () => {
    const { standIn, client, weRun, callsAfter } = setup();
    await client.login();
    standIn.user.expired = true;
    const calls = callsAfter();

    await weRun();

    expect(calls()).toEqual(['checkSession', 'login', 'request', 'getWeRunData', 'request']);
  });

  it("logs in afresh, without checkSession, when the session is older than the client's last wx.login", async () => {
    // Prepare: a fresh login that failed after its wx.login: WeChat holds the new code's
    // session_key, the backend the old one, and checkSession would say all is well.
    const { standIn, client, sent, weRun, callsAfter } = setup();
    const session = await client.login();
    standIn.user.expired = true;
    backend.script('POST /openid', problem(503, 'session_unavailable', {}, { 'retry-after': '1' }));
    await rejection(weRun());
    expect(await client.login()).toEqual(session);
    const calls = callsAfter();

    // Act
    const data = await weRun();

    // Assess
    expect(data.watermark.appid).toBe(APP_ID);
    expect(calls()).toEqual(['login', 'request', 'getWeRunData', 'request']);
    expect(sent('POST /open-data')).toHaveLength(1);
  });

  it('avoids the classic failure: data fetched before a wx.login does not decrypt after it', async () => {
    // Prepare: what a page does by hand: fetch first, then log in (which calls wx.login and
    // replaces the session_key), then post.
    const byHand = setup();
    const sealed = await byHand.standIn.wx.getWeRunData();
    await byHand.client.login();

    // Act
    const stale = await byHand.client.request<{ code: string }>({
      url: '/open-data',
      method: 'POST',
      data: { encryptedData: sealed.encryptedData, iv: sealed.iv },
    });
    const { standIn, weRun } = setup();
    const data = await weRun();

    // Assess
    expect(stale.statusCode).toBe(409);
    expect(stale.data.code).toBe('session_key_stale');
    expect(data.stepInfoList).toHaveLength(3);
    expect(standIn.calls.indexOf('getWeRunData')).toBeGreaterThan(standIn.calls.indexOf('login'));
  });

  it('on session_key_stale logs in afresh, fetches once more and posts once more', async () => {
    // Prepare: another login of the user's replaced the session_key the backend keeps.
    const { client, sent, weRun, callsAfter } = setup();
    await client.login();
    const record = backend.users.get(OPENID);
    if (record) record.sessionKeyOf = 'a-login-elsewhere';
    const calls = callsAfter();

    // Act
    const data = await weRun();

    // Assess
    expect(data.watermark.appid).toBe(APP_ID);
    expect(calls()).toEqual([
      'checkSession',
      'getWeRunData',
      'request',
      'login',
      'request',
      'getWeRunData',
      'request',
    ]);
    expect(sent('POST /open-data')).toHaveLength(2);
  });

  it('on a 401 logs in again, fetches once more and posts once more with the new token', async () => {
    const { client, sent, weRun, callsAfter } = setup();
    const first = await client.login();
    backend.script('POST /open-data', problem(401, 'unauthorized'));
    const calls = callsAfter();

    await weRun();

    const posts = sent('POST /open-data');
    expect(posts.map((r) => r.authorization)).toEqual([
      `Bearer ${first.token}`,
      `Bearer ${(await client.login()).token}`,
    ]);
    expect(posts[1]?.authorization).not.toBe(posts[0]?.authorization);
    expect(calls()).toEqual([
      'checkSession',
      'getWeRunData',
      'request',
      'login',
      'request',
      'getWeRunData',
      'request',
    ]);
  });

  it.each([
    ['session_key_stale twice', 409, 'session_key_stale', 409, 'session_key_stale'],
    ['401 twice', 401, 'unauthorized', 401, 'unauthorized'],
    ['a 401, then session_key_stale', 401, 'unauthorized', 409, 'session_key_stale'],
    ['session_key_stale, then a 401', 409, 'session_key_stale', 401, 'unauthorized'],
  ])(
    'rejects after %s: two fetches, two posts, one login more, never a loop',
    async (_, s1, c1, s2, c2) => {
      const { standIn, sent, weRun } = setup();
      backend.script('POST /open-data', problem(s1, c1), problem(s2, c2));

      const error = await rejection(weRun());

      expect(error).toMatchObject({ code: c2, status: s2 });
      expect(sent('POST /open-data')).toHaveLength(2);
      expect(standIn.calls.filter((call) => call === 'getWeRunData')).toHaveLength(2);
      expect(standIn.calls.filter((call) => call === 'login')).toHaveLength(2);
      expect(sent('POST /openid')).toHaveLength(2);
      expect(standIn.calls).toHaveLength(8);
    },
  );

  it.each([
    ['open_data_mismatch', problem(400, 'open_data_mismatch')],
    ['store_unavailable', problem(503, 'store_unavailable', {}, { 'retry-after': '3' })],
    ['a 409 that is not session_key_stale', problem(409, 'conflict')],
  ])('rejects %s as it came, with no second fetch or post', async (_, answer) => {
    const { standIn, sent, weRun } = setup();
    backend.script('POST /open-data', answer);

    const error = await rejection(weRun());

    expect(error).toMatchObject({
      code: (answer.body as { code: string }).code,
      status: answer.status,
    });
    expect(error.requestId).toMatch(/^fake-\d+$/);
    if (answer.status === 503) expect(error.retryAfter).toBe(3);
    expect(sent('POST /open-data')).toHaveLength(1);
    expect(standIn.calls.filter((call) => call === 'getWeRunData')).toHaveLength(1);
  });

  it('rejects open_data_fetch_failed with the runtime errMsg when fetch fails, posting nothing', async () => {
    const { standIn, sent, weRun } = setup();
    standIn.failWeRun('auth deny');

    const error = await rejection(weRun());

    expect(error).toMatchObject({
      name: 'WeappOpenidError',
      code: 'open_data_fetch_failed',
      status: 0,
      detail: 'getWeRunData:fail auth deny',
    });
    expect(sent('POST /open-data')).toHaveLength(0);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('not supported here');
      },
      'not supported here',
    ],
    ['resolves no encryptedData', () => Promise.resolve({ errMsg: 'ok' }), 'encryptedData'],
  ])('rejects open_data_fetch_failed when fetch %s', async (_, fetch, said) => {
    const { client, sent } = setup();

    const error = await rejection(client.openData(fetch as never));

    expect(error).toMatchObject({ code: 'open_data_fetch_failed', status: 0 });
    expect(error.detail).toContain(said);
    expect(sent('POST /open-data')).toHaveLength(0);
  });

  it('rejects with the login failure, fetching nothing, when it cannot log in', async () => {
    const { standIn, weRun } = setup();
    standIn.failLogins('network unavailable');

    const error = await rejection(weRun());

    expect(error.code).toBe('wx_login_failed');
    expect(standIn.calls).toEqual(['login']);
  });

  it('stores nothing of the data, encrypted or decrypted', async () => {
    const { standIn, sent, weRun } = setup();

    await weRun();

    const stored = JSON.stringify([...standIn.storage.values()]);
    const encrypted = String(sent('POST /open-data')[0]?.body.encryptedData);
    expect(stored).not.toContain(encrypted.slice(0, 24));
    expect(stored).not.toContain('stepInfoList');
    expect(stored).not.toContain('watermark');
  });
});
