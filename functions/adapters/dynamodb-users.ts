import { USERS_TABLE_KEY } from '../commons/names.ts';
import { Problem } from '../domain/problem.ts';
import type { BoundPhone, UserRecord, UserStore } from '../domain/users.ts';
import type { AwsJsonCall } from './aws-json.ts';

export interface DynamoUsersOptions {
  /** A DynamoDB JSON 1.0 client (`createAwsJsonClient` with service `dynamodb`). */
  readonly call: AwsJsonCall;
  readonly table: string;
}

type Attribute = { readonly S?: unknown; readonly N?: unknown };

/**
 * User records in DynamoDB, one item per (AppID, openid) under the key `{AppID}#{openid}`.
 * Each method is one call: a login's write creates or updates the item and returns it
 * (`UpdateItem` with `ALL_NEW`), so there is no read before the write; with open data on it
 * carries the sealed session_key, which only `POST /open-data` reads back (`GetItem`). Every failure
 * (throttled, unreachable, denied) is `store_unavailable`, with the AWS error type as reason.
 */
export function createDynamoUsers(options: DynamoUsersOptions): UserStore {
  const { call, table } = options;
  const key = (appId: string, openid: string) => ({
    [USERS_TABLE_KEY]: { S: `${appId}#${openid}` },
  });

  return {
    async recordLogin(appId, user, nowSeconds, sessionKey) {
      const set = ['createdAt = if_not_exists(createdAt, :now)', 'lastLoginAt = :now'];
      if (user.unionid !== undefined) set.push('unionid = :unionid');
      if (sessionKey) set.push('sessionKeyBlob = :blob', 'sessionKeyBox = :box');
      const answer = await call('UpdateItem', {
        TableName: table,
        Key: key(appId, user.openid),
        UpdateExpression: `SET ${set.join(', ')}${sessionKey === null ? ' REMOVE sessionKeyBlob, sessionKeyBox' : ''}`,
        ExpressionAttributeValues: {
          ':now': { N: String(nowSeconds) },
          ...(user.unionid !== undefined && { ':unionid': { S: user.unionid } }),
          ...(sessionKey && { ':blob': { S: sessionKey.blob }, ':box': { S: sessionKey.box } }),
        },
        ReturnValues: 'ALL_NEW',
      }).catch(unavailable);
      return recordOf(answer.Attributes, nowSeconds);
    },
    async sealedSessionKey(appId, openid) {
      const answer = await call('GetItem', {
        TableName: table,
        Key: key(appId, openid),
        ProjectionExpression: 'sessionKeyBlob, sessionKeyBox',
        ConsistentRead: true,
      }).catch(unavailable);
      const item = (answer.Item ?? {}) as Record<string, Attribute>;
      const blob = item.sessionKeyBlob?.S;
      const box = item.sessionKeyBox?.S;
      return typeof blob === 'string' && typeof box === 'string' ? { blob, box } : undefined;
    },
    async bindPhone(appId, openid, phone) {
      await call('UpdateItem', {
        TableName: table,
        Key: key(appId, openid),
        UpdateExpression:
          'SET phoneNumber = :phone, countryCode = :country, phoneVerifiedAt = :at, createdAt = if_not_exists(createdAt, :at), lastLoginAt = if_not_exists(lastLoginAt, :at)',
        ExpressionAttributeValues: {
          ':phone': { S: phone.phoneNumber },
          ':country': { S: phone.countryCode },
          ':at': { N: String(phone.verifiedAt) },
        },
      }).catch(unavailable);
    },
    async erase(appId, openid) {
      await call('DeleteItem', { TableName: table, Key: key(appId, openid) }).catch(unavailable);
    },
  };
}

/** The record an `ALL_NEW` answer holds; fields of the wrong shape are left out, not trusted. */
function recordOf(attributes: unknown, nowSeconds: number): UserRecord {
  const item = (attributes ?? {}) as Record<string, Attribute>;
  const text = (name: string) => {
    const value = item[name]?.S;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const number = (name: string) => {
    const value = item[name]?.N;
    return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
  };
  const unionid = text('unionid');
  const phoneNumber = text('phoneNumber');
  const countryCode = text('countryCode');
  const verifiedAt = number('phoneVerifiedAt');
  const phone: BoundPhone | undefined =
    phoneNumber !== undefined && countryCode !== undefined && verifiedAt !== undefined
      ? { phoneNumber, countryCode, verifiedAt }
      : undefined;
  return {
    createdAt: number('createdAt') ?? nowSeconds,
    lastLoginAt: number('lastLoginAt') ?? nowSeconds,
    ...(unionid !== undefined && { unionid }),
    ...(phone && { phone }),
  };
}

function unavailable(error: unknown): never {
  throw new Problem('store_unavailable', {
    reason: error instanceof Error ? error.message : String(error),
    cause: error,
  });
}
