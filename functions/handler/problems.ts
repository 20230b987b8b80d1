import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { LoginError, type ProblemCode } from '../domain/errors.ts';
import type { Session } from '../domain/ports.ts';

/** Codes that only the local server answers with; API Gateway answers these itself in the cloud. */
export type RouteProblemCode = 'not_found' | 'method_not_allowed';

interface ProblemSpec {
  readonly status: number;
  readonly title: string;
  readonly retryAfterSeconds?: number;
}

/** The one place where a failure becomes an HTTP status (contract section 1). */
const PROBLEMS: Record<ProblemCode | RouteProblemCode, ProblemSpec> = {
  invalid_request: { status: 400, title: 'The request is not a valid login request' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  appid_mismatch: { status: 400, title: 'The mini program AppID does not match the backend' },
  invalid_code: { status: 400, title: 'The login code is invalid or expired' },
  code_used: { status: 400, title: 'The login code has already been used' },
  user_blocked: { status: 403, title: 'WeChat blocked this user' },
  rate_limited: { status: 429, title: 'Too many logins for this user', retryAfterSeconds: 60 },
  upstream_busy: { status: 503, title: 'WeChat is busy', retryAfterSeconds: 2 },
  upstream_timeout: { status: 504, title: 'WeChat did not answer in time' },
  upstream_error: { status: 502, title: 'WeChat gave an unusable answer' },
  misconfigured: { status: 500, title: 'The backend is misconfigured' },
  secret_unavailable: {
    status: 503,
    title: 'The backend cannot read its credentials',
    retryAfterSeconds: 5,
  },
  session_unavailable: {
    status: 503,
    title: 'The session could not be signed',
    retryAfterSeconds: 2,
  },
  internal_error: { status: 500, title: 'Internal error' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
};

const NO_STORE = 'no-store';

/** 200 with the openid (and unionid when WeChat gave one), and nothing else. */
export function success(session: Session): APIGatewayProxyStructuredResultV2 {
  const body =
    session.unionid === undefined
      ? { openid: session.openid }
      : { openid: session.openid, unionid: session.unionid };
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'cache-control': NO_STORE },
    body: JSON.stringify(body),
  };
}

/** An RFC 9457 problem in the contract's shape. Anything but a `LoginError` is `internal_error`. */
export function problem(
  error: unknown,
  requestId: string,
): { code: ProblemCode; response: APIGatewayProxyStructuredResultV2 } {
  const known = error instanceof LoginError ? error : undefined;
  const code = known?.code ?? 'internal_error';
  const detail =
    known?.detail ??
    'Something unexpected went wrong. Retry later; the operator can find this request in the logs by its requestId.';
  return { code, response: problemResponse(code, detail, requestId, known?.errcode) };
}

/** A problem response for any code, route problems included. */
export function problemResponse(
  code: ProblemCode | RouteProblemCode,
  detail: string,
  requestId: string,
  errcode?: number,
): APIGatewayProxyStructuredResultV2 {
  const spec = PROBLEMS[code];
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'cache-control': NO_STORE,
  };
  if (spec.retryAfterSeconds !== undefined) headers['retry-after'] = String(spec.retryAfterSeconds);
  return {
    statusCode: spec.status,
    headers,
    body: JSON.stringify({
      type: `urn:weapp-openid:problem:${code}`,
      title: spec.title,
      status: spec.status,
      detail,
      code,
      ...(errcode !== undefined && { errcode }),
      requestId,
    }),
  };
}
