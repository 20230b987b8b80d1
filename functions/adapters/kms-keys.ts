import { KMS } from '../commons/budgets.ts';
import { LoginError } from '../domain/errors.ts';
import type { Logger } from '../domain/ports.ts';
import type { PublicJwk, SessionKeys } from '../domain/session.ts';
import { AwsCallError, type AwsJsonCall } from './aws-json.ts';
import { rsaPublicJwk } from './jwk.ts';

export interface KmsKeysOptions {
  /** A KMS JSON 1.1 client (`createAwsJsonClient` with service `kms`). */
  readonly call: AwsJsonCall;
  readonly signingKeyId: string;
  readonly publishedKeyIds: readonly string[];
  /** Warns when a retired key cannot be published (the others still are). */
  readonly log: Logger;
}

/** KMS answers that mean the key itself is unusable: the operator must fix it, retrying won't. */
const KEY_PROBLEMS = new Set([
  'NotFoundException',
  'DisabledException',
  'KMSInvalidStateException',
  'AccessDeniedException',
  'AccessDeniedError',
  'InvalidKeyUsageException',
  'IncorrectKeyException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
]);

/**
 * Session keys held in KMS: the private key never leaves it. Public keys come from
 * `GetPublicKey`, read once per environment and kept (a failed read is not kept, so the next
 * request tries again); the JWKS and every token's `kid` are built from them, so only `Sign`
 * is called per login.
 */
export function createKmsKeys(options: KmsKeysOptions): SessionKeys & { warm(): void } {
  const { call } = options;
  const cache = new Map<string, Promise<PublicJwk>>();

  const publicKey = (keyId: string, deadline: number): Promise<PublicJwk> => {
    let cached = cache.get(keyId);
    if (!cached) {
      cached = readPublicKey(keyId, deadline);
      cache.set(keyId, cached);
      cached.catch(() => cache.delete(keyId));
    }
    return cached;
  };

  async function readPublicKey(keyId: string, deadline: number): Promise<PublicJwk> {
    const answer = await call('GetPublicKey', { KeyId: keyId }, deadline).catch(asSessionError);
    if (answer.KeyUsage !== 'SIGN_VERIFY' || typeof answer.PublicKey !== 'string') {
      throw keyProblem(
        `the KMS key ${keyId} is not a signing key (KeyUsage ${String(answer.KeyUsage)})`,
      );
    }
    try {
      return rsaPublicJwk(Buffer.from(answer.PublicKey, 'base64'));
    } catch {
      throw keyProblem(
        `the KMS key ${keyId} is not an RSA key (KeySpec ${String(answer.KeySpec)})`,
      );
    }
  }

  const allKeyIds = [options.signingKeyId, ...options.publishedKeyIds];

  return {
    async sign(input) {
      const deadline = performance.now() + KMS.totalMs;
      const { kid } = await publicKey(options.signingKeyId, deadline);
      const signingInput = input(kid);
      const answer = await call(
        'Sign',
        {
          KeyId: options.signingKeyId,
          Message: Buffer.from(signingInput, 'ascii').toString('base64'),
          MessageType: 'RAW',
          SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
        },
        deadline,
      ).catch(asSessionError);
      if (typeof answer.Signature !== 'string') {
        throw new LoginError('session_unavailable', {
          reason: 'KMS Sign answered without a Signature',
        });
      }
      return { signingInput, signature: Buffer.from(answer.Signature, 'base64') };
    },
    async published() {
      const deadline = performance.now() + KMS.publishMs;
      const [signing, ...retired] = await Promise.allSettled(
        allKeyIds.map((id) => publicKey(id, deadline)),
      );
      // Without the signing key the JWKS would refuse every new token: fail. A retired key
      // that cannot be read (deleted early, disabled) only loses its old tokens: warn.
      if (signing?.status !== 'fulfilled') throw publishingFailure(signing?.reason);
      const keys = [signing.value];
      retired.forEach((result, i) => {
        if (result.status === 'fulfilled') keys.push(result.value);
        else {
          options.log.warn('a retired session key is not published: it cannot be read', {
            keyId: options.publishedKeyIds[i],
            reason:
              result.reason instanceof LoginError ? result.reason.reason : String(result.reason),
          });
        }
      });
      // Two ids (an alias and its ARN) may name one key: publish it once.
      return [...new Map(keys.map((key) => [key.kid, key])).values()];
    },
    /** Starts reading the public keys now (at init), so the first request finds them ready. */
    warm() {
      const deadline = performance.now() + KMS.publishMs;
      for (const id of allKeyIds) publicKey(id, deadline).catch(() => {});
    },
  };
}

/** A KMS failure as the caller's failure: the key is unusable, or KMS is (for now). */
function asSessionError(error: unknown): never {
  if (error instanceof AwsCallError && error.type !== undefined && KEY_PROBLEMS.has(error.type)) {
    throw keyProblem(`the session signing key is unusable: ${error.message}`, error);
  }
  if (error instanceof LoginError) throw error;
  const reason = error instanceof Error ? error.message : String(error);
  throw new LoginError('session_unavailable', { reason, cause: error });
}

/** The keys could not be published: the same failure, said of the JWKS, not of a login. */
function publishingFailure(error: unknown): LoginError {
  if (!(error instanceof LoginError)) return new LoginError('internal_error', { cause: error });
  return new LoginError(error.code, { ...error.facts, publishing: true });
}

function keyProblem(reason: string, cause?: unknown): LoginError {
  return new LoginError('misconfigured', {
    subject: 'signing_key',
    reason,
    ...(cause !== undefined && { cause }),
  });
}
