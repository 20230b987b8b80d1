import { type AppRegistry, parseSecretValue } from '../domain/apps.ts';
import { LoginError } from '../domain/errors.ts';
import type { CredentialSource } from '../domain/ports.ts';
import type { Logger } from './log.ts';

export interface SecretStoreOptions {
  /** Reads the secret's raw value. */
  readonly read: () => Promise<string>;
  readonly ttlMs: number;
  readonly log: Logger;
  /** While Secrets Manager fails, the last good value is served and the next read waits this long. */
  readonly staleRetryMs?: number;
  readonly now?: () => number;
}

/**
 * Caches the parsed secret per execution environment. Concurrent callers share one read;
 * when a read fails after the TTL, the last good value keeps serving (with a warning);
 * a malformed value is never cached, so a fixed secret takes effect on the next request.
 */
export function createSecretStore(options: SecretStoreOptions): CredentialSource {
  const now = options.now ?? Date.now;
  const staleRetryMs = options.staleRetryMs ?? Math.min(options.ttlMs, 30_000);
  let cached: { registry: AppRegistry; expiresAt: number } | undefined;
  let inflight: Promise<AppRegistry> | undefined;

  const load = (): Promise<AppRegistry> => {
    inflight ??= readAndParse().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  async function readAndParse(): Promise<AppRegistry> {
    let raw: string;
    try {
      raw = await options.read();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (cached) {
        options.log.warn('serving the last good secret: Secrets Manager could not be read', {
          reason,
        });
        cached = { registry: cached.registry, expiresAt: now() + staleRetryMs };
        return cached.registry;
      }
      throw new LoginError(
        'secret_unavailable',
        'The backend cannot read its credentials right now. Retry after Retry-After seconds.',
        { cause: error, logDetail: reason },
      );
    }
    const registry = parseSecretValue(raw);
    cached = { registry, expiresAt: now() + options.ttlMs };
    return registry;
  }

  return {
    get: () => (cached && now() < cached.expiresAt ? Promise.resolve(cached.registry) : load()),
    refresh: load,
  };
}

/** A fixed set of apps held in memory: the sandbox, and local runs with credentials in the environment. */
export function createStaticSource(registry: AppRegistry): CredentialSource {
  const value = Promise.resolve(registry);
  return { get: () => value, refresh: () => value };
}
