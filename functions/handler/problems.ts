import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type FailureFacts, LoginError, type ProblemCode } from '../domain/errors.ts';
import { CATALOGUE, type RouteProblemCode } from './catalogue.ts';

/** Every answer that is about one user or one request. */
export const NO_STORE = 'no-store';

/** A failure, rendered: the problem response, and the operator's reason for the log line. */
export interface RenderedProblem {
  readonly code: ProblemCode;
  readonly response: APIGatewayProxyStructuredResultV2;
  readonly reason?: string;
}

/**
 * The one place where a failure becomes HTTP: an RFC 9457 problem in the shape docs/endpoint.md gives.
 * Anything but a `LoginError` is `internal_error`.
 */
export function problem(error: unknown, requestId: string): RenderedProblem {
  const known = error instanceof LoginError ? error : undefined;
  const code = known?.code ?? 'internal_error';
  const facts = known?.facts ?? {};
  const words = CATALOGUE[code];
  const reason = 'reason' in words ? words.reason(facts) : facts.reason;
  return {
    code,
    response: problemResponse(code, requestId, facts),
    ...(reason !== undefined && { reason }),
  };
}

/** A problem response for any code, route problems included; `detail` overrides the catalogue's. */
export function problemResponse(
  code: ProblemCode | RouteProblemCode,
  requestId: string,
  facts: FailureFacts = {},
  detail?: string,
): APIGatewayProxyStructuredResultV2 {
  const words = CATALOGUE[code];
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'cache-control': NO_STORE,
  };
  if ('retryAfterSeconds' in words) headers['retry-after'] = String(words.retryAfterSeconds);
  if ('headers' in words) Object.assign(headers, words.headers);
  return {
    statusCode: words.status,
    headers,
    body: JSON.stringify({
      type: `urn:weapp-openid:problem:${code}`,
      title: words.title,
      status: words.status,
      detail: detail ?? words.detail(facts),
      code,
      ...(facts.errcode !== undefined && { errcode: facts.errcode }),
      requestId,
    }),
  };
}
