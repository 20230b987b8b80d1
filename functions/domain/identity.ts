import { Problem } from './problem.ts';

/** Who called a protected route, from the claims API Gateway's JWT authorizer verified. */
export interface Identity {
  readonly openid: string;
  readonly unionid?: string;
  readonly appid: string;
  /** `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
  /** The verified number (E.164) the token carries, when it carries one. */
  readonly phoneNumber?: string;
}

/** A NumericDate as API Gateway passes it: a string of digits, nothing else. */
const NUMERIC_DATE = /^\d{1,15}$/;

/**
 * Reads verified claims. API Gateway passes every claim as a string (`"exp": "1700000000"`);
 * the local authorizer passes them the same way. The token itself is never verified here:
 * that is the authorizer's job, which has already refused an expired token. The claims are
 * still read strictly, and an `exp` in the past refused, so that a route added later without
 * the authorizer trusts nothing: no claims, a claim of the wrong shape, or an expired one is
 * `unauthorized`.
 */
export function identityFromClaims(
  claims: Readonly<Record<string, unknown>> | undefined,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Identity {
  const sub = text(claims?.sub);
  const aud = text(claims?.aud);
  const exp = text(claims?.exp);
  if (sub === undefined || aud === undefined || exp === undefined || !NUMERIC_DATE.test(exp)) {
    throw new Problem('unauthorized', { reason: 'the request carries no verified claims' });
  }
  const expiresAt = Number(exp);
  if (expiresAt <= nowSeconds) {
    throw new Problem('unauthorized', { reason: 'the token has expired' });
  }
  const unionid = text(claims?.unionid);
  const phone = text(claims?.phone_number);
  return {
    openid: sub,
    ...(unionid !== undefined && { unionid }),
    appid: aud,
    expiresAt,
    ...(phone !== undefined && /^\+\d{5,18}$/.test(phone) && { phoneNumber: phone }),
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
