import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KMS, USERS } from '../../functions/commons/budgets.ts';
import { type FakeWechat, startFakeWechat } from '../../harness/fake-wechat.ts';
import { type FaultMode, type FaultProxy, startFaultProxy } from '../../harness/fault-proxy.ts';
import { type Moto, motoAvailable, requireMotoInCi } from '../../harness/moto.ts';
import { sharedMoto, uniqueName } from '../support/moto.ts';
import {
  createOpenDataTable,
  type Environment,
  encrypt,
  exchanged,
  login,
  newOpenid,
  newSessionKey,
  postOpenData,
  startEnvironment,
  type Table,
  weRunData,
} from '../support/open-data-rig.ts';

/**
 * Open data's faults (CONTRACT section 11) through the Lambda's code path: DynamoDB and KMS are
 * moto_server, each behind its own fault proxy, and each environment (a handler) may reach KMS
 * through a proxy of its own, so that one fails while another seals. Each row asserts the
 * answer, the time it took, the calls made, and the recovery once the fault ends.
 */
requireMotoInCi();

/** What the proxies answer besides the fault: the scheduler, a busy machine. */
const SLACK_MS = 700;

let moto: Moto;
let wechat: FakeWechat;
let table: Table;
let keyId: string;
/** DynamoDB, shared by every environment. */
let dynamodb: FaultProxy;
/** KMS for the environment that seals, and for the one that meets the fault. */
let sealing: FaultProxy;
let failing: FaultProxy;
let codes = 0;

const environment = (kms: FaultProxy): Environment =>
  startEnvironment({
    wechatUrl: wechat.url,
    dynamodbUrl: dynamodb.url,
    kmsUrl: kms.url,
    table: table.name,
    keyId,
  });

async function loggedIn(env: Environment, openid: string, sessionKey: string) {
  wechat.script(exchanged(openid, sessionKey));
  const answer = await login(env, `open-data-fault-${++codes}`);
  expect(answer.status).toBe(200);
  return answer.claims as NonNullable<typeof answer.claims>;
}

async function timed<T>(act: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await act();
  return { value, ms: performance.now() - started };
}

/** Each fault, as a proxy injects it, and what the log's reason then names. */
const FAULTS: readonly (readonly [string, FaultMode, RegExp])[] = [
  ['throttled', { awsError: 'ThrottlingException' }, /Throttling/],
  ['failing with 500', 'error500', /HTTP 500/],
  ['slow (never answers in time)', 'hang', /timeout/],
  ['resetting connections', 'reset', /./],
  ['refusing the function', { awsError: 'AccessDeniedException' }, /AccessDenied/],
];

describe.skipIf(!motoAvailable)("open data's faults, on the Lambda's code path", () => {
  beforeAll(async () => {
    [moto, wechat] = await Promise.all([sharedMoto(), startFakeWechat()]);
    [dynamodb, sealing, failing] = await Promise.all([
      startFaultProxy(moto.endpoint),
      startFaultProxy(moto.endpoint),
      startFaultProxy(moto.endpoint),
    ]);
    keyId = (await moto.createSymmetricKey()).keyId;
    table = await createOpenDataTable(moto.endpoint, uniqueName('weapp-openid-open-data-faults'));
  });
  afterAll(async () => {
    await Promise.all([dynamodb?.close(), sealing?.close(), failing?.close(), wechat?.close()]);
    await moto?.stop();
  });
  beforeEach(() => {
    wechat.reset();
    for (const proxy of [dynamodb, sealing, failing]) {
      proxy.mode = 'pass';
      proxy.resetCounts();
    }
  });

  it.each(FAULTS)(
    'the table %s: /open-data answers 503 store_unavailable with Retry-After within the table budget, then recovers',
    async (_what, mode, reason) => {
      // Prepare
      const env = environment(sealing);
      const sessionKey = newSessionKey();
      const claims = await loggedIn(env, newOpenid(), sessionKey);
      const data = encrypt(sessionKey, weRunData());
      sealing.resetCounts();
      dynamodb.mode = mode;

      // Act
      const { value: down, ms } = await timed(() => postOpenData(env, claims, data));
      dynamodb.mode = 'pass';
      const recovered = await postOpenData(env, claims, data);

      // Assess
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ code: 'store_unavailable' });
      expect(down.headers['retry-after']).toMatch(/^\d+$/);
      expect(ms).toBeLessThan(USERS.totalMs + SLACK_MS);
      expect(dynamodb.count('GetItem')).toBeLessThanOrEqual(USERS.attempts + 1);
      expect(env.lines.at(-2)).toMatchObject({
        outcome: 'store_unavailable',
        reason: expect.stringMatching(reason),
      });
      expect(sealing.count('Decrypt') + sealing.count('GenerateDataKey')).toBe(0);
      expect(recovered.status).toBe(200);
    },
  );

  it.each(FAULTS)(
    "KMS %s for a record sealed by another environment: 503 store_unavailable with Retry-After within the route's budget, then recovers",
    async (_what, mode, reason) => {
      // Prepare: the first environment seals; the second must Decrypt that data key.
      const sealer = environment(sealing);
      const reader = environment(failing);
      const sessionKey = newSessionKey();
      const claims = await loggedIn(sealer, newOpenid(), sessionKey);
      const data = encrypt(sessionKey, weRunData());
      failing.mode = mode;

      // Act
      const { value: down, ms } = await timed(() => postOpenData(reader, claims, data));
      failing.mode = 'pass';
      failing.resetCounts();
      const recovered = await postOpenData(reader, claims, data);

      // Assess
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ code: 'store_unavailable' });
      expect(down.headers['retry-after']).toMatch(/^\d+$/);
      expect(ms).toBeLessThan(USERS.totalMs + KMS.totalMs + SLACK_MS);
      expect(reader.lines.at(-2)).toMatchObject({
        outcome: 'store_unavailable',
        reason: expect.stringMatching(reason),
      });
      // A failed Decrypt is not kept: the next request decrypts the data key, once.
      expect(recovered.status).toBe(200);
      expect(failing.count('Decrypt')).toBe(1);
      expect(failing.count('GenerateDataKey')).toBe(0);
    },
  );

  it.each(['InvalidCiphertextException', 'IncorrectKeyException'])(
    'KMS answering %s for a kept data key: 409 session_key_stale, so the client logs in again, not a 503 for good',
    async (awsError) => {
      // Prepare: the first environment seals; the second cannot ever decrypt that data key.
      const sealer = environment(sealing);
      const reader = environment(failing);
      const sessionKey = newSessionKey();
      const claims = await loggedIn(sealer, newOpenid(), sessionKey);
      failing.mode = { awsError };

      // Act
      const answer = await postOpenData(reader, claims, encrypt(sessionKey, weRunData()));

      // Assess
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'session_key_stale' });
      expect(reader.lines.at(-1)).toMatchObject({
        reason: expect.stringMatching(new RegExp(awsError)),
      });
    },
  );

  it.each(FAULTS.map(([what, mode]) => [what, mode] as const))(
    'KMS %s at GenerateDataKey: the login succeeds and keeps no session_key, dropping the older one; /open-data answers 409; the next login keeps one',
    async (_what, mode) => {
      // Prepare: the user's older session_key is kept, sealed by another environment.
      const openid = newOpenid();
      const older = newSessionKey();
      await loggedIn(environment(sealing), openid, older);
      const env = environment(failing);
      const current = newSessionKey();
      failing.mode = mode;

      // Act
      const { value: claims, ms } = await timed(() => loggedIn(env, openid, current));
      const item = await table.item(openid);
      const stale = await postOpenData(env, claims, encrypt(current, weRunData()));
      const olderData = await postOpenData(env, claims, encrypt(older, weRunData()));
      failing.mode = 'pass';
      const again = await loggedIn(env, openid, current);
      const recovered = await postOpenData(env, again, encrypt(current, weRunData()));

      // Assess
      expect(ms).toBeLessThan(KMS.totalMs + SLACK_MS);
      expect(env.lines.find((line) => line.message === 'login')).toMatchObject({
        outcome: 'ok',
        reason: expect.stringMatching(/sealing key/),
      });
      expect(item).toBeDefined();
      expect(item).not.toHaveProperty('sessionKeyBox');
      expect(item).not.toHaveProperty('sessionKeyBlob');
      expect(stale.status).toBe(409);
      expect(stale.body).toMatchObject({ code: 'session_key_stale' });
      expect(olderData.status).toBe(409);
      expect(recovered.status).toBe(200);
    },
  );
});
