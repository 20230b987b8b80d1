import type { Checksum, SourceData } from '@smithy/types';

// process.getBuiltinModule skips the ESM facade of `import … from 'node:crypto'`, whose
// creation touches every lazy export (webcrypto among them) on a cold start.
const { createHash, createHmac } = process.getBuiltinModule('node:crypto');

/**
 * SHA-256, or HMAC-SHA-256 when given a key: the hash the SDK's SigV4 signer is built with,
 * for the doctor's Lambda call and the test that holds the function's own signer to the SDK's.
 * Node's own crypto does the work; this only adapts it to the signer's interface.
 */
export class Sha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: { update(data: Buffer): unknown; digest(): Buffer };

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#create();
  }

  update(data: Uint8Array | string): void {
    this.#hash.update(toBuffer(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#create();
  }

  #create(): { update(data: Buffer): unknown; digest(): Buffer } {
    return this.#secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', toBuffer(this.#secret));
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
