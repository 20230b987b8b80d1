import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { createSecretStore } from '../../functions/adapters/secret-store.ts';
import {
  createSecretsManagerReader,
  credentialsFromEnv,
} from '../../functions/adapters/secrets-manager.ts';
import { FORCED_READ_EVERY_MS } from '../../functions/commons/budgets.ts';
import { awsEndpoint } from '../../functions/config.ts';
import type { AppRegistry } from '../../functions/domain/apps.ts';
import { misconfigured, Problem } from '../../functions/domain/problem.ts';
import {
  APP_ID,
  APP_SECRET,
  multiAppSecret,
  OTHER_APP_ID,
  ROTATED_APP_SECRET,
  singleAppSecret,
} from '../../harness/fixtures.ts';
import {
  MOTO_REGION,
  type Moto,
  motoAvailable,
  requireMotoInCi,
  startMoto,
} from '../../harness/moto.ts';

requireMotoInCi();

describe.skipIf(!motoAvailable)('the secret store against Secrets Manager (moto_server)', () => {
  let moto: Moto;
  let reads = 0;
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => {
    process.stdout.write(`${line}\n`);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });

  beforeAll(async () => {
    moto = await startMoto();
  }, 30_000);
  afterAll(() => moto?.stop());
  beforeEach(() => {
    reads = 0;
    lines.length = 0;
  });

  let clock = 0;
  async function store(
    value: string | undefined,
    options: { ttlMs?: number; env?: Record<string, string> } = {},
  ) {
    const name = `weapp/${Math.random().toString(36).slice(2)}`;
    const id = value === undefined ? name : await moto.createSecret(name, value);
    const env = { ...moto.env, ...options.env };
    const read = createSecretsManagerReader({
      region: MOTO_REGION,
      endpoint: awsEndpoint('secretsmanager', MOTO_REGION, env),
      credentials: () => credentialsFromEnv(env),
      timeoutMs: 300,
      budgetMs: 1000,
    });
    const source = createSecretStore({
      read: () => {
        reads++;
        return read(id);
      },
      ttlMs: options.ttlMs ?? 300_000,
      log,
      now: () => clock,
    });
    return { id, source };
  }
  const secretOf = (registry: AppRegistry, appId = APP_ID) =>
    registry.kind === 'apps' ? registry.apps.get(appId) : undefined;

  it('reads the single-app format on first use', async () => {
    const { source } = await store(singleAppSecret());

    expect(secretOf(await source.get())).toBe(APP_SECRET);
    expect(reads).toBe(1);
  });

  it('reads the several-apps format', async () => {
    const { source } = await store(multiAppSecret());

    const registry = await source.get();
    expect(registry.kind === 'apps' && [...registry.apps.keys()]).toEqual([APP_ID, OTHER_APP_ID]);
  });

  it('reuses the value until the TTL has passed, then reads again', async () => {
    const { id, source } = await store(singleAppSecret(), { ttlMs: 1000 });
    await source.get();
    await moto.putSecret(id, singleAppSecret(ROTATED_APP_SECRET));

    clock += 999;
    expect(secretOf(await source.get())).toBe(APP_SECRET);
    clock += 1;
    expect(secretOf(await source.get())).toBe(ROTATED_APP_SECRET);
    expect(reads).toBe(2);
  });

  it('shares one read among concurrent requests', async () => {
    const { source } = await store(singleAppSecret());

    const all = await Promise.all(Array.from({ length: 25 }, () => source.get()));

    expect(new Set(all).size).toBe(1);
    expect(reads).toBe(1);
  });

  it('picks up a rotation at once on a forced re-read', async () => {
    const { id, source } = await store(singleAppSecret());
    await source.get();
    await moto.putSecret(id, singleAppSecret(ROTATED_APP_SECRET));

    expect(secretOf(await source.refresh())).toBe(ROTATED_APP_SECRET);
    expect(secretOf(await source.get())).toBe(ROTATED_APP_SECRET);
    expect(reads).toBe(2);
  });

  it('serves the last good value with a warning when Secrets Manager fails after the TTL', async () => {
    const { source } = await store(singleAppSecret(), { ttlMs: 1000 });
    await source.get();
    moto.pause();
    try {
      clock += 5000;
      expect(secretOf(await source.get())).toBe(APP_SECRET);
    } finally {
      moto.resume();
    }
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: expect.stringMatching(/last good secret/),
      }),
    );
  });

  it('warns on every request served from the stale value, and reads again after the retry interval', async () => {
    const { source } = await store(singleAppSecret(), { ttlMs: 60_000 });
    await source.get();
    moto.pause();
    try {
      clock += 60_000;
      await source.get();
      clock += 29_999;
      await source.get();
    } finally {
      moto.resume();
    }
    expect(lines.filter((line) => line.level === 'WARN')).toHaveLength(2);
    expect(reads).toBe(2);

    clock += 1;
    await source.get();
    expect(reads).toBe(3);
    expect(lines.filter((line) => line.level === 'WARN')).toHaveLength(2);
  });

  it('answers misconfigured, not the stale value, when the secret turns out unusable', async () => {
    let value: Promise<string> = Promise.resolve(singleAppSecret());
    const source = createSecretStore({ read: () => value, ttlMs: 1000, log, now: () => clock });
    await source.get();
    value = Promise.reject(misconfigured('the secret is binary: store its value as SecretString'));
    clock += 1000;

    await expect(source.get()).rejects.toMatchObject({ code: 'misconfigured' });
  });

  it('answers secret_unavailable when the secret does not exist and nothing is cached', async () => {
    const { source } = await store(undefined);

    const error = await source.get().catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(Problem);
    expect(error).toMatchObject({
      code: 'secret_unavailable',
      facts: expect.objectContaining({
        reason: expect.stringMatching(/ResourceNotFoundException/),
      }),
    });
  });

  it('answers secret_unavailable when the secret was deleted and nothing is cached', async () => {
    const { id, source } = await store(singleAppSecret());
    await moto.deleteSecret(id);

    await expect(source.get()).rejects.toMatchObject({ code: 'secret_unavailable' });
  });

  it('answers secret_unavailable quickly enough when Secrets Manager is unreachable', async () => {
    const { source } = await store(singleAppSecret(), {
      env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9' },
    });

    await expect(source.get()).rejects.toMatchObject({ code: 'secret_unavailable' });
    expect(reads).toBe(1);
  });

  it.each([
    ['not JSON', 'just-a-string'],
    ['an array', '[]'],
    [
      'an appId that is not an AppID',
      JSON.stringify({ appId: 'REPLACE_WITH_YOUR_APPID', appSecret: 'x' }),
    ],
    ['a missing appSecret', JSON.stringify({ appId: APP_ID })],
    ['apps that is not an object', '{"apps":"wx"}'],
  ])('rejects a value that is %s as misconfigured, and does not cache it', async (_name, value) => {
    const { id, source } = await store(value);

    await expect(source.get()).rejects.toMatchObject({
      code: 'misconfigured',
      facts: expect.objectContaining({ reason: expect.any(String) }),
    });
    await moto.putSecret(id, singleAppSecret());
    expect(secretOf(await source.get())).toBe(APP_SECRET);
  });
});

describe('reads outside the TTL, for a secret that does not work', () => {
  const silent = createLogger({}, () => {});
  let clock = 0;
  let reads = 0;
  let value = '';
  beforeEach(() => {
    clock = 0;
    reads = 0;
  });
  const storeOf = (initial: string) => {
    value = initial;
    return createSecretStore({
      read: () => {
        reads++;
        return Promise.resolve(value);
      },
      ttlMs: 300_000,
      log: silent,
      now: () => clock,
    });
  };

  it('reads a malformed secret again at once, then at most once per interval', async () => {
    const source = storeOf('{"appId": "wx4f4bc4dec97d474b"');

    for (let request = 0; request < 20; request++) {
      await expect(source.get()).rejects.toMatchObject({ code: 'misconfigured' });
    }
    expect(reads).toBe(2);

    clock += FORCED_READ_EVERY_MS;
    await expect(source.get()).rejects.toMatchObject({ code: 'misconfigured' });
    expect(reads).toBe(3);
  });

  it('takes a fixed secret within one interval', async () => {
    const source = storeOf('not json');
    await source.get().catch(() => undefined);
    await source.get().catch(() => undefined);
    value = singleAppSecret();

    await expect(source.get()).rejects.toMatchObject({ code: 'misconfigured' });
    clock += FORCED_READ_EVERY_MS;

    expect((await source.get()).kind).toBe('apps');
  });

  it('answers forced re-reads after a rejected secret at once, then from the cache within the interval', async () => {
    const source = storeOf(singleAppSecret());
    await source.get();

    for (let request = 0; request < 20; request++) await source.refresh();
    expect(reads).toBe(2);

    clock += FORCED_READ_EVERY_MS;
    await source.refresh();
    expect(reads).toBe(3);
  });

  it('still picks up a rotation on the first forced re-read', async () => {
    const source = storeOf(singleAppSecret());
    await source.get();
    value = singleAppSecret(ROTATED_APP_SECRET);

    const registry = await source.refresh();

    expect(registry.kind === 'apps' && registry.apps.get(APP_ID)).toBe(ROTATED_APP_SECRET);
  });
});
