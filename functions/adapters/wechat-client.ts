import { WECHAT, wechatTotalMs } from '../commons/budgets.ts';
import type { RequestTrace, WechatClient, WechatUser } from '../domain/ports.ts';
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

/** The errcodes that mean one thing to the caller; -1 (busy) is retried first. */
const KNOWN: Readonly<Record<number, ProblemCode>> = {
  40029: 'invalid_code',
  40163: 'code_used',
  40226: 'user_blocked',
  45011: 'rate_limited',
};

/**
 * code2Session over HTTP. Retries only where no code can have been consumed: WeChat's
 * "system busy" (-1), and connections that failed before the request went out.
 */
export function createWechatClient(options: WechatClientOptions): WechatClient {
  const maxAttempts = options.maxAttempts ?? WECHAT.attempts;
  const budgetMs = options.budgetMs ?? wechatTotalMs(options.timeoutMs);
  const retryDelayMs = options.retryDelayMs ?? WECHAT.retryDelayMs;
  const connectTimeoutMs =
    options.connectTimeoutMs ?? Math.min(options.timeoutMs, WECHAT.connectMs);
  const endpoint = new URL('sns/jscode2session', withTrailingSlash(options.baseUrl));

  return {
    async code2Session(app, code, trace) {
      const url = new URL(endpoint);
      url.search = new URLSearchParams({
        appid: app.appId,
        secret: app.appSecret,
        js_code: code,
        grant_type: 'authorization_code',
      }).toString();
      const deadline = performance.now() + budgetMs;

      for (let attempt = 1; ; attempt++) {
        const timeoutMs = Math.min(options.timeoutMs, deadline - performance.now());
        const started = performance.now();
        trace.calls++;
        try {
          const response = await send({
            method: 'GET',
            url,
            timeoutMs,
            connectTimeoutMs,
            maxBodyBytes: 64 * 1024,
          });
          trace.wechatMs += performance.now() - started;
          const outcome = interpret(response, trace);
          if (outcome !== 'busy') return outcome;
          if (!canRetry(attempt)) {
            throw new Problem('upstream_busy', { errcode: -1 });
          }
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
    },
  };
}

function interpret(response: HttpResponse, trace: RequestTrace): WechatUser | 'busy' {
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
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return upstream('WeChat answered with JSON that is not an object');
  }
  const fields = body as Record<string, unknown>;
  const errcode = toErrcode(fields.errcode);
  if (errcode === undefined)
    return upstream('WeChat answered with an errcode that is not a number');
  if (errcode !== 0) {
    trace.errcode = errcode;
    if (errcode === -1) return 'busy';
    const known = KNOWN[errcode];
    if (known) throw new Problem(known, { errcode });
    if (CREDENTIAL_ERRCODES.has(errcode)) {
      throw new Problem('misconfigured', { errcode, subject: 'secret' });
    }
    throw new Problem('upstream_error', { errcode });
  }
  const { openid, unionid } = fields;
  if (typeof openid !== 'string' || openid === '')
    return upstream('WeChat reported success but gave no openid');
  return typeof unionid === 'string' && unionid !== '' ? { openid, unionid } : { openid };
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
