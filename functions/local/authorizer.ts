/**
 * The local stand-in for API Gateway's JWT authorizer on protected routes, with the checks it
 * makes: RS256 only, a `kid` found in the issuer's JWKS (through its discovery document), the
 * signature, `iss`, `aud` among the configured AppIDs, `exp` in the future, `nbf` and `iat` not
 * in the future. It uses `jose`, a development dependency: this file is never in the Lambda
 * bundle, where API Gateway verifies tokens and the function only reads the claims.
 */
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';

/** Clock skew allowed on `exp`, `nbf` and `iat`, in seconds. */
const CLOCK_SKEW_SECONDS = 5;

export interface LocalAuthorizerOptions {
  readonly issuer: string;
  /** The AppIDs tokens may be for, or `any` (the sandbox accepts every AppID). */
  readonly audiences: () => Promise<readonly string[] | 'any'>;
}

/** Verifies an `Authorization` header; resolves the claims as API Gateway passes them (strings), or rejects. */
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
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) throw new Error('no bearer token');
    // API Gateway finds the key by `kid` only; jose would fall back to a lone key without one.
    if (typeof decodeProtectedHeader(token).kid !== 'string') throw new Error('no kid');
    const audiences = await options.audiences();
    const { payload } = await jwtVerify(token, await jwks(), {
      algorithms: ['RS256'],
      issuer: options.issuer,
      ...(audiences !== 'any' && { audience: [...audiences] }),
      requiredClaims: ['exp', 'iat', 'sub', 'aud'],
      clockTolerance: CLOCK_SKEW_SECONDS,
    });
    const now = Math.floor(Date.now() / 1000);
    if ((payload.iat ?? 0) > now + CLOCK_SKEW_SECONDS) throw new Error('iat is in the future');
    return asGatewayClaims(payload);
  };
}

/** The JWKS named by the issuer's discovery document, as API Gateway finds it. */
async function discoverKeys(issuer: string) {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
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
