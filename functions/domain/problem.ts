/**
 * Every way a request can fail, as the failure table of docs/endpoint.md names them. A failure is data:
 * its code plus the facts of what happened. The words people read (status, title, detail,
 * Retry-After, the log's reason) are rendered in one place, `functions/handler/catalogue.ts`.
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
  | 'unauthorized'
  | 'not_found'
  | 'invalid_phone_code'
  | 'store_unavailable'
  | 'session_key_stale'
  | 'open_data_mismatch'
  | 'internal_error';

/** Which rule a login request broke (`invalid_request`). */
export type RequestViolation =
  | 'body_missing'
  | 'body_not_base64'
  | 'body_not_json'
  | 'body_not_object'
  | 'code_missing'
  | 'code_not_string'
  | 'code_empty'
  | 'code_too_long'
  | 'code_alphabet'
  | 'appid_malformed'
  | 'encrypted_data_malformed'
  | 'iv_malformed';

/** What the operator must check when the backend is `misconfigured`. */
export type ConfigSubject = 'secret' | 'signing_key' | 'ip_allowlist';

/** The facts of a failure. None of them ever holds the code, the AppSecret or the session_key. */
export interface FailureFacts {
  /** WeChat's errcode, when WeChat answered with a non-zero one. */
  readonly errcode?: number;
  /**
   * What happened, for the operator (logged as `reason`): an AWS error type, a network
   * failure, which part of the secret is wrong. Never a secret value or the request's input.
   */
  readonly reason?: string;
  /** `misconfigured`: the secret (default) or the session signing key. */
  readonly subject?: ConfigSubject;
  /** `appid_mismatch`: the AppIDs the backend serves, and the one the request named (if any). */
  readonly configuredAppIds?: readonly string[];
  readonly receivedAppId?: string;
  /** `session_unavailable`, `misconfigured`: the keys could not be published (the JWKS), not a login. */
  readonly publishing?: boolean;
  /** `session_unavailable`: found before WeChat was asked, so the login code is not spent. */
  readonly beforeExchange?: boolean;
  /** `upstream_error`: WeChat refused the access token (40001, 40014, 42001). */
  readonly accessTokenRefused?: boolean;
  /** `session_key_stale`: said by the sandbox, whose data the devtools encrypt with keys it never saw. */
  readonly sandbox?: boolean;
  /** `invalid_request`: the rule the request broke. */
  readonly violation?: RequestViolation;
  readonly cause?: unknown;
}

/** A failure the caller is told about, as data. */
export class Problem extends Error {
  readonly code: ProblemCode;
  readonly facts: FailureFacts;

  constructor(code: ProblemCode, facts: FailureFacts = {}) {
    super(
      facts.reason === undefined ? code : `${code}: ${facts.reason}`,
      facts.cause === undefined ? undefined : { cause: facts.cause },
    );
    this.name = 'Problem';
    this.code = code;
    this.facts = facts;
  }

  get errcode(): number | undefined {
    return this.facts.errcode;
  }

  get reason(): string | undefined {
    return this.facts.reason;
  }
}

/** The secret's value cannot be used; `reason` says why without quoting the value. */
export function misconfigured(reason: string, facts: FailureFacts = {}): Problem {
  return new Problem('misconfigured', { ...facts, reason });
}

/** Whether WeChat refused the access token the call was made with (40001, 40014, 42001). */
export function isRefusedToken(error: unknown): boolean {
  return error instanceof Problem && error.facts.accessTokenRefused === true;
}

/**
 * A failure met before WeChat was asked (a key, a secret, an access token): the same failure,
 * said with the code unspent. A `misconfigured` answer needs the operator, whatever the code.
 */
export function unspent(error: unknown): never {
  if (error instanceof Problem && error.code !== 'misconfigured') {
    throw new Problem(error.code, { ...error.facts, beforeExchange: true });
  }
  throw error;
}

/** The operator's words for a failure, never a value. */
export function reasonOf(error: unknown): string {
  return error instanceof Problem ? (error.reason ?? error.code) : String(error);
}
