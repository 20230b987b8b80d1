import { LoginError } from './errors.ts';

/** Who called a protected route, from the claims API Gateway's JWT authorizer verified. */
export interface Identity {
  readonly openid: string;
  readonly unionid?: string;
  readonly appid: string;
  /** `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * Reads verified claims. API Gateway passes every claim as a string (`"exp": "1700000000"`);
 * the local authorizer passes them the same way. The token itself is never verified here:
 * that is the authorizer's job. No claims, or claims without a subject, is `unauthorized`.
 */
export function identityFromClaims(
  claims: Readonly<Record<string, unknown>> | undefined,
): Identity {
  const sub = text(claims?.sub);
  const aud = text(claims?.aud);
  const exp = Number(text(claims?.exp) ?? Number.NaN);
  if (sub === undefined || aud === undefined || !Number.isSafeInteger(exp)) {
    throw new LoginError('unauthorized', { reason: 'the request carries no verified claims' });
  }
  const unionid = text(claims?.unionid);
  return {
    openid: sub,
    ...(unionid !== undefined && { unionid }),
    appid: aud,
    expiresAt: exp,
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
