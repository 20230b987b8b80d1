import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeWechat, startFakeWechat } from '../../harness/fake-wechat.ts';
import { APP_ID, APP_SECRET, OPENID, referer, singleAppSecret } from '../../harness/fixtures.ts';
import { type Moto, motoAvailable, requireMotoInCi } from '../../harness/moto.ts';
import { sharedMoto, uniqueName } from '../support/moto.ts';

requireMotoInCi();

interface Started {
  readonly url: string;
  readonly banner: string;
  readonly lines: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Starts the local server exactly as `npm start` does, on a free port. */
async function npmStart(env: Record<string, string> = {}): Promise<Started> {
  // Its own process group, so that stopping it stops the server npm started too.
  const child: ChildProcess = spawn('npm', ['start', '--silent'], {
    env: { ...process.env, PORT: '0', WECHAT_TIMEOUT_MS: '300', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: Record<string, unknown>[] = [];
  let banner = '';
  let buffered = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not print its URL: ${buffered}`)),
      20_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
        const match = /listening on (http:\/\/\S+)/.exec(line);
        if (match?.[1]) {
          banner = line;
          clearTimeout(timer);
          resolve(match[1]);
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
  });
  return {
    url,
    banner,
    lines,
    stop: async () => {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = once(child, 'exit');
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('npm start with no credentials (sandbox mode)', () => {
  let server: Started;
  beforeAll(async () => {
    server = await npmStart();
  }, 30_000);
  afterAll(() => server?.stop());

  it('prints where it listens and that it is the sandbox', () => {
    expect(server.url).toMatch(/^http:\/\/localhost:\d+\/openid$/);
    expect(server.banner).toMatch(/sandbox mode/);
  });

  it('answers a well-formed code with an openid, stable per AppID', async () => {
    const response = await post(server.url, { code: 'local-code-1' });

    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { openid: string };
    expect(body.openid).toMatch(/^o[A-Za-z0-9_-]{27}$/);
    expect(Object.keys(body)).toEqual(['openid', 'token', 'expiresIn']);
  });

  it('gives every code of an AppID one openid, another to each sandbox-user-NAME-, and another per AppID', async () => {
    const openid = async (code: string, appId: string) =>
      (
        (await (await post(server.url, { code }, { referer: referer(appId) })).json()) as {
          openid: string;
        }
      ).openid;

    const a = await openid('local-code-a', APP_ID);
    const b = await openid('local-code-b', APP_ID);
    const named = await openid('sandbox-user-ann-1', APP_ID);
    const namedAgain = await openid('sandbox-user-ann-2', APP_ID);
    const c = await openid('local-code-a', 'wx0123456789abcdef');

    // One WeChat user per AppID: the devtools' developer is one WeChat user.
    expect(b).toBe(a);
    expect(namedAgain).toBe(named);
    expect(new Set([a, named, c]).size).toBe(3);
  });

  it('answers a code used a second time with 400 code_used and errcode 40163', async () => {
    await post(server.url, { code: 'local-code-twice' });

    const response = await post(server.url, { code: 'local-code-twice' });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ code: 'code_used', errcode: 40163 });
  });

  it.each([
    ['sandbox-invalid-code', 400, 'invalid_code'],
    ['sandbox-code-used', 400, 'code_used'],
    ['sandbox-user-blocked', 403, 'user_blocked'],
    ['sandbox-rate-limited', 429, 'rate_limited'],
    ['sandbox-busy', 503, 'upstream_busy'],
    ['sandbox-timeout', 504, 'upstream_timeout'],
    ['sandbox-garbage', 502, 'upstream_error'],
    ['sandbox-bad-secret', 500, 'misconfigured'],
  ])('answers the special code %s with %i %s', async (code, status, problem) => {
    const response = await post(server.url, { code });

    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ code: problem });
  });

  it('gives a unionid for codes starting with sandbox-unionid', async () => {
    const body = (await (await post(server.url, { code: 'sandbox-unionid-7' })).json()) as Record<
      string,
      string
    >;

    expect(body.unionid).toMatch(/^u/);
  });

  it('sets apigw-requestid to the request id in the body and in the log line', async () => {
    const response = await post(server.url, { code: '' });
    const requestId = response.headers.get('apigw-requestid');
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(requestId).toBeTruthy();
    expect(((await response.json()) as { requestId: string }).requestId).toBe(requestId);
    expect(server.lines).toContainEqual(
      expect.objectContaining({ requestId, outcome: 'invalid_request' }),
    );
  });

  it('lives on after a request target that is not a URL, which it answers 400', async () => {
    const { port } = new URL(server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write('GET http://%zz/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect((await post(server.url, { code: 'after-a-bad-target' })).status).toBe(200);
  });

  it('answers an unknown path with 404 not_found', async () => {
    const response = await post(server.url.replace('/openid', '/login'), { code: 'x' });

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'not_found' });
  });

  it('answers GET /openid with 405 method_not_allowed', async () => {
    const response = await fetch(server.url);

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(await response.json()).toMatchObject({ code: 'method_not_allowed' });
  });

  it('answers a body over 16 KiB with 413 payload_too_large', async () => {
    const response = await post(server.url, { code: 'x', pad: 'p'.repeat(200_000) });

    expect(response.status).toBe(413);
  });

  it('base64-encodes a binary content type as API Gateway does, and still logs in', async () => {
    const response = await post(
      server.url,
      { code: 'local-binary' },
      { 'content-type': 'application/octet-stream' },
    );

    expect(response.status).toBe(200);
  });
});

describe('npm start with WECHAT_APP_ID and WECHAT_APP_SECRET', () => {
  let wechat: FakeWechat;
  let server: Started;
  beforeAll(async () => {
    wechat = await startFakeWechat();
    server = await npmStart({
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: APP_SECRET,
      WECHAT_API_BASE_URL: wechat.url,
    });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    await wechat?.close();
  });

  it('calls WECHAT_API_BASE_URL with those credentials', async () => {
    const response = await post(server.url, { code: 'real-mode-code' });

    expect(server.banner).toMatch(/WECHAT_APP_ID/);
    expect(await response.json()).toEqual({ openid: OPENID });
    expect(wechat.calls[0]).toMatchObject({
      appid: APP_ID,
      secret: APP_SECRET,
      jsCode: 'real-mode-code',
    });
  });
});

describe.skipIf(!motoAvailable)('npm start with WECHAT_SECRET_ID', () => {
  let wechat: FakeWechat;
  let moto: Moto;
  let server: Started;
  beforeAll(async () => {
    [wechat, moto] = await Promise.all([startFakeWechat(), sharedMoto()]);
    const arn = await moto.createSecret(uniqueName('weapp/local'), singleAppSecret());
    server = await npmStart({
      ...moto.env,
      WECHAT_SECRET_ID: arn,
      WECHAT_API_BASE_URL: wechat.url,
    });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    await Promise.all([wechat?.close(), moto?.stop()]);
  });

  it('reads the credentials from Secrets Manager and calls WeChat with them', async () => {
    const response = await post(server.url, { code: 'secret-mode-code' });

    expect(server.banner).toMatch(/Secrets Manager/);
    expect(response.status).toBe(200);
    expect(wechat.calls[0]).toMatchObject({ appid: APP_ID, secret: APP_SECRET });
  });
});

describe('npm start with a broken configuration', () => {
  it('refuses to start and names the variable', async () => {
    const child = spawn('npm', ['start', '--silent'], {
      env: { ...process.env, PORT: '0', WECHAT_APP_ID: APP_ID },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, 'exit');

    expect(code).not.toBe(0);
    expect(stderr).toMatch(/WECHAT_APP_SECRET is required/);
  });
});
