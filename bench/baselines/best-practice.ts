/**
 * Baseline 2, "the best-practice way": the secret through Powertools Parameters (cached for
 * 300 s, parsed as JSON), structured logs through Powertools Logger, fetch for WeChat, all
 * bundled with esbuild as minified ESM with the SDK inside. Only measured, never deployed.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

interface AppCredentials {
  appId: string;
  appSecret: string;
}

const logger = new Logger({ serviceName: 'weapp-openid-best-practice' });
const secretId = process.env.WECHAT_SECRET_ID;
if (!secretId) throw new Error('WECHAT_SECRET_ID is required');
const baseUrl = process.env.WECHAT_API_BASE_URL || 'https://api.weixin.qq.com';

const reply = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

export const handler = async (
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> => {
  logger.addContext(context);
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : event.body;
  let code: unknown;
  try {
    code = (JSON.parse(raw ?? '') as { code?: unknown }).code;
  } catch {
    code = undefined;
  }
  if (typeof code !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(code)) {
    logger.info('login', { outcome: 'invalid_request' });
    return reply(400, { code: 'invalid_request' });
  }

  const app = await getSecret<AppCredentials>(secretId, { maxAge: 300, transform: 'json' });
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
  const data = JSON.parse(await response.text()) as {
    openid?: string;
    unionid?: string;
    errcode?: number;
  };
  if (data.errcode) {
    logger.warn('login', { outcome: 'wechat_error', errcode: data.errcode });
    return reply(400, { code: 'wechat_error', errcode: Number(data.errcode) });
  }
  logger.info('login', { outcome: 'ok' });
  return reply(
    200,
    data.unionid ? { openid: data.openid, unionid: data.unionid } : { openid: data.openid },
  );
};
