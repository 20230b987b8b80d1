import { afterAll } from 'vitest';
import { SENSITIVE } from '../../harness/fixtures.ts';

/**
 * Every line written to stdout or stderr during a test file is kept and checked at the end:
 * no AppSecret, session_key or login code used in the tests may appear in any of them.
 * The lines are shown only with SHOW_LOGS=1, to keep the test output readable.
 */
const captured: string[] = [];
const show = process.env.SHOW_LOGS === '1';
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    captured.push(
      typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'),
    );
    if (show) return write(chunk, ...rest);
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
}

/** Lines captured so far in this test file (for tests that read the logs). */
export function capturedOutput(): readonly string[] {
  return captured;
}

afterAll(() => {
  const leaks: string[] = [];
  for (const text of captured) {
    for (const value of SENSITIVE) {
      if (text.includes(value)) leaks.push(`${value.slice(0, 3)}… in: ${text.slice(0, 200)}`);
    }
  }
  if (leaks.length > 0) throw new Error(`Sensitive values reached the logs:\n${leaks.join('\n')}`);
});
