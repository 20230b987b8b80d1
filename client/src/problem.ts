/** The one shape every failure rejects with, and how an HTTP answer becomes one. */
import type { ClientError, Response } from './index.ts';
import { asObject, text } from './json.ts';

interface Extra {
  readonly requestId?: string | undefined;
  readonly errcode?: number | undefined;
  readonly retryAfter?: number | undefined;
}

export function clientError(
  code: string,
  status: number,
  detail: string,
  extra: Extra = {},
): ClientError {
  const error = new Error(detail) as Error & Record<string, unknown>;
  error.name = 'WeappOpenidError';
  error.code = code;
  error.status = status;
  error.detail = detail;
  // Only the fields that are there, so that a page printing the error sees no `undefined`s.
  if (extra.requestId !== undefined) error.requestId = extra.requestId;
  if (extra.errcode !== undefined) error.errcode = extra.errcode;
  if (extra.retryAfter !== undefined) error.retryAfter = extra.retryAfter;
  return error as unknown as ClientError;
}

/**
 * A failed answer as an error. The backend answers problem+json (`code`, `detail`,
 * `requestId`); anything else (a proxy's HTML page, API Gateway's own `{"message": …}`) keeps
 * its status under a generic code, with `fallbackCode` for a status the caller knows.
 */
export function problemError(
  response: Response,
  fallbackCode = 'unexpected_response',
): ClientError {
  const problem = asObject(response.data);
  const code = text(problem.code);
  const requestId = text(problem.requestId) ?? response.header['apigw-requestid'];
  const retryAfter = Number(response.header['retry-after']);
  const extra: Extra = {
    requestId,
    errcode: typeof problem.errcode === 'number' ? problem.errcode : undefined,
    retryAfter: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
  };
  if (code) {
    const detail = text(problem.detail) ?? text(problem.title) ?? `The server answered ${code}.`;
    return clientError(code, response.statusCode, detail, extra);
  }
  return clientError(
    fallbackCode,
    response.statusCode,
    `The server answered HTTP ${response.statusCode} without a problem description${
      text(problem.message) ? `: ${text(problem.message)}` : ''
    }.`,
    extra,
  );
}
