import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENV } from '../functions/commons/names.ts';
import { keyPolicy } from './key-policy.ts';

/** Who seals and unseals the kept session_keys. */
export interface OpenDataKeyProps {
  /** The login function's role: the only principal that may use the key. */
  readonly user: IRole;
}

/**
 * Seals each login's session_key before it is kept on the user record (a data key from
 * `GenerateDataKey`, unwrapped again with `Decrypt`), so that whoever can read the table
 * cannot use what it holds. Its policy (infra/key-policy.ts) leaves the account its
 * administration and lets only the function's role generate data keys and decrypt: no IAM
 * policy of the account, however broad, can grant `kms:Decrypt` on it.
 *
 * Symmetric, so KMS rotates its key material every year (AwsSolutions-KMS5), keeping the old
 * material to decrypt what it sealed. Retained when it leaves the stack (`cdk destroy`,
 * `-c openData=false`), like the table whose data it seals: deleting it makes every kept
 * session_key unusable for good, which is the operator's decision to take by hand
 * (docs/operators.md), not a side effect of a deploy.
 */
export class OpenDataKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string, props: OpenDataKeyProps) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      keySpec: KeySpec.SYMMETRIC_DEFAULT,
      keyUsage: KeyUsage.ENCRYPT_DECRYPT,
      enableKeyRotation: true,
      alias: `alias/${Stack.of(this).stackName}/open-data`,
      description: 'weapp-openid: seals the session_keys kept for open data',
      policy: keyPolicy(props.user, ['kms:GenerateDataKey', 'kms:Decrypt']),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The function's variable naming the key. */
  get environment(): Record<string, string> {
    return { [ENV.openDataKeyId]: this.key.keyArn };
  }
}
