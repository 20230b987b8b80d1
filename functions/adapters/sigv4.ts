import type { AwsCredentials } from './aws-json.ts';

// process.getBuiltinModule skips the ESM facade of `import … from 'node:crypto'`, whose
// creation touches every lazy export (webcrypto among them) on a cold start.
const { createHash, createHmac } = process.getBuiltinModule('node:crypto');

/** What the function signs: a POST of a JSON body to an AWS JSON API's root path. */
export interface SigV4Request {
  readonly method: string;
  /** The request's path, already URI-encoded as sent (`/` for the JSON APIs). */
  readonly path: string;
  /** Lower-case names; `host` among them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface SigV4Scope {
  readonly service: string;
  readonly region: string;
}

/**
 * AWS Signature Version 4 (header-based), for the function's few AWS calls: the headers to
 * send, the request's own plus `x-amz-content-sha256`, `x-amz-date`, `x-amz-security-token`
 * (with temporary credentials) and `authorization`. Every header given is signed. No query string: the JSON
 * APIs take none. A test holds it to the AWS SDK's own signer, byte for byte.
 */
export function signV4(
  request: SigV4Request,
  scope: SigV4Scope,
  credentials: AwsCredentials,
  now: Date = new Date(),
): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const payloadHash = sha256(request.body);
  // The payload's hash is sent as the SDK sends it, as well as signed.
  const headers: Record<string, string> = {
    ...request.headers,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
  };
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method,
    request.path,
    '',
    ...names.map((name) => `${name}:${String(headers[name]).trim().replace(/\s+/g, ' ')}`),
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const credentialScope = `${date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    credentialScope,
    sha256(canonicalRequest),
  ].join('\n');
  const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, date, scope))
    .update(stringToSign, 'utf8')
    .digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

/** A signing key is the same for every request of a day, service and secret: derived once. */
const signingKeys = new Map<string, Buffer>();

function signingKey(secret: string, date: string, scope: SigV4Scope): Buffer {
  const id = `${date}\n${scope.region}\n${scope.service}\n${secret}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(`AWS4${secret}`, date);
    for (const part of [scope.region, scope.service, 'aws4_request']) key = hmac(key, part);
    // A few services, a new day, rotated credentials: a handful of keys at most.
    if (signingKeys.size >= 16) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
