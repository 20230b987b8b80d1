import { FUNCTION_HEADROOM_MS, WECHAT } from '../commons/budgets.ts';
import { ROUTES } from './index.ts';

/**
 * The function's timeout, in whole seconds: the slowest route's worst path at the largest
 * WeChat timeout, plus headroom, so every request still gets its answer and its log line.
 * Apart from index.ts, so that the stack reads it and the function's bundle does not carry it.
 */
export const FUNCTION_TIMEOUT_SECONDS = Math.ceil(
  (Math.max(...ROUTES.map((route) => route.budgetMs(WECHAT.maxTimeoutMs))) + FUNCTION_HEADROOM_MS) /
    1000,
);
