/**
 * One value kept per execution environment and loaded on demand: the secret, a public key,
 * an access token. Concurrent callers share one load (single flight); a loaded value is
 * served until its TTL runs out; a load that fails for a passing reason while a value is
 * kept serves that value again (stale on error) and the next load waits `staleRetryMs`; a
 * load that fails for a lasting reason is remembered, and loads outside the TTL (a forced
 * refresh, or another try after a lasting failure) go out at most once per
 * `forcedEveryMs`, so that a broken dependency under traffic is not called per request.
 */
export interface CacheOptions<T, C = void> {
  /** Loads the value; `context` is the caller's whose call starts the load (e.g. its trace). */
  readonly load: (context: C) => Promise<T>;
  /** How long a loaded value is served, in ms (Infinity: for the life of the environment). */
  readonly ttlMs: (value: T) => number;
  /** Whether a failure is lasting (remembered and answered until a retry is allowed). */
  readonly isLasting?: (error: unknown) => boolean;
  /**
   * After a passing failure with a value kept: serve it, and load again this long after.
   * Undefined: no stale serving, the failure goes to the caller.
   */
  readonly staleRetryMs?: number;
  /** Told each time a stale value is served, with the failure that made it stale. */
  readonly onStale?: (failure: unknown) => void;
  /** Loads outside the TTL at most this often (default: no limit). */
  readonly forcedEveryMs?: number;
  readonly now?: () => number;
}

export interface Cache<T, C = void> {
  /** The kept value while it is fresh, else a load (shared with any load in flight). */
  get(context: C): Promise<T>;
  /**
   * A load now, bypassing the TTL (the value was refused, e.g. a rotated AppSecret or a
   * revoked token), unless one went out less than `forcedEveryMs` ago: then what is kept.
   */
  refresh(context: C): Promise<T>;
  /** Forgets the kept value: the next `get` loads. */
  drop(): void;
  /** The kept value, fresh or not, without loading: undefined when none was loaded yet. */
  peek(): T | undefined;
}

interface Kept<T> {
  readonly value: T;
  readonly expiresAt: number;
  /** The failure that made this value stale, while it is. */
  readonly staleBecause?: unknown;
}

export function createCache<T, C = void>(options: CacheOptions<T, C>): Cache<T, C> {
  const now = options.now ?? Date.now;
  const forcedEveryMs = options.forcedEveryMs ?? 0;
  let kept: Kept<T> | undefined;
  let inflight: Promise<T> | undefined;
  /** The last lasting failure, until a load succeeds. */
  let lasting: { readonly error: unknown } | undefined;
  let lastForced = Number.NEGATIVE_INFINITY;

  /** Whether a load outside the TTL may go out now; if so, it counts as the interval's load. */
  const mayForce = (): boolean => {
    if (now() - lastForced < forcedEveryMs) return false;
    lastForced = now();
    return true;
  };

  const serve = (entry: Kept<T>): T => {
    if (entry.staleBecause !== undefined) options.onStale?.(entry.staleBecause);
    return entry.value;
  };

  const load = (context: C): Promise<T> => {
    inflight ??= run(context).finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  async function run(context: C): Promise<T> {
    let value: T;
    try {
      value = await options.load(context);
    } catch (error) {
      if (options.isLasting?.(error)) {
        lasting = { error };
        throw error;
      }
      if (kept && options.staleRetryMs !== undefined) {
        kept = { value: kept.value, expiresAt: now() + options.staleRetryMs, staleBecause: error };
        return serve(kept);
      }
      throw error;
    }
    lasting = undefined;
    kept = { value, expiresAt: now() + options.ttlMs(value) };
    return value;
  }

  return {
    get(context) {
      if (kept && now() < kept.expiresAt) return Promise.resolve(serve(kept));
      if (lasting && !inflight && !mayForce()) return Promise.reject(lasting.error);
      return load(context);
    },
    refresh(context) {
      if (inflight || mayForce()) return load(context);
      if (lasting) return Promise.reject(lasting.error);
      return kept ? Promise.resolve(serve(kept)) : load(context);
    },
    drop() {
      kept = undefined;
    },
    peek: () => kept?.value,
  };
}
