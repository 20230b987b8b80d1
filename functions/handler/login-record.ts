import type { Logger } from '../domain/ports.ts';
import { METRICS } from '../shared/names.ts';

/** What one request did, for its log line and its metrics. */
export interface LoginRecord {
  readonly requestId: string;
  /** `ok`, or the problem's `code`. */
  readonly outcome: string;
  readonly status: number;
  readonly coldStart: boolean;
  readonly durationMs: number;
  readonly wechatCalls: number;
  readonly wechatMs: number;
  readonly errcode?: number;
  readonly appId?: string;
  readonly openid?: string;
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
 * Writes the request's single log line. The same line is a CloudWatch Embedded Metric
 * Format record: `Logins` (1 per request) and `WechatLatency`, by `service` and `outcome`,
 * so there is no second write and no metrics client to load.
 */
export function writeLoginRecord(log: Logger, service: string, record: LoginRecord): void {
  const calledWechat = record.wechatCalls > 0;
  log.write({
    level: record.status >= 500 ? 'ERROR' : 'INFO',
    message: 'login',
    requestId: record.requestId,
    outcome: record.outcome,
    status: record.status,
    coldStart: record.coldStart,
    durationMs: round(record.durationMs),
    wechatCalls: record.wechatCalls,
    wechatMs: round(record.wechatMs),
    ...(calledWechat && { [METRICS.wechatLatency]: round(record.wechatMs) }),
    ...(record.errcode !== undefined && { errcode: record.errcode }),
    ...(record.appId !== undefined && { appId: record.appId }),
    ...(record.openid !== undefined && { openid: maskOpenid(record.openid) }),
    ...(record.reason !== undefined && { reason: record.reason }),
    ...(record.error !== undefined && { error: record.error }),
    service,
    [METRICS.logins]: 1,
    _aws: { Timestamp: Date.now(), CloudWatchMetrics: calledWechat ? WITH_LATENCY : LOGINS_ONLY },
  });
}

/** Keeps enough of an openid to correlate log lines, not enough to identify the user. */
export function maskOpenid(openid: string): string {
  return openid.length <= 8 ? '****' : `${openid.slice(0, 4)}****${openid.slice(-4)}`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
