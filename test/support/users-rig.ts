import { createLocalJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { AwsCredentials } from '../../functions/adapters/aws-json.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import type { ApiHandler } from '../../functions/handler/http-handler.ts';
import { deleteMe, login, phone } from '../../functions/routes/index.ts';
import { type ApiEvent, type Route, routeKey } from '../../functions/routes/route.ts';
import { createApiHandler, credentialSource, kmsTokens } from '../../functions/wiring.ts';
import { loginEvent } from '../../harness/events.ts';
import { type FakeWechat, ok, startFakeWechat } from '../../harness/fake-wechat.ts';
import { type FaultProxy, startFaultProxy } from '../../harness/fault-proxy.ts';
import { APP_ID, OPENID, singleAppSecret } from '../../harness/fixtures.ts';
import { MOTO_REGION, type Moto } from '../../harness/moto.ts';
import { rememberToken } from './leak-guard.ts';
import { sharedMoto, uniqueName } from './moto.ts';

export const ISSUER = 'https://login.example.com';
/** Short, so that a silent WeChat costs the tests little; the bounds scale with it. */
export const WECHAT_TIMEOUT_MS = 500;
const TESTING: AwsCredentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/**
 * The function as the Lambda runs it (functions/wiring.ts), with its secret in Secrets
 * Manager, its signing key in KMS and its users table in DynamoDB, all on moto, each behind
 * its own fault proxy, and WeChat on loopback.
 */
export interface UsersRig {
  readonly moto: Moto;
  readonly wechat: FakeWechat;
  readonly secrets: FaultProxy;
  readonly kms: FaultProxy;
  readonly dynamodb: FaultProxy;
  readonly table: string;
  /** The ARN of the function's secret in Secrets Manager (its value: singleAppSecret()). */
  readonly secretArn: string;
  /** Every log line since the last `fresh()`, parsed. */
  readonly lines: Record<string, unknown>[];
  /** Every log line since the last `fresh()`, as written. */
  readonly written: string[];
  /** A new execution environment (cold), optionally with other configuration. */
  handler(env?: Record<string, string>): ApiHandler;
  /** Back to a working world: proxies passing, WeChat's scripts and calls cleared, no lines. */
  fresh(): void;
  close(): Promise<void>;
}

export async function startUsersRig(): Promise<UsersRig> {
  const [moto, wechat] = await Promise.all([sharedMoto(), startFakeWechat()]);
  const [secrets, kms, dynamodb] = await Promise.all([
    startFaultProxy(moto.endpoint),
    startFaultProxy(moto.endpoint),
    startFaultProxy(moto.endpoint),
  ]);
  const secretArn = await moto.createSecret(uniqueName('weapp-openid/users'), singleAppSecret());
  const { arn: keyArn } = await moto.createSigningKey();
  const table = await moto.createUsersTable(uniqueName('weapp-openid-users'));
  const lines: Record<string, unknown>[] = [];
  const written: string[] = [];
  const log = createLogger({}, (line) => {
    process.stdout.write(`${line}\n`);
    written.push(line);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return {
    moto,
    wechat,
    secrets,
    kms,
    dynamodb,
    table,
    secretArn,
    lines,
    written,
    handler(env = {}) {
      const config = loadConfig({
        WECHAT_SECRET_ID: secretArn,
        WECHAT_API_BASE_URL: wechat.url,
        WECHAT_TIMEOUT_MS: String(WECHAT_TIMEOUT_MS),
        SESSION_KEY_ID: keyArn,
        SESSION_ISSUER: ISSUER,
        USERS_TABLE: table,
        AWS_REGION: MOTO_REGION,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
        AWS_ENDPOINT_URL_KMS: kms.url,
        AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
        ...env,
      });
      const credentials = credentialSource(config, log, async () => TESTING);
      const tokens = kmsTokens(config, undefined, log, async () => TESTING);
      return createApiHandler(config, log, credentials, 'users', tokens, {
        awsCredentials: async () => TESTING,
      });
    },
    fresh() {
      wechat.reset();
      for (const proxy of [secrets, kms, dynamodb]) {
        proxy.mode = 'pass';
        proxy.resetCounts();
      }
      lines.length = 0;
      written.length = 0;
    },
    async close() {
      await Promise.all([secrets.close(), kms.close(), dynamodb.close(), wechat.close()]);
      await moto.stop();
    },
  };
}

/** An event for a route, with the claims API Gateway's JWT authorizer passes (all strings). */
export function routeEvent(
  route: Pick<Route, 'method' | 'path'>,
  body: string | undefined,
  claims?: Record<string, string>,
): ApiEvent {
  const event = loginEvent(body);
  const key = routeKey(route);
  return {
    ...event,
    routeKey: key,
    rawPath: route.path,
    requestContext: {
      ...event.requestContext,
      routeKey: key,
      http: { ...event.requestContext.http, method: route.method, path: route.path },
      ...(claims && { authorizer: { jwt: { claims } } }),
    },
  };
}

/** What API Gateway passes for a verified token: every claim, as a string. */
export function claimsOf(payload: JWTPayload): Record<string, string> {
  return Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, String(value)]));
}

/** Claims of a token API Gateway verified for this user (the handler never sees the token). */
export function claimsFor(openid = OPENID, appId = APP_ID): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    sub: openid,
    aud: appId,
    iat: String(now),
    exp: String(now + 3600),
    jti: `jti-${openid}-${now}`,
  };
}

export const phoneEvent = (code: string, claims?: Record<string, string>) =>
  routeEvent(phone, JSON.stringify({ code }), claims);
export const deleteMeEvent = (claims?: Record<string, string>) =>
  routeEvent(deleteMe, undefined, claims);
export const loginEventFor = (code: string) => routeEvent(login, JSON.stringify({ code }));

/** The JSON body of a result. */
export function bodyOf(result: { body?: string }): Record<string, unknown> {
  return JSON.parse(result.body ?? 'null') as Record<string, unknown>;
}

/** Verifies a token as any verifier does: against the JWKS the handler publishes. */
export async function verified(handler: ApiHandler, token: string): Promise<JWTPayload> {
  rememberToken(token);
  const jwks = bodyOf(
    await handler(routeEvent({ method: 'GET', path: '/.well-known/jwks.json' }, undefined)),
  );
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
    issuer: ISSUER,
    audience: APP_ID,
    algorithms: ['RS256'],
  });
  return payload;
}

/** Logs `openid` in through the handler (WeChat answers it for `code`). */
export async function logIn(
  handler: ApiHandler,
  wechat: FakeWechat,
  code: string,
  openid = OPENID,
): Promise<{ status: number; body: Record<string, unknown> }> {
  wechat.script(ok(openid));
  const result = await handler(loginEventFor(code));
  const body = bodyOf(result);
  if (typeof body.token === 'string') rememberToken(body.token);
  return { status: result.statusCode ?? 0, body };
}

/** The user's item in the table, as DynamoDB holds it; undefined when there is none. */
export async function itemOf(
  rig: Pick<UsersRig, 'moto' | 'table'>,
  openid: string,
  appId = APP_ID,
): Promise<Record<string, Record<string, string>> | undefined> {
  const answer = await rig.moto.dynamodb('GetItem', {
    TableName: rig.table,
    Key: { id: { S: `${appId}#${openid}` } },
    ConsistentRead: true,
  });
  return answer.Item as Record<string, Record<string, string>> | undefined;
}
