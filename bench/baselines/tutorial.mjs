// Baseline 1, "the tutorial way": what most code2Session tutorials show. A new Secrets
// Manager client and a GetSecretValue call on every request, the AWS SDK loaded unbundled
// from node_modules, and fetch for WeChat. Kept deliberately naive; it is only measured.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const baseUrl = process.env.WECHAT_API_BASE_URL || 'https://api.weixin.qq.com';

export const handler = async (event) => {
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body;
  const { code } = JSON.parse(raw || '{}');
  if (!code) return { statusCode: 400, body: JSON.stringify({ message: 'code is required' }) };

  const client = new SecretsManagerClient({});
  const secret = await client.send(
    new GetSecretValueCommand({ SecretId: process.env.WECHAT_SECRET_ID }),
  );
  const { appId, appSecret } = JSON.parse(secret.SecretString);

  const url = `${baseUrl}/sns/jscode2session?appid=${appId}&secret=${appSecret}&js_code=${code}&grant_type=authorization_code`;
  const response = await fetch(url);
  const data = JSON.parse(await response.text());
  if (data.errcode) {
    console.log('code2Session failed', data.errcode, data.errmsg);
    return { statusCode: 400, body: JSON.stringify({ errcode: data.errcode }) };
  }
  console.log('login ok', event.requestContext.requestId);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ openid: data.openid }),
  };
};
