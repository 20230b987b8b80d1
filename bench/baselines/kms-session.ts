/**
 * The session token step of the best-practice baselines with sessions: a JWT signed by KMS with
 * `@aws-sdk/client-kms`: `SignCommand` (RAW, RSASSA_PKCS1_V1_5_SHA_256) over the JWS signing
 * input, with a `kid` (the key's RFC 7638 thumbprint) from `GetPublicKeyCommand`, read once at
 * module scope. The same claims as ours.
 */
import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { Step } from './exchange.ts';

const keyId = process.env.SESSION_KEY_ID;
if (!keyId) throw new Error('SESSION_KEY_ID is required');
const issuer = process.env.SESSION_ISSUER;
if (!issuer) throw new Error('SESSION_ISSUER is required');
const ttlSeconds = Number(process.env.SESSION_TTL_SECONDS || 7200);

const kms = new KMSClient({});

/** The signing key's `kid`, read once per environment; a failed read is tried again. */
let kid: Promise<string> | undefined;
function signingKid(): Promise<string> {
  kid ??= kms.send(new GetPublicKeyCommand({ KeyId: keyId })).then(({ PublicKey }) => {
    if (!PublicKey) throw new Error('GetPublicKey answered without a PublicKey');
    const jwk = createPublicKey({
      key: Buffer.from(PublicKey),
      format: 'der',
      type: 'spki',
    }).export({ format: 'jwk' });
    return createHash('sha256')
      .update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n }))
      .digest('base64url');
  });
  kid.catch(() => {
    kid = undefined;
  });
  return kid;
}
// Started at init, as ours does, so the first request finds it ready.
signingKid().catch(() => {});

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function signSession(openid: string, appId: string, unionid?: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: await signingKid() };
  const claims = {
    iss: issuer,
    sub: openid,
    aud: appId,
    ...(unionid && { unionid }),
    iat,
    exp: iat + ttlSeconds,
    jti: randomUUID(),
  };
  const signingInput = `${base64url(header)}.${base64url(claims)}`;
  const { Signature } = await kms.send(
    new SignCommand({
      KeyId: keyId,
      Message: Buffer.from(signingInput),
      MessageType: 'RAW',
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    }),
  );
  if (!Signature) throw new Error('Sign answered without a Signature');
  return `${signingInput}.${Buffer.from(Signature).toString('base64url')}`;
}

/** Signs the session token after code2Session. */
export const sessionStep: Step = {
  failure: 'session_unavailable',
  run: async ({ openid, appId, unionid }) => ({
    token: await signSession(openid, appId, unionid),
    expiresIn: ttlSeconds,
  }),
};
