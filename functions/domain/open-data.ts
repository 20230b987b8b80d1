import { parseJsonObject } from '../commons/json.ts';
import type { Identity } from './identity.ts';
import type { RequestTrace } from './ports.ts';
import { Problem } from './problem.ts';

const { createDecipheriv } = process.getBuiltinModule('node:crypto');

/** A session_key as the record keeps it: sealed, with the (KMS-encrypted) data key that opens it. */
export interface Sealed {
  /** The data key, encrypted by KMS (base64): which key seals `box`. */
  readonly blob: string;
  /** The sealed session_key (base64). */
  readonly box: string;
}

/** Seals and opens session_keys for one record, named by its AppID and openid. */
export interface SessionKeySealer {
  /**
   * Gets the sealing key ready (at most one KMS call, in the background of the request);
   * resolves whether it is. A login starts it beside the secret read, so that sealing after
   * the exchange waits for nothing new.
   */
  prepare(): Promise<boolean>;
  seal(sessionKey: Buffer, appId: string, openid: string): Promise<Sealed>;
  /** The session_key, or undefined when the box does not open for this record. */
  unseal(sealed: Sealed, appId: string, openid: string): Promise<Buffer | undefined>;
}

/** Reads the sealed session_key of a record (users/open data on). */
export interface SealedKeys {
  sealedSessionKey(appId: string, openid: string): Promise<Sealed | undefined>;
}

/** What `POST /open-data` carries: WeChat's encrypted data, decoded from base64. */
export interface OpenDataRequest {
  readonly caller: Identity;
  readonly encryptedData: Buffer;
  readonly iv: Buffer;
}

export interface OpenDataDeps {
  readonly keys: SealedKeys;
  readonly sealer: SessionKeySealer;
  /** The sandbox never sees the session_key WeChat encrypts the devtools' data with. */
  readonly sandbox?: boolean;
}

export type ReadOpenData = (
  request: OpenDataRequest,
  trace: RequestTrace,
) => Promise<Record<string, unknown>>;

/**
 * `POST /open-data`: decrypts data from wx.getWeRunData and its kin with the session_key kept
 * from the caller's last login. Data that does not decrypt with it was encrypted with another
 * session_key (a wx.login ran after the data was fetched, or the login is older than the
 * data): `session_key_stale`, and the client logs in and fetches again.
 */
export function createReadOpenData(deps: OpenDataDeps): ReadOpenData {
  return async ({ caller, encryptedData, iv }, trace) => {
    trace.appId = caller.appid;
    trace.openid = caller.openid;
    const stale = (reason: string) =>
      new Problem('session_key_stale', { reason, ...(deps.sandbox && { sandbox: true }) });
    const sealed = await deps.keys.sealedSessionKey(caller.appid, caller.openid);
    if (!sealed) throw stale('no session_key is kept for the caller');
    const sessionKey = await deps.sealer.unseal(sealed, caller.appid, caller.openid);
    if (!sessionKey) throw stale('the kept session_key does not open for this record');
    const data = decryptOpenData(sessionKey, encryptedData, iv);
    if (!data) throw stale('the data does not decrypt with the kept session_key');
    const watermark = data.watermark as { appid?: unknown } | undefined;
    if (watermark?.appid !== caller.appid) {
      throw new Problem('open_data_mismatch', {
        reason: "the data's watermark names another AppID than the token's",
      });
    }
    return data;
  };
}

/**
 * WeChat's open data: AES-128-CBC with PKCS#7 padding under the session_key, then a JSON
 * object. Undefined when it does not decrypt to one (bad padding, not JSON): another key.
 */
export function decryptOpenData(
  sessionKey: Buffer,
  encryptedData: Buffer,
  iv: Buffer,
): Record<string, unknown> | undefined {
  if (sessionKey.length !== 16 || iv.length !== 16) return undefined;
  let text: string;
  try {
    const decipher = createDecipheriv('aes-128-cbc', sessionKey, iv);
    text = Buffer.concat([decipher.update(encryptedData), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
  return parseJsonObject(text);
}
