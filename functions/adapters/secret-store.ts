import { type AppRegistry, parseSecretValue } from '../domain/apps.ts';
import { LoginError } from '../domain/errors.ts';
import type { CredentialSource, Logger } from '../domain/ports.ts';

export interface SecretStoreOptions {
  /** Reads the secret's raw value. */
  readonly read: () => Promise<string>;
  readonly ttlMs: number;
  readonly log: Logger;
  /** While Secrets Manager fails, the last good value is served and the next read waits this long. */
  readonly staleRetryMs?: number;
  readonly now?: () => number;
}

interface Cached {
  readonly registry: AppRegistry;
  readonly expiresAt: number;
  /** Why the last read failed, while the value served is the last good one. */
  readonly staleBecause?: string;
}

/**
 * Caches the parsed secret per execution environment. Concurrent callers share one read;
 * when a read fails after the TTL, the last good value keeps serving, with a warning each
 * time; a malformed value is never cached, so a fixed secret takes effect on the next request.
 */
export function createSecretStore(options: SecretStoreOptions): CredentialSource {
  const now = options.now ?? Date.now;
  const staleRetryMs = options.staleRetryMs ?? Math.min(options.ttlMs, 30_000);
  let cached: Cached | undefined;
  let inflight: Promise<AppRegistry> | undefined;

  const load = (): Promise<AppRegistry> => {
    inflight ??= readAndParse().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  const serve = (entry: Cached): AppRegistry => {
    if (entry.staleBecause !== undefined) {
      options.log.warn('serving the last good secret: Secrets Manager could not be read', {
        reason: entry.staleBecause,
      });
    }
    return entry.registry;
  };

  async function readAndParse(): Promise<AppRegistry> {
    let raw: string;
    try {
      raw = await options.read();
    } catch (error) {
      // A value that is there but unusable is the operator's to fix, not an outage.
      if (error instanceof LoginError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      if (cached) {
        // Retry later, not on every request: an outage must not add its full retry budget to each login.
        cached = {
          registry: cached.registry,
          expiresAt: now() + staleRetryMs,
          staleBecause: reason,
        };
        return serve(cached);
      }
      throw new LoginError('secret_unavailable', { cause: error, reason });
    }
    const registry = parseSecretValue(raw);
    cached = { registry, expiresAt: now() + options.ttlMs };
    return registry;
  }

  return {
    get: () => (cached && now() < cached.expiresAt ? Promise.resolve(serve(cached)) : load()),
    refresh: load,
  };
}

/** A fixed set of apps held in memory: the sandbox, and local runs with credentials in the environment. */
export function createStaticSource(registry: AppRegistry): CredentialSource {
  const value = Promise.resolve(registry);
  return { get: () => value, refresh: () => value };
}
