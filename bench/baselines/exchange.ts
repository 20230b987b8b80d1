/**
 * What the best-practice baselines do alike, the usual way: read the code from the body, fetch
 * the secret with Powertools Parameters (cached 300 s, parsed as JSON), call code2Session with
 * fetch, and log through Powertools Logger. A baseline that does more after code2Session (write
 * the user's record, sign a session token, …) passes it as `Step`s, run in order. Each baseline
 * bundles its own copy with esbuild.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

export interface Exchanged {
  readonly appId: string;
  readonly openid: string;
  readonly unionid?: string;
}

/** More work after a good code2Session: its fields join the 200; a throw answers 503 `failure`. */
export interface Step {
  readonly failure: string;
  run(login: Exchanged): Promise<Record<string, unknown>>;
}

const reply = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** The login code of the body, or undefined when there is none of the right shape. */
function readCode(event: APIGatewayProxyEventV2): string | undefined {
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : event.body;
  let code: unknown;
  try {
    code = (JSON.parse(raw ?? '') as { code?: unknown }).code;
  } catch {
    code = undefined;
  }
  return typeof code === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(code) ? code : undefined;
}

/** The secret, then code2Session. */
async function exchange(secretId: string, code: string) {
  const baseUrl = process.env.WECHAT_API_BASE_URL || 'https://api.weixin.qq.com';
  const app = await getSecret<{ appId: string; appSecret: string }>(secretId, {
    maxAge: 300,
    transform: 'json',
  });
  if (!app) throw new Error('the secret is empty');
  const query = new URLSearchParams({
    appid: app.appId,
    secret: app.appSecret,
    js_code: code,
    grant_type: 'authorization_code',
  });
  const response = await fetch(`${baseUrl}/sns/jscode2session?${query}`, {
    signal: AbortSignal.timeout(3000),
  });
  const data = JSON.parse(await response.text()) as Partial<Exchanged> & { errcode?: number };
  return { ...data, appId: app.appId };
}

/** A baseline's handler; built at module scope, as its logger and settings would be. */
export function loginHandler(serviceName: string, ...steps: Step[]) {
  const logger = new Logger({ serviceName });
  const secretId = process.env.WECHAT_SECRET_ID;
  if (!secretId) throw new Error('WECHAT_SECRET_ID is required');
  return async (
    event: APIGatewayProxyEventV2,
    context: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    logger.addContext(context);
    const code = readCode(event);
    if (code === undefined) {
      logger.info('login', { outcome: 'invalid_request' });
      return reply(400, { code: 'invalid_request' });
    }
    const { openid, unionid, appId, errcode } = await exchange(secretId, code);
    if (errcode || !openid) {
      logger.warn('login', { outcome: 'wechat_error', errcode });
      return reply(400, { code: 'wechat_error', errcode: Number(errcode) });
    }
    let added: Record<string, unknown> = {};
    for (const step of steps) {
      try {
        added = { ...added, ...(await step.run({ openid, unionid, appId })) };
      } catch (error) {
        logger.error('login', { outcome: step.failure, error: error as Error });
        return reply(503, { code: step.failure });
      }
    }
    logger.info('login', { outcome: 'ok' });
    return reply(200, { openid, ...(unionid && { unionid }), ...added });
  };
}
