import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../support/client.ts';
import { type Sandbox, startSandbox } from '../support/local-server.ts';
import { sentTo, standInWx } from '../support/wx-runtime.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
}, 30_000);
afterAll(() => sandbox?.stop());

/** A mini program that starts again: a new runtime and client over the same storage. */
const restart = (storage: Map<string, string>, baseUrl = sandbox.baseUrl) => {
  const standIn = standInWx(storage);
  return { standIn, client: createClient({ baseUrl, wx: standIn.wx }) };
};

/** Rewrites every stored value's `expiresAt`, as if time had passed. */
const ageStoredSession = (storage: Map<string, string>, secondsLeft: number) => {
  for (const [key, value] of storage) {
    const stored = JSON.parse(value) as Record<string, unknown>;
    storage.set(key, JSON.stringify({ ...stored, expiresAt: Date.now() / 1000 + secondsLeft }));
  }
};

describe('the stored session', () => {
  it('is reused after a restart of the mini program, with no wx.login', async () => {
    const storage = new Map<string, string>();
    const first = await restart(storage).client.login();

    const { standIn, client } = restart(storage);
    const again = await client.login();
    const me = await client.request<{ openid: string }>({ url: '/me' });

    expect(again).toEqual(first);
    expect(me.data.openid).toBe(first.openid);
    expect(standIn.issuedCodes).toHaveLength(0);
    expect(sentTo(standIn, 'POST', '/openid')).toHaveLength(0);
  });

  it('is replaced once it has expired', async () => {
    const storage = new Map<string, string>();
    const first = await restart(storage).client.login();
    ageStoredSession(storage, -10);

    const { standIn, client } = restart(storage);
    const second = await client.login();

    expect(second.token).not.toBe(first.token);
    expect(standIn.issuedCodes).toHaveLength(1);
    expect(JSON.stringify([...storage.values()])).toContain(second.token);
  });

  it('is replaced a minute before it expires, not at the last second', async () => {
    const storage = new Map<string, string>();
    const first = await restart(storage).client.login();

    ageStoredSession(storage, 120);
    const kept = await restart(storage).client.login();
    ageStoredSession(storage, 50);
    const renewed = await restart(storage).client.login();

    expect(kept.token).toBe(first.token);
    expect(renewed.token).not.toBe(first.token);
  });

  it.each([
    ['empty storage', ''],
    ['a bare token string, as an older version kept it', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln'],
    ['an object of an older shape', { token: 'eyJ.old.token', openid: 'oOld' }],
    ['a newer shape this version does not know', { version: 99, token: 'x', openid: 'y' }],
    ['a number', 42],
  ])('is not read from %s: a fresh login replaces it', async (_, value) => {
    const storage = new Map<string, string>();
    const { standIn, client } = restart(storage);
    standIn.wx.setStorageSync('weapp-openid.session', value);

    const session = await client.login();

    expect(standIn.issuedCodes).toHaveLength(1);
    expect(standIn.wx.getStorageSync('weapp-openid.session')).toMatchObject({
      token: session.token,
    });
  });

  it.each([
    [
      'a version 1 session, written before phone numbers were kept',
      { version: 1, openid: 'oVersionOne000000000000000001', token: 'eyJ.v1.token' },
    ],
    [
      'a session whose phoneNumber is not a string',
      {
        version: 2,
        openid: 'oBadPhone0000000000000000001',
        token: 'eyJ.v2.token',
        phoneNumber: 8613800138000,
      },
    ],
  ])(
    'is not reused from %s, though valid for an hour: a fresh login replaces it',
    async (_, value) => {
      const storage = new Map<string, string>();
      const { standIn, client } = restart(storage);
      const expiresAt = Math.floor(Date.now() / 1000) + 3600;
      standIn.wx.setStorageSync('weapp-openid.session', {
        ...value,
        baseUrl: sandbox.baseUrl,
        expiresAt,
      });

      const session = await client.login();

      expect(session.openid).not.toBe(value.openid);
      expect(standIn.issuedCodes).toHaveLength(1);
    },
  );

  it('is not reused by a client of another backend (config.js changed)', async () => {
    const storage = new Map<string, string>();
    await restart(storage).client.login();

    const other = restart(storage, sandbox.baseUrl.replace('localhost', '127.0.0.1'));
    await other.client.login();

    expect(other.standIn.issuedCodes).toHaveLength(1);
  });

  it('is forgotten by logout(), and the next login asks wx.login again', async () => {
    const storage = new Map<string, string>();
    const { standIn, client } = restart(storage);
    await client.login();

    client.logout();

    expect(storage.size).toBe(0);
    await client.login();
    expect(standIn.issuedCodes).toHaveLength(2);
  });

  it('is not stored by a login in flight at logout(), nor shared with a login after it', async () => {
    const storage = new Map<string, string>();
    const { standIn, client } = restart(storage);

    const pending = client.login();
    client.logout();
    const [before, after] = await Promise.all([pending, client.login()]);

    expect(after.token).not.toBe(before.token);
    expect(standIn.issuedCodes).toHaveLength(2);
    expect(JSON.stringify([...storage.values()])).not.toContain(before.token);
    expect(JSON.stringify([...storage.values()])).toContain(after.token);
  });

  it('never holds a login code, after successes and failures alike', async () => {
    const storage = new Map<string, string>();
    const { standIn, client } = restart(storage);
    standIn.codes.push('sandbox-code-used');
    await client.login();
    await client.request({ url: '/me' });
    standIn.codes.push('sandbox-user-blocked');
    client.logout();
    await client.login().catch(() => undefined);
    await client.login();

    const everything = JSON.stringify([...storage.entries()]);
    expect(standIn.issuedCodes.length).toBeGreaterThanOrEqual(4);
    for (const code of standIn.issuedCodes) expect(everything).not.toContain(code);
  });
});
