export interface UsedCodesOptions {
  /** How long a used code stays used, in milliseconds of `now`. */
  readonly lifetimeMs: number;
  /** The most codes held; over it, the oldest is forgotten first. */
  readonly max: number;
  /** A monotonic clock in milliseconds. */
  readonly now: () => number;
}

export interface UsedCodes {
  /** Marks `key` used; false if it was already used and not yet forgotten. */
  use(key: string): boolean;
  /** How many keys are held now. */
  readonly size: number;
}

/** Below this many forgotten slots the queue is not worth compacting. */
const COMPACT_AFTER = 1024;

/**
 * The keys used in the last `lifetimeMs`, at most `max` of them. Keys are queued in the order
 * they were used, so whatever is forgotten (expired or over the bound) is at the front.
 *
 * The order is kept in arrays with a moving head, not in the Set's own order: V8 leaves a
 * hole for every entry deleted from the front of a Set or Map until its table is rebuilt, and
 * every new iterator walks past those holes. At 100,000 entries that cost 40 µs per use.
 */
export function createUsedCodes(options: UsedCodesOptions): UsedCodes {
  const { lifetimeMs, max, now } = options;
  const held = new Set<string>();
  // queue[i] was used at usedAt[i]; the slots before `head` are forgotten.
  let queue: string[] = [];
  let usedAt: number[] = [];
  let head = 0;

  const forgetOldest = () => {
    held.delete(queue[head] ?? '');
    head++;
    if (head >= COMPACT_AFTER && head * 2 >= queue.length) {
      queue = queue.slice(head);
      usedAt = usedAt.slice(head);
      head = 0;
    }
  };

  return {
    use(key) {
      const at = now();
      while (head < queue.length && at - (usedAt[head] ?? at) >= lifetimeMs) forgetOldest();
      if (held.has(key)) return false;
      held.add(key);
      queue.push(key);
      usedAt.push(at);
      if (held.size > max) forgetOldest();
      return true;
    },
    get size() {
      return held.size;
    },
  };
}
