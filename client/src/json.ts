/** Reading values of unknown shape: answers, and what storage holds. */

/**
 * A body as an object. The backend's own answers are always JSON, so a string is parsed
 * whatever its content type said (the runtime leaves some JSON bodies as strings); anything
 * that is not a JSON object is `{}`.
 */
export function asObject(value: unknown): Record<string, unknown> {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return {};
    }
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

/** A non-empty string, or undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The fields of `source` named in `keys` that are non-empty strings, the others left out, so
 * that a page printing the result sees no `undefined`s.
 */
export function texts<K extends string>(
  source: Record<string, unknown>,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = text(source[key]);
    if (value) out[key] = value;
  }
  return out;
}
