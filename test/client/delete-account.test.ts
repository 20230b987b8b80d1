/** deleteAccount() against the fake backend: the contract's `DELETE /me`, on loopback. */
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

const setup = () => {
  const standIn = standInWx();
  const client = createClient({ baseUrl: backend.baseUrl, wx: standIn.wx });
  const from = backend.received.length;
  const sent = (route: string) =>
    backend.received.slice(from).filter((r) => `${r.method} ${r.path}` === route);
  return { standIn, client, sent };
};

describe('deleteAccount()', () => {
  it('deletes the record with the session, then forgets the session', async () => {
    // Prepare
    const { standIn, client, sent } = setup();
    await client.bindPhone('phone-code-delete-1');
    const session = await client.login();

    // Act
    const result = await client.deleteAccount();

    // Assess
    expect(result).toBeUndefined();
    expect(sent('DELETE /me').map((r) => r.authorization)).toEqual([`Bearer ${session.token}`]);
    expect(backend.users.has(OPENID)).toBe(false);
    expect(standIn.storage.size).toBe(0);
    await client.login();
    expect(standIn.issuedCodes).toHaveLength(2);
  });

  it('logs in first when there is no session', async () => {
    const { standIn, client, sent } = setup();

    await client.deleteAccount();

    expect(standIn.issuedCodes).toHaveLength(1);
    expect(sent('POST /openid')).toHaveLength(1);
    expect(sent('DELETE /me')).toHaveLength(1);
    expect(standIn.storage.size).toBe(0);
  });

  it('rejects store_unavailable with Retry-After and keeps the session', async () => {
    const { standIn, client, sent } = setup();
    const session = await client.login();
    backend.script('DELETE /me', problem(503, 'store_unavailable', {}, { 'retry-after': '2' }));

    const error = await rejection(client.deleteAccount());

    expect(error).toMatchObject({ code: 'store_unavailable', status: 503, retryAfter: 2 });
    expect(error.requestId).toMatch(/^fake-\d+$/);
    expect(sent('DELETE /me')).toHaveLength(1);
    expect(await client.login()).toEqual(session);
    expect(standIn.issuedCodes).toHaveLength(1);
    expect(JSON.stringify([...standIn.storage.values()])).toContain(session.token);
  });

  it('on a 401 logs in again once and deletes once more', async () => {
    const { standIn, client, sent } = setup();
    await client.login();
    backend.users.set(OPENID, { phoneNumber: PHONE_NUMBER, countryCode: '86' });
    backend.script('DELETE /me', problem(401, 'unauthorized'));

    await client.deleteAccount();

    const deletes = sent('DELETE /me');
    expect(deletes).toHaveLength(2);
    expect(deletes[1]?.authorization).not.toBe(deletes[0]?.authorization);
    expect(standIn.issuedCodes).toHaveLength(2);
    expect(backend.users.has(OPENID)).toBe(false);
    expect(standIn.storage.size).toBe(0);
  });

  it('rejects unauthorized after a second 401, never a third request', async () => {
    const { standIn, client, sent } = setup();
    backend.script('DELETE /me', problem(401, 'unauthorized'), problem(401, 'unauthorized'));

    const error = await rejection(client.deleteAccount());

    expect(error).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(sent('DELETE /me')).toHaveLength(2);
    expect(sent('POST /openid')).toHaveLength(2);
    expect(standIn.issuedCodes).toHaveLength(2);
  });
});
