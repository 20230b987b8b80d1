import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsCallError } from '../../functions/adapters/aws-json.ts';
import {
  createSecretsManagerReader,
  credentialsFromEnv,
} from '../../functions/adapters/secrets-manager.ts';

interface Seen {
  headers: http.IncomingHttpHeaders;
  body: string;
}
/** A JSON answer, a raw one (as a proxy in the way would give), or none. */
type Answer = { status: number; body: unknown } | { status: number; raw: string } | 'hang';

let server: http.Server;
let url: URL;
const seen: Seen[] = [];
let answers: Answer[] = [];

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ headers: req.headers, body });
    const answer = answers.shift() ?? { status: 200, body: { SecretString: 'value' } };
    if (answer === 'hang') return;
    if ('raw' in answer)
      res.writeHead(answer.status, { 'content-type': 'text/html' }).end(answer.raw);
    else
      res
        .writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' })
        .end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
  answers = [];
});

const reader = () =>
  createSecretsManagerReader({
    region: 'ap-east-1',
    endpoint: url,
    credentials: async () => ({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrEXAMPLE',
      sessionToken: 'token',
    }),
    timeoutMs: 200,
    budgetMs: 2000,
  });

describe('GetSecretValue', () => {
  it('is a SigV4-signed JSON 1.1 call for the secret id', async () => {
    expect(await reader()('weapp/app')).toBe('value');

    const [request] = seen;
    expect(JSON.parse(request?.body ?? '')).toEqual({ SecretId: 'weapp/app' });
    expect(request?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/ap-east-1\/secretsmanager\/aws4_request/,
    );
    expect(request?.headers['x-amz-security-token']).toBe('token');
  });

  it.each([
    ['HTTP 500', { status: 500, body: { __type: 'InternalServiceError' } }],
    ['throttling', { status: 400, body: { __type: 'ThrottlingException' } }],
    ['a timeout', 'hang' as const],
  ])('retries after %s, boundedly', async (_name, answer) => {
    answers = [answer, answer, answer, answer];

    await expect(reader()('weapp/app')).rejects.toBeInstanceOf(AwsCallError);
    expect(seen).toHaveLength(3);
  });

  it('recovers when a retry succeeds', async () => {
    answers = [{ status: 503, body: {} }];

    expect(await reader()('weapp/app')).toBe('value');
    expect(seen).toHaveLength(2);
  });

  it.each(['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure'])(
    'does not retry %s and names it',
    async (type) => {
      answers = [
        { status: 400, body: { __type: `com.amazonaws.secretsmanager#${type}`, Message: 'no' } },
      ];

      await expect(reader()('weapp/app')).rejects.toThrow(type);
      expect(seen).toHaveLength(1);
    },
  );

  it.each([
    ['an HTML page', { status: 200, raw: '<html><body>Proxy error</body></html>' }],
    [
      'a truncated body',
      { status: 200, raw: '{"ARN":"arn:aws:secretsmanager:ap-east-1:1:secret:x","Secr' },
    ],
    ['JSON that is not an object', { status: 200, raw: 'null' }],
  ])(
    'treats HTTP 200 with %s as a failed read, retried, not as a bad secret',
    async (_name, answer) => {
      answers = [answer, answer, answer];

      const read = reader()('weapp/app');

      await expect(read).rejects.toBeInstanceOf(AwsCallError);
      await expect(read).rejects.toThrow(/HTTP 200/);
      expect(seen).toHaveLength(3);
    },
  );

  it('treats HTTP 200 with an object that holds no secret as a failed read', async () => {
    answers = [{ status: 200, body: { message: 'ok' } }];

    await expect(reader()('weapp/app')).rejects.toBeInstanceOf(AwsCallError);
  });

  it('rejects a binary secret as misconfigured, without retrying', async () => {
    answers = [{ status: 200, body: { SecretBinary: 'AAAA' } }];

    await expect(reader()('weapp/app')).rejects.toMatchObject({
      code: 'misconfigured',
      facts: expect.objectContaining({ reason: expect.stringMatching(/binary/) }),
    });
    expect(seen).toHaveLength(1);
  });
});

describe('credentials', () => {
  it('come from the standard variables', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'key', AWS_SESSION_TOKEN: 't' };

    expect(await credentialsFromEnv(env)).toEqual({
      accessKeyId: 'id',
      secretAccessKey: 'key',
      sessionToken: 't',
    });
  });

  it('fail with the variable names when missing', async () => {
    await expect(credentialsFromEnv({})).rejects.toThrow(/AWS_ACCESS_KEY_ID/);
  });
});
