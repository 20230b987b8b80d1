/**
 * The checks of `npm run doctor -- --function <FunctionName>`: what only the function itself
 * can prove. WeChat's access tokens must be fetched from the function's own IP (the API IP
 * allow-list is about the caller), and the users table is the function's to write, so the
 * doctor invokes the function directly with synthetic API Gateway events. They carry the
 * claims API Gateway's JWT authorizer would pass, so no token is signed and nothing is paid:
 *
 * - per AppID, `POST /phone` with a made-up phone code: the function gets an access token
 *   (proving the AppSecret and the allow-list), then WeChat refuses the code (40029,
 *   `invalid_phone_code`), which costs nothing;
 * - `DELETE /me` for a made-up user: a 204 proves the table exists and the function may
 *   write to it (DeleteItem).
 */
import { randomBytes } from 'node:crypto';
import { deleteMe } from '../functions/routes/delete-me.ts';
import { phone } from '../functions/routes/phone.ts';
import { routeEvent } from '../harness/events.ts';
import { type Diagnosis, healthy, unhealthy } from './doctor-http.ts';
import { type FunctionResult, invoke, type LambdaTarget } from './doctor-lambda.ts';

/** The user the synthetic events name: no openid WeChat issues looks like it. */
export const PROBE_USER = 'doctor-probe';

/** How long the synthetic claims stay valid: enough for one invocation, as a token would. */
const CLAIMS_TTL_SECONDS = 300;

export interface FunctionCheck {
  readonly target: LambdaTarget;
  /** The stack's FunctionName output (or the function's ARN). */
  readonly functionName: string;
  /** The AppIDs to check, at least one; `DELETE /me` names the first. */
  readonly appids: readonly string[];
  /** Accept a made-up phone code answered with a number (WeChat faked). */
  readonly allowSandbox: boolean;
  readonly timeoutMs: number;
}

/**
 * The verdicts on the function's access tokens and users table, one sentence each; a single
 * one when the first invocation shows that the others would answer the same.
 */
export async function checkFunction(check: FunctionCheck): Promise<Diagnosis[]> {
  const verdicts: Diagnosis[] = [];
  // One at a time: each is an invocation, and each AppID's verdict is its own sentence.
  for (const appid of check.appids) {
    const verdict = await checkPhone(check, appid);
    if ('stop' in verdict) return [verdict.stop];
    verdicts.push(verdict);
  }
  // After the phone checks: should a faked WeChat have bound a number, this erases it.
  verdicts.push(await checkUsers(check));
  return verdicts;
}

/** The claims API Gateway passes once it verified a token: every value a string. */
function claims(appid: string): Record<string, string> {
  return {
    sub: PROBE_USER,
    aud: appid,
    exp: String(Math.floor(Date.now() / 1000) + CLAIMS_TTL_SECONDS),
  };
}

/** The event's request id, named in every sentence so the operator can find its log line. */
function requestId(): string {
  return `doctor-${randomBytes(8).toString('hex')}`;
}

const HEADERS = { 'user-agent': 'weapp-openid doctor' };

/**
 * `POST /phone` with a made-up phone code. `stop` when every AppID would answer the same
 * (the function cannot be invoked, or the route is off): one sentence says it for all.
 */
async function checkPhone(
  check: FunctionCheck,
  appid: string,
): Promise<Diagnosis | { readonly stop: Diagnosis }> {
  const id = requestId();
  const event = routeEvent(
    phone,
    JSON.stringify({ code: `doctor-${randomBytes(8).toString('hex')}` }),
    { requestId: id, headers: HEADERS, claims: claims(appid) },
  );
  const invocation = await invoke(check.target, check.functionName, event, check.timeoutMs);
  if ('failure' in invocation) return { stop: unhealthy(invocation.failure) };
  const { statusCode, body } = invocation.result;
  const code = typeof body?.code === 'string' ? body.code : undefined;
  const ref = ` (requestId ${id}: search the function log group for it)`;
  const who = `AppID ${appid}`;

  if (code === 'not_found') {
    // DELETE /me needs sessions too: it would answer the same.
    return {
      stop: healthy(
        "POST /phone answers 404 because sessions are off: the phone check needs sessions, and so does DELETE /me, so the function's WeChat access tokens and its users table were not checked.",
      ),
    };
  }
  if (code === 'invalid_phone_code') {
    return healthy(
      `${who}: the function got a WeChat access token, so the AppSecret and the API IP allow-list let it in from its own IP, and WeChat refused the made-up phone code (invalid_phone_code), which costs nothing.`,
    );
  }
  if (statusCode === 200 && typeof body?.phoneNumber === 'string') {
    return check.allowSandbox
      ? healthy(`${who}: the function accepted a made-up phone code, as a simulated WeChat does.`)
      : unhealthy(
          `${who}: the function accepted a made-up phone code, which real WeChat never does: its WECHAT_API_BASE_URL points at a fake.${ref}`,
        );
  }
  const detail = typeof body?.detail === 'string' ? body.detail : '';
  switch (code) {
    case 'misconfigured':
      return unhealthy(
        detail.includes('allow-list')
          ? `${who}: WeChat refused the function's IP when it asked for an access token: the mini program's API IP allow-list (开发管理 → 开发设置 → API IP白名单) is on, and Lambda's IPs change, so turn it off, or give the function fixed egress and list its IPs (docs/operators.md).${ref}`
          : `${who}: WeChat refused the AppID/AppSecret when the function asked for an access token (wrong, reset or frozen), or the secret is malformed: check what the function's secret holds for this AppID; the log line's reason says which.${ref}`,
      );
    case 'secret_unavailable':
      return unhealthy(
        `${who}: the function cannot read its secret, so it could not ask for an access token: check that it exists, that WECHAT_SECRET_ID names it, and that the function's role may read and decrypt it.${ref}`,
      );
    case 'appid_mismatch':
      return unhealthy(
        `${who} is not in the function's secret, so its access token was not checked: pass the AppIDs the secret holds as --appid. ${detail}${ref}`,
      );
    case 'upstream_error':
    case 'upstream_timeout':
    case 'upstream_busy':
      return unhealthy(
        `${who}: the function got no usable answer from WeChat when it asked for an access token or the phone number (${code}): check that it can reach api.weixin.qq.com (or WECHAT_API_BASE_URL), then retry.${ref}`,
      );
    case 'unauthorized':
      return unhealthy(
        `${who}: the function refused the doctor's claims (unauthorized): check that this computer's clock and the function's agree.${ref}`,
      );
    default:
      return unhealthy(`${who}: POST /phone answered ${said(invocation.result)}.${ref}`);
  }
}

/** `DELETE /me` for the made-up user: the table exists and the function may write to it. */
async function checkUsers(check: FunctionCheck): Promise<Diagnosis> {
  const id = requestId();
  const [appid = ''] = check.appids;
  const event = routeEvent(deleteMe, undefined, {
    requestId: id,
    headers: HEADERS,
    claims: claims(appid),
  });
  const invocation = await invoke(check.target, check.functionName, event, check.timeoutMs);
  if ('failure' in invocation) return unhealthy(invocation.failure);
  const { statusCode, body } = invocation.result;
  const ref = ` (requestId ${id}: search the function log group for it)`;
  if (statusCode === 204) {
    return healthy(
      'DELETE /me answered 204 for a made-up user: the users table exists and the function may write to it (unless users are off, where nothing is kept and it answers 204 too).',
    );
  }
  if (body?.code === 'not_found') {
    return healthy(
      'DELETE /me answers 404 because sessions are off: the users table is only used with sessions, so it was not checked.',
    );
  }
  if (body?.code === 'store_unavailable') {
    return unhealthy(
      `The function cannot write to its users table (DELETE /me answered store_unavailable): check that the table USERS_TABLE names exists in the function's region and that the function's role may write to it; the log line's reason gives DynamoDB's error.${ref}`,
    );
  }
  return unhealthy(`DELETE /me answered ${said(invocation.result)}, not 204.${ref}`);
}

/** What the function answered, without quoting anything it was sent. */
function said({ statusCode, body }: FunctionResult): string {
  const code = typeof body?.code === 'string' ? ` ${body.code}` : '';
  const detail = typeof body?.detail === 'string' ? `: ${body.detail}` : '';
  return `HTTP ${statusCode}${code}${detail}`;
}
