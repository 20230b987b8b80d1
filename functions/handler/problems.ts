import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type FailureFacts, Problem, type ProblemCode } from '../domain/problem.ts';
import { NO_STORE, type RouteName } from '../routes/route.ts';
import { CATALOGUE, type ProblemWords, type RouteProblemCode } from './catalogue.ts';

/** A failure, rendered: the problem response, and the operator's reason for the log line. */
export interface RenderedProblem {
  readonly code: ProblemCode;
  readonly response: APIGatewayProxyStructuredResultV2;
  readonly reason?: string;
}

/**
 * The one place where a failure becomes HTTP: an RFC 9457 problem in the shape docs/endpoint.md gives.
 * Anything but a `Problem` is `internal_error`.
 */
export function renderProblem(
  error: unknown,
  requestId: string,
  route?: RouteName,
): RenderedProblem {
  const known = error instanceof Problem ? error : undefined;
  const code = known?.code ?? 'internal_error';
  const facts = known?.facts ?? {};
  const words = CATALOGUE[code];
  const reason = 'reason' in words ? words.reason(facts) : facts.reason;
  return {
    code,
    response: problemResponse(code, requestId, facts, undefined, route),
    ...(reason !== undefined && { reason }),
  };
}

/** A problem response for any code, route problems included; `detail` overrides the catalogue's. */
export function problemResponse(
  code: ProblemCode | RouteProblemCode,
  requestId: string,
  facts: FailureFacts = {},
  detail?: string,
  route?: RouteName,
): APIGatewayProxyStructuredResultV2 {
  const words: ProblemWords = CATALOGUE[code];
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'cache-control': NO_STORE,
  };
  if (words.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(words.retryAfterSeconds);
  }
  if (words.headers) Object.assign(headers, words.headers);
  return {
    statusCode: words.status,
    headers,
    body: JSON.stringify({
      type: `urn:weapp-openid:problem:${code}`,
      title: words.title,
      status: words.status,
      detail: detail ?? words.detail(facts, route),
      code,
      ...(facts.errcode !== undefined && { errcode: facts.errcode }),
      requestId,
    }),
  };
}
