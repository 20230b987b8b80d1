import { WECHAT, wechatTotalMs } from '../commons/budgets.ts';
import { isObject } from '../commons/json.ts';
import type { RequestTrace, WechatClient } from '../domain/ports.ts';
import { Problem, type ProblemCode } from '../domain/problem.ts';
import { HttpFailure, type HttpResponse, send } from './http.ts';

export interface WechatClientOptions {
  /** e.g. https://api.weixin.qq.com */
  readonly baseUrl: URL;
  /** Timeout of one call. */
  readonly timeoutMs: number;
  /** Upper bound on all calls of one exchange, retries included. */
  readonly budgetMs?: number;
  /** Deadline for connecting (TCP and TLS); a connection that fails in time can be retried. */
  readonly connectTimeoutMs?: number;
  readonly maxAttempts?: number;
  readonly retryDelayMs?: number;
}

/** WeChat's answers for a wrong or missing AppID/AppSecret. */
const CREDENTIAL_ERRCODES: ReadonlySet<number> = new Set([40013, 40125, 41002, 41004]);
/** The caller's IP is not on the mini program's API IP allow-list. */
const IP_ERRCODES: ReadonlySet<number> = new Set([40164, 61004]);
/** The access token was refused: invalid, not the latest, or expired. */
const TOKEN_REFUSED_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);
/** The AppSecret is frozen in the mini program console. */
const FROZEN_SECRET = 40243;

/** The errcodes of code2Session that mean one thing to the caller; -1 (busy) is retried first. */
const LOGIN_ERRCODES: Readonly<Record<number, ProblemCode>> = {
  40029: 'invalid_code',
  40163: 'code_used',
  40226: 'user_blocked',
  45011: 'rate_limited',
};
/** The same for getuserphonenumber. */
const PHONE_ERRCODES: Readonly<Record<number, ProblemCode>> = {
  40029: 'invalid_phone_code',
  45011: 'rate_limited',
};

/** A WeChat call: where, what to send, and what its success looks like. */
interface WechatCall<T> {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly body?: string;
  readonly known: Readonly<Record<number, ProblemCode>>;
  /** The answer of errcode 0, or `upstream` for an answer that is not a success. */
  readonly success: (fields: Record<string, unknown>) => T;
}

/**
 * WeChat over HTTP: code2Session, stable_token and getuserphonenumber. Retries only where
 * nothing can have been consumed: WeChat's "system busy" (-1), and connections that failed
 * before the request went out. A call whose outcome is unknown is never repeated: a login
 * code or a phone code may be spent.
 */
export function createWechatClient(options: WechatClientOptions): WechatClient {
  const maxAttempts = options.maxAttempts ?? WECHAT.attempts;
  const budgetMs = options.budgetMs ?? wechatTotalMs(options.timeoutMs);
  const retryDelayMs = options.retryDelayMs ?? WECHAT.retryDelayMs;
  const connectTimeoutMs =
    options.connectTimeoutMs ?? Math.min(options.timeoutMs, WECHAT.connectMs);
  const base = withTrailingSlash(options.baseUrl);
  const endpoint = (path: string, query: Record<string, string>): URL => {
    const url = new URL(path, base);
    url.search = new URLSearchParams(query).toString();
    return url;
  };

  async function call<T>(request: WechatCall<T>, trace: RequestTrace): Promise<T> {
    const deadline = Math.min(
      performance.now() + budgetMs,
      trace.wechatDeadline ?? Number.POSITIVE_INFINITY,
    );
    if (deadline - performance.now() < 1) {
      throw new Problem('upstream_timeout', { reason: "the request's time for WeChat is spent" });
    }
    for (let attempt = 1; ; attempt++) {
      const timeoutMs = Math.min(options.timeoutMs, deadline - performance.now());
      const started = performance.now();
      trace.calls++;
      try {
        const response = await send({
          method: request.method,
          url: request.url,
          ...(request.body !== undefined && {
            body: request.body,
            headers: { 'content-type': 'application/json' },
          }),
          timeoutMs,
          connectTimeoutMs,
          maxBodyBytes: 64 * 1024,
        });
        trace.wechatMs += performance.now() - started;
        const outcome = interpret(response, trace, request);
        if (outcome !== 'busy') return outcome.value;
        if (!canRetry(attempt)) throw new Problem('upstream_busy', { errcode: -1 });
      } catch (error) {
        if (!(error instanceof HttpFailure)) throw error;
        trace.wechatMs += performance.now() - started;
        if (error.sent || !canRetry(attempt)) throw failure(error);
      }
      await sleep(retryDelayMs * attempt);
    }

    function canRetry(attempt: number): boolean {
      return attempt < maxAttempts && deadline - performance.now() > retryDelayMs * attempt + 100;
    }
  }

  return {
    code2Session: (app, code, trace) =>
      call(
        {
          method: 'GET',
          url: endpoint('sns/jscode2session', {
            appid: app.appId,
            secret: app.appSecret,
            js_code: code,
            grant_type: 'authorization_code',
          }),
          known: LOGIN_ERRCODES,
          success: ({ openid, unionid, session_key: sessionKey }) => {
            if (typeof openid !== 'string' || openid === '')
              return upstream('WeChat reported success but gave no openid');
            return {
              openid,
              ...(typeof unionid === 'string' && unionid !== '' && { unionid }),
              ...(typeof sessionKey === 'string' && sessionKey !== '' && { sessionKey }),
            };
          },
        },
        trace,
      ),
    stableToken: (app, trace) =>
      call(
        {
          method: 'POST',
          url: endpoint('cgi-bin/stable_token', {}),
          // Normal mode, never force_refresh: every caller gets the same token while it is
          // valid, so environments never invalidate each other's.
          body: JSON.stringify({
            grant_type: 'client_credential',
            appid: app.appId,
            secret: app.appSecret,
          }),
          known: {},
          success: ({ access_token: token, expires_in: expiresIn }) => {
            if (typeof token !== 'string' || token === '' || typeof expiresIn !== 'number')
              return upstream('WeChat reported success but gave no access token');
            return { token, expiresInSeconds: expiresIn };
          },
        },
        trace,
      ),
    phoneNumber: (accessToken, code, openid, trace) =>
      call(
        {
          method: 'POST',
          url: endpoint('wxa/business/getuserphonenumber', { access_token: accessToken }),
          // With the openid, WeChat refuses a code that belongs to another user.
          body: JSON.stringify({ code, openid }),
          known: PHONE_ERRCODES,
          success: ({ phone_info: info }) => {
            const fields = isObject(info) ? info : undefined;
            const pure = fields?.purePhoneNumber;
            const country = fields?.countryCode;
            const watermark = isObject(fields?.watermark) ? fields.watermark : undefined;
            if (
              typeof pure !== 'string' ||
              !/^\d{4,15}$/.test(pure) ||
              typeof country !== 'string' ||
              !/^\d{1,4}$/.test(country)
            )
              return upstream('WeChat reported success but gave no usable phone_info');
            return {
              purePhoneNumber: pure,
              countryCode: country,
              watermarkAppId: typeof watermark?.appid === 'string' ? watermark.appid : undefined,
            };
          },
        },
        trace,
      ),
  };
}

function interpret<T>(
  response: HttpResponse,
  trace: RequestTrace,
  request: WechatCall<T>,
): { value: T } | 'busy' {
  if (response.status !== 200) return upstream(`WeChat answered HTTP ${response.status}`);
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return upstream(
      response.body.trim() === ''
        ? 'WeChat answered with an empty body'
        : 'WeChat answered with something that is not JSON',
    );
  }
  if (!isObject(body)) return upstream('WeChat answered with JSON that is not an object');
  const errcode = toErrcode(body.errcode);
  if (errcode === undefined)
    return upstream('WeChat answered with an errcode that is not a number');
  if (errcode !== 0) {
    trace.errcode = errcode;
    if (errcode === -1) return 'busy';
    const known = request.known[errcode];
    if (known) throw new Problem(known, { errcode });
    if (CREDENTIAL_ERRCODES.has(errcode)) {
      throw new Problem('misconfigured', { errcode, subject: 'secret' });
    }
    if (errcode === FROZEN_SECRET) {
      throw new Problem('misconfigured', {
        errcode,
        subject: 'secret',
        reason:
          'WeChat says the AppSecret is frozen (errcode 40243): unfreeze or reset it in the mini program console',
      });
    }
    if (TOKEN_REFUSED_ERRCODES.has(errcode)) {
      throw new Problem('upstream_error', { errcode, accessTokenRefused: true });
    }
    if (IP_ERRCODES.has(errcode)) {
      throw new Problem('misconfigured', {
        errcode,
        subject: 'ip_allowlist',
        reason: `WeChat refused the caller's IP (errcode ${errcode}): the mini program's API IP allow-list is on, and the function's IPs change`,
      });
    }
    throw new Problem('upstream_error', { errcode });
  }
  return { value: request.success(body) };
}

/** errcode: absent or 0 on success; a number, or on some variants a numeric string. */
function toErrcode(value: unknown): number | undefined {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,9}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function failure(error: HttpFailure): Problem {
  // Only a request that went out and got no answer in time is a timeout; a connection that
  // never came up means WeChat is unreachable.
  if (error.kind === 'timeout' && error.sent) {
    return new Problem('upstream_timeout', { cause: error, reason: error.message });
  }
  return new Problem('upstream_error', {
    cause: error,
    reason: `WeChat could not be reached or broke off the answer (${error.message})`,
  });
}

function upstream(reason: string): never {
  throw new Problem('upstream_error', { reason });
}

function withTrailingSlash(url: URL): URL {
  return url.pathname.endsWith('/') ? url : new URL(`${url.href}/`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
