import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import { SANDBOX_DEFAULT_APP_ID } from '../../functions/local/sandbox-wechat.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import {
  errcode,
  type FakeWechat,
  type Reply,
  startFakeWechat,
} from '../../harness/fake-wechat.ts';
import { APP_ID, APP_SECRET } from '../../harness/fixtures.ts';
import { type Answer, diagnose } from '../../scripts/doctor.ts';
import { endpoint, json, runDoctor } from '../support/doctor.ts';

function problem(code: string, status: number, extra: Record<string, unknown> = {}): Answer {
  return {
    status,
    contentType: 'application/problem+json',
    body: JSON.stringify({
      type: 'about:blank',
      title: 't',
      status,
      detail: 'd',
      code,
      requestId: 'req-1',
      ...extra,
    }),
  };
}

function networkError(code: string): Error {
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error(`connect ${code}`), { code }),
  });
}

describe('diagnose', () => {
  it('calls the deployment healthy when WeChat rejects the made-up code with 40029', () => {
    // Prepare
    const answer = problem('invalid_code', 400, { errcode: 40029 });

    // Act
    const diagnosis = diagnose({ answer });

    // Assess
    expect(diagnosis.healthy).toBe(true);
    expect(diagnosis.message).toMatch(/^Healthy: WeChat accepted the AppID and AppSecret/);
  });

  it('calls it healthy on code_used too, since WeChat judged the code, not the credentials', () => {
    expect(diagnose({ answer: problem('code_used', 400, { errcode: 40163 }) }).healthy).toBe(true);
  });

  it.each([
    ['misconfigured', 500, /put-secret-value.*requestId req-1/],
    ['secret_unavailable', 503, /cannot read its secret.*KMS/],
    ['appid_mismatch', 400, /other AppIDs.*--appid/],
    ['upstream_error', 502, /no usable answer from WeChat.*api\.weixin\.qq\.com/],
    ['upstream_timeout', 504, /no usable answer from WeChat/],
    ['upstream_busy', 503, /no usable answer from WeChat/],
    ['internal_error', 500, /answered internal_error.*requestId req-1/],
    [
      'not_found',
      404,
      /Wrong path.*EndpointUrl output \(ending in \/openid\) or the API's base URL/,
    ],
  ])('tells the operator what to fix on %s', (code, status, message) => {
    // Prepare / Act
    const diagnosis = diagnose({ answer: problem(code, status) });

    // Assess
    expect(diagnosis.healthy).toBe(false);
    expect(diagnosis.message).toMatch(message);
  });

  it.each([
    [404, 'Not Found', /no such route.*EndpointUrl.*\/openid.*or the API's base URL/],
    [500, 'Internal Server Error', /could not run the function.*log group/],
    [503, 'Service Unavailable', /could not run the function/],
    [429, 'Too Many Requests', /throttled/],
    [403, 'Forbidden', /refused.*ICP/],
  ])("explains API Gateway's own %i answer", (status, text, message) => {
    // Prepare
    const answer = {
      status,
      contentType: 'application/json',
      body: JSON.stringify({ message: text }),
    };

    // Act
    const diagnosis = diagnose({ answer });

    // Assess
    expect(diagnosis.healthy).toBe(false);
    expect(diagnosis.message).toMatch(message);
  });

  it('says an HTML page is not the endpoint', () => {
    // Prepare
    const answer = {
      status: 200,
      contentType: 'text/html',
      body: '<html><body>Welcome</body></html>',
    };

    // Act
    const diagnosis = diagnose({ answer });

    // Assess
    expect(diagnosis).toEqual({
      healthy: false,
      message: expect.stringMatching(/HTTP 200, text\/html\) is not from weapp-openid/),
    });
  });

  it('refuses a 200 for a made-up code unless the sandbox is allowed', () => {
    // Prepare
    const answer = { status: 200, contentType: 'application/json', body: '{"openid":"o-sandbox"}' };

    // Act
    const strict = diagnose({ answer });
    const lenient = diagnose({ answer }, { allowSandbox: true });

    // Assess
    expect(strict.healthy).toBe(false);
    expect(strict.message).toMatch(/sandbox.*--allow-sandbox/);
    expect(lenient.healthy).toBe(true);
    expect(lenient.message).toMatch(/sandbox: WeChat is simulated/);
  });

  it.each([
    ['ENOTFOUND', /does not resolve/],
    ['ECONNREFUSED', /Connection refused.*npm start/],
    ['ECONNRESET', /reset/],
    ['ETIMEDOUT', /No answer in time/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /TLS failed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /TLS failed.*not for this host/],
    ['CERT_HAS_EXPIRED', /TLS failed/],
  ])('explains the network error %s', (code, message) => {
    // Prepare / Act
    const diagnosis = diagnose({ networkError: networkError(code) });

    // Assess
    expect(diagnosis.healthy).toBe(false);
    expect(diagnosis.message).toMatch(message);
  });

  it('masks the user and password of a URL that a network error quotes', () => {
    // Prepare
    const error = new TypeError(
      'Request cannot be constructed from a URL that includes credentials: https://user:secretpw@host/openid',
    );

    // Act
    const diagnosis = diagnose({ networkError: error });

    // Assess
    expect(diagnosis.healthy).toBe(false);
    expect(diagnosis.message).toContain('https://***@host/openid');
    expect(diagnosis.message).not.toContain('secretpw');
  });

  it('explains a client-side timeout', () => {
    // Prepare
    const error = new DOMException('The operation was aborted due to timeout', 'TimeoutError');

    // Act
    const diagnosis = diagnose({ networkError: error });

    // Assess
    expect(diagnosis).toEqual({
      healthy: false,
      message: expect.stringMatching(/No answer in time/),
    });
  });
});

describe('npm run doctor', () => {
  it('exits 0 against an endpoint answering invalid_code, after posting a made-up code without Referer', async () => {
    // Prepare
    const { url, received } = await endpoint({
      'POST /openid': json(
        400,
        { status: 400, code: 'invalid_code', errcode: 40029, detail: 'd', requestId: 'r' },
        'application/problem+json',
      ),
    });

    // Act
    const run = await runDoctor(['--url', url, '--appid', 'wx4f4bc4dec97d474b']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Healthy/);
    const logins = received.filter(({ method, url }) => `${method} ${url}` === 'POST /openid');
    expect(logins).toHaveLength(1);
    expect(logins[0]?.headers.referer).toBeUndefined();
    expect(logins[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(logins[0]?.body ?? '')).toEqual({
      code: expect.stringMatching(/^doctor-[0-9a-f]{16}$/),
      appid: 'wx4f4bc4dec97d474b',
    });
  });

  it('exits 1 with the fix when the endpoint is misconfigured', async () => {
    // Prepare
    const { url } = await endpoint({
      'POST /openid': json(
        500,
        { status: 500, code: 'misconfigured', errcode: 40125, detail: 'd' },
        'application/problem+json',
      ),
    });

    // Act
    const run = await runDoctor(['--url', url]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/put-secret-value.*requestId req-local/);
  });

  it('exits 1 when the URL serves an HTML page', async () => {
    // Prepare
    const { url, received } = await endpoint({
      'POST /openid': {
        status: 200,
        contentType: 'text/html; charset=utf-8',
        body: '<!doctype html><p>Hello</p>',
      },
    });

    // Act
    const run = await runDoctor(['--url', url]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not from weapp-openid/);
    expect(received).toHaveLength(1); // the session routes would only repeat that
  });

  it('exits 1 when nothing listens at the URL', async () => {
    // Prepare: a port that was just free.
    const { url, server } = await endpoint({});
    await new Promise<void>((resolve) => server.close(() => resolve()));

    // Act
    const run = await runDoctor(['--url', url]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Connection refused/);
  });

  it('exits 1 when the endpoint does not answer within --timeout', async () => {
    // Prepare: a server that accepts the request and never answers.
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    onTestFinished(() => {
      server.closeAllConnections();
      server.close();
    });

    // Act
    const run = await runDoctor(['--url', `http://127.0.0.1:${port}/openid`, '--timeout', '0.5']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/No answer in time/);
  });

  it.each([['--help'], ['-h']])(
    'prints every option, one line each, and exits 0 on %s',
    async (flag) => {
      // Prepare / Act
      const run = await runDoctor([flag]);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(optionLines(run.stdout).map(([line]) => line.trim().split(/\s{2,}/)[0])).toEqual([
        '--url <url>',
        '--appid <wx…>',
        '--function <name>',
        '--issuer <url>',
        '--me',
        '--allow-sandbox',
        '--timeout <seconds>',
        '-h, --help',
      ]);
      for (const [line] of optionLines(run.stdout)) expect(line).toMatch(/^ {2}-\S.* {2,}\S/);
    },
  );

  it("documents every option --help lists in operators.md's doctor section", async () => {
    // Prepare
    const guide = readFileSync(new URL('../../docs/operators.md', import.meta.url), 'utf8');
    const section = /^## \d+\. Checking a deployment: `npm run doctor`$(.*?)^## /ms.exec(
      guide,
    )?.[1];

    // Act
    const run = await runDoctor(['--help']);

    // Assess
    const flags = optionLines(run.stdout).map(([, flag]) => flag);
    expect(flags).toHaveLength(8);
    for (const flag of flags) expect(section).toContain(`\`${flag}`);
  });

  it.each([
    ['without', ''],
    ['with', '/'],
  ])(
    "checks the login and the sessions from the API's base URL %s a trailing slash",
    async (_case, slash) => {
      // Prepare
      const { base, received } = await endpoint({
        'POST /openid': json(
          400,
          { status: 400, code: 'invalid_code', errcode: 40029, detail: 'd', requestId: 'r' },
          'application/problem+json',
        ),
      });

      // Act
      const run = await runDoctor(['--url', `${base}${slash}`]);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout.trim().split('\n')).toEqual([
        expect.stringMatching(/^Healthy/),
        expect.stringMatching(/^Sessions are off/),
      ]);
      // The JWKS and GET /me are asked at once, in no set order.
      expect(received.map(({ method, url }) => `${method} ${url}`).sort()).toEqual([
        'GET /.well-known/jwks.json',
        'GET /.well-known/openid-configuration',
        'GET /me',
        'POST /openid',
      ]);
    },
  );

  it('exits 2 with the usage when --url is missing or not http(s)', async () => {
    // Prepare / Act
    const missing = await runDoctor([]);
    const wrong = await runDoctor(['--url', 'ftp://example.com/openid']);

    // Assess
    expect(missing.code).toBe(2);
    expect(wrong.code).toBe(2);
    expect(missing.stderr).toMatch(/Usage: npm run doctor -- --url/);
  });

  it('exits 2 and says what an AppID looks like when --appid is not one', async () => {
    // Prepare / Act
    const short = await runDoctor(['--url', 'https://example.com/openid', '--appid', 'wx4f4bc4']);
    const prefix = await runDoctor([
      '--url',
      'https://example.com/openid',
      '--appid',
      'ab4f4bc4dec97d474b',
    ]);

    // Assess
    for (const run of [short, prefix]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^--appid must be .*: wx followed by 16 letters or digits\.$/m);
    }
  });

  it('neither sends nor prints the user and password of a --url that has them', async () => {
    // Prepare
    const { base, received } = await endpoint({
      'POST /openid': json(
        400,
        { status: 400, code: 'invalid_code', errcode: 40029, detail: 'd', requestId: 'r' },
        'application/problem+json',
      ),
    });
    const url = base.replace('http://', 'http://user:secretpw@');

    // Act
    const run = await runDoctor(['--url', `${url}/openid`, '--appid', 'wxAbCdEf0123456789']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Healthy/);
    expect(run.stderr).toMatch(
      /^--url carries credentials \(user:password@\): the doctor does not send them/,
    );
    expect(run.stdout + run.stderr).not.toContain('secretpw');
    expect(received.length).toBeGreaterThan(0);
    expect(received.map(({ headers }) => headers.authorization)).toEqual(
      received.map(() => undefined),
    );
    expect(JSON.parse(received[0]?.body ?? '')).toMatchObject({ appid: 'wxAbCdEf0123456789' });
  });

  it('prints no password of an unreachable --url that has one', async () => {
    // Prepare: a port that was just free.
    const { base, server } = await endpoint({});
    await new Promise<void>((resolve) => server.close(() => resolve()));

    // Act
    const run = await runDoctor([
      '--url',
      `${base.replace('http://', 'http://user:secretpw@')}/openid`,
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Connection refused/);
    expect(run.stdout + run.stderr).not.toContain('secretpw');
  });

  it('exits 2 without quoting a URL with a password that does not parse, given with --url or not', async () => {
    // Prepare
    const broken = 'https://user:secretpw@[bad/openid';

    // Act
    const flagged = await runDoctor(['--url', broken]);
    const stray = await runDoctor([broken]);

    // Assess
    expect(flagged.code).toBe(2);
    expect(flagged.stderr).toMatch(/^--url could not be parsed as a URL\.$/m);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/pass the endpoint as --url/);
    for (const run of [flagged, stray]) {
      expect(run.stdout + run.stderr).not.toContain('secretpw');
    }
  });
});

/** The option lines of the usage, each with its long flag: `  --flag <value>   what it does`. */
function optionLines(usage: string): [string, string][] {
  return usage.split('\n').flatMap((line) => {
    const flag = /^ {2}(?:-\w, )?(--[a-z-]+)/.exec(line)?.[1];
    return flag ? [[line, flag] as [string, string]] : [];
  });
}

describe('npm run doctor against the local server', () => {
  let wechat: FakeWechat | undefined;
  let local: LocalServer | undefined;
  afterEach(async () => {
    await local?.close();
    await wechat?.close();
    local = undefined;
    wechat = undefined;
  });

  /** The local server with real credentials, calling a loopback WeChat that answers `reply`. */
  async function localWithWechat(reply: Reply): Promise<string> {
    wechat = await startFakeWechat();
    wechat.fallback = reply;
    const config = loadConfig({
      PORT: '0',
      WECHAT_APP_ID: APP_ID,
      WECHAT_APP_SECRET: APP_SECRET,
      WECHAT_API_BASE_URL: wechat.url,
    });
    local = await startLocalServer(
      config,
      createLogger({}, () => {}),
      '127.0.0.1',
    );
    return local.url.href;
  }

  it('says healthy when WeChat rejects the made-up code with 40029', async () => {
    const url = await localWithWechat(errcode(40029, 'invalid code'));

    const run = await runDoctor(['--url', url]);

    expect(run.code).toBe(0);
    expect(wechat?.calls[0]).toMatchObject({
      appid: APP_ID,
      secret: APP_SECRET,
      jsCode: expect.stringMatching(/^doctor-/),
    });
  });

  it('says what to fix when WeChat rejects the AppSecret', async () => {
    const url = await localWithWechat(errcode(40125, 'invalid appsecret'));

    const run = await runDoctor(['--url', url]);

    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/secret/i);
  });

  it('exits 1 against the sandbox unless told it is the sandbox', async () => {
    local = await startLocalServer(
      loadConfig({ PORT: '0' }),
      createLogger({}, () => {}),
      '127.0.0.1',
    );

    expect((await runDoctor(['--url', local.url.href])).code).toBe(1);
    expect((await runDoctor(['--url', local.url.href, '--allow-sandbox'])).code).toBe(0);
  });

  it.each([
    ["the sandbox's own", SANDBOX_DEFAULT_APP_ID],
    ['a mixed-case', 'wxAbCdEf0123456789'],
  ])('passes against the sandbox with %s AppID as --appid', async (_case, appid) => {
    local = await startLocalServer(
      loadConfig({ PORT: '0' }),
      createLogger({}, () => {}),
      '127.0.0.1',
    );

    const run = await runDoctor([
      '--url',
      local.url.href,
      '--appid',
      appid,
      '--allow-sandbox',
      '--me',
    ]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`GET /me accepts the login's token for AppID ${appid}.`);
  });
});
