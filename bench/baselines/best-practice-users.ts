/**
 * Baseline 4, "the best-practice way" with users: baseline 3 (the secret through Powertools
 * Parameters, Powertools Logger, fetch for WeChat, a session token signed by KMS), and before the
 * token the user's record written with `@aws-sdk/client-dynamodb`: one `UpdateItemCommand` with
 * ours' UpdateExpression and `ReturnValues: 'ALL_NEW'`, the number kept on the record read from
 * its answer. Bundled with esbuild like the others; only measured.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { loginHandler, type Step } from './exchange.ts';
import { sessionStep } from './kms-session.ts';

const table = process.env.USERS_TABLE;
if (!table) throw new Error('USERS_TABLE is required');

const dynamodb = new DynamoDBClient({});

const userStep: Step = {
  failure: 'store_unavailable',
  run: async ({ appId, openid, unionid }) => {
    const set = ['createdAt = if_not_exists(createdAt, :now)', 'lastLoginAt = :now'];
    if (unionid !== undefined) set.push('unionid = :unionid');
    const { Attributes } = await dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { id: { S: `${appId}#${openid}` } },
        UpdateExpression: `SET ${set.join(', ')}`,
        ExpressionAttributeValues: {
          ':now': { N: String(Math.floor(Date.now() / 1000)) },
          ...(unionid !== undefined && { ':unionid': { S: unionid } }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const phoneNumber = Attributes?.phoneNumber?.S;
    return phoneNumber ? { phoneNumber } : {};
  },
};

export const handler = loginHandler('weapp-openid-best-practice-users', userStep, sessionStep);
