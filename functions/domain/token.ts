import type { AppCredentials } from './apps.ts';
import type { WechatUser } from './ports.ts';

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
 * which keys are published. Throws `Problem` (`session_unavailable` or `misconfigured`
 * with subject `signing_key`) when it cannot.
 */
export interface TokenKeys {
  /**
   * Signs, with the current key, the JWS signing input that `input` builds for that key's
   * `kid`: RSASSA-PKCS1-v1_5 with SHA-256, in one bounded step (finding the `kid` included).
   */
  sign(input: (kid: string) => string): Promise<{ signingInput: string; signature: Uint8Array }>;
  /** The signing key and every retired key still published. */
  published(): Promise<readonly PublicJwk[]>;
  /**
   * Resolves once the signing key is known usable (its public key read); rejects when it is
   * known unusable, so a login can stop before WeChat spends the code.
   */
  ready(): Promise<void>;
}

/** The scope a token with a verified phone number carries. */
export const PHONE_SCOPE = 'phone';

/** A signed token and its lifetime. */
export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
}

export interface TokenIssuerDeps {
  readonly keys: TokenKeys;
  readonly issuer: string;
  readonly ttlSeconds: number;
  readonly now?: () => number;
  readonly newTokenId: () => string;
}

/** Signs the login state of one user of one mini program. */
export interface TokenIssuer {
  /** Rejects when the signing key is known unusable: checked before WeChat spends a code. */
  ready(): Promise<void>;
  /** `phoneNumber` (E.164), when the user has a verified one: claims `phone_number` and `scope`. */
  issue(user: WechatUser, app: AppCredentials, phoneNumber?: string): Promise<IssuedToken>;
}

/**
 * A JWT in JWS compact form, RS256: `sub` is the openid, `aud` the AppID, and with a verified
 * number `phone_number` and `scope`. Nothing else from WeChat or the secret goes in, and never
 * the session_key.
 */
export function createTokenIssuer(deps: TokenIssuerDeps): TokenIssuer {
  const now = deps.now ?? Date.now;
  // The header changes only with the key: encoded once per kid, not per token.
  let header = { kid: '', encoded: '' };
  const headerFor = (kid: string): string => {
    if (header.kid !== kid) {
      header = { kid, encoded: base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid })) };
    }
    return header.encoded;
  };
  const issue = async (
    session: WechatUser,
    app: AppCredentials,
    phoneNumber?: string,
  ): Promise<IssuedToken> => {
    const iat = Math.floor(now() / 1000);
    const claims = {
      iss: deps.issuer,
      sub: session.openid,
      aud: app.appId,
      ...(session.unionid !== undefined && { unionid: session.unionid }),
      // What API Gateway's JWT authorizer reads as the token's scopes: a route that requires
      // `phone` admits only users with a verified number.
      ...(phoneNumber !== undefined && { phone_number: phoneNumber, scope: PHONE_SCOPE }),
      iat,
      exp: iat + deps.ttlSeconds,
      jti: deps.newTokenId(),
    };
    const payload = base64url(JSON.stringify(claims));
    const { signingInput, signature } = await deps.keys.sign(
      (kid) => `${headerFor(kid)}.${payload}`,
    );
    return {
      token: `${signingInput}.${Buffer.from(signature).toString('base64url')}`,
      expiresIn: claims.exp - claims.iat,
    };
  };
  return { ready: () => deps.keys.ready(), issue };
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
