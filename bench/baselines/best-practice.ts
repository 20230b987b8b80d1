/**
 * Baseline 2, "the best-practice way": the secret through Powertools Parameters (cached for
 * 300 s, parsed as JSON), structured logs through Powertools Logger, fetch for WeChat, all
 * bundled with esbuild as minified ESM with the SDK inside. Only measured, never deployed.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { exchange, readCode, reply } from './exchange.ts';

const logger = new Logger({ serviceName: 'weapp-openid-best-practice' });
const secretId = process.env.WECHAT_SECRET_ID;
if (!secretId) throw new Error('WECHAT_SECRET_ID is required');

export const handler = async (
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> => {
  logger.addContext(context);
  const code = readCode(event);
  if (code === undefined) {
    logger.info('login', { outcome: 'invalid_request' });
    return reply(400, { code: 'invalid_request' });
  }
  const data = await exchange(secretId, code);
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
