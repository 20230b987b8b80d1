import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { USERS_TABLE_KEY } from '../../functions/commons/names.ts';
import { type FakeWechat, startFakeWechat } from '../../harness/fake-wechat.ts';
import { type FaultProxy, startFaultProxy } from '../../harness/fault-proxy.ts';
import { APP_ID, OTHER_APP_ID } from '../../harness/fixtures.ts';
import { type Moto, motoAvailable, requireMotoInCi } from '../../harness/moto.ts';
import { sharedMoto, uniqueName } from '../support/moto.ts';
import {
  claimsFor,
  createOpenDataTable,
  deleteMe,
  type Environment,
  encrypt,
  exchanged,
  login,
  newOpenid,
  newSessionKey,
  postOpenData,
  sessionKeys,
  startEnvironment,
  type Table,
  weRunData,
} from '../support/open-data-rig.ts';

/**
 * POST /open-data (CONTRACT section 11) through the Lambda's code path, on moto's DynamoDB and
 * KMS, with data encrypted by the session_key the fake WeChat handed out for a real login.
 */
requireMotoInCi();

let moto: Moto;
let wechat: FakeWechat;
/** KMS as the function reaches it, counting calls per operation. */
let kms: FaultProxy;
let table: Table;
let keyId: string;
let codes = 0;

const environment = (options: { openData?: boolean; kmsUrl?: string } = {}): Environment =>
  startEnvironment({
    wechatUrl: wechat.url,
    dynamodbUrl: moto.endpoint,
    kmsUrl: options.kmsUrl ?? kms.url,
    table: table.name,
    keyId: options.openData === false ? undefined : keyId,
  });

/** A login of `openid` for which the fake WeChat hands out `sessionKey`; its claims. */
async function loggedIn(env: Environment, openid: string, sessionKey: string | undefined) {
  wechat.script(exchanged(openid, sessionKey));
  const answer = await login(env, `open-data-code-${++codes}`);
  expect(answer.status).toBe(200);
  return answer.claims as NonNullable<typeof answer.claims>;
}

describe.skipIf(!motoAvailable)("POST /open-data on the Lambda's code path", () => {
  let env: Environment;

  beforeAll(async () => {
    [moto, wechat] = await Promise.all([sharedMoto(), startFakeWechat()]);
    kms = await startFaultProxy(moto.endpoint);
    keyId = (await moto.createSymmetricKey('alias/weapp-openid-open-data')).arn;
    table = await createOpenDataTable(moto.endpoint, uniqueName('weapp-openid-open-data-users'));
    env = environment();
  });
  afterAll(async () => {
    await Promise.all([kms?.close(), wechat?.close()]);
    await moto?.stop();
  });
  beforeEach(() => {
    wechat.reset();
    kms.mode = 'pass';
  });

  describe('decrypts with the session_key of the last login', () => {
    it('answers 200 with the decrypted object, watermark included, and no-store', async () => {
      // Prepare
      const openid = newOpenid();
      const sessionKey = newSessionKey();
      const claims = await loggedIn(env, openid, sessionKey);
      const data = weRunData();

      // Act
      const answer = await postOpenData(env, claims, encrypt(sessionKey, data));

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data });
      expect((answer.body.data as { watermark: { appid: string } }).watermark.appid).toBe(APP_ID);
      expect(String(answer.headers['cache-control'])).toMatch(/no-store/);
    });

    it('answers session_key_stale for data fetched before a newer login, and decrypts data fetched after it', async () => {
      // Prepare: WeChat hands out a new session_key at the second login.
      const openid = newOpenid();
      const first = newSessionKey();
      const second = newSessionKey();
      await loggedIn(env, openid, first);
      const before = encrypt(first, weRunData());
      const claims = await loggedIn(env, openid, second);
      const after = weRunData();

      // Act
      const stale = await postOpenData(env, claims, before);
      const fresh = await postOpenData(env, claims, encrypt(second, after));

      // Assess
      expect(stale.status).toBe(409);
      expect(stale.body).toMatchObject({ code: 'session_key_stale' });
      expect(stale.body.detail).toMatch(/Log in again, then fetch the data again/);
      expect(fresh.status).toBe(200);
      expect(fresh.body).toEqual({ data: after });
    });

    it('decrypts with the key kept by another environment of the same deployment', async () => {
      // Prepare: the login ran in one environment, the data arrives at another.
      const openid = newOpenid();
      const sessionKey = newSessionKey();
      const claims = await loggedIn(env, openid, sessionKey);
      const data = weRunData();

      // Act
      const answer = await postOpenData(environment(), claims, encrypt(sessionKey, data));

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data });
    });
  });

  describe('answers 409 session_key_stale', () => {
    it('for a user who never logged in (no record)', async () => {
      // Prepare
      const claims = claimsFor(newOpenid());

      // Act
      const answer = await postOpenData(env, claims, encrypt(newSessionKey(), weRunData()));

      // Assess
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'session_key_stale' });
    });

    it('for a record that keeps no session_key (written before open data was on)', async () => {
      // Prepare: a login with open data off writes the record without one.
      const openid = newOpenid();
      const sessionKey = newSessionKey();
      const claims = await loggedIn(environment({ openData: false }), openid, sessionKey);
      const item = await table.item(openid);

      // Act
      const answer = await postOpenData(env, claims, encrypt(sessionKey, weRunData()));

      // Assess
      expect(item).toBeDefined();
      expect(item).not.toHaveProperty('sessionKeyBox');
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'session_key_stale' });
    });

    it('for a login whose exchange gave no session_key, which drops the one kept before', async () => {
      // Prepare
      const openid = newOpenid();
      const older = newSessionKey();
      await loggedIn(env, openid, older);
      const claims = await loggedIn(env, openid, undefined);

      // Act
      const answer = await postOpenData(env, claims, encrypt(older, weRunData()));

      // Assess
      expect(await table.item(openid)).not.toHaveProperty('sessionKeyBox');
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'session_key_stale' });
    });

    it.each([
      ['whose padding does not read back', { padding: false }, 'steps: 8321,end\u0000'],
      ['that is not JSON', {}, 'step count 8321, not JSON'],
      ['that is JSON but not an object', {}, '[8321, 10472]'],
    ])('for data %s under the kept session_key', async (_what, options, plaintext) => {
      // Prepare
      const openid = newOpenid();
      const sessionKey = newSessionKey();
      const claims = await loggedIn(env, openid, sessionKey);

      // Act
      const answer = await postOpenData(env, claims, encrypt(sessionKey, plaintext, options));

      // Assess
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'session_key_stale' });
    });
  });

  describe('answers 400 open_data_mismatch', () => {
    it.each([
      ['names another AppID', { watermark: { appid: OTHER_APP_ID, timestamp: 1795600000 } }],
      ['is missing', { stepInfoList: [] }],
    ])('when the watermark %s', async (_what, data) => {
      // Prepare
      const openid = newOpenid();
      const sessionKey = newSessionKey();
      const claims = await loggedIn(env, openid, sessionKey);

      // Act
      const answer = await postOpenData(env, claims, encrypt(sessionKey, data));

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'open_data_mismatch' });
      expect(answer.body).not.toHaveProperty('data');
    });
  });

  describe('refuses a malformed request before reading the record', () => {
    let claims: ReturnType<typeof claimsFor>;
    let valid: { encryptedData: string; iv: string };
    beforeAll(async () => {
      const sessionKey = newSessionKey();
      claims = await loggedIn(env, newOpenid(), sessionKey);
      valid = encrypt(sessionKey, weRunData());
    });

    it.each([
      [
        'encryptedData is not base64',
        () => ({ ...valid, encryptedData: 'not base64!' }),
        /"encryptedData"/,
      ],
      [
        'encryptedData is base64url',
        () => ({
          ...valid,
          encryptedData: valid.encryptedData
            .replace(/\+/g, '-')
            .replace(/\//g, '_')
            .replace(/=+$/, ''),
        }),
        /"encryptedData"/,
      ],
      ['encryptedData is empty', () => ({ ...valid, encryptedData: '' }), /"encryptedData"/],
      ['encryptedData is missing', () => ({ iv: valid.iv }), /"encryptedData"/],
      [
        'encryptedData is not a string',
        () => ({ ...valid, encryptedData: 8321 }),
        /"encryptedData"/,
      ],
      ['iv is not base64', () => ({ ...valid, iv: 'r7BXXKkLb8qrSNn05n0q*A==' }), /"iv"/],
      ['iv is 12 bytes', () => ({ ...valid, iv: Buffer.alloc(12, 7).toString('base64') }), /"iv"/],
      ['iv is 32 bytes', () => ({ ...valid, iv: Buffer.alloc(32, 7).toString('base64') }), /"iv"/],
      ['iv is missing', () => ({ encryptedData: valid.encryptedData }), /"iv"/],
      ['the body is not JSON', () => '{"encryptedData": ', /JSON/],
    ])('400 invalid_request when %s', async (_what, body, detail) => {
      // Prepare
      kms.resetCounts();

      // Act
      const answer = await postOpenData(env, claims, body());

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'invalid_request' });
      expect(answer.body.detail).toMatch(detail);
      expect(kms.count('Decrypt') + kms.count('GenerateDataKey')).toBe(0);
    });

    it('413 payload_too_large over 16 KiB', async () => {
      // Prepare: well-formed base64, one byte over the limit.
      const overhead = JSON.stringify({ encryptedData: '', iv: valid.iv }).length;
      const encryptedData = 'A'.repeat(Math.ceil((16 * 1024 + 1 - overhead) / 4) * 4);

      // Act
      const answer = await postOpenData(env, claims, { encryptedData, iv: valid.iv });

      // Assess
      expect(answer.status).toBe(413);
      expect(answer.body).toMatchObject({ code: 'payload_too_large' });
    });

    it('401 unauthorized without the claims of a verified token', async () => {
      // Act
      const answer = await postOpenData(env, undefined, valid);

      // Assess
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ code: 'unauthorized' });
    });
  });

  it('answers 404 not_found with open data off, users on', async () => {
    // Prepare
    const off = environment({ openData: false });
    const sessionKey = newSessionKey();
    const claims = await loggedIn(off, newOpenid(), sessionKey);

    // Act
    const answer = await postOpenData(off, claims, encrypt(sessionKey, weRunData()));

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ code: 'not_found' });
  });

  it('DELETE /me removes the kept session_key: the same data then answers session_key_stale', async () => {
    // Prepare
    const openid = newOpenid();
    const sessionKey = newSessionKey();
    const claims = await loggedIn(env, openid, sessionKey);
    const data = encrypt(sessionKey, weRunData());
    const before = await postOpenData(env, claims, data);

    // Act
    const deleted = await deleteMe(env, claims);
    const after = await postOpenData(env, claims, data);

    // Assess
    expect(before.status).toBe(200);
    expect(deleted.status).toBe(204);
    expect(await table.item(openid)).toBeUndefined();
    expect(after.status).toBe(409);
    expect(after.body).toMatchObject({ code: 'session_key_stale' });
  });

  describe('KMS calls, once per environment', () => {
    it('calls GenerateDataKey once per environment however many logins, and Decrypt never for its own records', async () => {
      // Prepare
      const fresh = environment();
      kms.resetCounts();
      const users = Array.from({ length: 5 }, () => ({
        openid: newOpenid(),
        sessionKey: newSessionKey(),
      }));

      // Act
      const answers = [];
      for (const user of users) {
        const claims = await loggedIn(fresh, user.openid, user.sessionKey);
        answers.push(await postOpenData(fresh, claims, encrypt(user.sessionKey, weRunData())));
      }

      // Assess
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      expect(kms.count('GenerateDataKey')).toBe(1);
      expect(kms.count('Decrypt')).toBe(0);
    });

    it("calls Decrypt once per other environment's data key, however many of its records", async () => {
      // Prepare: two environments each seal three users' keys.
      const [first, second] = [environment(), environment()];
      const sealed = [];
      for (const sealer of [first, first, first, second, second, second]) {
        const sessionKey = newSessionKey();
        const claims = await loggedIn(sealer, newOpenid(), sessionKey);
        sealed.push({ claims, sessionKey });
      }
      const reader = environment();
      kms.resetCounts();

      // Act
      const answers = [];
      for (const { claims, sessionKey } of [...sealed, ...sealed]) {
        answers.push(await postOpenData(reader, claims, encrypt(sessionKey, weRunData())));
      }

      // Assess
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      expect(kms.count('Decrypt')).toBe(2);
      // Reading waits for no data key of its own: a reader that sealed nothing generated none.
      expect(kms.count('GenerateDataKey')).toBe(0);
    });
  });

  describe('the table holds the session_key only sealed', () => {
    it('holds no session_key in any item, as base64, hex or raw bytes', async () => {
      // Prepare: logins in two environments, some users logging in twice.
      const other = environment();
      for (const at of [env, other, env]) {
        const openid = newOpenid();
        await loggedIn(at, openid, newSessionKey());
        await loggedIn(at === env ? other : env, openid, newSessionKey());
      }

      // Act
      const items = await table.scan();

      // Assess
      expect(items.filter((item) => 'sessionKeyBox' in item).length).toBeGreaterThanOrEqual(6);
      const text = JSON.stringify(items);
      const values = items.flatMap((item) =>
        Object.values(item).flatMap((value) => {
          const s = (value as { S?: unknown }).S;
          return typeof s === 'string' ? [s] : [];
        }),
      );
      for (const raw of sessionKeys) {
        expect(text).not.toContain(raw.toString('base64'));
        expect(text.toLowerCase()).not.toContain(raw.toString('hex'));
        for (const value of values) {
          expect(Buffer.from(value, 'base64').includes(raw)).toBe(false);
          expect(Buffer.from(value, 'utf8').includes(raw)).toBe(false);
        }
      }
    });

    it("does not open one record's sealed key under another's (AppID, openid): swapped, it is stale", async () => {
      // Prepare: B's record given A's sealed session_key, as a write to the table could.
      const [a, b] = [newOpenid(), newOpenid()];
      const [keyA, keyB] = [newSessionKey(), newSessionKey()];
      await loggedIn(env, a, keyA);
      const claimsB = await loggedIn(env, b, keyB);
      const itemA = (await table.item(a)) as Record<string, { S: string }>;
      await table.call('UpdateItem', {
        TableName: table.name,
        Key: { [USERS_TABLE_KEY]: { S: `${APP_ID}#${b}` } },
        UpdateExpression: 'SET sessionKeyBlob = :blob, sessionKeyBox = :box',
        ExpressionAttributeValues: { ':blob': itemA.sessionKeyBlob, ':box': itemA.sessionKeyBox },
      });

      // Act: B sends A's data, then its own.
      const asA = await postOpenData(env, claimsB, encrypt(keyA, weRunData()));
      const asB = await postOpenData(env, claimsB, encrypt(keyB, weRunData()));

      // Assess
      expect(asA.status).toBe(409);
      expect(asA.body).toMatchObject({ code: 'session_key_stale' });
      expect(asA.body).not.toHaveProperty('data');
      expect(asB.status).toBe(409);
    });

    it('keeps the AppID in what the box is bound to: the same openid under another AppID does not open it', async () => {
      // Prepare: the record of (APP_ID, openid) copied to (OTHER_APP_ID, openid).
      const openid = newOpenid();
      const sessionKey = newSessionKey();
      await loggedIn(env, openid, sessionKey);
      const item = (await table.item(openid)) as Record<string, { S: string }>;
      await table.call('PutItem', {
        TableName: table.name,
        Item: { ...item, [USERS_TABLE_KEY]: { S: `${OTHER_APP_ID}#${openid}` } },
      });

      // Act
      const answer = await postOpenData(
        env,
        claimsFor(openid, OTHER_APP_ID),
        encrypt(sessionKey, weRunData(OTHER_APP_ID)),
      );

      // Assess
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'session_key_stale' });
    });
  });

  it('writes no session_key, encrypted data nor decrypted data to a log line', async () => {
    // Prepare: a login, a decryption and a stale request; the leak guard checks every line
    // of this file for every session_key, piece of data and marker the rig made.
    const logged = environment();
    const openid = newOpenid();
    const sessionKey = newSessionKey();
    const claims = await loggedIn(logged, openid, sessionKey);
    const data = weRunData();

    // Act
    const ok = await postOpenData(logged, claims, encrypt(sessionKey, data));
    const stale = await postOpenData(logged, claims, encrypt(newSessionKey(), weRunData()));

    // Assess
    expect([ok.status, stale.status]).toEqual([200, 409]);
    const text = JSON.stringify(logged.lines);
    expect(text).not.toContain(sessionKey);
    expect(text).not.toContain(String(data.marker));
    expect(logged.lines.at(-1)).toMatchObject({ outcome: 'session_key_stale' });
  });
});
