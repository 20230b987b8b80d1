import { METRICS } from '../commons/names.ts';
import type { Logger, LoginTrace } from '../domain/ports.ts';
import { LOGIN_ROUTE } from './routes.ts';

/** What one request did, for its log line and, for a login, its metrics. */
export interface RequestRecord {
  /** The route key, e.g. `POST /openid`. */
  readonly route: string;
  readonly requestId: string;
  /** `ok`, or the problem's `code`. */
  readonly outcome: string;
  readonly status: number;
  readonly coldStart: boolean;
  readonly durationMs: number;
  readonly trace: LoginTrace;
  /** Operator-facing explanation of a failure; never contains a secret value. */
  readonly reason?: string;
  readonly error?: unknown;
}

// The EMF directives are the same on every line: built once, not per request.
const directive = (metrics: { Name: string; Unit: string }[]) => [
  { Namespace: METRICS.namespace, Dimensions: [[...METRICS.dimensions]], Metrics: metrics },
];
const LOGINS_ONLY = directive([{ Name: METRICS.logins, Unit: 'Count' }]);
const WITH_LATENCY = directive([
  { Name: METRICS.logins, Unit: 'Count' },
  { Name: METRICS.wechatLatency, Unit: 'Milliseconds' },
]);

/**
 * Writes the request's single log line. A login's line is also a CloudWatch Embedded Metric
 * Format record: `Logins` (1 per request) and `WechatLatency`, by `service` and `outcome`,
 * so there is no second write and no metrics client to load. Other routes (discovery, keys,
 * `/me`) get a plain line. No line ever holds a token, a code or a secret.
 */
export function writeRequestRecord(log: Logger, service: string, record: RequestRecord): void {
  const { trace } = record;
  const isLogin = record.route === LOGIN_ROUTE;
  const calledWechat = trace.calls > 0;
  log.write({
    level: record.status >= 500 ? 'ERROR' : 'INFO',
    message: isLogin ? 'login' : 'request',
    ...(!isLogin && { route: record.route }),
    requestId: record.requestId,
    outcome: record.outcome,
    status: record.status,
    coldStart: record.coldStart,
    durationMs: round(record.durationMs),
    wechatCalls: trace.calls,
    wechatMs: round(trace.wechatMs),
    ...(calledWechat && { [METRICS.wechatLatency]: round(trace.wechatMs) }),
    ...(trace.errcode !== undefined && { errcode: trace.errcode }),
    ...(trace.appId !== undefined && { appId: trace.appId }),
    ...(trace.openid !== undefined && { openid: maskOpenid(trace.openid) }),
    ...(record.reason !== undefined && { reason: record.reason }),
    ...(record.error !== undefined && { error: record.error }),
    service,
    ...(isLogin && {
      [METRICS.logins]: 1,
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: calledWechat ? WITH_LATENCY : LOGINS_ONLY,
      },
    }),
  });
}

/** Keeps enough of an openid to correlate log lines, not enough to identify the user. */
export function maskOpenid(openid: string): string {
  return openid.length <= 8 ? '****' : `${openid.slice(0, 4)}****${openid.slice(-4)}`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
