/**
 * Every way a login can fail, as the contract names them. The HTTP status, title and
 * Retry-After of each code live in one table (`functions/handler/problems.ts`); the
 * domain only says *what* went wrong.
 */
export type ProblemCode =
  | 'invalid_request'
  | 'payload_too_large'
  | 'appid_mismatch'
  | 'invalid_code'
  | 'code_used'
  | 'user_blocked'
  | 'rate_limited'
  | 'upstream_busy'
  | 'upstream_timeout'
  | 'upstream_error'
  | 'misconfigured'
  | 'secret_unavailable'
  | 'session_unavailable'
  | 'internal_error';

export interface LoginErrorOptions {
  /** WeChat's errcode, when WeChat answered with a non-zero one. */
  errcode?: number;
  /** What the operator needs to know; logged, never returned. Must not contain secret values. */
  logDetail?: string;
  cause?: unknown;
}

/**
 * A failure the caller is told about. `detail` is shown to the mini program developer, so
 * it must never quote the code, the AppSecret or the session_key.
 */
export class LoginError extends Error {
  readonly code: ProblemCode;
  readonly detail: string;
  readonly errcode: number | undefined;
  readonly logDetail: string | undefined;

  constructor(code: ProblemCode, detail: string, options: LoginErrorOptions = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LoginError';
    this.code = code;
    this.detail = detail;
    this.errcode = options.errcode;
    this.logDetail = options.logDetail;
  }
}

/** The secret's value cannot be used; `reason` says why without quoting the value. */
export function misconfigured(reason: string, options: LoginErrorOptions = {}): LoginError {
  return new LoginError(
    'misconfigured',
    'The backend is misconfigured: the operator must check the WeChat AppID/AppSecret it is configured with (its Secrets Manager secret).',
    { ...options, logDetail: reason },
  );
}
