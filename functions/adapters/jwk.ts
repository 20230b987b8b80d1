import type { PublicJwk } from '../domain/token.ts';

const { createHash, createPublicKey } = process.getBuiltinModule('node:crypto');

/** An RSA public key (DER SubjectPublicKeyInfo, as KMS GetPublicKey returns it) as a JWK. */
export function rsaPublicJwk(spki: Uint8Array): PublicJwk {
  const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({
    format: 'jwk',
  });
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') {
    throw new TypeError('not an RSA public key');
  }
  return {
    kty: 'RSA',
    use: 'sig',
    alg: 'RS256',
    kid: thumbprint(jwk.n, jwk.e),
    n: jwk.n,
    e: jwk.e,
  };
}

/**
 * RFC 7638: SHA-256 over the required members in lexicographic order, base64url. A key keeps
 * its `kid` whatever alias names it, and a new key always gets a new one.
 */
export function thumbprint(n: string, e: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
}
