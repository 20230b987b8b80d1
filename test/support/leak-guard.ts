import { afterAll } from 'vitest';
import { SENSITIVE } from '../../harness/fixtures.ts';

/**
 * Every line written to stdout or stderr during a test file is kept and checked at the end:
 * no AppSecret, session_key or login code used in the tests may appear in any of them, and
 * neither may a session token nor any part of a token's signature: a token is a bearer
 * credential. Tests hand the tokens they receive to `rememberToken`, and the other values they
 * make up that must stay out of the logs (WeChat access tokens, phone codes) to
 * `rememberSensitive`.
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

/** Anything shaped like a JWS in compact form (base64url JSON header, payload, signature). */
const JWS = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{16,}/;
const signatures = new Set<string>();
const sensitive = new Set<string>(SENSITIVE);

/** A token a test received: neither it nor any 16 characters of its signature may be logged. */
export function rememberToken(token: string): void {
  const signature = token.split('.')[2] ?? '';
  for (let i = 0; i + 16 <= signature.length; i += 16) signatures.add(signature.slice(i, i + 16));
}

/**
 * A value a test made up that may not appear in any line: an access token the fake WeChat
 * hands out, a phone code. Only values of 8 characters or more, so that a match means a leak.
 */
export function rememberSensitive(...values: readonly string[]): void {
  for (const value of values) {
    if (value.length < 8) throw new Error(`too short to look for in the logs: ${value.length}`);
    sensitive.add(value);
  }
}

/** Lines captured so far in this test file (for tests that read the logs). */
export function capturedOutput(): readonly string[] {
  return captured;
}

afterAll(() => {
  const leaks: string[] = [];
  for (const text of captured) {
    for (const value of sensitive) {
      if (text.includes(value)) leaks.push(`${value.slice(0, 3)}… in: ${text.slice(0, 200)}`);
    }
    if (JWS.test(text)) leaks.push(`a token in: ${text.slice(0, 80)}…`);
    for (const part of signatures) {
      if (text.includes(part)) leaks.push(`part of a token signature in: ${text.slice(0, 80)}…`);
    }
  }
  if (leaks.length > 0) throw new Error(`Sensitive values reached the logs:\n${leaks.join('\n')}`);
});
