/**
 * What both best-practice baselines do alike, the usual way: read the code from the body,
 * fetch the secret with Powertools Parameters (cached 300 s, parsed as JSON), and call
 * code2Session with fetch. Each baseline bundles its own copy with esbuild.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

interface AppCredentials {
  appId: string;
  appSecret: string;
}

export interface Exchanged {
  readonly appId: string;
  readonly openid?: string;
  readonly unionid?: string;
  readonly errcode?: number;
}

export const reply = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** The login code of the body, or undefined when there is none of the right shape. */
export function readCode(event: APIGatewayProxyEventV2): string | undefined {
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
export async function exchange(secretId: string, code: string): Promise<Exchanged> {
  const baseUrl = process.env.WECHAT_API_BASE_URL || 'https://api.weixin.qq.com';
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
  const data = JSON.parse(await response.text()) as Omit<Exchanged, 'appId'>;
  return { appId: app.appId, ...data };
}
