import { generateKeyPairSync, sign } from 'node:crypto';
import { rsaPublicJwk } from '../adapters/jwk.ts';
import type { TokenKeys } from '../domain/token.ts';

/**
 * The sandbox's session keys: an RSA 2048 pair generated at start and held in memory, so
 * tokens work with no account. Tokens die with the process, as they should in a sandbox.
 */
export function createMemoryKeys(): TokenKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = rsaPublicJwk(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    sign(input) {
      const signingInput = input(jwk.kid);
      // RSASSA-PKCS1-v1_5 is node:crypto's default padding for RSA keys: RS256.
      const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), privateKey);
      return Promise.resolve({ signingInput, signature });
    },
    published: () => Promise.resolve([jwk]),
    ready: () => Promise.resolve(),
  };
}
