import { createLogger } from '../../functions/adapters/log.ts';
import { createSecretStore } from '../../functions/adapters/secret-store.ts';
import { loadConfig } from '../../functions/config.ts';
import type { CredentialSource, Logger } from '../../functions/domain/ports.ts';
import type { ApiHandler } from '../../functions/handler/http-handler.ts';
import { createApiHandler } from '../../functions/wiring.ts';
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
  /** Every log line, parsed. */
  readonly lines: Record<string, unknown>[];
  /** Every log line as written, for leak checks on the exact text. */
  readonly written: string[];
  readonly handler: ApiHandler;
  /** Moves the secret cache's clock on, e.g. past the forced re-read interval between tests. */
  later(ms: number): void;
  close(): Promise<void>;
}

export interface TestAppOptions {
  readonly env?: Record<string, string>;
  readonly credentials?: (log: Logger, secret: TestSecret) => CredentialSource;
  /** A fake WeChat to share between apps; it is then the caller's to close. */
  readonly wechat?: FakeWechat;
  /**
   * The pause before a retry of WeChat's -1. The client's own default unless given: the
   * property tests shorten it, since thousands of generated answers include -1.
   */
  readonly retryDelayMs?: number;
  /**
   * Whether log lines also go to stdout, where the leak guard reads them (default). Tests
   * that check every line for their own generated secrets turn it off.
   */
  readonly echo?: boolean;
}

/**
 * The real handler, client and secret cache, wired by functions/wiring.ts, with
 * WeChat on loopback and the secret's reader in memory. Log lines are captured.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const wechat = options.wechat ?? (await startFakeWechat());
  const secret: TestSecret = { value: singleAppSecret(), reads: 0 };
  let offsetMs = 0;
  const lines: Record<string, unknown>[] = [];
  const written: string[] = [];
  const log = createLogger({}, (line) => {
    if (options.echo ?? true) process.stdout.write(`${line}\n`);
    written.push(line);
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
      read: () => {
        secret.reads++;
        const { value } = secret;
        return value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
      },
      ttlMs: config.secretTtlMs,
      log,
      now: () => Date.now() + offsetMs,
    });
  return {
    wechat,
    secret,
    lines,
    written,
    handler: createApiHandler(config, log, credentials, 'test', undefined, {
      ...(options.retryDelayMs !== undefined && { wechatRetryDelayMs: options.retryDelayMs }),
    }),
    later: (ms) => {
      offsetMs += ms;
    },
    close: () => (options.wechat ? Promise.resolve() : wechat.close()),
  };
}
