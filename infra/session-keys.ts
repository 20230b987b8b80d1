import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct, type IDependable } from 'constructs';
import { ENV } from '../functions/commons/names.ts';

/** Which keys exist and which one signs (`SessionConfig`). */
export interface SessionKeysProps {
  readonly names: readonly string[];
  readonly signingKey: string;
}

/**
 * The session signing keys: one asymmetric KMS key (RSA 2048, sign and verify) per name, each
 * with an alias. Every key is published in the JWKS; one signs. A key's logical id comes from
 * its name alone, so adding or removing another key, or moving the signing role between
 * keys, never replaces it (docs/operators.md, "Rotating the session key").
 *
 * No automatic rotation (cdk-nag's AwsSolutions-KMS5): KMS rotates only symmetric keys, and
 * the rule skips asymmetric ones. Rotation is the documented sequence of deploys instead.
 */
export class SessionKeys extends Construct {
  /** The key that signs new tokens. */
  readonly signing: Key;
  /** The other keys: still (or already) in the JWKS, never signing. */
  readonly published: readonly Key[];

  constructor(scope: Construct, id: string, props: SessionKeysProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const keys = props.names.map(
      (name) =>
        [
          name,
          new Key(this, name, {
            keySpec: KeySpec.RSA_2048,
            keyUsage: KeyUsage.SIGN_VERIFY,
            alias: `alias/${stackName}/session-${name}`,
            description: `weapp-openid: signs session tokens (key "${name}")`,
            // Destroyed, not retained: a signing key protects no stored data, only tokens that
            // expire within SESSION_TTL_SECONDS (7 days at most), so a retired key is worth
            // nothing once they have, and a retained one would linger and be billed after
            // every rotation and teardown. CloudFormation only schedules the deletion; the
            // longest window KMS allows leaves 30 days to undo a mistaken removal with
            // `aws kms cancel-key-deletion`.
            removalPolicy: RemovalPolicy.DESTROY,
            pendingWindow: Duration.days(30),
          }),
        ] as const,
    );
    const signing = keys.find(([name]) => name === props.signingKey)?.[1];
    if (!signing) throw new Error(`The signing key "${props.signingKey}" is not among the keys.`);
    this.signing = signing;
    this.published = keys.filter(([, key]) => key !== signing).map(([, key]) => key);
  }

  /** The function's session variables, except the issuer (the API knows it). */
  get environment(): Record<string, string> {
    return {
      [ENV.sessionKeyId]: this.signing.keyArn,
      ...(this.published.length > 0
        ? { [ENV.sessionPublishedKeyIds]: this.published.map((key) => key.keyArn).join(',') }
        : {}),
    };
  }

  /**
   * Lets the role sign with the signing key and read the public key of every key, nothing
   * more: a published key never signs, so it gets GetPublicKey only. Returns what an
   * authorizer must wait for, since API Gateway reads the JWKS when it creates one.
   */
  grantTo(role: IRole): IDependable[] {
    const statements = [
      new PolicyStatement({
        actions: ['kms:GetPublicKey', 'kms:Sign'],
        resources: [this.signing.keyArn],
      }),
    ];
    if (this.published.length > 0) {
      statements.push(
        new PolicyStatement({
          actions: ['kms:GetPublicKey'],
          resources: this.published.map((key) => key.keyArn),
        }),
      );
    }
    return statements.flatMap((statement) => {
      const { policyDependable } = role.addToPrincipalPolicy(statement);
      return policyDependable ? [policyDependable] : [];
    });
  }
}
