/** KMS on moto_server: signing keys for the session tests. */

export interface KmsKey {
  readonly keyId: string;
  readonly arn: string;
}

/** One call to moto's KMS (moto checks no signature, but reads the region from the scope). */
export async function kmsCall(
  endpoint: string,
  operation: string,
  body: object,
  region = 'us-east-1',
): Promise<Record<string, unknown>> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `TrentService.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok)
    throw new Error(`moto ${operation}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** An RSA_2048 SIGN_VERIFY key, as the stack creates it, and an alias for it. */
export async function createSigningKey(endpoint: string, alias?: string): Promise<KmsKey> {
  const { KeyMetadata } = (await kmsCall(endpoint, 'CreateKey', {
    KeySpec: 'RSA_2048',
    KeyUsage: 'SIGN_VERIFY',
  })) as { KeyMetadata: { KeyId: string; Arn: string } };
  if (alias) {
    await kmsCall(endpoint, 'CreateAlias', { AliasName: alias, TargetKeyId: KeyMetadata.KeyId });
  }
  return { keyId: KeyMetadata.KeyId, arn: KeyMetadata.Arn };
}
