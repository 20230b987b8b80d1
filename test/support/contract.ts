/**
 * The endpoint's answer shapes (docs/endpoint.md) as a checker, written from that page
 * rather than from functions/handler/catalogue.ts, so that tests comparing against it catch a
 * drift in either. Used by the property tests and the load test.
 */
import type { ProblemCode } from '../../functions/domain/problem.ts';
import type { RouteProblemCode } from '../../functions/handler/catalogue.ts';

/** Status of every problem `code` docs/endpoint.md names. */
export const CONTRACT_STATUS = {
  invalid_request: 400,
  payload_too_large: 413,
  appid_mismatch: 400,
  invalid_code: 400,
  code_used: 400,
  user_blocked: 403,
  rate_limited: 429,
  upstream_busy: 503,
  upstream_timeout: 504,
  upstream_error: 502,
  misconfigured: 500,
  secret_unavailable: 503,
  session_unavailable: 503,
  unauthorized: 401,
  not_found: 404,
  invalid_phone_code: 400,
  store_unavailable: 503,
  session_key_stale: 409,
  open_data_mismatch: 400,
  internal_error: 500,
} as const satisfies Record<ProblemCode, number>;

/** Answered only by the local server (API Gateway answers these itself in the cloud). */
export const LOCAL_ROUTE_STATUS = {
  method_not_allowed: 405,
} as const satisfies Record<RouteProblemCode, number>;

/** Codes whose answer must carry `Retry-After` (in seconds). */
export const RETRY_AFTER_CODES: ReadonlySet<string> = new Set([
  'rate_limited',
  'upstream_busy',
  'secret_unavailable',
  'session_unavailable',
  'store_unavailable',
]);

/** What a successful login may answer (docs/endpoint.md, "Requests and answers"). */
const LOGIN_FIELDS = new Set(['openid', 'unionid', 'token', 'expiresIn']);
const JWS = /^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const PROBLEM_KEYS = new Set(['type', 'title', 'status', 'detail', 'code', 'errcode', 'requestId']);

/** One answer as seen from outside: a Lambda result or an HTTP response. */
export interface Answer {
  readonly status: number;
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: string;
}

/** What a well-formed answer turned out to be. */
export type Parsed =
  | { readonly kind: 'ok'; readonly openid: string; readonly unionid?: string }
  | {
      readonly kind: 'problem';
      readonly code: string;
      readonly errcode?: number;
      readonly requestId: string;
    };

/**
 * Checks one answer against the contract. Returns what it is, or the list of ways it breaks
 * the contract (never throws, whatever the answer).
 */
export function checkAnswer(
  answer: Answer,
  options: { localRoutes?: boolean } = {},
): { parsed: Parsed; violations: [] } | { parsed?: undefined; violations: string[] } {
  const violations: string[] = [];
  const headers = lowerCase(answer.headers);
  if (headers['cache-control'] !== 'no-store')
    violations.push(`cache-control is ${headers['cache-control']}`);
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return { violations: [...violations, 'body is not JSON'] };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { violations: [...violations, 'body is not a JSON object'] };
  const fields = body as Record<string, unknown>;

  if (answer.status === 200) {
    if (headers['content-type'] !== 'application/json')
      violations.push(`200 with content-type ${headers['content-type']}`);
    const extra = Object.keys(fields).filter((key) => !LOGIN_FIELDS.has(key));
    if (extra.length > 0) violations.push(`200 body has extra fields ${extra.join(',')}`);
    const { openid, unionid, token, expiresIn } = fields;
    if (typeof openid !== 'string' || openid === '') violations.push('200 without an openid');
    if (Object.hasOwn(fields, 'unionid') && (typeof unionid !== 'string' || unionid === ''))
      violations.push('200 with a unionid that is not a non-empty string');
    // With sessions on: a JWS compact token and its lifetime, both or neither.
    if (Object.hasOwn(fields, 'token') !== Object.hasOwn(fields, 'expiresIn'))
      violations.push('200 with only one of token and expiresIn');
    if (Object.hasOwn(fields, 'token') && (typeof token !== 'string' || !JWS.test(token)))
      violations.push('200 with a token that is not a JWS in compact form');
    if (
      Object.hasOwn(fields, 'expiresIn') &&
      !(Number.isInteger(expiresIn) && (expiresIn as number) >= 300)
    )
      violations.push('200 with an expiresIn that is not a lifetime in seconds');
    if (violations.length > 0) return { violations };
    return {
      parsed: {
        kind: 'ok',
        openid: openid as string,
        ...(typeof unionid === 'string' && { unionid }),
      },
      violations: [],
    };
  }

  if (headers['content-type'] !== 'application/problem+json')
    violations.push(`${answer.status} with content-type ${headers['content-type']}`);
  const extra = Object.keys(fields).filter((key) => !PROBLEM_KEYS.has(key));
  if (extra.length > 0) violations.push(`problem has extra fields ${extra.join(',')}`);
  for (const key of ['type', 'title', 'detail', 'code', 'requestId']) {
    if (typeof fields[key] !== 'string' || fields[key] === '')
      violations.push(`problem ${key} is not a non-empty string`);
  }
  const code = String(fields.code);
  const table: Readonly<Record<string, number>> = options.localRoutes
    ? { ...CONTRACT_STATUS, ...LOCAL_ROUTE_STATUS }
    : CONTRACT_STATUS;
  const expected = Object.hasOwn(table, code) ? table[code] : undefined;
  if (expected === undefined) violations.push(`unknown problem code ${code}`);
  else if (expected !== answer.status)
    violations.push(
      `code ${code} answered with status ${answer.status}, contract says ${expected}`,
    );
  if (fields.status !== answer.status)
    violations.push(`body status ${String(fields.status)} differs from HTTP ${answer.status}`);
  if (Object.hasOwn(fields, 'errcode') && !Number.isInteger(fields.errcode))
    violations.push('errcode present but not an integer number');
  const retryAfter = headers['retry-after'];
  if (RETRY_AFTER_CODES.has(code)) {
    if (typeof retryAfter !== 'string' || !/^[1-9]\d*$/.test(retryAfter))
      violations.push(`${code} without a Retry-After in whole seconds`);
  }
  if (violations.length > 0) return { violations };
  return {
    parsed: {
      kind: 'problem',
      code,
      requestId: fields.requestId as string,
      ...(typeof fields.errcode === 'number' && { errcode: fields.errcode }),
    },
    violations: [],
  };
}

function lowerCase(headers: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  return result;
}

/**
 * The places in `texts` where a secret shows, whole or in part: a secret is leaked when it, or
 * any `window`-character slice of it with enough variety not to match by chance, appears.
 * Values shorter than 8 characters cannot be told apart from chance and are not looked for.
 */
export function findLeaks(
  texts: readonly string[],
  secrets: readonly string[],
  window = 12,
): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    const parts = secret.length < window ? [] : slices(secret, window);
    for (const text of texts) {
      if (text.includes(secret) || parts.some((part) => text.includes(part))) {
        found.push(
          `${JSON.stringify(secret.slice(0, 3))}… in ${JSON.stringify(text.slice(0, 300))}`,
        );
        break;
      }
    }
  }
  return found;
}

function slices(secret: string, window: number): string[] {
  const parts: string[] = [];
  for (let start = 0; start + window <= secret.length; start++) {
    const part = secret.slice(start, start + window);
    if (new Set(part).size >= 5) parts.push(part);
  }
  return parts;
}
