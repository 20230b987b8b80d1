import { describe, expect, it } from 'vitest';
import { createUsedCodes } from '../../functions/local/used-codes.ts';

const keys = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `k${from + i}`);

describe('used codes', () => {
  it('holds only the newest keys over its bound, through thousands of forgettings', () => {
    const used = createUsedCodes({ lifetimeMs: 1_000, max: 10, now: () => 0 });

    const firstUses = keys(0, 5_000).map((key) => used.use(key));

    expect(firstUses.every(Boolean)).toBe(true);
    expect(used.size).toBe(10);
    expect(keys(4_990, 5_000).map((key) => used.use(key))).toEqual(Array(10).fill(false));
    // k4989 is new again, and pushes out the oldest held, k4990.
    expect(used.use('k4989')).toBe(true);
    expect(used.use('k4991')).toBe(false);
    expect(used.use('k4990')).toBe(true);
  });

  it('forgets every key used lifetimeMs ago or more, and only those', () => {
    let now = 0;
    const used = createUsedCodes({ lifetimeMs: 100, max: 10_000, now: () => now });
    for (const key of keys(0, 3_000)) {
      used.use(key);
      now++;
    }

    now = 3_050;
    used.use('x');

    // k2950 was used at 2950, 100 ms ago; k2951 at 2951.
    expect(used.size).toBe(50);
    expect(used.use('k2951')).toBe(false);
    expect(used.use('k2950')).toBe(true);
  });
});
