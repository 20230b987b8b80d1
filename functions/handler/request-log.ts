import { METRICS } from '../commons/names.ts';
import { ISSUED_APP_ID } from '../domain/apps.ts';
import type { Logger, RequestTrace } from '../domain/ports.ts';
import { maskPhone } from '../domain/users.ts';

/** What one request did, for its log line and, for a route that counts, its metrics. */
export interface RequestRecord {
  /** The route key, e.g. `POST /openid`. */
  readonly route: string;
  /** The route's EMF count metric (`Logins` for the login), if it has one. */
  readonly metric?: string;
  readonly requestId: string;
  /** `ok`, or the problem's `code`. */
  readonly outcome: string;
  readonly status: number;
  readonly coldStart: boolean;
  readonly durationMs: number;
  readonly trace: RequestTrace;
  /** Operator-facing explanation of a failure; never contains a secret value. */
  readonly reason?: string;
  readonly error?: unknown;
}

// The EMF directives are the same on every line of a route: built once, not per request.
const byMetric = new Map<string, readonly [object[], object[]]>();
function directivesOf(metric: string): readonly [object[], object[]] {
  let pair = byMetric.get(metric);
  if (!pair) {
    const directive = (metrics: { Name: string; Unit: string }[]) => [
      { Namespace: METRICS.namespace, Dimensions: [[...METRICS.dimensions]], Metrics: metrics },
    ];
    const count = { Name: metric, Unit: 'Count' };
    pair = [
      directive([count]),
      directive([count, { Name: METRICS.wechatLatency, Unit: 'Milliseconds' }]),
    ];
    byMetric.set(metric, pair);
  }
  return pair;
}

/** A request on which the users table failed, counted by service only. */
const STORE_FAILURE = [
  {
    Namespace: METRICS.namespace,
    Dimensions: [[...METRICS.storeDimensions]],
    Metrics: [{ Name: METRICS.storeFailures, Unit: 'Count' }],
  },
];

/**
 * Writes the request's single log line. A route with a metric (the login's `Logins`) makes
 * its line a CloudWatch Embedded Metric Format record too: the count (1 per request) and
 * `WechatLatency`, by `service` and `outcome`, so there is no second write and no metrics
 * client to load. The login's line keeps its message `login`; the others say `request` and
 * name their route. No line ever holds a token, a code or a secret.
 */
export function writeRequestLine(log: Logger, service: string, record: RequestRecord): void {
  const { trace, metric } = record;
  const isLogin = metric === METRICS.logins;
  const calledWechat = trace.calls > 0;
  // A request that succeeded without the users table still says why.
  const reason = record.reason ?? trace.degraded;
  const storeFailed = trace.storeFailed === true || record.outcome === 'store_unavailable';
  const directives = [
    ...(metric === undefined ? [] : directivesOf(metric)[calledWechat ? 1 : 0]),
    ...(storeFailed ? STORE_FAILURE : []),
  ];
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
    ...(trace.appId !== undefined && { appId: loggedAppId(trace.appId) }),
    ...(trace.openid !== undefined && { openid: maskOpenid(trace.openid) }),
    ...(trace.phone !== undefined && { phone: maskPhone(trace.phone) }),
    ...(reason !== undefined && { reason }),
    ...(record.error !== undefined && { error: record.error }),
    service,
    ...(metric !== undefined && { [metric]: 1 }),
    ...(storeFailed && { [METRICS.storeFailures]: 1 }),
    ...(directives.length > 0 && {
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: directives },
    }),
  });
}

/**
 * An AppID as the log may hold it: only one of an AppID's shape. The sandbox serves any
 * AppID a request names, and a request may name any short string there (a JWS header, say).
 */
function loggedAppId(appId: string): string {
  return ISSUED_APP_ID.test(appId) ? appId : 'none (the request named no AppID of wx… shape)';
}

/** Keeps enough of an openid to correlate log lines, not enough to identify the user. */
export function maskOpenid(openid: string): string {
  return openid.length <= 8 ? '****' : `${openid.slice(0, 4)}****${openid.slice(-4)}`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
