/**
 * The local stand-in for API Gateway's JWT authorizer on protected routes, with the checks it
 * makes: RS256 only, a `kid` found in the issuer's JWKS (through its discovery document), the
 * signature, `iss`, `aud` among the configured AppIDs, `exp` in the future, `nbf` and `iat` not
 * in the future. It uses `jose`, a development dependency: this file is never in the Lambda
 * bundle, where API Gateway verifies tokens and the function only reads the claims.
 */
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import { discovery } from '../routes/discovery.ts';

/** Clock skew allowed on `exp`, `nbf` and `iat`, in seconds. */
const CLOCK_SKEW_SECONDS = 5;

export interface LocalAuthorizerOptions {
  readonly issuer: string;
  /** The AppIDs tokens may be for, or `any` (the sandbox accepts every AppID). */
  readonly audiences: () => Promise<readonly string[] | 'any'>;
}

/** Why a token was refused: said in the local log line, never with the token or a part of it. */
export class TokenRefused extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'TokenRefused';
    this.reason = reason;
  }
}

/**
 * Verifies an `Authorization` header; resolves the claims as API Gateway passes them
 * (strings), or rejects with `TokenRefused`.
 */
export type LocalAuthorizer = (
  authorization: string | undefined,
) => Promise<Record<string, string>>;

export function createLocalAuthorizer(options: LocalAuthorizerOptions): LocalAuthorizer {
  let keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const jwks = () => {
    keySet ??= discoverKeys(options.issuer).catch((error: unknown) => {
      keySet = undefined;
      throw error;
    });
    return keySet;
  };

  return async (authorization) => {
    if (authorization === undefined) throw new TokenRefused('no Authorization header');
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (token === undefined)
      throw new TokenRefused('the Authorization header is not "Bearer <token>"');
    // One spelling per token: each part must be canonical base64url (no padding, no changed
    // unused bits), so that a signature has exactly one accepted form, as it has in the cloud.
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every(isCanonicalBase64url)) {
      throw new TokenRefused('the token is not three canonical base64url parts');
    }
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new TokenRefused('the token header is not JSON');
    }
    // API Gateway finds the key by `kid` only; jose would fall back to a lone key without one.
    if (typeof kid !== 'string') throw new TokenRefused('the token header has no kid');
    const audiences = await options.audiences();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await jwks(), {
        algorithms: ['RS256'],
        issuer: options.issuer,
        ...(audiences !== 'any' && { audience: [...audiences] }),
        requiredClaims: ['exp', 'iat', 'sub', 'aud'],
        clockTolerance: CLOCK_SKEW_SECONDS,
      }));
    } catch (error) {
      throw new TokenRefused(refusal(error));
    }
    const now = Math.floor(Date.now() / 1000);
    if ((payload.iat ?? 0) > now + CLOCK_SKEW_SECONDS) {
      throw new TokenRefused('the token was issued in the future (iat)');
    }
    return asGatewayClaims(payload);
  };
}

/** One sentence on why jose refused a token, from its error code (never its message's values). */
function refusal(error: unknown): string {
  const { code, claim } = (error ?? {}) as { code?: unknown; claim?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token has expired (exp)';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the signature does not verify';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return "the token's kid is not in the JWKS";
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'the token is not signed with RS256';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claim === 'aud'
        ? 'the audience (aud) is not an AppID this backend serves'
        : claim === 'iss'
          ? 'the issuer (iss) is not this backend'
          : `the claim ${typeof claim === 'string' ? claim : 'it names'} is missing or invalid`;
    default:
      return error instanceof TypeError || (error as { code?: unknown })?.code === undefined
        ? 'the keys could not be fetched from the issuer'
        : 'the token is malformed';
  }
}

function isCanonicalBase64url(part: string): boolean {
  return (
    /^[A-Za-z0-9_-]*$/.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part
  );
}

/** The JWKS named by the issuer's discovery document, as API Gateway finds it. */
async function discoverKeys(issuer: string) {
  const response = await fetch(`${issuer}${discovery.path}`);
  if (!response.ok) throw new Error(`discovery answered HTTP ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (document.issuer !== issuer || typeof document.jwks_uri !== 'string') {
    throw new Error('the discovery document does not name this issuer and a jwks_uri');
  }
  return createRemoteJWKSet(new URL(document.jwks_uri));
}

/** API Gateway passes every claim as a string: `"exp": "1700000000"`. */
function asGatewayClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    claims[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return claims;
}
