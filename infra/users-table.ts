import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV, USERS_TABLE_KEY } from '../functions/commons/names.ts';

/**
 * What the function does with the table, and nothing more: one UpdateItem per login or phone
 * bind (create or update, returning the record), one DeleteItem per `DELETE /me`, one GetItem
 * to read a kept session_key. No Query, no Scan, no batch: the function never lists users.
 */
export const USERS_TABLE_ACTIONS = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
] as const;

/**
 * The users table: one record per (AppID, openid) holding createdAt, lastLoginAt, the unionid,
 * the phone number once bound, and, with open data, the sealed session_key (docs/operators.md,
 * "Users").
 *
 * - Key: one string attribute, `{AppID}#{openid}` (functions/commons/names.ts): every access
 *   is by one user, and a key by AppID would put a whole app's logins on one partition.
 * - On-demand: a login is one write, traffic follows the mini program's day, and an idle
 *   table costs nothing but its storage.
 * - Encrypted at rest with the AWS owned key (DynamoDB encrypts every table): no charge and no
 *   KMS request, where `aws/dynamodb` bills its requests and a customer managed key costs
 *   $1/month more and makes the table unreadable whenever the key is disabled or its policy
 *   is wrong. What either would add, an audit trail and a revocable key, is not where the
 *   protection lies here: only this function's role may read or write items (IAM, below), and
 *   the one value that must stay unusable to a reader of the table, the session_key, is
 *   sealed with the open data key, whose policy admits only the function. The table can be
 *   moved to another key later without replacement (an in-place update).
 * - Point-in-time recovery (35 days) and deletion protection, and retained when it leaves the
 *   stack (`cdk destroy`, `-c users=false`): a bound phone number cost a paid WeChat lookup,
 *   and losing the records sends every user through it again.
 */
export class UsersTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: USERS_TABLE_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.DEFAULT,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The function's variable naming the table. */
  get environment(): Record<string, string> {
    return { [ENV.usersTable]: this.table.tableName };
  }

  /**
   * Lets the grantee read, write and delete single items of this table, and nothing else
   * (not `grantReadWriteData`, which adds Query, Scan, batch and transactional calls and
   * DescribeTable).
   */
  grantTo(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...USERS_TABLE_ACTIONS], resources: [this.table.tableArn] }),
    );
  }
}
