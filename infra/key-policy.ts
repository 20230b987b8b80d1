import {
  AccountRootPrincipal,
  type IPrincipal,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';

/**
 * What the account keeps on the stack's KMS keys: administration, never use. The account
 * root in a key policy lets the account's IAM policies grant these actions (CloudFormation's
 * deploy role needs them to create, update and delete the key), and nothing else.
 *
 * CDK's own admin list, except `kms:Create*`, which on a key is `kms:CreateAlias` and
 * `kms:CreateGrant`: a grant hands the key's use (Sign, Decrypt) to whoever creates it, so
 * any principal holding `kms:CreateGrant` on `*` could give itself what the key policy keeps
 * from it. `kms:Put*` still lets an administrator rewrite the policy itself; that is a
 * deliberate, visible act (`PutKeyPolicy` in CloudTrail), and without it nobody could ever
 * change the key again.
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

/**
 * A key policy in which the account administers the key and only `user` may use it, for
 * exactly `actions`. It replaces CDK's default policy, which gives the account root `kms:*`
 * and so lets any IAM policy in the account (one with `kms:Sign` or `kms:Decrypt` on `*`)
 * use the key. Without that statement, IAM policies cannot grant the key's use at all: the
 * user is named here, by its ARN.
 */
export function keyPolicy(user: IPrincipal, actions: readonly string[]): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'AdministrationByTheAccount',
        principals: [new AccountRootPrincipal()],
        actions: [...KEY_ADMIN_ACTIONS],
        resources: ['*'],
      }),
      new PolicyStatement({
        sid: 'UseByTheLoginFunction',
        principals: [user],
        actions: [...actions],
        resources: ['*'],
      }),
    ],
  });
}
