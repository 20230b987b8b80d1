import { describe, expect, it } from 'vitest';
import {
  API_GATEWAY_INTEGRATION_LIMIT_MS,
  JWKS_FETCH_LIMIT_MS,
  KMS,
  SECRETS_MANAGER,
  USERS,
  WECHAT,
  wechatTotalMs,
  worstCaseLoginMs,
  worstCasePhoneMs,
} from '../../functions/commons/budgets.ts';
import { ROUTES } from '../../functions/routes/index.ts';
import { FUNCTION_TIMEOUT_SECONDS } from '../../functions/routes/timeout.ts';

describe('the request budgets', () => {
  it('fit the worst login, at the largest WeChat timeout, inside the function timeout', () => {
    // Prepare: the slowest path written out step by step, independently of worstCaseLoginMs.
    const exchange = WECHAT.maxTimeoutMs + WECHAT.retryAllowanceMs;
    const slowest =
      SECRETS_MANAGER.totalMs +
      exchange +
      SECRETS_MANAGER.totalMs +
      exchange +
      USERS.totalMs +
      KMS.totalMs;

    // Act
    const worst = worstCaseLoginMs(WECHAT.maxTimeoutMs);

    // Assess
    expect(worst).toBe(slowest);
    expect(worst).toBeLessThan(FUNCTION_TIMEOUT_SECONDS * 1000);
  });

  it('give every route, at the largest WeChat timeout, its answer inside the function timeout', () => {
    for (const route of ROUTES) {
      expect(route.budgetMs(WECHAT.maxTimeoutMs), route.name).toBeLessThan(
        FUNCTION_TIMEOUT_SECONDS * 1000,
      );
    }
  });

  it('fit the worst phone bind: two secret reads, its WeChat calls, then the write beside the signature', () => {
    // Prepare
    const wechat = 2 * (WECHAT.maxTimeoutMs + WECHAT.retryAllowanceMs);
    const slowest = 2 * SECRETS_MANAGER.totalMs + wechat + Math.max(USERS.totalMs, KMS.totalMs);

    // Act
    const worst = worstCasePhoneMs(WECHAT.maxTimeoutMs);

    // Assess
    expect(worst).toBe(slowest);
    expect(worst).toBeLessThan(FUNCTION_TIMEOUT_SECONDS * 1000);
  });

  it('add at most 1.5 s for a failing users table', () => {
    expect(USERS.totalMs).toBeLessThanOrEqual(1500);
  });

  it('end the function before API Gateway gives up on it', () => {
    expect(FUNCTION_TIMEOUT_SECONDS * 1000).toBeLessThan(API_GATEWAY_INTEGRATION_LIMIT_MS);
  });

  it("answer API Gateway's JWKS fetch, on a cold start, before its 1.5 s run out", () => {
    expect(KMS.publishMs).toBeLessThan(JWKS_FETCH_LIMIT_MS);
    expect(KMS.callMs).toBeLessThan(KMS.publishMs);
  });

  it('keep every retry loop within its total', () => {
    expect(SECRETS_MANAGER.callMs * SECRETS_MANAGER.attempts).toBeLessThanOrEqual(
      SECRETS_MANAGER.totalMs,
    );
    expect(KMS.callMs).toBeLessThan(KMS.totalMs);
    expect(WECHAT.connectMs).toBeLessThanOrEqual(WECHAT.retryAllowanceMs);
  });

  it('answer the documented bounds with the default configuration', () => {
    // docs/endpoint.md: a Secrets Manager outage within 6.5 s, an unreachable WeChat within 4.5 s,
    // and a session that cannot be signed within 5 s of WeChat's answer.
    expect(SECRETS_MANAGER.totalMs).toBeLessThanOrEqual(6500);
    expect(wechatTotalMs(WECHAT.defaultTimeoutMs)).toBeLessThanOrEqual(4500);
    expect(KMS.totalMs).toBeLessThanOrEqual(5000);
  });
});
