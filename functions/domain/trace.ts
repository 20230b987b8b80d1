import type { RequestTrace } from './ports.ts';

/** Adds a reason the request succeeded with less than it could; earlier ones are kept. */
export function degrade(trace: RequestTrace, reason: string): void {
  trace.degraded = trace.degraded === undefined ? reason : `${trace.degraded}; ${reason}`;
}
