import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { createLogger } from '../../functions/adapters/log.ts';
import { createStaticSource } from '../../functions/adapters/secret-store.ts';
import { USERS_TABLE_KEY } from '../../functions/commons/names.ts';
import { loadConfig } from '../../functions/config.ts';
import { parseSecretValue } from '../../functions/domain/apps.ts';
import type { ApiHandler } from '../../functions/handler/http-handler.ts';
import { createMemoryKeys } from '../../functions/local/memory-keys.ts';
import { createApiHandler } from '../../functions/wiring.ts';
import { json, loginEvent } from '../../harness/events.ts';
import type { Reply } from '../../harness/fake-wechat.ts';
import { APP_ID, referer, singleAppSecret } from '../../harness/fixtures.ts';
import { MOTO_REGION } from '../../harness/moto.ts';
import { rememberSensitive, rememberToken } from './leak-guard.ts';

const { createCipheriv, randomBytes } = process.getBuiltinModule('node:crypto');

/**
 * Open data through the Lambda's code path (`createApiHandler`) on moto's DynamoDB and KMS:
 * one handler is one execution environment, and several share the table and the key as
 * environments of one deployment do. Every session_key, every piece of encrypted and
 * decrypted data made here is handed to the leak guard: none may reach a log line.
 */

export const ISSUER = 'https://abc123.execute-api.ap-east-1.amazonaws.com';
export const TTL_SECONDS = 3600;
/** One RSA key for every environment: generating one costs a tenth of a second. */
const TOKEN_KEYS = createMemoryKeys();

export type Line = Record<string, unknown>;

/** An execution environment: the handler, and the log lines it wrote. */
export interface Environment {
  readonly handler: ApiHandler;
  readonly lines: Line[];
}

export interface EnvironmentOptions {
  readonly wechatUrl: string;
  /** Where the function reaches DynamoDB (moto, or a fault proxy in front of it). */
  readonly dynamodbUrl: string;
  /** Where the function reaches KMS (moto, or a fault proxy in front of it). */
  readonly kmsUrl: string;
  readonly table: string;
  /** The open data key; undefined: open data off (users on). */
  readonly keyId: string | undefined;
}

/** A fresh execution environment with users and open data configured as in the cloud. */
export function startEnvironment(options: EnvironmentOptions): Environment {
  const config = loadConfig({
    WECHAT_API_BASE_URL: options.wechatUrl,
    SESSION_TTL_SECONDS: String(TTL_SECONDS),
    USERS_TABLE: options.table,
    ...(options.keyId !== undefined && { OPEN_DATA_KEY_ID: options.keyId }),
    // Open data needs sessions on; the rig signs with an in-memory key it wires itself, so
    // this id only satisfies the configuration and is never called.
    SESSION_KEY_ID: 'alias/signed-in-memory-by-the-rig',
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL_DYNAMODB: options.dynamodbUrl,
    AWS_ENDPOINT_URL_KMS: options.kmsUrl,
  });
  const lines: Line[] = [];
  const log = createLogger({}, (line) => {
    process.stdout.write(`${line}\n`);
    lines.push(JSON.parse(line) as Line);
  });
  const credentials = createStaticSource(parseSecretValue(singleAppSecret()));
  const handler = createApiHandler(
    config,
    log,
    credentials,
    'open-data',
    { keys: TOKEN_KEYS, issuer: ISSUER, ttlSeconds: TTL_SECONDS },
    { awsCredentials: async () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' }) },
  );
  return { handler, lines };
}

/** The claims API Gateway's JWT authorizer hands the function: every one a string. */
export type Claims = Record<string, string>;

/** Claims for a user who may never have logged in (the authorizer verified some token). */
export function claimsFor(openid: string, appid = APP_ID): Claims {
  return { sub: openid, aud: appid, exp: String(Math.floor(Date.now() / 1000) + 600) };
}

/** Logs in with `code` and returns the answer and the claims its token carries. */
export async function login(env: Environment, code: string) {
  const result = (await env.handler(
    loginEvent(JSON.stringify({ code }), { headers: { referer: referer(APP_ID) } }),
  )) as Exclude<APIGatewayProxyResultV2, string>;
  const body = json(result);
  let claims: Claims | undefined;
  if (typeof body.token === 'string') {
    rememberToken(body.token);
    const payload = JSON.parse(
      Buffer.from(body.token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    claims = Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)]));
  }
  return { status: result.statusCode, body, claims };
}

/** An event for a route that needs a token, as API Gateway sends it after its authorizer. */
export function routeEvent(
  route: 'POST /open-data' | 'DELETE /me',
  claims: Claims | undefined,
  body?: string,
): APIGatewayProxyEventV2 {
  const [method, path] = route.split(' ') as [string, string];
  const event = loginEvent(body);
  return {
    ...event,
    routeKey: route,
    rawPath: path,
    requestContext: {
      ...event.requestContext,
      routeKey: route,
      http: { ...event.requestContext.http, method, path },
      ...(claims && { authorizer: { jwt: { claims, scopes: [] } } }),
    } as APIGatewayProxyEventV2['requestContext'],
  };
}

export interface Answer {
  readonly status: number | undefined;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string | number | boolean>;
}

/** `POST /open-data` with this body (an object is sent as JSON). */
export async function postOpenData(
  env: Environment,
  claims: Claims | undefined,
  body: unknown,
): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const result = (await env.handler(routeEvent('POST /open-data', claims, text))) as Exclude<
    APIGatewayProxyResultV2,
    string
  >;
  return {
    status: result.statusCode,
    body: result.body ? json(result) : {},
    headers: result.headers ?? {},
  };
}

export async function deleteMe(env: Environment, claims: Claims) {
  const result = (await env.handler(routeEvent('DELETE /me', claims))) as Exclude<
    APIGatewayProxyResultV2,
    string
  >;
  return { status: result.statusCode };
}

let users = 0;

/** An openid of WeChat's shape, new for each call: each test has users of its own. */
export function newOpenid(): string {
  users += 1;
  return `oOpenData${String(users).padStart(3, '0')}${randomBytes(12).toString('base64url')}`;
}

/** Every session_key this file handed out, so that a test can look for them in the table. */
export const sessionKeys: Buffer[] = [];

/** A session_key as WeChat makes one (16 random bytes, base64), kept out of the logs. */
export function newSessionKey(): string {
  const raw = randomBytes(16);
  sessionKeys.push(raw);
  const text = raw.toString('base64');
  rememberSensitive(text, raw.toString('hex'));
  return text;
}

/** code2Session's success, with this openid and session_key. */
export function exchanged(openid: string, sessionKey: string | undefined): Reply {
  return {
    kind: 'json',
    body: { openid, ...(sessionKey !== undefined && { session_key: sessionKey }) },
  };
}

/** Data as wx.getWeRunData hands it over, before encryption; its marker is kept out of the logs. */
export function weRunData(appid = APP_ID): Record<string, unknown> {
  const marker = `steps-marker-${randomBytes(9).toString('base64url')}`;
  rememberSensitive(marker);
  return {
    stepInfoList: [
      { timestamp: 1795564800, step: 8321 },
      { timestamp: 1795651200, step: 10472 },
    ],
    marker,
    watermark: { timestamp: 1795600000, appid },
  };
}

/**
 * What WeChat hands the page: `plaintext` (an object is sent as JSON) under AES-128-CBC with
 * PKCS#7 padding and the session_key, base64. With `padding: false` the plaintext goes as
 * is, in whole blocks, so that its last byte decides whether the padding reads back.
 */
export function encrypt(
  sessionKey: string,
  plaintext: unknown,
  options: { padding?: boolean } = {},
): { encryptedData: string; iv: string } {
  const text = typeof plaintext === 'string' ? plaintext : JSON.stringify(plaintext);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
  cipher.setAutoPadding(options.padding ?? true);
  const encryptedData = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]).toString(
    'base64',
  );
  rememberSensitive(encryptedData, encryptedData.slice(0, 32));
  if (text.length >= 8) rememberSensitive(text);
  return { encryptedData, iv: iv.toString('base64') };
}

/** A DynamoDB table and the calls the tests make to it, straight to moto (JSON 1.0). */
export interface Table {
  readonly name: string;
  call(operation: string, body: object): Promise<Record<string, unknown>>;
  /** Every item of the table, as DynamoDB JSON. */
  scan(): Promise<Record<string, Record<string, unknown>>[]>;
  item(openid: string, appid?: string): Promise<Record<string, { S?: string }> | undefined>;
}

/**
 * Creates a users table in moto as the stack declares it (partition key `USERS_TABLE_KEY`, a
 * string; on-demand), named `name`.
 */
export async function createOpenDataTable(endpoint: string, name: string): Promise<Table> {
  const call = async (operation: string, body: object) => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok)
      throw new Error(`moto ${operation}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  await call('CreateTable', {
    TableName: name,
    AttributeDefinitions: [{ AttributeName: USERS_TABLE_KEY, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: USERS_TABLE_KEY, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  return {
    name,
    call,
    scan: async () =>
      ((await call('Scan', { TableName: name })).Items ?? []) as Record<
        string,
        Record<string, unknown>
      >[],
    item: async (openid, appid = APP_ID) =>
      (
        await call('GetItem', {
          TableName: name,
          Key: { [USERS_TABLE_KEY]: { S: `${appid}#${openid}` } },
          ConsistentRead: true,
        })
      ).Item as Record<string, { S?: string }> | undefined,
  };
}
