import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, rejection } from '../support/client.ts';
import { type Sandbox, startSandbox } from '../support/local-server.ts';
import { sentTo, standInWx } from '../support/wx-runtime.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
}, 30_000);
afterAll(() => sandbox?.stop());

const setup = () => {
  const standIn = standInWx();
  const client = createClient({ baseUrl: sandbox.baseUrl, wx: standIn.wx });
  const logins = () => sentTo(standIn, 'POST', '/openid');
  return { standIn, client, logins };
};

describe('login()', () => {
  it('exchanges one wx.login code for a session that expires as the backend said', async () => {
    const { standIn, client, logins } = setup();
    const before = Math.floor(Date.now() / 1000);

    const session = await client.login();

    expect(session.openid).toMatch(/^o[\w-]{27}$/);
    expect(session.token.split('.')).toHaveLength(3);
    expect(session.expiresAt).toBeGreaterThanOrEqual(before + 300);
    expect(session.expiresAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 604_800);
    expect(standIn.issuedCodes).toHaveLength(1);
    expect(logins().map((r) => JSON.parse(r.body))).toEqual([{ code: standIn.issuedCodes[0] }]);
  });

  it('includes the unionid when WeChat gave one', async () => {
    const { standIn, client } = setup();
    standIn.codes.push('sandbox-unionid-client-1');

    const session = await client.login();

    expect(session.unionid).toMatch(/^u/);
  });

  it('shares one wx.login and one POST among concurrent calls', async () => {
    const { standIn, client, logins } = setup();

    const sessions = await Promise.all(Array.from({ length: 10 }, () => client.login()));

    expect(new Set(sessions.map((s) => s.token)).size).toBe(1);
    expect(standIn.issuedCodes).toHaveLength(1);
    expect(logins()).toHaveLength(1);
  });

  it.each([
    ['sandbox-code-used', 'code_used'],
    ['sandbox-invalid-code', 'invalid_code'],
    ['sandbox-timeout', 'upstream_timeout'],
  ])('recovers from %s (%s) with one fresh code, never resending the first', async (code) => {
    const { standIn, client, logins } = setup();
    standIn.codes.push(code);

    const session = await client.login();

    expect(session.token).toBeTruthy();
    expect(standIn.issuedCodes).toHaveLength(2);
    const sentCodes = logins().map((r) => (JSON.parse(r.body) as { code: string }).code);
    expect(sentCodes).toEqual([code, standIn.issuedCodes[1]]);
  });

  it('recovers when wx.login hands out a code that was already exchanged (a lost answer)', async () => {
    const { standIn, client } = setup();
    const first = await client.login();
    client.logout();
    standIn.codes.push(standIn.issuedCodes[0] as string);

    const second = await client.login();

    expect(second.token).not.toBe(first.token);
    expect(standIn.issuedCodes).toHaveLength(3);
    expect(standIn.issuedCodes[2]).not.toBe(standIn.issuedCodes[0]);
  });

  it('surfaces code_used when the fresh code fails too, after exactly two codes', async () => {
    const { standIn, client, logins } = setup();
    standIn.codes.push('sandbox-code-used', 'sandbox-code-used');

    const error = await rejection(client.login());

    expect(error).toMatchObject({ name: 'WeappOpenidError', code: 'code_used', status: 400 });
    expect(error.errcode).toBe(40163);
    expect(standIn.issuedCodes).toHaveLength(2);
    expect(logins()).toHaveLength(2);
  });

  it('surfaces user_blocked with the detail to show, the request id and no retry', async () => {
    const { standIn, client } = setup();
    standIn.codes.push('sandbox-user-blocked');

    const error = await rejection(client.login());

    expect(error).toMatchObject({ code: 'user_blocked', status: 403, errcode: 40226 });
    expect(error.detail.length).toBeGreaterThan(10);
    expect(error.message).toBe(error.detail);
    expect(error.requestId).toMatch(/\S/);
    expect(standIn.issuedCodes).toHaveLength(1);
  });

  it('surfaces rate_limited with the Retry-After seconds, without trying another code', async () => {
    const { standIn, client } = setup();
    standIn.codes.push('sandbox-rate-limited');

    const error = await rejection(client.login());

    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfter: 60 });
    expect(standIn.issuedCodes).toHaveLength(1);
  });

  it('surfaces a failed wx.request as network_error with status 0', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const standIn = standInWx();
    const client = createClient({ baseUrl: `http://127.0.0.1:${port}`, wx: standIn.wx });

    const error = await rejection(client.login());

    expect(error).toMatchObject({ code: 'network_error', status: 0 });
    expect(error.detail).toMatch(/request:fail/);
    expect(standIn.issuedCodes).toHaveLength(1);
  });

  it('surfaces a failed wx.login as wx_login_failed, sending nothing', async () => {
    const { standIn, client } = setup();
    standIn.failLogins('network unavailable');

    const error = await rejection(client.login());

    expect(error).toMatchObject({ code: 'wx_login_failed', status: 0 });
    expect(error.detail).toMatch(/network unavailable/);
    expect(standIn.sent).toHaveLength(0);
  });

  it('lets the next call try again after a failure', async () => {
    const { standIn, client } = setup();
    standIn.codes.push('sandbox-user-blocked');
    await rejection(client.login());

    const session = await client.login();

    expect(session.token).toBeTruthy();
    expect(standIn.issuedCodes).toHaveLength(2);
  });
});
