import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AwsCredentials } from '../../functions/adapters/aws-json.ts';
import { signV4 } from '../../functions/adapters/sigv4.ts';
import { Sha256 } from '../../harness/sha256.ts';

/** The SDK's signer, with Node's hashes, as the reference. */
function sdkSign(
  request: { path: string; headers: Record<string, string>; body: string; host: string },
  scope: { service: string; region: string },
  credentials: AwsCredentials,
  now: Date,
) {
  return new SignatureV4({ ...scope, credentials, sha256: Sha256 }).sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: request.host,
      path: request.path,
      query: {},
      headers: request.headers,
      body: request.body,
    },
    { signingDate: now },
  );
}

const text = fc.string({ unit: 'grapheme', maxLength: 200 });
const headerValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,40}[\x21-\x7e])?$/);

describe('the SigV4 signer', () => {
  it('signs exactly as the AWS SDK does, for any body, target, credentials, region and time', async () => {
    await fc.assert(
      fc.asyncProperty(
        text,
        headerValue,
        fc.record({
          accessKeyId: fc.stringMatching(/^[A-Z0-9]{16,20}$/),
          secretAccessKey: fc.stringMatching(/^[A-Za-z0-9/+]{40}$/),
          sessionToken: fc.option(fc.stringMatching(/^[A-Za-z0-9/+=]{20,300}$/), {
            nil: undefined,
          }),
        }),
        fc.constantFrom('us-east-1', 'ap-east-1', 'cn-north-1'),
        fc.constantFrom('kms', 'secretsmanager', 'dynamodb'),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
        async (body, target, given, region, service, now) => {
          // Prepare
          const credentials: AwsCredentials =
            given.sessionToken === undefined
              ? { accessKeyId: given.accessKeyId, secretAccessKey: given.secretAccessKey }
              : (given as AwsCredentials);
          const host = `${service}.${region}.amazonaws.com`;
          const headers = {
            host,
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': target,
          };

          // Act
          const ours = signV4(
            { method: 'POST', path: '/', headers, body },
            { service, region },
            credentials,
            now,
          );
          const sdk = await sdkSign(
            { path: '/', headers: { ...headers }, body, host },
            { service, region },
            credentials,
            now,
          );

          // Assess
          expect(ours).toEqual(sdk.headers);
        },
      ),
      { numRuns: 300 },
    );
  });
});
