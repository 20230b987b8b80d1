import { FORCED_READ_EVERY_MS } from '../commons/budgets.ts';
import { type AppRegistry, parseSecretValue } from '../domain/apps.ts';
import type { CredentialSource, Logger } from '../domain/ports.ts';
import { Problem } from '../domain/problem.ts';
import { createCache } from './cache.ts';

export interface SecretStoreOptions {
  /** Reads the secret's raw value. */
  readonly read: () => Promise<string>;
  readonly ttlMs: number;
  readonly log: Logger;
  /** While Secrets Manager fails, the last good value is served and the next read waits this long. */
  readonly staleRetryMs?: number;
  /** Reads outside the TTL (a forced re-read, or again after an unusable value) at most this often. */
  readonly forcedReadEveryMs?: number;
  readonly now?: () => number;
}

/**
 * Caches the parsed secret per execution environment (adapters/cache.ts). Concurrent callers
 * share one read; when a read fails after the TTL, the last good value keeps serving, with a
 * warning each time. A read outside the TTL (after WeChat rejected the credentials, or after
 * the value turned out unusable) happens at once the first time, then at most once per
 * `forcedReadEveryMs`: meanwhile the same answer stands, so a fixed secret takes effect
 * within that interval.
 */
export function createSecretStore(options: SecretStoreOptions): CredentialSource {
  const cache = createCache<AppRegistry>({
    load: async () => parseSecretValue(await readOrUnavailable(options.read)),
    ttlMs: () => options.ttlMs,
    // A value that is there but unusable is the operator's to fix, not an outage.
    isLasting: (error) => error instanceof Problem && error.code !== 'secret_unavailable',
    // Retry later, not on every request: an outage must not add its full retry budget to each login.
    staleRetryMs: options.staleRetryMs ?? Math.min(options.ttlMs, 30_000),
    onStale: (failure) =>
      options.log.warn('serving the last good secret: Secrets Manager could not be read', {
        reason: failure instanceof Problem ? failure.reason : String(failure),
      }),
    forcedEveryMs: options.forcedReadEveryMs ?? FORCED_READ_EVERY_MS,
    ...(options.now && { now: options.now }),
  });
  return { get: () => cache.get(), refresh: () => cache.refresh() };
}

/** The raw value; a read that failed (not a value that is wrong) is `secret_unavailable`. */
async function readOrUnavailable(read: () => Promise<string>): Promise<string> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof Problem) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Problem('secret_unavailable', { cause: error, reason });
  }
}

/** A fixed set of apps held in memory: the sandbox, and local runs with credentials in the environment. */
export function createStaticSource(registry: AppRegistry): CredentialSource {
  const value = Promise.resolve(registry);
  return { get: () => value, refresh: () => value };
}
