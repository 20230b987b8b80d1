import { OPERATOR_OUTCOMES } from '../commons/names.ts';
import type { FailureFacts, ProblemCode, RequestViolation } from '../domain/problem.ts';
import { MAX_BODY_BYTES, MAX_CODE_LENGTH } from '../routes/request.ts';
import type { RouteName } from '../routes/route.ts';

/** A code only the local server answers with; API Gateway answers it itself in the cloud. */
export type RouteProblemCode = 'method_not_allowed';

/** What people read about a failure: the mini program developer (detail) and the operator (reason). */
export interface ProblemWords {
  readonly status: number;
  readonly title: string;
  readonly retryAfterSeconds?: number;
  /**
   * For the mini program developer: what to fix. Never quotes the input or a secret. `route`
   * is the route that failed, where one code means different things on two routes.
   */
  readonly detail: (facts: FailureFacts, route?: RouteName) => string;
  /** Headers the answer carries besides the problem's own. */
  readonly headers?: Readonly<Record<string, string>>;
  /** For the operator, in the log line; defaults to the facts' own `reason`. */
  readonly reason?: (facts: FailureFacts) => string | undefined;
}

/** Seconds in `Retry-After`, said once for the header and the sentence. */
const RETRY_AFTER = { rateLimited: 60, busy: 2, secret: 5, session: 2, store: 5 } as const;

const USAGE = 'Send a JSON body {"code": "<the code from wx.login()>"}.';
const PHONE_USAGE =
  'Send a JSON body {"code": "<e.detail.code of the getPhoneNumber button>"} with the session token.';
const OPEN_DATA_USAGE =
  'Send a JSON body {"encryptedData": "…", "iv": "…"} as wx.getWeRunData() (or its kin) gave it, with the session token.';
const NEW_PHONE_CODE = 'ask the user to tap the phone number button again';
const NEW_CODE = 'call wx.login() again and send the new code';
/** WeChat's errcode for a frozen AppSecret. */
const FROZEN_SECRET = 40243;
const TELL_OPERATOR = 'Retry with a new code from wx.login(); if it persists, tell the operator.';

const VIOLATIONS: Record<RequestViolation, string> = {
  body_missing: `The request body is missing. ${USAGE}`,
  body_not_base64: `The request body is marked as base64 but is not valid base64. ${USAGE}`,
  body_not_json: `The request body is not valid JSON. ${USAGE}`,
  body_not_object: `The request body must be a JSON object. ${USAGE}`,
  code_missing: `The request body has no "code". ${USAGE}`,
  code_not_string: `"code" must be a string. ${USAGE}`,
  code_empty: '"code" is empty. Call wx.login() and send the code it returns.',
  code_too_long: `"code" is longer than ${MAX_CODE_LENGTH} characters, so it is not a code from wx.login().`,
  code_alphabet:
    '"code" may only contain letters, digits, "_" and "-". Send the code from wx.login() unchanged.',
  appid_malformed: '"appid" must be a mini program AppID such as wx4f4bc4dec97d474b.',
  encrypted_data_malformed: `"encryptedData" must be the base64 string WeChat gave the page. ${OPEN_DATA_USAGE}`,
  iv_malformed: `"iv" must be the base64 string of 16 bytes WeChat gave the page. ${OPEN_DATA_USAGE}`,
};

const SUBJECTS = {
  secret: 'the WeChat AppID/AppSecret it is configured with (its Secrets Manager secret)',
  ip_allowlist:
    "the mini program's API IP allow-list (开发管理 → 开发设置 → API IP白名单): WeChat refused the backend's IP. Lambda's IPs change, so turn the allow-list off, or give the function fixed egress and list its IPs (docs/operators.md)",
  signing_key:
    'the session signing key (its KMS key: that it exists, is enabled, and the function may use it)',
} as const;

/**
 * The one catalogue of failures: for every code, its HTTP status, title, Retry-After and the
 * sentence the developer reads. Adapters only report what happened; this says it to people.
 */
export const CATALOGUE = {
  invalid_request: {
    status: 400,
    title: 'The request is not valid',
    detail: ({ violation }, route) =>
      route === 'phone' ? phoneViolation(violation) : violation ? VIOLATIONS[violation] : USAGE,
  },
  payload_too_large: {
    status: 413,
    title: 'The request body is too large',
    detail: () => `The request body is larger than ${MAX_BODY_BYTES} bytes. ${USAGE}`,
  },
  appid_mismatch: {
    status: 400,
    title: 'The mini program AppID does not match the backend',
    detail: ({ configuredAppIds = [], receivedAppId }) =>
      receivedAppId === undefined
        ? `This backend serves several mini programs (${configuredAppIds.join(', ')}) and the request names none. ` +
          'Call it with wx.request from the mini program (its Referer carries the AppID) or add "appid" to the JSON body.'
        : `The request is from AppID ${receivedAppId}, but this backend is configured for ${configuredAppIds.join(', ')}. ` +
          'The AppID in the mini program (project.config.json or the devtools) must match the one in the backend secret.',
  },
  invalid_code: {
    status: 400,
    title: 'The login code is invalid or expired',
    detail: () =>
      'WeChat rejected the login code: it has expired (codes live 5 minutes) or it was issued for another AppID. ' +
      'Call wx.login() again and send the new code at once; if this keeps happening, check that the mini program uses the AppID this backend is configured for.',
  },
  code_used: {
    status: 400,
    title: 'The login code has already been used',
    detail: () =>
      'This login code has already been used. A code from wx.login() works once: call wx.login() again for every login.',
  },
  user_blocked: {
    status: 403,
    title: 'WeChat blocked this user',
    detail: () =>
      'WeChat blocked this login because it rates the user as high-risk. Nothing in the request can change that; the user may try again later.',
  },
  rate_limited: {
    status: 429,
    title: 'Too many requests to WeChat for this user',
    retryAfterSeconds: RETRY_AFTER.rateLimited,
    detail: (_facts, route) =>
      route === 'phone'
        ? `WeChat's quota for phone number lookups for this minute is used up. Wait ${RETRY_AFTER.rateLimited} seconds, then ${NEW_PHONE_CODE}.`
        : `WeChat's per-user login quota for this minute is used up. Wait ${RETRY_AFTER.rateLimited} seconds, then ${NEW_CODE}.`,
  },
  upstream_busy: {
    status: 503,
    title: 'WeChat is busy',
    retryAfterSeconds: RETRY_AFTER.busy,
    detail: (_facts, route) =>
      `WeChat is busy right now (errcode -1). Wait ${RETRY_AFTER.busy} seconds, then ${route === 'phone' ? NEW_PHONE_CODE : NEW_CODE}.`,
  },
  upstream_timeout: {
    status: 504,
    title: 'WeChat did not answer in time',
    detail: ({ beforeExchange }, route) =>
      route !== 'phone'
        ? `WeChat did not answer in time. The code may have been used up: ${NEW_CODE}.`
        : beforeExchange
          ? 'WeChat did not answer in time when the backend asked it for an access token; the phone code was not sent, so it can be sent again while it is valid (5 minutes).'
          : `WeChat did not answer in time. The phone code may have been used up: ${NEW_PHONE_CODE}.`,
  },
  upstream_error: {
    status: 502,
    title: 'WeChat gave an unusable answer',
    // The reason is safe to show here: it describes WeChat's answer, never the request.
    detail: ({ reason, errcode }, route) =>
      `${upstreamReason(reason, errcode)}. ${route === 'phone' ? `To retry, ${NEW_PHONE_CODE}; if it persists, tell the operator.` : TELL_OPERATOR}`,
    reason: ({ reason, errcode }) => upstreamReason(reason, errcode),
  },
  misconfigured: {
    status: 500,
    title: 'The backend is misconfigured',
    detail: ({ subject = 'secret', errcode }) =>
      `The backend is misconfigured: the operator must check ${errcode === FROZEN_SECRET ? `the AppSecret, which WeChat has frozen (errcode ${FROZEN_SECRET}): unfreeze or reset it in the mini program console, then write it to the secret` : SUBJECTS[subject]}.`,
    reason: ({ reason, errcode }) =>
      reason ??
      (errcode === undefined
        ? undefined
        : `WeChat rejected the AppID/AppSecret (errcode ${errcode})`),
  },
  secret_unavailable: {
    status: 503,
    title: 'The backend cannot read its credentials',
    retryAfterSeconds: RETRY_AFTER.secret,
    detail: (_facts, route) =>
      `The backend cannot read its credentials right now. Wait ${RETRY_AFTER.secret} seconds, then ${route === 'phone' ? 'send the same phone code again (it was not sent to WeChat)' : NEW_CODE}.`,
  },
  session_unavailable: {
    status: 503,
    title: 'The session could not be signed',
    retryAfterSeconds: RETRY_AFTER.session,
    detail: ({ publishing, beforeExchange }, route) =>
      publishing
        ? `The backend could not read its public keys from KMS right now. Retry in ${RETRY_AFTER.session} seconds.`
        : beforeExchange
          ? `The backend cannot reach its session signing key right now, so it did not ask WeChat: the ${route === 'phone' ? 'phone code' : 'code'} is not used up. Wait ${RETRY_AFTER.session} seconds, then ${route === 'phone' ? 'send it again' : 'log in again'}.`
          : route === 'phone'
            ? `WeChat verified the phone number, but the backend could not sign a new token carrying it. Wait ${RETRY_AFTER.session} seconds, then log in again: when the number could be kept, the new login's token carries it.`
            : `WeChat accepted the login, but the backend could not sign its session token. The code is used up: wait ${RETRY_AFTER.session} seconds, then ${NEW_CODE}.`,
  },
  unauthorized: {
    status: 401,
    title: 'The session token is missing or invalid',
    // What API Gateway's JWT authorizer answers, so the client sees one behaviour.
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    detail: () =>
      'Send "Authorization: Bearer <token>" with a token from a login that has not expired; when it has, log in again.',
  },
  internal_error: {
    status: 500,
    title: 'Internal error',
    detail: () =>
      'Something unexpected went wrong. Retry later; the operator can find this request in the logs by its requestId.',
  },
  invalid_phone_code: {
    status: 400,
    title: 'The phone code is invalid, expired or used',
    detail: () =>
      `WeChat rejected the phone code: it has expired (codes live 5 minutes), was already used, or belongs to another user. Send e.detail.code of the getPhoneNumber button at once, once; to retry, ${NEW_PHONE_CODE}.`,
  },
  store_unavailable: {
    status: 503,
    title: 'The user records cannot be reached',
    retryAfterSeconds: RETRY_AFTER.store,
    detail: () =>
      `The backend cannot reach its user records right now; nothing was changed. Retry in ${RETRY_AFTER.store} seconds.`,
  },
  session_key_stale: {
    status: 409,
    title: 'The data was encrypted with another session_key',
    detail: ({ sandbox }) =>
      sandbox
        ? 'The sandbox cannot decrypt this data: WeChat encrypted it with a session_key the sandbox never saw. Open data needs a local run against the real WeChat (WECHAT_APP_ID/WECHAT_APP_SECRET with USERS_TABLE and OPEN_DATA_KEY_ID).'
        : 'The data does not decrypt with the session_key of your last login: a wx.login() ran after the data was fetched, or the login is older than the data. Log in again, then fetch the data again (client.openData does both).',
  },
  open_data_mismatch: {
    status: 400,
    title: 'The data is for another mini program',
    detail: () =>
      "The data decrypts, but its watermark names another AppID than the session token's. Fetch it in the mini program this backend logged the user in to.",
  },
  not_found: {
    status: 404,
    title: 'Not found',
    detail: () =>
      'There is nothing at this path: POST /openid logs in; the session routes exist only when sessions are on.',
  },
  method_not_allowed: {
    status: 405,
    title: 'Method not allowed',
    detail: () => 'This path does not take that method.',
  },
} as const satisfies Record<ProblemCode | RouteProblemCode, ProblemWords>;

/** A `/phone` request's broken rule, said of the phone code. */
function phoneViolation(violation: RequestViolation | undefined): string {
  switch (violation) {
    case 'code_empty':
    case 'code_missing':
    case 'code_not_string':
      return `The request has no usable "code". ${PHONE_USAGE}`;
    case 'code_too_long':
    case 'code_alphabet':
      return `"code" is not a phone code: send e.detail.code of the getPhoneNumber button unchanged. ${PHONE_USAGE}`;
    default:
      return violation ? `${VIOLATIONS[violation].split('. ')[0]}. ${PHONE_USAGE}` : PHONE_USAGE;
  }
}

/** What was wrong with WeChat's answer; an unknown errcode is reported as such. */
function upstreamReason(reason: string | undefined, errcode: number | undefined): string {
  if (reason !== undefined) return reason;
  return errcode === undefined
    ? 'WeChat could not be reached'
    : `WeChat answered with errcode ${errcode}, which this backend does not know how to handle`;
}

// The alarmed outcomes (declared with the names the stack shares) must be codes of this catalogue.
OPERATOR_OUTCOMES satisfies readonly ProblemCode[];
