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
  /** Reads outside the TTL (a forced re-read, or again after an unusable value) at most this often. */
  readonly forcedReadEveryMs?: number;
  readonly now?: () => number;
}

/**
 * A misconfigured deployment under traffic would otherwise read the secret on every request:
 * each WeChat 40125 forces a re-read, and so does each request after an unusable value.
 */
export const FORCED_READ_EVERY_MS = 5000;

interface Cached {
  readonly registry: AppRegistry;
  readonly expiresAt: number;
  /** Why the last read failed, while the value served is the last good one. */
  readonly staleBecause?: string;
}

/**
 * Caches the parsed secret per execution environment. Concurrent callers share one read;
 * when a read fails after the TTL, the last good value keeps serving, with a warning each
 * time. A read outside the TTL (after WeChat rejected the credentials, or after the value
 * turned out unusable) happens at once the first time, then at most once per
 * `forcedReadEveryMs`: meanwhile the same answer stands, so a fixed secret takes effect
 * within that interval.
 */
export function createSecretStore(options: SecretStoreOptions): CredentialSource {
  const now = options.now ?? Date.now;
  const staleRetryMs = options.staleRetryMs ?? Math.min(options.ttlMs, 30_000);
  const forcedReadEveryMs = options.forcedReadEveryMs ?? FORCED_READ_EVERY_MS;
  let cached: Cached | undefined;
  let inflight: Promise<AppRegistry> | undefined;
  /** Why the last read's value could not be used, until a read gives a usable one. */
  let unusable: LoginError | undefined;
  let lastForcedRead = Number.NEGATIVE_INFINITY;

  /** Whether a read outside the TTL may go out now; if so, it counts as the interval's read. */
  const mayForceRead = (): boolean => {
    if (now() - lastForcedRead < forcedReadEveryMs) return false;
    lastForcedRead = now();
    return true;
  };

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
      if (error instanceof LoginError) throw remember(error);
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
    let registry: AppRegistry;
    try {
      registry = parseSecretValue(raw);
    } catch (error) {
      throw remember(error);
    }
    unusable = undefined;
    cached = { registry, expiresAt: now() + options.ttlMs };
    return registry;
  }

  function remember(error: unknown): unknown {
    if (error instanceof LoginError) unusable = error;
    return error;
  }

  return {
    get: () => {
      if (cached && now() < cached.expiresAt) return Promise.resolve(serve(cached));
      if (unusable && !inflight && !mayForceRead()) return Promise.reject(unusable);
      return load();
    },
    refresh: () => {
      if (inflight || mayForceRead()) return load();
      if (unusable) return Promise.reject(unusable);
      return cached ? Promise.resolve(serve(cached)) : load();
    },
  };
}

/** A fixed set of apps held in memory: the sandbox, and local runs with credentials in the environment. */
export function createStaticSource(registry: AppRegistry): CredentialSource {
  const value = Promise.resolve(registry);
  return { get: () => value, refresh: () => value };
}
