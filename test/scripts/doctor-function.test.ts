/**
 * `npm run doctor -- --function`: the doctor invokes the real handler through a loopback
 * stand-in for Lambda's Invoke API, and the handler calls a loopback stand-in for WeChat's
 * access token and phone number APIs.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { createStaticSource } from '../../functions/adapters/secret-store.ts';
import { loadConfig } from '../../functions/config.ts';
import { parseSecretValue } from '../../functions/domain/apps.ts';
import { Problem } from '../../functions/domain/problem.ts';
import type { UserStore } from '../../functions/domain/users.ts';
import { createMemoryKeys } from '../../functions/local/memory-keys.ts';
import { createMemoryUsers } from '../../functions/local/memory-users.ts';
import type { ApiEvent } from '../../functions/routes/route.ts';
import { createApiHandler } from '../../functions/wiring.ts';
import {
  APP_ID,
  APP_SECRET,
  multiAppSecret,
  OTHER_APP_ID,
  OTHER_APP_SECRET,
} from '../../harness/fixtures.ts';
import { endpoint, json, runDoctor } from '../support/doctor.ts';

const FUNCTION = 'weapp-openid-LoginFunction-AbC123';
const ACCESS_TOKEN = 'ACCESS_TOKEN-86_xYzSecretish0123456789';
const AWS_SECRET = 'aws-secret-key-do-not-print-0123456789';
const AWS = {
  AWS_ACCESS_KEY_ID: 'AKIADOCTORTEST000001',
  AWS_SECRET_ACCESS_KEY: AWS_SECRET,
  AWS_SESSION_TOKEN: 'session-token-do-not-print',
  AWS_REGION: 'ap-east-1',
};
/** SigV4's header, with the credential scope of the Lambda API in the doctor's region. */
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=AKIADOCTORTEST000001\/\d{8}\/ap-east-1\/lambda\/aws4_request, SignedHeaders=[a-z0-9-]+(;[a-z0-9-]+)*, Signature=[0-9a-f]{64}$/;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => resolve(text));
  });
}

interface WechatCall {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
}

/**
 * WeChat's two calls of `POST /phone`, as WeChat answers them (JSON as text/plain): the
 * access token (or `tokenError`), then 40029 for any phone code, as for a made-up one.
 */
async function startWechat(tokenError?: number): Promise<{ url: string; calls: WechatCall[] }> {
  const calls: WechatCall[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://wechat');
    const body = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
    calls.push({ path: url.pathname, query: url.searchParams, body });
    const answer =
      url.pathname === '/cgi-bin/stable_token'
        ? tokenError === undefined
          ? { access_token: ACCESS_TOKEN, expires_in: 7200 }
          : { errcode: tokenError, errmsg: 'refused' }
        : url.pathname === '/wxa/business/getuserphonenumber'
          ? { errcode: 40029, errmsg: 'invalid code' }
          : { errcode: 404, errmsg: 'no such api' };
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(JSON.stringify(answer));
  });
  return { url: await listen(server), calls };
}

interface Invocation {
  readonly name: string;
  readonly headers: IncomingHttpHeaders;
  readonly event: ApiEvent;
  readonly status: number | undefined;
}

interface FunctionOptions {
  /** Sessions on (the default) or off. */
  readonly sessions?: boolean;
  readonly users?: UserStore;
  readonly tokenError?: number;
}

/**
 * Lambda's Invoke API on loopback in front of the real handler: it refuses a request
 * without a well-formed SigV4 header, knows only FUNCTION, and answers with the handler's
 * result, as Lambda does.
 */
async function startFunction(options: FunctionOptions = {}) {
  const wechat = await startWechat(options.tokenError);
  const config = loadConfig({ WECHAT_API_BASE_URL: wechat.url });
  const handler = createApiHandler(
    config,
    createLogger({}, () => {}),
    createStaticSource(parseSecretValue(multiAppSecret())),
    FUNCTION,
    options.sessions === false
      ? undefined
      : { keys: createMemoryKeys(), issuer: 'https://login.example.com', ttlSeconds: 7200 },
    { users: options.users ?? createMemoryUsers() },
  );
  const invocations: Invocation[] = [];
  const lambdaError = (status: number, type: string) => ({
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
    body: JSON.stringify({ Type: 'User', message: type }),
  });
  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    const path = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
    const name = decodeURIComponent(path?.[1] ?? '');
    let answer: { status: number; headers: Record<string, string>; body: string };
    if (req.method !== 'POST' || !path) answer = lambdaError(404, 'UnknownOperationException');
    else if (!SIGV4.test(req.headers.authorization ?? '') || !req.headers['x-amz-date'])
      answer = lambdaError(403, 'InvalidSignatureException');
    else if (name !== FUNCTION) answer = lambdaError(404, 'ResourceNotFoundException');
    else {
      const result = await handler(JSON.parse(text) as ApiEvent);
      answer = {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(result),
      };
    }
    invocations.push({
      name,
      headers: req.headers,
      event: JSON.parse(text || 'null') as ApiEvent,
      status: answer.status,
    });
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
  const lambda = await listen(server);
  // The login the doctor checks first: healthy, and sessions off at the URL.
  const login = await endpoint({
    'POST /openid': json(
      400,
      { status: 400, code: 'invalid_code', errcode: 40029, detail: 'd', requestId: 'r' },
      'application/problem+json',
    ),
  });
  return {
    wechat,
    invocations,
    logins: login.received,
    run: (args: string[], env: NodeJS.ProcessEnv = {}) =>
      runDoctor(['--url', login.url, ...args], {
        ...AWS,
        AWS_ENDPOINT_URL_LAMBDA: lambda,
        ...env,
      }),
  };
}

/** What the doctor said about the function: the lines after the login's and the sessions'. */
function functionLines(output: string): string[] {
  const lines = output.trim().split('\n');
  return lines.slice(lines.findIndex((line) => line.startsWith('Sessions are')) + 1);
}

/** Nothing secret in anything the doctor printed. */
function expectNoSecrets(run: { stdout: string; stderr: string }): void {
  const printed = run.stdout + run.stderr;
  for (const secret of [
    ACCESS_TOKEN,
    APP_SECRET,
    OTHER_APP_SECRET,
    AWS_SECRET,
    AWS.AWS_SESSION_TOKEN,
  ]) {
    expect(printed).not.toContain(secret);
  }
}

describe('npm run doctor -- --function', () => {
  it("gets each AppID's access token from the function and checks the users table", async () => {
    // Prepare
    const fn = await startFunction();

    // Act
    const run = await fn.run(['--appid', `${APP_ID},${OTHER_APP_ID}`, '--function', FUNCTION]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    // The login is checked once per AppID too, each verdict named.
    expect(run.stdout).toMatch(new RegExp(`^AppID ${APP_ID}: Healthy: WeChat accepted`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^AppID ${OTHER_APP_ID}: Healthy: WeChat accepted`, 'm'));
    expect(
      fn.logins
        .filter(({ url }) => url === '/openid')
        .map(({ body }) => (JSON.parse(body) as { appid: string }).appid)
        .sort(),
    ).toEqual([OTHER_APP_ID, APP_ID].sort());
    expect(functionLines(run.stdout)).toEqual([
      `AppID ${APP_ID}: the function got a WeChat access token, so the AppSecret and the API IP allow-list let it in from its own IP, and WeChat refused the made-up phone code (invalid_phone_code), which costs nothing.`,
      `AppID ${OTHER_APP_ID}: the function got a WeChat access token, so the AppSecret and the API IP allow-list let it in from its own IP, and WeChat refused the made-up phone code (invalid_phone_code), which costs nothing.`,
      expect.stringMatching(
        /^DELETE \/me answered 204 for a made-up user: the users table exists and the function may write to it/,
      ),
    ]);
    // Signed for Lambda, with the session token, and events as API Gateway sends them.
    expect(fn.invocations.map(({ name, status }) => [name, status])).toEqual([
      [FUNCTION, 200],
      [FUNCTION, 200],
      [FUNCTION, 200],
    ]);
    for (const { headers } of fn.invocations) {
      expect(headers.authorization).toMatch(SIGV4);
      expect(headers['x-amz-security-token']).toBe(AWS.AWS_SESSION_TOKEN);
    }
    expect(
      fn.invocations.map(({ event }) => [event.routeKey, event.requestContext.http.method]),
    ).toEqual([
      ['POST /phone', 'POST'],
      ['POST /phone', 'POST'],
      ['DELETE /me', 'DELETE'],
    ]);
    expect(fn.invocations.map(({ event }) => event.requestContext.authorizer?.jwt?.claims)).toEqual(
      [APP_ID, OTHER_APP_ID, APP_ID].map((aud) => ({
        sub: 'doctor-probe',
        aud,
        exp: expect.stringMatching(/^\d+$/),
      })),
    );
    // The function asked WeChat: one access token per AppID, from its own secret.
    expect(
      fn.wechat.calls
        .filter(({ path }) => path === '/cgi-bin/stable_token')
        .map(({ body }) => body),
    ).toEqual([
      { grant_type: 'client_credential', appid: APP_ID, secret: APP_SECRET },
      { grant_type: 'client_credential', appid: OTHER_APP_ID, secret: OTHER_APP_SECRET },
    ]);
    const phones = fn.wechat.calls.filter(
      ({ path }) => path === '/wxa/business/getuserphonenumber',
    );
    expect(phones.map(({ query }) => query.get('access_token'))).toEqual([
      ACCESS_TOKEN,
      ACCESS_TOKEN,
    ]);
    expect(phones.map(({ body }) => body.openid)).toEqual(['doctor-probe', 'doctor-probe']);
    expectNoSecrets(run);
  });

  it('takes --appid repeated as it takes it comma-separated', async () => {
    // Prepare
    const fn = await startFunction();

    // Act
    const run = await fn.run(['--appid', APP_ID, '--appid', OTHER_APP_ID, '--function', FUNCTION]);

    // Assess
    expect(run.code).toBe(0);
    expect(
      fn.invocations.map(({ event }) => event.requestContext.authorizer?.jwt?.claims?.aud),
    ).toEqual([APP_ID, OTHER_APP_ID, APP_ID]);
  });

  it.each([
    [
      40125,
      /^AppID wx4f4bc4dec97d474b: WeChat refused the AppID\/AppSecret when the function asked for an access token/m,
    ],
    [40013, /^AppID wx4f4bc4dec97d474b: WeChat refused the AppID\/AppSecret/m],
    [
      61004,
      /^AppID wx4f4bc4dec97d474b: WeChat refused the function's IP .*API IP allow-list.*Lambda's IPs change/m,
    ],
    [40164, /^AppID wx4f4bc4dec97d474b: WeChat refused the function's IP .*API IP allow-list/m],
  ])('exits 1 with one sentence when stable_token answers %i', async (errcode, sentence) => {
    // Prepare
    const fn = await startFunction({ tokenError: errcode });

    // Act
    const run = await fn.run(['--appid', APP_ID, '--function', FUNCTION]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(sentence);
    expect(run.stderr).toMatch(/requestId doctor-[0-9a-f]{16}: search the function log group/);
    // The phone number was never asked for, and the table check still ran.
    expect(fn.wechat.calls.map(({ path }) => path)).not.toContain(
      '/wxa/business/getuserphonenumber',
    );
    expect(run.stdout).toMatch(/^DELETE \/me answered 204/m);
    expectNoSecrets(run);
  });

  it('exits 1 naming the table when the users table cannot be written', async () => {
    // Prepare
    const denied = () =>
      Promise.reject(
        new Problem('store_unavailable', {
          reason: 'DynamoDB answered HTTP 400 AccessDeniedException',
        }),
      );
    const fn = await startFunction({
      users: { recordLogin: denied, bindPhone: denied, erase: denied, sealedSessionKey: denied },
    });

    // Act
    const run = await fn.run(['--appid', APP_ID, '--function', FUNCTION]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^AppID wx4f4bc4dec97d474b: the function got a WeChat access token/m,
    );
    expect(run.stderr.trim()).toMatch(
      /^The function cannot write to its users table \(DELETE \/me answered store_unavailable\): check that the table USERS_TABLE names exists .*requestId doctor-[0-9a-f]{16}/,
    );
    expectNoSecrets(run);
  });

  it('says in one sentence that both checks need sessions when they are off', async () => {
    // Prepare
    const fn = await startFunction({ sessions: false });

    // Act
    const run = await fn.run(['--appid', `${APP_ID},${OTHER_APP_ID}`, '--function', FUNCTION]);

    // Assess
    expect(run.code).toBe(0);
    expect(functionLines(run.stdout)).toEqual([
      "POST /phone answers 404 because sessions are off: the phone check needs sessions, and so does DELETE /me, so the function's WeChat access tokens and its users table were not checked.",
    ]);
    // The first 404 speaks for every AppID and for DELETE /me.
    expect(fn.invocations).toHaveLength(1);
  });

  it('exits 1 when Lambda has no such function', async () => {
    // Prepare
    const fn = await startFunction();

    // Act
    const run = await fn.run(['--appid', APP_ID, '--function', 'another-function']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      "Lambda has no function another-function in ap-east-1: pass the stack's FunctionName output as --function, with AWS_REGION set to the stack's region.",
    ]);
    expect(fn.invocations).toHaveLength(1);
  });

  it('exits 1 when Lambda refuses the credentials', async () => {
    // Prepare: a signature under another access key does not match what the stand-in expects.
    const fn = await startFunction();

    // Act
    const run = await fn.run(['--appid', APP_ID, '--function', FUNCTION], {
      AWS_ACCESS_KEY_ID: 'AKIAOTHERKEY00000001',
    });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^AWS refused the credentials \(InvalidSignatureException\)/m);
    expectNoSecrets(run);
  });

  it.each([
    [['--function', FUNCTION], {}, /^--function needs --appid/m],
    [
      ['--appid', APP_ID, '--function', FUNCTION],
      { AWS_SECRET_ACCESS_KEY: '' },
      /^--function needs AWS credentials/m,
    ],
    [
      ['--appid', APP_ID, '--function', FUNCTION],
      { AWS_REGION: '', AWS_DEFAULT_REGION: '' },
      /^--function needs AWS_REGION/m,
    ],
    [
      ['--appid', APP_ID, '--function', 'no/slash'],
      {},
      /^--function must be the stack's FunctionName output/m,
    ],
    [['--appid', `${APP_ID},wx123`, '--function', FUNCTION], {}, /^--appid must be/m],
  ])('exits 2 without invoking anything on %j', async (args, env, message) => {
    // Prepare
    const fn = await startFunction();

    // Act
    const run = await fn.run(args, env);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(fn.invocations).toEqual([]);
  });
});
