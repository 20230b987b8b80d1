import { describe, expect, it } from 'vitest';
import { createCache } from '../../functions/adapters/cache.ts';

/** A load that counts its calls and answers what the test says next. */
function loader() {
  const state = {
    calls: 0,
    next: 'value' as string | Error,
    load: async (): Promise<string> => {
      state.calls++;
      await Promise.resolve();
      if (state.next instanceof Error) throw state.next;
      return `${state.next}-${state.calls}`;
    },
  };
  return state;
}

const LASTING = new Error('lasting');

describe('the cache under the secret, the public keys and the access tokens', () => {
  it('shares one load between concurrent callers', async () => {
    const source = loader();
    const cache = createCache({ load: source.load, ttlMs: () => 1000 });

    const values = await Promise.all([cache.get(), cache.get(), cache.get()]);

    expect(values).toEqual(['value-1', 'value-1', 'value-1']);
    expect(source.calls).toBe(1);
  });

  it('serves the value until its TTL has passed, then loads again', async () => {
    let clock = 0;
    const source = loader();
    const cache = createCache({ load: source.load, ttlMs: () => 1000, now: () => clock });
    await cache.get();

    clock = 999;
    const fresh = await cache.get();
    clock = 1000;
    const reloaded = await cache.get();

    expect(fresh).toBe('value-1');
    expect(reloaded).toBe('value-2');
  });

  it('serves the stale value after a passing failure, and tries again only after staleRetryMs', async () => {
    let clock = 0;
    const stale: unknown[] = [];
    const source = loader();
    const cache = createCache({
      load: source.load,
      ttlMs: () => 1000,
      staleRetryMs: 300,
      onStale: (failure) => stale.push(failure),
      now: () => clock,
    });
    await cache.get();
    source.next = new Error('outage');

    clock = 1000;
    const first = await cache.get();
    clock = 1200;
    const second = await cache.get();
    clock = 1300;
    source.next = 'back';
    const recovered = await cache.get();

    expect([first, second]).toEqual(['value-1', 'value-1']);
    expect(source.calls).toBe(3);
    expect(stale).toHaveLength(2);
    expect(recovered).toBe('back-3');
  });

  it('hands a passing failure to the caller when nothing is kept, and keeps nothing', async () => {
    const source = loader();
    source.next = new Error('outage');
    const cache = createCache({ load: source.load, ttlMs: () => 1000 });

    await expect(cache.get()).rejects.toThrow('outage');
    source.next = 'back';

    expect(await cache.get()).toBe('back-2');
  });

  it('remembers a lasting failure and loads again at once the first time, then at most once per interval', async () => {
    let clock = 0;
    const source = loader();
    source.next = LASTING;
    const cache = createCache({
      load: source.load,
      ttlMs: () => 1000,
      isLasting: (error) => error === LASTING,
      forcedEveryMs: 5000,
      now: () => clock,
    });

    await expect(cache.get()).rejects.toBe(LASTING);
    await expect(cache.get()).rejects.toBe(LASTING);
    clock = 4999;
    await expect(cache.get()).rejects.toBe(LASTING);
    clock = 5000;
    source.next = 'fixed';
    const fixed = await cache.get();

    expect(source.calls).toBe(3);
    expect(fixed).toBe('fixed-3');
  });

  it('refreshes at once, bypassing the TTL, at most once per interval', async () => {
    let clock = 0;
    const source = loader();
    const cache = createCache({
      load: source.load,
      ttlMs: () => 60_000,
      forcedEveryMs: 5000,
      now: () => clock,
    });
    await cache.get();

    const refreshed = await cache.refresh();
    clock = 1000;
    const again = await cache.refresh();

    expect(refreshed).toBe('value-2');
    expect(again).toBe('value-2');
    expect(source.calls).toBe(2);
  });

  it('forgets the kept value when dropped, and hands the caller its context for the load', async () => {
    const contexts: string[] = [];
    let calls = 0;
    const cache = createCache<string, string>({
      load: (context) => {
        contexts.push(context);
        return Promise.resolve(`token-${++calls}`);
      },
      ttlMs: () => 60_000,
    });
    await cache.get('first request');

    const peeked = cache.peek();
    cache.drop();
    const dropped = cache.peek();
    const renewed = await cache.get('second request');

    expect([peeked, dropped]).toEqual(['token-1', undefined]);
    expect(renewed).toBe('token-2');
    expect(contexts).toEqual(['first request', 'second request']);
  });
});
