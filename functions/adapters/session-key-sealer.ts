import type { Sealed, SessionKeySealer } from '../domain/open-data.ts';
import { Problem } from '../domain/problem.ts';
import { AwsCallError, type AwsJsonCall } from './aws-json.ts';
import { createCache } from './cache.ts';

const { createCipheriv, createDecipheriv, randomBytes } = process.getBuiltinModule('node:crypto');

/** What KMS binds every data key to: a data key made for anything else does not decrypt here. */
const CONTEXT = { purpose: 'weapp-openid/session-key' } as const;
/** Data keys of other environments, decrypted once each and kept; at most this many. */
const MAX_FOREIGN_KEYS = 64;

/**
 * Seals WeChat session_keys for the user record: AES-256-GCM under a data key from a KMS key
 * that only the function's role may use for `Decrypt`, with the record's `{AppID}#{openid}` as
 * additional data, so a sealed key moved to another record does not open. The data key is
 * generated once per execution environment (`GenerateDataKey`, kept in memory) and stored,
 * encrypted by KMS, beside each sealed key; a record sealed by another environment costs one
 * `Decrypt` of that environment's data key, once. Whoever reads the table, its backups or an
 * export holds only ciphertext.
 */
export function createKmsSealer(
  call: AwsJsonCall,
  keyId: string,
): SessionKeySealer & { warm(): void } {
  const own = createCache<{ readonly plain: Buffer; readonly blob: string }>({
    load: async () => {
      const answer = await call('GenerateDataKey', {
        KeyId: keyId,
        KeySpec: 'AES_256',
        EncryptionContext: CONTEXT,
      }).catch(unavailable);
      if (typeof answer.Plaintext !== 'string' || typeof answer.CiphertextBlob !== 'string') {
        throw unavailable(new Error('KMS GenerateDataKey answered without a key'));
      }
      return { plain: Buffer.from(answer.Plaintext, 'base64'), blob: answer.CiphertextBlob };
    },
    ttlMs: () => Number.POSITIVE_INFINITY,
  });
  const foreign = new Map<string, Promise<Buffer>>();

  const dataKey = (blob: string): Promise<Buffer> => {
    // Only a key already generated can have sealed the record: a read never waits for (nor
    // spends its budget on) this environment's GenerateDataKey, only on one Decrypt.
    const mine = own.peek();
    if (mine?.blob === blob) return Promise.resolve(mine.plain);
    let key = foreign.get(blob);
    if (!key) {
      key = call('Decrypt', { CiphertextBlob: blob, EncryptionContext: CONTEXT, KeyId: keyId })
        .catch(unopenable)
        .then((answer) => {
          if (typeof answer.Plaintext !== 'string') {
            throw unavailable(new Error('KMS Decrypt answered without a key'));
          }
          return Buffer.from(answer.Plaintext, 'base64');
        });
      if (foreign.size >= MAX_FOREIGN_KEYS) foreign.delete(foreign.keys().next().value as string);
      foreign.set(blob, key);
      key.catch(() => foreign.delete(blob));
    }
    return key;
  };

  return {
    async seal(sessionKey, appId, openid) {
      const { plain, blob } = await own.get();
      return { blob, box: seal(plain, sessionKey, `${appId}#${openid}`) };
    },
    async unseal(sealed, appId, openid) {
      return open(await dataKey(sealed.blob), sealed.box, `${appId}#${openid}`);
    },
    prepare: () =>
      own.get().then(
        () => true,
        () => false,
      ),
    warm() {
      own.get().catch(() => {});
    },
  };
}

/** The sandbox's sealer: one random data key in memory, as the cloud's is per environment. */
export function createMemorySealer(): SessionKeySealer {
  const plain = randomBytes(32);
  return {
    prepare: () => Promise.resolve(true),
    seal: (sessionKey, appId, openid) =>
      Promise.resolve({ blob: 'memory', box: seal(plain, sessionKey, `${appId}#${openid}`) }),
    unseal: (sealed, appId, openid) =>
      Promise.resolve(open(plain, sealed.box, `${appId}#${openid}`)),
  };
}

/** iv (12) ‖ tag (16) ‖ ciphertext, base64. */
function seal(key: Buffer, sessionKey: Buffer, record: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(record, 'utf8'));
  const body = Buffer.concat([cipher.update(sessionKey), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** The session_key, or undefined when the box does not open for this record. */
function open(key: Buffer, box: string, record: string): Buffer | undefined {
  const bytes = Buffer.from(box, 'base64');
  if (bytes.length < 12 + 16 + 1) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12))
      .setAAD(Buffer.from(record, 'utf8'))
      .setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
  } catch {
    return undefined;
  }
}

/**
 * A data key KMS says it will never decrypt (another key's ciphertext, a corrupt blob): the
 * kept session_key cannot be opened, which the caller hears as a stale one (log in again);
 * anything else (throttled, unreachable, denied) is an outage.
 */
function unopenable(error: unknown): never {
  if (error instanceof AwsCallError && error.type !== undefined && NEVER_OPENS.has(error.type)) {
    throw new Problem('session_key_stale', {
      reason: `the kept session_key's data key does not decrypt: ${error.message}`,
      cause: error,
    });
  }
  return unavailable(error);
}

const NEVER_OPENS = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

function unavailable(error: unknown): never {
  throw new Problem('store_unavailable', {
    reason: `the session_key sealing key cannot be used: ${error instanceof Error ? error.message : String(error)}`,
    cause: error,
  });
}

export type { Sealed };
