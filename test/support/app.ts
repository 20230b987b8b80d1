import { createLogger, type Logger } from '../../functions/adapters/log.ts';
import { createSecretStore } from '../../functions/adapters/secret-store.ts';
import { loadConfig } from '../../functions/config.ts';
import type { CredentialSource } from '../../functions/domain/ports.ts';
import { createApp } from '../../functions/wiring.ts';
import { type FakeWechat, startFakeWechat } from '../../harness/fake-wechat.ts';
import { singleAppSecret } from '../../harness/fixtures.ts';

/** A secret whose value the test can change or break, read through the real cache. */
export interface TestSecret {
  value: string | Error;
  reads: number;
}

export interface TestApp {
  readonly wechat: FakeWechat;
  readonly secret: TestSecret;
  readonly lines: Record<string, unknown>[];
  readonly handler: ReturnType<typeof createApp>;
  close(): Promise<void>;
}

/**
 * The real handler, client and secret cache, with WeChat on loopback and the secret's
 * reader in memory. Log lines are captured as parsed JSON.
 */
export async function startTestApp(
  options: {
    env?: Record<string, string>;
    credentials?: (log: Logger, secret: TestSecret) => CredentialSource;
  } = {},
): Promise<TestApp> {
  const wechat = await startFakeWechat();
  const secret: TestSecret = { value: singleAppSecret(), reads: 0 };
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => {
    process.stdout.write(`${line}\n`);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const config = loadConfig({
    WECHAT_API_BASE_URL: wechat.url,
    WECHAT_TIMEOUT_MS: '400',
    ...options.env,
  });
  const credentials =
    options.credentials?.(log, secret) ??
    createSecretStore({
      read: async () => {
        secret.reads++;
        if (secret.value instanceof Error) throw secret.value;
        return secret.value;
      },
      ttlMs: config.secretTtlMs,
      log,
    });
  return {
    wechat,
    secret,
    lines,
    handler: createApp(config, log, credentials, 'test'),
    close: () => wechat.close(),
  };
}
