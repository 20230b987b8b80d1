import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENV } from '../functions/commons/names.ts';
import { keyPolicy } from './key-policy.ts';

/** Which keys exist, which one signs (`SessionConfig`), and who signs with it. */
export interface SessionKeysProps {
  readonly names: readonly string[];
  readonly signingKey: string;
  /** The login function's role: the only principal that may use the keys. */
  readonly signer: IRole;
}

/** What the signer may do with the signing key; with a key that only publishes, the second. */
const SIGNING_ACTIONS = ['kms:GetPublicKey', 'kms:Sign'];
const PUBLISHING_ACTIONS = ['kms:GetPublicKey'];

/**
 * The session signing keys: one asymmetric KMS key (RSA 2048, sign and verify) per name, each
 * with an alias. Every key is published in the JWKS; one signs. A key's logical id comes from
 * its name alone, so adding or removing another key, or moving the signing role between
 * keys, never replaces it (docs/operators.md, "Rotating the session key").
 *
 * No automatic rotation (cdk-nag's AwsSolutions-KMS5): KMS rotates only symmetric keys, and
 * the rule skips asymmetric ones. Rotation is the documented sequence of deploys instead.
 *
 * Each key's policy (infra/key-policy.ts) leaves the account its administration and lets
 * only the signer use it: `kms:Sign` and `kms:GetPublicKey` on the signing key, and
 * `kms:GetPublicKey` alone on a key that is only published. Whoever can sign can mint tokens
 * that every route behind the authorizer accepts, so no IAM policy of the account, however
 * broad, can grant `kms:Sign` on these keys.
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
            policy: keyPolicy(
              props.signer,
              name === props.signingKey ? SIGNING_ACTIONS : PUBLISHING_ACTIONS,
            ),
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
   * Every key, for what must wait until the function may read them: API Gateway reads the
   * JWKS when it creates an authorizer, and the function's permission is in the keys' policies.
   */
  get all(): readonly Key[] {
    return [this.signing, ...this.published];
  }
}
