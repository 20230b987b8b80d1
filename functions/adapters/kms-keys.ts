import { FORCED_READ_EVERY_MS, KMS } from '../commons/budgets.ts';
import type { Logger } from '../domain/ports.ts';
import { Problem } from '../domain/problem.ts';
import type { PublicJwk, TokenKeys } from '../domain/token.ts';
import { AwsCallError, type AwsJsonCall } from './aws-json.ts';
import { createCache } from './cache.ts';
import { rsaPublicJwk } from './jwk.ts';

export interface KmsKeysOptions {
  /** A KMS JSON 1.1 client (`createAwsJsonClient` with service `kms`). */
  readonly call: AwsJsonCall;
  readonly signingKeyId: string;
  readonly publishedKeyIds: readonly string[];
  /** Warns when a retired key cannot be published (the others still are). */
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * A signing key named by an alias is read again this often, so that every environment, those
 * that only answer the JWKS included, publishes the key the alias names now within minutes of
 * a move. A key named by its id or ARN never changes and is read once.
 */
export const ALIAS_REREAD_MS = 5 * 60_000;
/** Keys an alias named earlier, kept in the JWKS so that their tokens verify until they expire. */
const MAX_SUPERSEDED = 3;

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
  // The key exists but cannot do this (an ECC or symmetric key, a wrong algorithm): a retry
  // never succeeds.
  'UnsupportedOperationException',
  'ValidationException',
]);

/** A public key as the JWKS publishes it, and the ARN of the KMS key it belongs to. */
interface KeyEntry {
  readonly jwk: PublicJwk;
  /** KMS's own name for the key (`GetPublicKey`'s `KeyId`): an alias resolves to it. */
  readonly keyArn: string | undefined;
}

/**
 * Session keys held in KMS: the private key never leaves it. Public keys come from
 * `GetPublicKey`, read once per environment and kept (adapters/cache.ts): a failed read is
 * not kept, so the next request tries again, unless the key is unusable (missing, disabled,
 * not a signing key, not allowed): that is remembered, and the key is read again at most
 * once per `FORCED_READ_EVERY_MS`. The JWKS and every token's `kid` are built from them, so
 * only `Sign` is called per login. A key named by an alias is checked on every `Sign`: KMS
 * names the key it used, and when the alias has moved, the new key's public key is read and
 * the token signed again, so the `kid`, the JWKS and the signature always agree.
 */
export function createKmsKeys(options: KmsKeysOptions): TokenKeys & { warm(): void } {
  const { call } = options;
  const keyCache = (keyId: string) =>
    createCache<KeyEntry>({
      load: () => readPublicKey(keyId),
      ttlMs: () => (isAlias(keyId) ? ALIAS_REREAD_MS : Number.POSITIVE_INFINITY),
      isLasting: isKeyProblem,
      forcedEveryMs: FORCED_READ_EVERY_MS,
      ...(options.now && { now: options.now }),
    });
  const signingCache = keyCache(options.signingKeyId);
  /** Keys the alias named before, newest last: still published, never signing. */
  const superseded: PublicJwk[] = [];
  let current: PublicJwk | undefined;
  /** The signing key now; a key the alias no longer names joins `superseded`. */
  const signing = {
    async get(): Promise<KeyEntry> {
      const entry = await signingCache.get();
      if (current && current.kid !== entry.jwk.kid) {
        superseded.push(current);
        if (superseded.length > MAX_SUPERSEDED) superseded.shift();
      }
      current = entry.jwk;
      return entry;
    },
    drop: () => signingCache.drop(),
  };
  const retired = options.publishedKeyIds.map((id) => ({ id, cache: keyCache(id) }));
  /** A lasting `Sign` refusal, remembered as a lasting read is. */
  let refused: { readonly error: Problem; readonly at: number } | undefined;

  async function readPublicKey(keyId: string): Promise<KeyEntry> {
    const deadline = performance.now() + KMS.publishMs;
    const answer = await call('GetPublicKey', { KeyId: keyId }, deadline).catch(asTokenError);
    if (answer.KeyUsage !== 'SIGN_VERIFY' || typeof answer.PublicKey !== 'string') {
      throw keyProblem(
        `the KMS key ${keyId} is not a signing key (KeyUsage ${String(answer.KeyUsage)})`,
      );
    }
    try {
      const jwk = rsaPublicJwk(Buffer.from(answer.PublicKey, 'base64'));
      return { jwk, keyArn: typeof answer.KeyId === 'string' ? answer.KeyId : undefined };
    } catch {
      throw keyProblem(
        `the KMS key ${keyId} is not an RSA key (KeySpec ${String(answer.KeySpec)})`,
      );
    }
  }

  async function signOnce(key: KeyEntry, input: (kid: string) => string, deadline: number) {
    const signingInput = input(key.jwk.kid);
    const answer = await call(
      'Sign',
      {
        KeyId: options.signingKeyId,
        Message: Buffer.from(signingInput, 'ascii').toString('base64'),
        MessageType: 'RAW',
        SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
      },
      deadline,
    ).catch(asTokenError);
    if (typeof answer.Signature !== 'string') {
      throw new Problem('session_unavailable', {
        reason: 'KMS Sign answered without a Signature',
      });
    }
    const signedBy = typeof answer.KeyId === 'string' ? answer.KeyId : undefined;
    return {
      signingInput,
      signature: Buffer.from(answer.Signature, 'base64'),
      moved:
        signedBy !== undefined && key.keyArn !== undefined && keyOf(signedBy) !== keyOf(key.keyArn),
    };
  }

  return {
    async ready() {
      if (refused && performance.now() - refused.at < FORCED_READ_EVERY_MS) throw refused.error;
      await signing.get();
    },
    async sign(input) {
      const deadline = performance.now() + KMS.totalMs;
      try {
        let signed = await signOnce(await signing.get(), input, deadline);
        if (signed.moved) {
          // The alias now names another key: publish and sign with that one.
          signing.drop();
          signed = await signOnce(await signing.get(), input, deadline);
          if (signed.moved) {
            throw new Problem('session_unavailable', {
              reason: `the alias ${options.signingKeyId} moved twice during one signature`,
            });
          }
        }
        refused = undefined;
        return { signingInput: signed.signingInput, signature: signed.signature };
      } catch (error) {
        if (isKeyProblem(error)) refused = { error, at: performance.now() };
        throw error;
      }
    },
    async published() {
      const [signingKey, ...others] = await Promise.allSettled([
        signing.get(),
        ...retired.map(({ cache }) => cache.get()),
      ]);
      // Without the signing key the JWKS would refuse every new token: fail. A retired key
      // that cannot be read (deleted early, disabled) only loses its old tokens: warn.
      if (signingKey?.status !== 'fulfilled') throw publishingFailure(signingKey?.reason);
      const keys = [signingKey.value.jwk, ...superseded];
      others.forEach((result, i) => {
        if (result.status === 'fulfilled') keys.push(result.value.jwk);
        else {
          options.log.warn('a retired session key is not published: it cannot be read', {
            keyId: retired[i]?.id,
            reason: result.reason instanceof Problem ? result.reason.reason : String(result.reason),
          });
        }
      });
      // Two ids (an alias and its ARN) may name one key: publish it once.
      return [...new Map(keys.map((key) => [key.kid, key])).values()];
    },
    /** Starts reading the public keys now (at init), so the first request finds them ready. */
    warm() {
      for (const cache of [signingCache, ...retired.map((key) => key.cache)]) {
        cache.get().catch(() => {});
      }
    },
  };
}

/** The key's own id, from its ARN (`arn:…:key/<id>`) or the id itself: KMS answers either. */
function keyOf(keyIdOrArn: string): string {
  return keyIdOrArn.slice(keyIdOrArn.lastIndexOf('/') + 1);
}

/** An alias (`alias/…`, or an alias ARN): the key it names may change. */
function isAlias(keyId: string): boolean {
  return keyId.startsWith('alias/') || keyId.includes(':alias/');
}

function isKeyProblem(error: unknown): error is Problem {
  return error instanceof Problem && error.code === 'misconfigured';
}

/** A KMS failure as the caller's failure: the key is unusable, or KMS is (for now). */
function asTokenError(error: unknown): never {
  if (error instanceof AwsCallError && error.type !== undefined && KEY_PROBLEMS.has(error.type)) {
    throw keyProblem(`the session signing key is unusable: ${error.message}`, error);
  }
  if (error instanceof Problem) throw error;
  const reason = error instanceof Error ? error.message : String(error);
  throw new Problem('session_unavailable', { reason, cause: error });
}

/** The keys could not be published: the same failure, said of the JWKS, not of a login. */
function publishingFailure(error: unknown): Problem {
  if (!(error instanceof Problem)) return new Problem('internal_error', { cause: error });
  return new Problem(error.code, { ...error.facts, publishing: true });
}

function keyProblem(reason: string, cause?: unknown): Problem {
  return new Problem('misconfigured', {
    subject: 'signing_key',
    reason,
    ...(cause !== undefined && { cause }),
  });
}
