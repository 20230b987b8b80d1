import { ROUTES } from '../commons/names.ts';
import type { AppCredentials } from './apps.ts';
import type { Session } from './ports.ts';

/** An RSA public key as a JWK, the way the JWKS publishes it. */
export interface PublicJwk {
  readonly kty: 'RSA';
  readonly use: 'sig';
  readonly alg: 'RS256';
  /** The key's RFC 7638 thumbprint: the same whatever id or alias names the key. */
  readonly kid: string;
  readonly n: string;
  readonly e: string;
}

/**
 * Signs with the current key (KMS in the cloud, an in-memory key in the sandbox) and knows
 * which keys are published. Throws `LoginError` (`session_unavailable` or `misconfigured`
 * with subject `signing_key`) when it cannot.
 */
export interface SessionKeys {
  /**
   * Signs, with the current key, the JWS signing input that `input` builds for that key's
   * `kid`: RSASSA-PKCS1-v1_5 with SHA-256, in one bounded step (finding the `kid` included).
   */
  sign(input: (kid: string) => string): Promise<{ signingInput: string; signature: Uint8Array }>;
  /** The signing key and every retired key still published. */
  published(): Promise<readonly PublicJwk[]>;
}

/** What a successful login answers when sessions are on. */
export interface SignedSession extends Session {
  readonly token: string;
  readonly expiresIn: number;
}

export interface SessionIssuerDeps {
  readonly keys: SessionKeys;
  readonly issuer: string;
  readonly ttlSeconds: number;
  readonly now?: () => number;
  readonly newTokenId: () => string;
}

/** Signs the login state of one user of one mini program. */
export type IssueSession = (session: Session, app: AppCredentials) => Promise<SignedSession>;

/**
 * A JWT in JWS compact form, RS256: `sub` is the openid, `aud` the AppID. Nothing else from
 * WeChat or the secret goes in, and never the session_key.
 */
export function createSessionIssuer(deps: SessionIssuerDeps): IssueSession {
  const now = deps.now ?? Date.now;
  return async (session, app) => {
    const iat = Math.floor(now() / 1000);
    const claims = {
      iss: deps.issuer,
      sub: session.openid,
      aud: app.appId,
      ...(session.unionid !== undefined && { unionid: session.unionid }),
      iat,
      exp: iat + deps.ttlSeconds,
      jti: deps.newTokenId(),
    };
    const payload = base64url(JSON.stringify(claims));
    const { signingInput, signature } = await deps.keys.sign(
      (kid) => `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${payload}`,
    );
    return {
      ...session,
      token: `${signingInput}.${Buffer.from(signature).toString('base64url')}`,
      expiresIn: claims.exp - claims.iat,
    };
  };
}

/** The OpenID discovery document API Gateway reads when its JWT authorizer is created. */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}${ROUTES.jwks.path}`,
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    claims_supported: ['iss', 'sub', 'aud', 'unionid', 'iat', 'exp', 'jti'],
  };
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
